"""Extraction: formats sniffed from bytes, OCR of scanned pages, layout on real PDFs."""

from __future__ import annotations

import io

import pytest

from service.extract import extract_document, sniff_format
from service.segment import segment_document
from tests.conftest import corpus_file

SCANNED = "lka/passport-exit-permit-amendment-1980-scanned.pdf"


@pytest.mark.ocr
def test_scanned_pdf_is_ocred_when_tesseract_is_installed() -> None:
    doc = extract_document(corpus_file(SCANNED).read_bytes(), "scanned.pdf")
    assert all(p.ocr for p in doc.pages)
    assert any("OCR" in w for w in doc.warnings)
    text = doc.text.lower()
    assert "passport" in text and "exit permit" in text
    passages = segment_document(doc)
    assert len(passages) >= 3


def test_scanned_pdf_without_tesseract_is_reported_not_silently_empty(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from service.extract import pdf_document

    monkeypatch.setattr(pdf_document, "tesseract_available", lambda: False)
    from service.errors import EmptyDocument

    with pytest.raises(EmptyDocument, match=r"no text layer.*install tesseract-ocr"):
        extract_document(corpus_file(SCANNED).read_bytes(), "scanned.pdf")


def test_format_is_sniffed_from_bytes_not_name() -> None:
    pdf = corpus_file("lka/saarc-trafficking-convention-act-2005.pdf").read_bytes()
    assert sniff_format(pdf) == "pdf"
    assert sniff_format(corpus_file("intl/uncac.md").read_bytes()) == "markdown"
    assert sniff_format(corpus_file("can/conflict-of-interest-act.xml").read_bytes()) == "xml"
    nga = "nga/corrupt-practices-and-other-related-offences-act-2000.json"
    assert sniff_format(corpus_file(nga).read_bytes()) == "json"
    # A PDF named .txt is still a PDF.
    doc = extract_document(pdf, "misnamed.txt")
    assert doc.format == "pdf" and doc.page_count == 10


def _real_paragraphs() -> list[tuple[str, str]]:
    """Headings and paragraphs of a real instrument, to rebuild it as DOCX and HTML."""
    doc = extract_document(corpus_file("intl/palermo-protocol-tip.md").read_bytes(), "p.md")
    out: list[tuple[str, str]] = []
    for b in doc.blocks[:60]:
        out.append((b.kind, doc.block_text(b)))
    return out


def test_docx_headings_and_paragraphs() -> None:
    import docx

    d = docx.Document()
    for kind, text in _real_paragraphs():
        if kind == "heading":
            d.add_heading(text, level=2)
        else:
            d.add_paragraph(text)
    buf = io.BytesIO()
    d.save(buf)
    doc = extract_document(buf.getvalue(), "protocol.docx")
    assert doc.format == "docx"
    passages = segment_document(doc)
    cites = [p.citation for p in passages]
    assert "Article 1" in cites and "Article 3" in cites
    a3 = next(p for p in passages if p.citation.startswith("Article 3"))
    assert "trafficking in persons" in a3.text.lower()


def test_html_headings_and_paragraphs() -> None:
    from html import escape

    parts = [
        "<html><head><title>Trafficking Protocol</title><script>var x=1;</script></head><body>"
    ]
    for kind, text in _real_paragraphs():
        tag = "h3" if kind == "heading" else "p"
        parts.append(f"<{tag}>{escape(text)}</{tag}>")
    parts.append("</body></html>")
    doc = extract_document("".join(parts).encode(), "protocol.html")
    assert doc.format == "html" and doc.title == "Trafficking Protocol"
    assert "var x" not in doc.text
    cites = [p.citation for p in segment_document(doc)]
    assert "Article 1" in cites and "Article 3" in cites


def test_canadian_xml_sections_with_marginal_notes(extracted) -> None:  # type: ignore[no-untyped-def]
    _doc, passages = extracted("can/conflict-of-interest-act.xml")
    s1 = next(p for p in passages if p.citation == "Section 1")
    assert s1.title == "Short title"
    assert "Conflict of Interest Act" in s1.text
    # Inline elements keep their spaces ("means a", not "meansa").
    assert not any("meansa" in p.text for p in passages)


def test_hyphenation_undone_and_quotes_normalised(extracted) -> None:  # type: ignore[no-untyped-def]
    doc, _ = extracted("lka/anti-corruption-act-2023.pdf")
    assert "“" not in doc.text and "”" not in doc.text
    assert "Director-General" in doc.text
    assert "Direc- tor" not in doc.text


def test_two_column_page_read_column_by_column(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A page set in two columns, from real article text, reads left column first."""
    from fpdf import FPDF

    doc = extract_document(corpus_file("intl/uncac.md").read_bytes(), "uncac.md")
    arts = [p for p in segment_document(doc) if p.citation in ("Article 1", "Article 4")]
    left, right = (a.text.encode("latin-1", "replace").decode("latin-1") for a in arts)
    pdf = FPDF(format="A4")
    pdf.add_page()
    pdf.set_font("Helvetica", size=10)
    pdf.set_xy(15, 20)
    pdf.multi_cell(85, 5, "Article 1. " + left)
    pdf.set_xy(110, 20)
    pdf.multi_cell(85, 5, "Article 4. " + right)
    out = extract_document(bytes(pdf.output()), "two_columns.pdf")
    assert out.text.index("Article 1.") < out.text.index("Article 4.")
    first_words = " ".join(left.split()[:12])
    assert first_words in out.text


# --------------------------------------------------------------------------- PDFium runs

RUN_DOCS = [
    "brb/prevention-of-corruption-bill-2021.pdf",
    "brb/integrity-in-public-life-bill-2023.pdf",
    "lka/saarc-trafficking-convention-act-2005.pdf",
    "per/constitucion-politica-del-peru-1993.pdf",
]


@pytest.mark.parametrize("rel", RUN_DOCS)
def test_pdfium_lines_read_as_runs_give_the_same_passages_as_word_by_word(
    rel: str, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """Reading a whole line as one run is a shortcut: it must not change what comes out."""
    from service.extract import pdf

    data = corpus_file(rel).read_bytes()
    by_runs = segment_document(extract_document(data, "doc.pdf"))
    calls = {"words": 0}
    words = pdf._PageRuns._words

    def count_words(self, a: int, b: int) -> None:  # type: ignore[no-untyped-def]
        calls["words"] += 1
        words(self, a, b)

    monkeypatch.setattr(pdf._PageRuns, "_words", count_words)
    monkeypatch.setattr(pdf._PageRuns, "_line", lambda self, a, b: False)
    by_words = segment_document(extract_document(data, "doc.pdf"))
    assert calls["words"] > 100  # the word-by-word path really ran
    assert [(p.id, p.citation, p.page_start, p.text) for p in by_runs] == [
        (p.id, p.citation, p.page_start, p.text) for p in by_words
    ]


def _pdfium_lines(rel: str, page: int) -> list[str]:
    import time

    from service.extract.limits import Limits
    from service.extract.pdf import PdfiumEngine

    pages = PdfiumEngine().pages(corpus_file(rel).read_bytes(), Limits(), time.monotonic() + 60)
    for p in pages:
        if p.number == page:
            return [line.text for line in p.lines]
    raise AssertionError(f"no page {page}")


def test_pdfium_wide_gap_inside_one_text_object_parts_the_line() -> None:
    # The form line at the end of the Barbados integrity bill is one text object
    # with a blank (a generated space, 45 pt wide) before "day of".
    lines = _pdfium_lines("brb/integrity-in-public-life-bill-2023.pdf", 102)
    assert "Read three times and passed the Senate this" in lines
    assert "day of" in lines


def test_pdfium_space_drawn_inside_a_ligature_is_no_word_break(extracted) -> None:  # type: ignore[no-untyped-def]
    doc, _ = extracted("brb/constitution-amendment-no2-bill-2021.pdf")
    assert "solemnly affirm" in doc.text
    assert "affi rm" not in doc.text and "Offi ce" not in doc.text
