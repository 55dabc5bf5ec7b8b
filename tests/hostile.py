"""Builders for bad and hostile inputs, made at test time (bytes, or a file for big ones).

Every builder is fast and memory-light: large payloads are streamed, PDFs are
written by hand as bytes so that their structure is exactly what the test needs.
"""

from __future__ import annotations

import io
import random
import struct
import zipfile
import zlib
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[1]
# The shared corpus, else the sample shipped in the repository (it holds every file used here).
CORPUS = next(
    (c for c in (_ROOT.parent / "shared" / "corpus", _ROOT / "corpus") if c.is_dir()),
    _ROOT / "corpus",
)
PDF_26_PAGES = CORPUS / "brb" / "trafficking-in-persons-prevention-bill-2016.pdf"
PDF_10_PAGES = CORPUS / "lka" / "saarc-trafficking-convention-act-2005.pdf"

# A real provision (Barbados, Trafficking in Persons Prevention Bill, 2016, s. 1).
SECTION = b"1. This Act may be cited as the Trafficking in Persons Prevention Act, 2016."


# --- PDF ---------------------------------------------------------------------


def encrypted_pdf(src: Path = PDF_10_PAGES, user: str = "u", owner: str = "o") -> bytes:
    import pikepdf

    out = io.BytesIO()
    with pikepdf.open(src) as pdf:
        pdf.save(out, encryption=pikepdf.Encryption(user=user, owner=owner))
    return out.getvalue()


def truncated_pdf(src: Path = PDF_26_PAGES, keep: float = 0.5) -> bytes:
    data = src.read_bytes()
    return data[: int(len(data) * keep)]


def garbage_pdf(size: int = 50_000, seed: int = 1) -> bytes:
    return b"%PDF-1.4\n" + random.Random(seed).randbytes(size)


def build_pdf(objects: list[bytes], root: int = 1) -> bytes:
    """A PDF from object bodies numbered 1..n, with a correct xref table."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        root,
        xref,
    )
    return bytes(out)


def pdf_stream(data: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length %d %s >>\nstream\n" % (len(data), extra) + data + b"\nendstream"


FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"


def text_content(text: bytes = SECTION) -> bytes:
    return pdf_stream(b"BT /F1 12 Tf 72 700 Td (" + text + b") Tj ET")


def nested_array_pdf(depth: int = 100_000, as_contents: bool = False) -> bytes:
    """One page, no text, with an array nested ``depth`` levels deep.

    The array sits in the page dictionary, or with ``as_contents`` it is the
    page's /Contents object itself.
    """
    nest = b"[" * depth + b"]" * depth
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
    return build_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            page + (b">>" if as_contents else b"/Deep " + nest + b" >>"),
            nest if as_contents else pdf_stream(b"q Q"),
        ]
    )


def deep_page_tree_pdf(depth: int = 20_000) -> bytes:
    """A page tree of ``depth`` /Pages nodes, each the only kid of the one above, then one text page."""
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    for k in range(depth):
        node = 2 + k
        parent = b"/Parent %d 0 R " % (node - 1) if k else b""
        objs.append(b"<< /Type /Pages %s/Kids [%d 0 R] /Count 1 >>" % (parent, node + 1))
    page = 2 + depth
    objs.append(
        b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>"
        % (page - 1, page + 2, page + 1)
    )
    objs += [text_content(), FONT]
    return build_pdf(objs)


def huge_page_pdf(size_pt: int = 200_000, with_text_page: bool = False) -> bytes:
    """A page of size_pt x size_pt points holding only an image (OCR would need a giant render).

    With ``with_text_page`` a second, normal page with a text layer follows.
    """
    image = zlib.compress(b"\x80" * 64 * 64)
    kids, count = (b"3 0 R 6 0 R", 2) if with_text_page else (b"3 0 R", 1)
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, count),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] "
        b"/Resources << /XObject << /Im1 5 0 R >> >> /Contents 4 0 R >>" % (size_pt, size_pt),
        pdf_stream(b"q %d 0 0 %d 0 0 cm /Im1 Do Q" % (size_pt, size_pt)),
        pdf_stream(
            image,
            b"/Type /XObject /Subtype /Image /Width 64 /Height 64 /ColorSpace /DeviceGray "
            b"/BitsPerComponent 8 /Filter /FlateDecode",
        ),
    ]
    if with_text_page:
        objs += [
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 8 0 R >> >> /Contents 7 0 R >>",
            text_content(),
            FONT,
        ]
    return build_pdf(objs)


def many_pages_pdf(n: int = 20_000) -> bytes:
    """``n`` blank pages in one flat page tree (about 100 bytes a page)."""
    kids = b" ".join(b"%d 0 R" % (i + 3) for i in range(n))
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, n),
    ]
    objs += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>"] * n
    return build_pdf(objs)


# --- not documents ---------------------------------------------------------------


def png_bytes(w: int = 8, h: int = 8) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    raw = b"".join(b"\x00" + b"\xff" * 3 * w for _ in range(h))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def zip_not_docx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("readme.txt", "hello " * 100)
        z.writestr("data/table.csv", "a,b\n1,2\n")
    return out.getvalue()


def elf_bytes() -> bytes:
    """A minimal 64-bit little-endian ELF header followed by some code-like bytes."""
    header = b"\x7fELF\x02\x01\x01" + b"\x00" * 9 + struct.pack("<HHI", 2, 0x3E, 1)
    return header + b"\x00" * (64 - len(header)) + random.Random(7).randbytes(4000)


def random_bytes(size: int = 20_000, seed: int = 1234) -> bytes:
    return random.Random(seed).randbytes(size)


# --- DOCX ----------------------------------------------------------------------


def docx_parts() -> dict[str, bytes]:
    import docx

    d = docx.Document()
    d.add_heading("Trafficking Test Act", 1)
    d.add_paragraph(SECTION.decode())
    buf = io.BytesIO()
    d.save(buf)
    with zipfile.ZipFile(buf) as z:
        return {n: z.read(n) for n in z.namelist()}


def _write_docx(path: Path, parts: dict[str, bytes], document_writer) -> None:  # type: ignore[no-untyped-def]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in parts.items():
            if name == "word/document.xml":
                document_writer(z, body)
            else:
                z.writestr(name, body)


def docx_bomb(path: Path, unpacked: int = 200 * 2**20, lie_about_size: bool = False) -> None:
    """A DOCX whose word/document.xml unpacks to ``unpacked`` bytes (zeros after <w:body>).

    Streamed in 1 MiB chunks. With ``lie_about_size`` the local and central
    headers declare the original small size, so a check of declared sizes
    passes and only the decompressor sees the truth.
    """
    parts = docx_parts()
    orig = parts["word/document.xml"]

    def write(z: zipfile.ZipFile, body: bytes) -> None:
        with z.open("word/document.xml", "w") as f:
            f.write(body[: body.index(b"<w:body>") + len(b"<w:body>")])
            chunk = (b" " if lie_about_size else b"\0") * 2**20
            for _ in range(unpacked // 2**20):
                f.write(chunk)

    _write_docx(path, parts, write)
    if not lie_about_size:
        return
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as z:
        info = z.getinfo("word/document.xml")
    name = b"word/document.xml"
    # Uncompressed size: local file header at +22, central directory entry at +24.
    struct.pack_into("<I", data, info.header_offset + 22, len(orig))
    i = data.find(b"PK\x01\x02")
    while i != -1:
        nlen = struct.unpack_from("<H", data, i + 28)[0]
        if data[i + 46 : i + 46 + nlen] == name:
            struct.pack_into("<I", data, i + 24, len(orig))
        i = data.find(b"PK\x01\x02", i + 4)
    path.write_bytes(bytes(data))


def billion_laughs_dtd(root: bytes = b"lolz") -> bytes:
    ents = b"".join(
        b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
        for i in range(1, 10)
    )
    return b"<!DOCTYPE " + root + b' [<!ENTITY lol "lol">' + ents + b"]>"


def docx_billion_laughs(path: Path, pad: int = 0) -> None:
    """A DOCX whose document.xml declares billion-laughs entities and uses &lol9;.

    ``pad`` bytes of XML comment go between the XML declaration and the DTD,
    which XML allows.
    """
    parts = docx_parts()

    def write(z: zipfile.ZipFile, body: bytes) -> None:
        decl_end = body.index(b"?>") + 2
        padding = b"<!--" + b"x" * pad + b"-->" if pad else b""
        doc = (
            body[:decl_end]
            + padding
            + billion_laughs_dtd(b"w:document")
            + body[decl_end:].replace(b"Section 1.", b"&lol9; Section 1.")
        )
        z.writestr("word/document.xml", doc)

    _write_docx(path, parts, write)


# --- XML / JSON ----------------------------------------------------------------


def xml_billion_laughs() -> bytes:
    return (
        b'<?xml version="1.0"?>\n'
        + billion_laughs_dtd()
        + b"\n<lolz><Section><Label>1</Label><Text>&lol9;</Text></Section></lolz>\n"
    )


def malformed_json() -> bytes:
    return (
        b'{"title": "Trafficking Test Act", "provisions": [{"section": "1", "content": '
        b'"A person who traffics another person commits an offence."}, '
        b'{"section": "2", "content": "Penalty'
    )


def deep_json(depth: int = 10_000) -> bytes:
    return b'{"provisions": [' * depth + b'{"content": "x"}' + b"]}" * depth
