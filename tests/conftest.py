"""Shared fixtures: the real corpus, and extraction cached per test session."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "corpus"
SAMPLE = ROOT / "corpus"


def corpus_file(rel: str) -> Path:
    """A document of the shared corpus, or of the shipped sample when shared/ is absent."""
    for base in (SHARED, SAMPLE):
        if (base / rel).exists():
            return base / rel
    pytest.skip(f"{rel} is in neither ../shared/corpus nor corpus/")


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
