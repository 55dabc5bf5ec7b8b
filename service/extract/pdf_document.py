"""A PDF's pages, through an engine, OCR where a page has no text layer, and layout."""

from __future__ import annotations

from typing import Any

from ..errors import CorruptDocument
from ..model import Document
from .layout import LayoutPage, PageText, layout_pages
from .limits import Limits
from .ocr import ocr_image, render_scale, tesseract_available
from .pdf import EngineName, get_engine
from .titles import choose_title

# A page with fewer visible characters than this has no usable text layer.
MIN_PAGE_CHARS = 10


def _page_has_images(pdf: Any, index: int) -> bool:
    import pypdfium2.raw as raw

    page = pdf[index]
    try:
        return any(obj.type == raw.FPDF_PAGEOBJ_IMAGE for obj in page.get_objects(max_depth=2))
    finally:
        page.close()


def _ocr_pages(data: bytes, pages: list[LayoutPage], limits: Limits, warnings: list[str]) -> None:
    """Replace pages without a text layer by their OCR, or mark them unreadable and say why."""
    import pypdfium2 as pdfium

    empty = [p for p in pages if sum(len(line.text) for line in p.lines) < MIN_PAGE_CHARS]
    if not empty:
        return
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError:
        return  # the text engine read it; nothing to render for OCR
    try:
        scanned = [p for p in empty if _page_has_images(pdf, p.number - 1)]
        no_ocr: list[int] = []
        read: list[int] = []
        for p in scanned:
            scale = render_scale(p.width, p.height, limits)
            if scale is None:
                warnings.append(
                    f"page {p.number} has no text layer and is too large to OCR "
                    f"({p.width:.0f} x {p.height:.0f} pt); it was not read"
                )
                p.readable = False
                continue
            if not tesseract_available():
                no_ocr.append(p.number)
                p.readable = False
                continue
            page = pdf[p.number - 1]
            image = page.render(scale=scale, grayscale=True).to_pil()
            page.close()
            done = ocr_image(image, p.number, p.width, p.height, scale)
            p.lines, p.ocr = done.lines, True
            read.append(p.number)
            if not done.lines:
                warnings.append(f"page {p.number} has no text layer and OCR found no text on it")
        if no_ocr:
            warnings.append(
                f"page(s) {', '.join(map(str, no_ocr))} have no text layer and were not read: "
                "install tesseract-ocr to OCR them"
            )
        if read:
            warnings.append(
                f"page(s) {', '.join(map(str, read))} were read by OCR; check quotes against the page"
            )
    except pdfium.PdfiumError:
        raise CorruptDocument("the PDF cannot be rendered for OCR") from None
    finally:
        pdf.close()


def _pdf_title(data: bytes) -> str | None:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError:
        return None
    try:
        return (pdf.get_metadata_dict().get("Title") or "").strip() or None
    finally:
        pdf.close()


def extract_pdf(
    data: bytes, source: str, engine: EngineName, limits: Limits, deadline: float
) -> Document:
    from . import DocumentBuilder

    pages = list(get_engine(engine).pages(data, limits, deadline))
    for page in pages:
        page.kept_chars = sum(len(line.text) for line in page.lines)
    builder = DocumentBuilder()
    _ocr_pages(data, pages, limits, builder.warnings)
    title = _pdf_title(data)
    laid_out = _lay_out(builder, pages)
    if not builder.blocks and any(p.lines for p in pages):
        # Layout rules left nothing of text the engine read: keep it all.
        builder = DocumentBuilder()
        laid_out = _lay_out(builder, pages, keep_whole=True)
    builder.warnings.extend(dropped_warnings(laid_out, pages))
    text = builder.text
    lines = (text[b.char_start : b.char_end] for b in builder.blocks)
    title = choose_title(text, lines, title, source, carried_first=False)
    return builder.build(data, title=title, source=source, fmt="pdf", engine=engine)


def _lay_out(builder: Any, pages: list[LayoutPage], *, keep_whole: bool = False) -> list[PageText]:
    """Lay the pages out into ``builder``; each page's lines are let go once the
    document has text (a second pass with ``keep_whole`` needs them otherwise)."""
    out: list[PageText] = []
    held: list[LayoutPage] = []
    for page, text in zip(pages, layout_pages(pages, keep_whole=keep_whole), strict=True):
        info = builder.start_page(
            page.number, page.width, page.height, ocr=page.ocr, readable=page.readable
        )
        info.notes = text.notes
        for block in text.blocks:
            builder.add(block.text, title=block.note)
        held.append(page)
        if builder.blocks:
            for p in held:
                p.lines = []  # laid out: memory goes to the document as it grows
            held = []
        text.has_text = bool(text.blocks)
        text.blocks = []
        out.append(text)
    return out


def dropped_warnings(laid_out: list[PageText], pages: list[LayoutPage]) -> list[str]:
    """What layout left out of pages it left without text, or with less than it left out.

    Running headers, banners and page numbers dropped from pages that keep
    their body are routine and go unreported; a page emptied by them, or
    rotated text outweighing a page's upright text, is reported with what
    was dropped and why.
    """
    warnings: list[str] = []
    for t in laid_out:
        if t.has_text and not t.kept_whole:
            continue
        said = "; ".join(
            f"{len(lines)} line(s) dropped as {reason} ({', '.join(_examples(lines))})"
            for reason, lines in t.dropped.items()
            if reason != "page number" or t.kept_whole
        )
        if t.kept_whole:
            warnings.append(f"page {t.number}: layout would leave no text ({said}); kept as is")
        elif said:
            warnings.append(f"page {t.number}: no text left: {said}")
    for p in pages:
        if p.rotated_chars > max(p.kept_chars, 20):
            warnings.append(
                f"page {p.number}: {p.rotated_chars} character(s) of rotated text left out, "
                f"more than its {p.kept_chars} upright"
            )
    return warnings


def _examples(lines: list[str]) -> list[str]:
    return list(dict.fromkeys(_clip(line) for line in lines))[:2]


def _clip(line: str, most: int = 60) -> str:
    line = " ".join(line.split())
    return repr(line if len(line) <= most else line[: most - 1] + "…")
