"""bytes -> Document: format sniffed from the bytes, one module per format."""

from __future__ import annotations

import time
from pathlib import Path

from ..errors import EmptyDocument, LimitExceeded, SourceNotFound
from ..model import Block, BlockKind, Document, Format, Page, sha256_hex
from .limits import DEFAULT_LIMITS, DEFAULT_MAX_MEMORY, Limits
from .normalize import normalize_inline
from .pdf import DEFAULT_ENGINE, ENGINES, EngineName
from .sniff import sniff_format

__all__ = [
    "DEFAULT_ENGINE",
    "DEFAULT_LIMITS",
    "DEFAULT_MAX_MEMORY",
    "ENGINES",
    "DocumentBuilder",
    "EngineName",
    "Limits",
    "extract_document",
    "extract_path",
    "sniff_format",
]


class DocumentBuilder:
    """Collects pages and blocks in reading order and lays out Document.text."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._pos = 0
        self.blocks: list[Block] = []
        self.pages: list[Page] = []
        self.warnings: list[str] = []

    def start_page(
        self,
        number: int,
        width: float | None = None,
        height: float | None = None,
        *,
        ocr: bool = False,
        readable: bool = True,
    ) -> Page:
        self._close_page()
        page = Page(
            number=number,
            char_start=self._pos,
            char_end=self._pos,
            width=width,
            height=height,
            ocr=ocr,
            readable=readable,
        )
        self.pages.append(page)
        return page

    def _close_page(self) -> None:
        if self.pages:
            self.pages[-1].char_end = self._pos

    def add(
        self,
        text: str,
        kind: BlockKind = "paragraph",
        *,
        level: int | None = None,
        label: str | None = None,
        title: str | None = None,
    ) -> None:
        text = normalize_inline(text)
        if not text:
            return
        if not self.pages:
            self.start_page(1)
        if self._parts:
            self._parts.append("\n")
            self._pos += 1
        start = self._pos
        self._parts.append(text)
        self._pos += len(text)
        self.blocks.append(
            Block(
                kind=kind,
                char_start=start,
                char_end=self._pos,
                page=self.pages[-1].number,
                level=level,
                label=label,
                title=normalize_inline(title) if title else None,
            )
        )

    @property
    def text(self) -> str:
        return "".join(self._parts)

    def build(
        self, data: bytes, *, title: str, source: str, fmt: Format, engine: str | None = None
    ) -> Document:
        self._close_page()
        if not self.pages:
            self.start_page(1)
            self._close_page()
        text = "".join(self._parts)
        if not text.strip():
            if any(not p.readable for p in self.pages):
                raise EmptyDocument("no text could be read: " + "; ".join(self.warnings))
            raise EmptyDocument("the document holds no text")
        from ..lang import document_language

        return Document(
            id=sha256_hex(data),
            title=normalize_inline(title)[:300] or source,
            source=source,
            format=fmt,
            language=document_language(text),
            page_count=len(self.pages),
            warnings=self.warnings,
            engine=engine,
            text=text,
            pages=self.pages,
            blocks=self.blocks,
        )


def extract_document(
    data: bytes,
    source: str = "document",
    *,
    engine: EngineName = DEFAULT_ENGINE,
    limits: Limits = DEFAULT_LIMITS,
) -> Document:
    """Extract a Document from the bytes of a file; the format comes from the bytes."""
    if not data:
        raise EmptyDocument("the file is empty (0 bytes)")
    if len(data) > limits.max_bytes:
        raise LimitExceeded(
            f"the file is {len(data):,} bytes, over the limit of {limits.max_bytes:,} "
            "(raise it with --max-bytes if the document is genuine)"
        )
    deadline = time.monotonic() + limits.timeout_s
    fmt = sniff_format(data)
    if fmt == "pdf":
        from .pdf_document import extract_pdf

        return extract_pdf(data, source, engine, limits, deadline)
    if fmt == "docx":
        from .docx import extract_docx

        doc = extract_docx(data, source, limits)
    else:
        from .textual import extract_textual

        doc = extract_textual(data, source, fmt, limits)
    return _settle_title(doc)


def _settle_title(doc: Document) -> Document:
    """The format's title where it can stand as one, else one from the text."""
    from .titles import choose_title

    carried = doc.title if doc.title != doc.source else None
    lines = (doc.block_text(b) for b in doc.blocks)
    doc.title = choose_title(doc.text, lines, carried, doc.source, carried_first=True)[:300]
    return doc


def extract_path(
    path: str | Path,
    *,
    engine: EngineName = DEFAULT_ENGINE,
    limits: Limits = DEFAULT_LIMITS,
) -> Document:
    """Read a file (bounded by ``limits.max_bytes``) and extract it."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > limits.max_bytes:
            raise LimitExceeded(
                f"the file is {size:,} bytes, over the limit of {limits.max_bytes:,} "
                "(raise it with --max-bytes if the document is genuine)"
            )
        data = p.read_bytes()
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        raise SourceNotFound(f"cannot read {p.name}: {exc.strerror or exc}") from None
    return extract_document(data, p.name, engine=engine, limits=limits)
