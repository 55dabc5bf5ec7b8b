"""PDF through two engines behind one interface.

Both engines turn a page into the same neutral form (:class:`LayoutPage`);
the layout logic in :mod:`service.extract.layout` does the rest.

- ``pdfium`` (pypdfium2): fast, small memory; the default.
- ``pdfplumber`` (pdfminer.six): exact character geometry, slow.
"""

from __future__ import annotations

import ctypes
import re
import time
from collections.abc import Iterator
from functools import cache
from typing import Any, Literal, Protocol

from ..errors import (
    CorruptDocument,
    DocumentTimeout,
    EncryptedDocument,
    LimitExceeded,
    TipscanError,
)
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
                try:
                    page = pdf[index]
                    width, height = page.get_size()
                    textpage = page.get_textpage()
                except pdfium.PdfiumError:
                    raise CorruptDocument(
                        f"the PDF cannot be read: page {index + 1} of {len(pdf)} fails to load"
                    ) from None
                n = textpage.count_chars()
                tp = textpage.raw
                chars = _page_words(raw, tp, _page_text(raw, tp, n), height, rect)

                def bold_of(k: object, tp: Any = tp) -> bool:
                    obj = raw.FPDFText_GetTextObject(tp, k)
                    return _font_bold(raw, fonts, raw.FPDFTextObj_GetFont(obj))

                lines = chars_to_lines(chars, bold_of)
                textpage.close()
                page.close()
                yield LayoutPage(index + 1, width, height, lines)
        finally:
            pdf.close()


class PdfplumberEngine:
    name = "pdfplumber"

    def pages(self, data: bytes, limits: Limits, deadline: float) -> Iterator[LayoutPage]:
        import io

        import pdfplumber

        _quiet_pdfminer()
        try:
            pdf = pdfplumber.open(io.BytesIO(data))
            n = len(pdf.pages)
        except RecursionError:
            raise CorruptDocument("the PDF's objects are nested too deeply to read") from None
        except Exception as exc:
            # pdfplumber wraps pdfminer's errors (PdfminerException); look inside.
            inner = exc.args[0] if exc.args and isinstance(exc.args[0], Exception) else exc
            if "password" in f"{type(inner).__name__} {inner}".lower():
                raise EncryptedDocument(
                    "the PDF is encrypted with a password; remove the password and try again"
                ) from None
            raise CorruptDocument(f"the PDF cannot be read ({type(inner).__name__})") from None
        try:
            _check_pages(n, limits)
            index = 0
            for index, page in enumerate(pdf.pages):
                _check_deadline(deadline, limits)
                chars: list[CharBox] = [
                    (c["text"], c["x0"], c["top"], c["x1"], c["bottom"], c.get("fontname") or "")
                    for c in page.chars
                    if c.get("upright", True)
                ]
                yield LayoutPage(
                    index + 1,
                    float(page.width),
                    float(page.height),
                    chars_to_lines(chars, _is_bold_key),
                )
                page.close()
        except RecursionError:
            raise CorruptDocument("the PDF's objects are nested too deeply to read") from None
        except (TipscanError, GeneratorExit):
            raise
        except Exception as exc:
            raise CorruptDocument(
                f"the PDF cannot be read past page {index} ({type(exc).__name__})"
            ) from None
        finally:
            pdf.close()


def _quiet_pdfminer() -> None:
    """pdfminer logs malformed-content warnings to stderr; a batch reports per file instead."""
    import logging

    logging.getLogger("pdfminer").setLevel(logging.ERROR)


# PDFium's marks for a hyphen at a line end.
_HYPHEN_MAP = str.maketrans({"\x02": "-", "\ufffe": "-"})


def _page_text(raw: Any, tp: Any, n: int) -> str:
    """All n characters of a text page in one call, one str character per index."""
    if n <= 0:
        return ""
    buf = (ctypes.c_ushort * (n + 1))()
    raw.FPDFText_GetText(tp, 0, n, buf)
    text = bytes(buf)[: 2 * n].decode("utf-16-le", errors="replace")
    if len(text) == n and not _SURROGATE.search(text):
        return text
    # Characters beyond the BMP shift UTF-16 positions: ask character by character.
    return "".join(chr(raw.FPDFText_GetUnicode(tp, k) or 0xFFFE) for k in range(n))


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


def _is_bold_key(fontname: object) -> bool:
    return _is_bold(str(fontname))


@cache
def _is_bold(fontname: str) -> bool:
    name = fontname.split("+", 1)[-1].lower()
    return any(w in name for w in ("bold", "black", "heavy", "semibold", "demi"))


def get_engine(name: str) -> PdfEngine:
    if name == "pdfium":
        return PdfiumEngine()
    if name == "pdfplumber":
        return PdfplumberEngine()
    raise ValueError(f"unknown PDF engine {name!r}; choose one of {', '.join(ENGINES)}")


# A word: a run of characters between spaces and line breaks (PDFium's own,
# generated or not). NUL and U+FFFF are placeholders PDFium uses for nothing.
_SURROGATE = re.compile("[\ud800-\udfff]")
_WORD = re.compile(r"[^\s\x00\uffff]+")


def _page_words(raw: Any, tp: Any, text: str, height: float, rect: Any) -> list[CharBox]:
    """The page's words, each with the box from its first to its last character.

    Asking PDFium for every character's box costs a foreign call and some
    Python per character; asking per word keeps the engine near PDFium's own
    speed. A word whose ends are not on one line, or whose first character is
    rotated, falls back to character by character.
    """
    loose_box = raw.FPDFText_GetLooseCharBox
    char_angle = raw.FPDFText_GetCharAngle
    ref = ctypes.byref(rect)
    out: list[CharBox] = []
    if _SURROGATE.search(text):
        text = _SURROGATE.sub(" ", text)
    text = text.translate(_HYPHEN_MAP)
    last_end = -1
    rotated = False
    for m in _WORD.finditer(text):
        a = m.start()
        b = m.end() - 1
        # Rotated text (form column heads, stamps) is not body text. PDFium
        # mostly breaks the line around it, so the angle is asked once a line,
        # and word by word while the text is rotated.
        if rotated or last_end < 0 or "\n" in text[last_end + 1 : a] or b == a:
            angle = char_angle(tp, a)
            rotated = 0.05 < angle < 6.23
        if rotated:
            continue
        if not loose_box(tp, a, ref):
            continue
        x0, top, x1, bottom = rect.left, height - rect.top, rect.right, height - rect.bottom
        if b > a:
            if not loose_box(tp, b, ref):
                continue
            btop, bbottom = height - rect.top, height - rect.bottom
            if rect.right < x0 or min(bottom, bbottom) - max(top, btop) < 0.3 * (bottom - top):
                # Ends off one line: rotated text that PDFium did not break
                # from the line before, or a word it ran across lines.
                rotated = 0.05 < char_angle(tp, a) < 6.23
                if not rotated:
                    out.extend(_char_boxes(raw, tp, text, a, b + 1, height, rect))
                    last_end = b
                continue
            x1 = rect.right
        if last_end >= 0 and a > last_end + 1 and out:
            prev = out[-1]
            if (
                x0 - prev[3] > 0.05 * (bottom - top)
                or x0 < prev[1]
                or not _space_inside(raw, tp, last_end + 1, a, prev, ref, rect)
            ):
                out.append((" ", prev[3], prev[2], prev[3], prev[4], a - 1))
        out.append((m.group(), x0, top, x1, bottom, a))
        last_end = b
    return out


def _space_inside(
    raw: Any, tp: Any, start: int, end: int, prev: CharBox, ref: Any, rect: Any
) -> bool:
    """Whether the whitespace is one real space drawn inside the previous word's box.

    Some typesetters draw a space inside an "ffi" ligature; that is no word break.
    """
    if end - start != 1 or raw.FPDFText_IsGenerated(tp, start) == 1:
        return False
    if not raw.FPDFText_GetLooseCharBox(tp, start, ref):
        return False
    return rect.right - rect.left >= 0.1 and prev[1] < rect.left and rect.right < prev[3]


def _char_boxes(
    raw: Any, tp: Any, text: str, a: int, b: int, height: float, rect: Any
) -> Iterator[CharBox]:
    ref = ctypes.byref(rect)
    for k in range(a, b):
        if raw.FPDFText_GetLooseCharBox(tp, k, ref):
            yield (text[k], rect.left, height - rect.top, rect.right, height - rect.bottom, k)
