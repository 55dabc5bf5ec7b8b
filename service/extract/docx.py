"""DOCX: paragraphs and headings through python-docx, after checking the zip is safe."""

from __future__ import annotations

import io
import re
import zipfile
import zlib

from ..errors import CorruptDocument, UnsafeDocument
from ..model import Document
from .limits import Limits

_DTD = re.compile(rb"<!ENTITY|<!DOCTYPE", re.IGNORECASE)


def check_zip(data: bytes, limits: Limits) -> None:
    """Refuse archive bombs and XML entity tricks before any parser sees the parts.

    Sizes are counted while decompressing, not read from the headers, which
    a hostile archive can fake; every XML part is scanned whole for a DTD.
    """
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, zlib.error, OSError, ValueError):
        raise CorruptDocument("the DOCX is not a readable zip archive") from None
    if len(infos) > 10_000:
        raise UnsafeDocument(f"the DOCX holds {len(infos)} parts; refusing it as an archive bomb")
    packed = max(sum(i.compress_size for i in infos), 1)
    budget = min(limits.max_unzipped_bytes, int(packed * limits.max_zip_ratio) + 1_000_000)
    total = 0
    for info in infos:
        is_xml = info.filename.endswith((".xml", ".rels"))
        tail = b""
        try:
            with zf.open(info) as part:
                first = True
                while chunk := part.read(1 << 20):
                    total += len(chunk)
                    if total > budget:
                        raise UnsafeDocument(
                            f"the DOCX unpacks to more than {budget:,} bytes from {packed:,} "
                            f"(limits: {limits.max_unzipped_bytes:,} bytes, ratio "
                            f"{limits.max_zip_ratio:g}); refusing it as an archive bomb"
                        )
                    if is_xml:
                        if first and chunk.startswith((b"\xff\xfe", b"\xfe\xff")):
                            chunk = chunk.decode("utf-16", "ignore").encode()
                        if _DTD.search(tail + chunk):
                            raise UnsafeDocument(
                                f"the DOCX part {info.filename} declares a DTD or entities, "
                                "which are refused"
                            )
                        tail = chunk[-16:]
                    first = False
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError):
            raise CorruptDocument(
                f"the DOCX part {info.filename} is damaged and cannot be unpacked"
            ) from None


def extract_docx(data: bytes, source: str, limits: Limits) -> Document:
    from . import DocumentBuilder

    check_zip(data, limits)
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        doc = docx.Document(io.BytesIO(data))
    except Exception as exc:
        raise CorruptDocument(f"the DOCX cannot be read ({type(exc).__name__})") from None
    b = DocumentBuilder()
    title = (doc.core_properties.title or "").strip() or None
    body = doc.element.body
    for child in body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            para = Paragraph(child, doc)
            style = (para.style.name if para.style is not None else "") or ""
            text = para.text
            m = re.match(r"(Heading|Title)\s*(\d*)", style)
            if m:
                level = int(m.group(2)) if m.group(2) else 1
                b.add(text, "heading", level=level)
                if title is None and text.strip():
                    title = text.strip()
            else:
                b.add(text)
        elif tag == "tbl":
            table = Table(child, doc)
            for row in table.rows:
                cells: list[str] = []
                for cell in row.cells:
                    if cell.text.strip() and cell.text not in cells:
                        cells.append(cell.text)
                b.add(" | ".join(cells))
    return b.build(data, title=title or source, source=source, fmt="docx")
