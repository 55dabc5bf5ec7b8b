"""Which format a file is, from its bytes (never from its name)."""

from __future__ import annotations

import io
import re
import zipfile

from ..errors import UnsupportedFormat
from ..model import Format

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"BM", "a BMP image"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Office file (.doc/.xls); save it as DOCX or PDF"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"\x7fELF", "an executable"),
    (b"MZ", "an executable"),
    (b"{\\rtf", "an RTF file; save it as DOCX or PDF"),
)

_MARKDOWN = re.compile(
    r"^(#{1,6}\s*\S|\*\*[^*\n]+\*\*|[-*] \S|\|.*\|\s*$)|\[[^\]\n]+\]\([^)\n]+\)", re.M
)

SUPPORTED = "PDF, DOCX, HTML, XML, JSON, Markdown or plain text"


def decode_text(data: bytes) -> str:
    """Decode text bytes: UTF-8 (with or without BOM), UTF-16 with BOM, else Windows-1252."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _looks_binary(head: bytes) -> bool:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return False
    if b"\x00" in head:
        return True
    controls = sum(1 for b in head if b < 9 or 13 < b < 32)
    return controls > 0.05 * max(len(head), 1)


def sniff_format(data: bytes) -> Format:
    head = data[:4096]
    if b"%PDF-" in data[:1024]:
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        try:
            names = zipfile.ZipFile(io.BytesIO(data)).namelist()
        except zipfile.BadZipFile:
            raise UnsupportedFormat("the file is a damaged zip archive, not a document") from None
        if "word/document.xml" in names:
            return "docx"
        raise UnsupportedFormat(f"the file is a zip archive, not a document; send {SUPPORTED}")
    for magic, what in _MAGIC:
        if head.startswith(magic):
            raise UnsupportedFormat(f"the file is {what}, not a document; send {SUPPORTED}")
    if _looks_binary(head):
        raise UnsupportedFormat(f"the file is binary data of an unknown kind; send {SUPPORTED}")
    text = decode_text(head).lstrip()
    lower = text[:1000].lower()
    if lower.startswith(("<!doctype html", "<html")) or "<html" in lower or "<body" in lower:
        return "html"
    if lower.startswith("<?xml"):
        return "xml"
    sample = decode_text(data[:200_000])
    if text.startswith("---\n") and "\n---" in text[4:3000]:
        return "markdown"  # YAML front matter
    if re.match(r"[{\[]\s*[{\[\"\]}]", text):
        # It means to be JSON: parse errors are the file's, reported as such.
        return "json"
    if _MARKDOWN.search(sample):
        return "markdown"
    if lower.startswith("<") and not lower.startswith(("<meta", "<!--")):
        return "xml"
    return "text"
