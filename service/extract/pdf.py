"""PDF through two engines behind one interface.

Both engines turn a page into the same neutral form (:class:`LayoutPage`);
the layout logic in :mod:`service.extract.layout` does the rest.

- ``pdfium`` (pypdfium2): fast, small memory; the default.
- ``pdfplumber`` (pdfminer.six): exact character geometry, slow.
"""

from __future__ import annotations

import ctypes
import time
from collections.abc import Iterator
from typing import Any, Literal, Protocol

from ..errors import CorruptDocument, DocumentTimeout, EncryptedDocument, LimitExceeded
from .layout import CharBox, LayoutPage, chars_to_lines
from .limits import Limits

EngineName = Literal["pdfium", "pdfplumber"]
ENGINES: tuple[EngineName, ...] = ("pdfium", "pdfplumber")
DEFAULT_ENGINE: EngineName = "pdfium"


class PdfEngine(Protocol):
    name: str

    def pages(self, data: bytes, limits: Limits, deadline: float) -> Iterator[LayoutPage]:
        """Yield each page in the neutral form; raise a TipscanError on bad input."""
        ...


def _check_pages(n: int, limits: Limits) -> None:
    if n > limits.max_pages:
        raise LimitExceeded(
            f"the PDF has {n} pages, over the limit of {limits.max_pages} "
            "(raise it with --max-pages if the document is genuine)"
        )


def _check_deadline(deadline: float, limits: Limits) -> None:
    if time.monotonic() > deadline:
        raise DocumentTimeout(
            f"extraction took longer than {limits.timeout_s:g} s "
            "(raise it with --timeout if the document is genuine)"
        )


class PdfiumEngine:
    name = "pdfium"

    def pages(self, data: bytes, limits: Limits, deadline: float) -> Iterator[LayoutPage]:
        import pypdfium2 as pdfium
        import pypdfium2.raw as raw

        try:
            pdf = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as exc:
            msg = str(exc).lower()
            if "password" in msg:
                raise EncryptedDocument(
                    "the PDF is encrypted with a password; remove the password and try again"
                ) from None
            raise CorruptDocument(f"the PDF cannot be read ({exc})") from None
        try:
            _check_pages(len(pdf), limits)
            rect = raw.FS_RECTF()
            fonts: dict[int, bool] = {}
            for index in range(len(pdf)):
                _check_deadline(deadline, limits)
                page = pdf[index]
                width, height = page.get_size()
                textpage = page.get_textpage()
                n = textpage.count_chars()
                tp = textpage.raw
                chars: list[CharBox] = []
                for k in range(n):
                    code = raw.FPDFText_GetUnicode(tp, k)
                    if code in (0, 0xFFFE, 0xFFFF):
                        continue
                    if not raw.FPDFText_GetLooseCharBox(tp, k, ctypes.byref(rect)):
                        continue
                    if 0xD800 <= code < 0xE000:
                        continue  # lone surrogate halves: not text
                    if raw.FPDFText_IsGenerated(tp, k) == 1:
                        continue  # spaces and breaks PDFium made up; layout decides those
                    angle = raw.FPDFText_GetCharAngle(tp, k)
                    if 0.05 < angle < 6.23:
                        continue  # rotated text (form column heads, stamps): not body text
                    ch = chr(code)
                    size = 0.0  # layout uses the glyph band's height
                    if ch.isspace():
                        bold = False
                    else:
                        bold = _font_bold(
                            raw, fonts, raw.FPDFTextObj_GetFont(raw.FPDFText_GetTextObject(tp, k))
                        )
                    chars.append(
                        (
                            ch,
                            rect.left,
                            height - rect.top,
                            rect.right,
                            height - rect.bottom,
                            size,
                            bold,
                        )
                    )
                textpage.close()
                page.close()
                yield LayoutPage(index + 1, width, height, chars_to_lines(chars))
        finally:
            pdf.close()


class PdfplumberEngine:
    name = "pdfplumber"

    def pages(self, data: bytes, limits: Limits, deadline: float) -> Iterator[LayoutPage]:
        import io

        import pdfplumber
        from pdfminer.pdfdocument import PDFPasswordIncorrect
        from pdfminer.pdfparser import PDFSyntaxError

        try:
            pdf = pdfplumber.open(io.BytesIO(data))
            n = len(pdf.pages)
        except PDFPasswordIncorrect:
            raise EncryptedDocument(
                "the PDF is encrypted with a password; remove the password and try again"
            ) from None
        except (PDFSyntaxError, RecursionError, ValueError, TypeError, KeyError) as exc:
            raise CorruptDocument(f"the PDF cannot be read ({type(exc).__name__})") from None
        except Exception as exc:
            if "password" in type(exc).__name__.lower():
                raise EncryptedDocument(
                    "the PDF is encrypted with a password; remove the password and try again"
                ) from None
            raise CorruptDocument(f"the PDF cannot be read ({type(exc).__name__})") from None
        try:
            _check_pages(n, limits)
            for index, page in enumerate(pdf.pages):
                _check_deadline(deadline, limits)
                chars: list[CharBox] = [
                    (
                        c["text"],
                        c["x0"],
                        c["top"],
                        c["x1"],
                        c["bottom"],
                        c.get("size") or 0.0,
                        _is_bold(c.get("fontname") or ""),
                    )
                    for c in page.chars
                    if c.get("upright", True)
                ]
                yield LayoutPage(
                    index + 1, float(page.width), float(page.height), chars_to_lines(chars)
                )
                page.close()
        except RecursionError:
            raise CorruptDocument("the PDF's objects are nested too deeply to read") from None
        finally:
            pdf.close()


def _font_bold(raw: Any, cache: dict[int, bool], font: Any) -> bool:
    """Bold by the font's base name, as pdfplumber sees it (cached per font handle)."""
    key = ctypes.cast(font, ctypes.c_void_p).value or 0
    found = cache.get(key)
    if found is None:
        buf = ctypes.create_string_buffer(256)
        n = raw.FPDFFont_GetBaseFontName(font, buf, 256) if key else 0
        found = _is_bold(buf.value.decode("latin-1", "replace") if n else "")
        cache[key] = found
    return found


def _is_bold(fontname: str) -> bool:
    name = fontname.split("+", 1)[-1].lower()
    return any(w in name for w in ("bold", "black", "heavy", "semibold", "demi"))


def get_engine(name: str) -> PdfEngine:
    if name == "pdfium":
        return PdfiumEngine()
    if name == "pdfplumber":
        return PdfplumberEngine()
    raise ValueError(f"unknown PDF engine {name!r}; choose one of {', '.join(ENGINES)}")
