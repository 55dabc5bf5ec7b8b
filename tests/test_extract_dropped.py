"""Nothing dropped silently: text the PDF engine read stays in the document, or a warning says
what layout left out and why (real PDFs of the pdfplumber test suite, tests/data/pdfplumber)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from service.extract import ENGINES, EngineName, extract_document
from service.model import Document
from tests.conftest import corpus_file

DATA = Path(__file__).resolve().parent / "data" / "pdfplumber"
GAZETTE = "de-gazette-page-turned.pdf"  # German gazette page, turned by /Rotate 270
TABLE = "table-page-turned.pdf"  # one-page landscape table, /Rotate 90
CHINESE = "zh-page-turned.pdf"  # Chinese report, /Rotate 90


def _extract(name: str, engine: EngineName = "pdfium") -> Document:
    return extract_document((DATA / name).read_bytes(), name, engine=engine)


def _engine_words(name: str) -> list[str]:
    """The words PDFium itself reads off the page, before any layout."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument((DATA / name).read_bytes())
    try:
        return [w for i in range(len(pdf)) for w in pdf[i].get_textpage().get_text_range().split()]
    finally:
        pdf.close()


def _kept_or_noted(doc: Document) -> str:
    return doc.text + " " + " ".join(n for p in doc.pages for n in p.notes)


@pytest.mark.parametrize("engine", ENGINES)
def test_turned_gazette_page_keeps_its_body(engine: EngineName) -> None:
    doc = _extract(GAZETTE, engine)
    for words in ("HERAUSGEBER:", "Bundesministerium des Innern", "Alt-Moabit 101 D, 10559 Berlin"):
        assert words in doc.text
    assert "Seite 1092" in doc.text
    assert doc.warnings == []


@pytest.mark.parametrize("engine", ENGINES)
def test_turned_table_keeps_its_cell_text(engine: EngineName) -> None:
    doc = _extract(TABLE, engine)
    text = doc.text
    for cell in (
        "0085648100305",
        "LILYS 40% SLTD ALMND CHOC",
        "LILYS DRK CHC CRMLZD SLTD",
        "Associated claims",
        "Approval history",
    ):
        assert cell in text
    # Every word PDFium reads is in the text: table columns are not marginal notes.
    missing = [w for w in set(_engine_words(TABLE)) if w not in text]
    assert missing == []
    assert doc.warnings == []


@pytest.mark.parametrize("engine", ENGINES)
def test_turned_chinese_page_keeps_its_cjk_text(engine: EngineName) -> None:
    doc = _extract(CHINESE, engine)
    for words in ("白细胞计数(WBC)", "血红蛋白(HGB)", "采样时间: 2021-06-04 09:00"):
        assert words in doc.text
    # Every CJK character PDFium reads is in the text.
    cjk = re.compile(r"[\u4e00-\u9fff]")
    assert len(cjk.findall(doc.text)) == len(cjk.findall(" ".join(_engine_words(CHINESE)))) > 250
    # Of what PDFium reads, only a full-width sign differs (NFKC makes "＃" "#").
    missing = [w for w in set(_engine_words(CHINESE)) if w not in _kept_or_noted(doc)]
    assert missing == ["中性粒细胞计数(NEU＃)"]


def test_turned_text_is_read_upright_as_pdfplumber_reads_it() -> None:
    for name in (GAZETTE, TABLE, CHINESE):
        pdfium_doc, plumber_doc = _extract(name, "pdfium"), _extract(name, "pdfplumber")
        assert pdfium_doc.pages[0].width == pytest.approx(plumber_doc.pages[0].width, abs=1) or (
            name == GAZETTE  # pdfplumber sizes that page by its whole media box
        )
        assert set(pdfium_doc.text.split()) == set(plumber_doc.text.split())


def _twice(name: str) -> bytes:
    """The PDF's first page, twice: every line repeats at the top of every page."""
    import pypdfium2 as pdfium

    src = pdfium.PdfDocument((DATA / name).read_bytes())
    out = pdfium.PdfDocument.new()
    try:
        out.import_pages(src, [0, 0])
        buf = io.BytesIO()
        out.save(buf)
        return buf.getvalue()
    finally:
        out.close()
        src.close()


def test_text_layout_would_drop_entirely_is_kept_with_a_warning() -> None:
    # Two identical short pages: each of their lines looks like a running header.
    doc = extract_document(_twice("three-lines.pdf"), "twice.pdf")
    assert doc.text.split("\n") == ["first line second line third line"] * 2
    assert len(doc.warnings) == 2
    for n, warning in enumerate(doc.warnings, 1):
        assert warning.startswith(f"page {n}: layout would leave no text (3 line(s) dropped")
        assert "running header/footer ('first line', 'second line')" in warning


def test_running_headers_of_a_gazette_are_still_dropped_quietly() -> None:
    doc = extract_document(
        corpus_file("lka/saarc-trafficking-convention-act-2005.pdf").read_bytes(), "saarc.pdf"
    )
    assert doc.warnings == []
    assert "Printed on the Order of Government" not in doc.text
    assert "Convention on Preventing and Combating 1\n" not in doc.text
    assert "SAARC" in doc.text


def test_landscape_forms_of_a_bill_are_read_not_skipped_as_rotated() -> None:
    # The Third Schedule's declaration forms stand turned on portrait pages.
    doc = extract_document(
        corpus_file("brb/integrity-in-public-life-bill-2023.pdf").read_bytes(), "integrity.pdf"
    )
    assert "DECLARATION OF INCOME, ASSETS AND LIABILITIES" in doc.text
    assert "NAME OF DECLARANT (Surname, Other Names)" in doc.text
    # The schedule's heading, level on the page above the turned form, comes first.
    heading = doc.text.index("THIRD SCHEDULE\n(Sections 11, 15, 18, 23 and 55)\nFORMS FOR PARTS")
    assert heading < doc.text.index("DECLARATION OF INCOME, ASSETS AND LIABILITIES")
    assert doc.warnings == []
