"""Shared fixtures: the real corpus, extraction cached per test session, one loaded model,
one scored sample run, a fresh store database per backend; tests marked ``ocr`` skip where
tesseract is not installed."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.databases import BACKENDS, fresh_database

if TYPE_CHECKING:
    from service.model import Coverage, DocumentCoverage
    from service.pipeline import RunStats

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "corpus"
SAMPLE = ROOT / "corpus"

SHARED_ABSENT = "the shared corpus (../shared/corpus) is not beside the repository"
NO_TESSERACT = (
    "tesseract is not installed (apt-get install tesseract-ocr); scanned pages cannot be read"
)

TIP_BILL = "brb/trafficking-in-persons-prevention-bill-2016.pdf"
POC_BILL = "brb/prevention-of-corruption-bill-2021.pdf"
# The sample run: a few documents of the shipped corpus/ (two Barbados bills, a Dutch
# prosecution instruction, a US action-plan fact sheet, a US extradition chapter).
SAMPLE_RUN = (
    TIP_BILL,
    POC_BILL,
    "nld/aanwijzing-mensenhandel.md",
    "usa/wh-fact-sheet-national-action-plan-combat-human-trafficking-2021.md",
    "usa/18-usc-ch209-extradition.md",
)
TRUNCATED = "truncated-download.pdf"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip tests marked ``ocr`` when the tesseract binary is not on PATH."""
    if shutil.which("tesseract") is not None:
        return
    skip = pytest.mark.skip(reason=NO_TESSERACT)
    for item in items:
        if item.get_closest_marker("ocr") is not None:
            item.add_marker(skip)


def corpus_file(rel: str) -> Path:
    """A document of the shared corpus, or of the shipped sample when shared/ is absent."""
    for base in (SHARED, SAMPLE):
        if (base / rel).exists():
            return base / rel
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED_ABSENT}, and {rel} is not in the shipped sample corpus/")
    pytest.skip(
        f"{rel} is in neither the shared corpus (../shared/corpus, beside the repository) "
        "nor the sample corpus/ shipped in the repository"
    )


@cache
def _extract(path: str, engine: str):  # type: ignore[no-untyped-def]
    from service.extract import extract_path
    from service.segment import segment_document

    doc = extract_path(path, engine=engine)  # type: ignore[arg-type]
    return doc, segment_document(doc)


@pytest.fixture(scope="session")
def extracted():  # type: ignore[no-untyped-def]
    """extracted(rel, engine="pdfium") -> (Document, passages), cached."""

    def get(rel: str, engine: str = "pdfium"):  # type: ignore[no-untyped-def]
        return _extract(str(corpus_file(rel)), engine)

    return get


@pytest.fixture(scope="session")
def model_ref():  # type: ignore[no-untyped-def]
    """The default model, found and its meta read (what ``score_corpus`` takes)."""
    from service.classify import find_model

    return find_model()


@pytest.fixture(scope="session")
def model(model_ref):  # type: ignore[no-untyped-def]
    """The default model, loaded once for the whole session."""
    return model_ref.load()


@dataclass
class SampleRun:
    """Two ``score_corpus`` runs over the same folder and cache (the second from the cache)."""

    folder: Path
    cache: Path
    first: Coverage
    second: Coverage
    first_stats: RunStats
    second_stats: RunStats

    def document(self, rel: str) -> DocumentCoverage:
        """The first run's DocumentCoverage of a SAMPLE_RUN document."""
        path = str(self.folder / rel)
        return next(d for d in self.first.documents if d.path == path)


@pytest.fixture(scope="session")
def sample_run(model_ref, tmp_path_factory: pytest.TempPathFactory) -> SampleRun:  # type: ignore[no-untyped-def]
    """SAMPLE_RUN from the shipped corpus/, plus a real bill cut short, scored twice."""
    from service.pipeline import RunStats, score_corpus

    folder = tmp_path_factory.mktemp("sample")
    for rel in SAMPLE_RUN:
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(SAMPLE / rel, folder / rel)
    # A real bill whose bytes end a third of the way in, the way a failed download does.
    data = (SAMPLE / POC_BILL).read_bytes()
    (folder / TRUNCATED).write_bytes(data[: len(data) // 3])
    cache_dir = tmp_path_factory.mktemp("cache")
    first, second = RunStats(), RunStats()
    cov1 = score_corpus([folder], model_ref, cache=cache_dir, workers=2, stats=first)
    cov2 = score_corpus([folder], model_ref, cache=cache_dir, workers=2, stats=second)
    return SampleRun(folder, cache_dir, cov1, cov2, first, second)


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty store database on each backend: a SQLite file under tmp_path, a
    PostgreSQL database of its own (see ``tests/databases.py``; skipped without a server)."""
    with fresh_database(request.param, tmp_path) as url:
        yield url
