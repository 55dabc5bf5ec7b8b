"""Invariants over every document of the shared corpus (slow) and the shipped sample."""

from __future__ import annotations

import csv

import pytest

from tests.conftest import SAMPLE, SHARED


def _rows(base) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    manifest = base / "MANIFEST.csv"
    if not manifest.exists():
        return []
    with manifest.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


SHARED_ROWS = _rows(SHARED)
SAMPLE_ROWS = _rows(SAMPLE)


def check_invariants(base, row: dict[str, str], engine: str = "pdfium") -> None:  # type: ignore[no-untyped-def]
    from service.extract import extract_path
    from service.segment import segment_document

    doc = extract_path(base / row["path"], engine=engine)  # type: ignore[arg-type]
    passages = segment_document(doc)
    assert passages, row["path"]
    if row["format"] == "pdf":
        assert doc.page_count == int(row["pages_or_chars"].split()[0])
    ids = [p.id for p in passages]
    assert len(ids) == len(set(ids))
    last_end = -1
    for p in passages:
        assert p.text.strip()
        assert doc.text[p.char_start : p.char_end] == p.text
        assert 1 <= p.page_start <= p.page_end <= doc.page_count
        assert p.char_start >= last_end, "passages overlap or go backwards"
        last_end = p.char_end
        assert p.citation
    expected = row["language"].split(";")[0]
    assert doc.language == expected or expected in {p.language for p in passages}


def _params(rows: list[dict[str, str]]) -> list:  # type: ignore[type-arg]
    """One case per document; scanned ones need OCR (skipped, with the reason, without it)."""
    return [
        pytest.param(r, id=r["path"], marks=[pytest.mark.ocr] if "scanned" in r["format"] else [])
        for r in rows
    ]


@pytest.mark.parametrize("row", _params(SAMPLE_ROWS))
def test_sample_corpus_document(row: dict[str, str]) -> None:
    check_invariants(SAMPLE, row)


@pytest.mark.slow
@pytest.mark.parametrize("row", _params(SHARED_ROWS))
def test_every_shared_document_extracts(row: dict[str, str]) -> None:
    check_invariants(SHARED, row)


@pytest.mark.slow
@pytest.mark.parametrize(
    "row",
    [r for r in SHARED_ROWS if r["format"] == "pdf"],
    ids=[r["path"] for r in SHARED_ROWS if r["format"] == "pdf"],
)
def test_every_shared_pdf_with_pdfplumber(row: dict[str, str]) -> None:
    check_invariants(SHARED, row, engine="pdfplumber")
