"""Scoring a corpus: document types, the cross checks, failures in a batch, the cache, reports."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from service.classify import load_model
from service.doctype import infer_doc_type
from service.labels import LABEL_IDS
from service.pipeline import RunStats, read_meta, score_corpus
from service.report import render_compare_csv, write_reports
from tests.conftest import SHARED, corpus_file

ROOT = Path(__file__).resolve().parents[1]
TIP_BILL = "brb/trafficking-in-persons-prevention-bill-2016.pdf"
POC_BILL = "brb/prevention-of-corruption-bill-2021.pdf"


@pytest.fixture(scope="module")
def model():
    return load_model()


@pytest.fixture(scope="module")
def barbados(tmp_path_factory: pytest.TempPathFactory, model):
    """The Barbados trafficking bill and prevention-of-corruption bill, plus a corrupt PDF."""
    folder = tmp_path_factory.mktemp("brb")
    for rel in (TIP_BILL, POC_BILL):
        shutil.copy(corpus_file(rel), folder / Path(rel).name)
    # A real bill cut short: its bytes end halfway, the way a failed download does.
    data = corpus_file(POC_BILL).read_bytes()
    (folder / "truncated-download.pdf").write_bytes(data[: len(data) // 3])
    cache = tmp_path_factory.mktemp("cache")
    first, second = RunStats(), RunStats()
    cov1 = score_corpus([folder], model, country="BRB", cache=cache, workers=2, stats=first)
    cov2 = score_corpus([folder], model, country="BRB", cache=cache, workers=2, stats=second)
    return cov1, cov2, first, second, cache, folder


def test_doc_type_inference_against_the_manifest() -> None:
    manifest = SHARED / "MANIFEST.csv"
    if not manifest.is_file():
        pytest.skip("the shared corpus is not beside the project")
    from service.extract import extract_path

    with manifest.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    right = 0
    for row in rows:
        doc = extract_path(SHARED / row["path"])
        right += infer_doc_type(doc.title, doc.text[:3000]) == row["doc_type"]
    assert right / len(rows) >= 0.85, f"{right}/{len(rows)}"


def test_cross_checks_on_barbados(barbados) -> None:
    """Read in the bills: the trafficking bill never names corruption or bribery, and the
    corruption bill never names trafficking, slavery or forced labour."""
    cov = barbados[0]
    types = {Path(d.path).name: d.doc_type for d in cov.documents}
    assert types[Path(TIP_BILL).name] == "tip_law"
    assert types[Path(POC_BILL).name] == "anticorruption_law"
    tip = cov.corpus.checks["tip_mentions_corruption"]
    ac = cov.corpus.checks["ac_mentions_trafficking"]
    assert tip.passed is False and [Path(p).name for p in tip.failing] == [Path(TIP_BILL).name]
    assert ac.passed is False and [Path(p).name for p in ac.failing] == [Path(POC_BILL).name]


def test_cross_check_passes_where_the_law_deals_with_corruption(model, tmp_path: Path) -> None:
    """The TVPA (22 U.S.C. ch. 78) speaks of official complicity and corruption."""
    tvpa = corpus_file("usa/22-usc-ch78-trafficking-victims-protection.md")
    cov = score_corpus([tvpa], model, cache=None, workers=1)
    check = cov.corpus.checks["tip_mentions_corruption"]
    assert cov.documents[0].doc_type == "tip_law"
    assert check.passed is True and check.failing == []
    assert cov.corpus.checks["ac_mentions_trafficking"].passed is None  # no anti-corruption law


def test_corrupt_file_fails_alone(barbados) -> None:
    cov = barbados[0]
    assert [Path(f.path).name for f in cov.failures] == ["truncated-download.pdf"]
    assert cov.failures[0].code == "corrupt-document"
    assert len(cov.documents) == 2 and all(d.passages > 20 for d in cov.documents)


def test_second_run_reuses_the_cache(barbados) -> None:
    cov1, cov2, first, second, cache, _ = barbados
    assert (first.cache_hits, first.cache_misses) == (0, 2)
    assert (second.cache_hits, second.cache_misses) == (2, 0) and second.extracted == []
    assert len(list((cache / "extract").glob("*.json"))) == 2
    assert [d.model_dump() for d in cov1.documents] == [d.model_dump() for d in cov2.documents]


def test_meta_csv_overrides_the_inferred_type(model, tmp_path: Path) -> None:
    meta = tmp_path / "meta.csv"
    meta.write_text(
        f"path,title,country,doc_type\n{TIP_BILL},Trafficking bill,BRB,tip_action_plan\n"
    )
    cov = score_corpus([corpus_file(TIP_BILL)], model, meta=read_meta(meta), cache=None, workers=1)
    d = cov.documents[0]
    assert (d.doc_type, d.doc_type_source, d.title) == (
        "tip_action_plan",
        "meta",
        "Trafficking bill",
    )
    meta.write_text("path,doc_type\nx.pdf,statute\n")
    with pytest.raises(Exception, match="unknown doc_type 'statute'"):
        read_meta(meta)


def test_reports_written_and_self_contained(barbados, tmp_path: Path) -> None:
    cov = barbados[0]
    files = write_reports(cov, tmp_path / "out")
    assert sorted(p.name for p in files) == [
        "coverage.csv",
        "coverage.json",
        "report.html",
        "report.md",
    ]
    data = json.loads((tmp_path / "out" / "coverage.json").read_text())
    for d in data["documents"]:
        assert {"path", "doc_type", "mentions_trafficking", "mentions_corruption", "labels"} <= set(
            d
        )
        for label in LABEL_IDS:
            assert {"covered", "score", "evidence"} <= set(d["labels"][label])
    assert set(data["corpus"]["checks"]["tip_mentions_corruption"]) >= {"pass", "failing"}
    with (tmp_path / "out" / "coverage.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 2 * 18
    html = (tmp_path / "out" / "report.html").read_text()
    assert "http://" not in html and "https://" not in html and "<script" not in html
    assert render_compare_csv([cov, cov]).count("\n") == 18 + 2 + 1


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not installed")
def test_html_report_renders_in_chromium(barbados, tmp_path: Path) -> None:
    """Print the report with headless Chromium and read the PDF back: what shows is visible."""
    import pypdfium2 as pdfium

    cov = barbados[0]
    write_reports(cov, tmp_path)
    pdf = tmp_path / "report.pdf"
    subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
         f"--print-to-pdf={pdf}", (tmp_path / "report.html").as_uri()],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    doc = pdfium.PdfDocument(pdf)
    text = " ".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))
    text = " ".join(text.split())
    assert "Heat map" in text and "6.1 immunity" in text
    covered = [(d, x) for d in cov.documents for x in LABEL_IDS if d.labels[x].covered]
    assert covered, "the Barbados bills cover some label"
    d, label = covered[0]
    quote = " ".join(d.labels[label].evidence[0].text.split())[:60]
    assert quote in text
