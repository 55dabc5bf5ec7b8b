"""PDF through two engines behind one interface.

Both engines turn a page into the same neutral form (:class:`LayoutPage`);
the layout logic in :mod:`service.extract.layout` does the rest.

- ``pdfium`` (pypdfium2): fast, small memory; the default.
- ``pdfplumber`` (pdfminer.six): exact character geometry, slow.
"""

from __future__ import annotations

import ctypes
import math
import re
import time
from collections import Counter
from collections.abc import Iterator
from functools import cache
from itertools import repeat
from typing import Any, Literal, Protocol

from ..errors import (
    CorruptDocument,
    DocumentTimeout,
    EncryptedDocument,
    LimitExceeded,
    TipscanError,
)
from .layout import CharBox, LayoutPage, Line, chars_to_lines
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
            quick = _quick_raw()
            fonts: dict[bytes, bool] = {}
            name = ctypes.create_string_buffer(256)
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
                text = _page_text(raw, textpage.raw, n)
                tp = ctypes.cast(textpage.raw, ctypes.c_void_p)
                turn = _page_turn(quick, tp, text)
                if turn:
                    # The page's text is drawn turned (a landscape table, a page
                    # set sideways): read it as it stands upright.
                    frame = _Frame(turn, page.get_cropbox())
                    width, height = frame.width, frame.height
                    turned = _TurnedChars(quick, tp, text, frame, rect)
                    chars: list[CharBox] = list(turned.read())
                    rotated, level = turned.skipped, turned.level
                else:
                    runs = _PageRuns(quick, tp, text, height, rect)
                    chars = runs.read()
                    rotated, level = runs.skipped, []

                def bold_of(k: object, tp: Any = tp) -> bool:
                    # The base font name, as pdfplumber sees it; cached by name.
                    n = quick.FPDFText_GetFontInfo(tp, k, name, 256, None)
                    key = name.raw[: max(n - 1, 0)] if 0 < n <= 256 else b""
                    found = fonts.get(key)
                    if found is None:
                        found = fonts[key] = _is_bold(key.decode("latin-1"))
                    return found

                lines = chars_to_lines(chars, bold_of)
                if level:
                    lines = _above(chars_to_lines(level, bold_of), lines)
                textpage.close()
                page.close()
                yield LayoutPage(index + 1, width, height, lines, rotated_chars=rotated)
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
                    rotated_chars=sum(
                        1 for c in page.chars if not c.get("upright", True) and c["text"].strip()
                    ),
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


# The PDFium functions called once a line, a word or a space.
_QUICK = (
    "FPDFText_CountRects",
    "FPDFText_GetRect",
    "FPDFText_GetCharAngle",
    "FPDFText_GetLooseCharBox",
    "FPDFText_IsGenerated",
    "FPDFText_GetFontInfo",
)


@cache
def _quick_raw() -> Any:
    """The hot PDFium functions without the bindings' per-call argument checks.

    The same C functions, called through ctypes' default conversions: the
    checks cost more than the call itself, in loops that run once a line or a
    space. Callers pass handles as ``c_void_p`` and indices as ints.
    """
    import types

    import pypdfium2.raw as raw

    quick = {}
    for name in _QUICK:
        fn = getattr(raw, name)
        fast = type(fn)(ctypes.cast(fn, ctypes.c_void_p).value)
        fast.restype = fn.restype
        quick[name] = fast
    return types.SimpleNamespace(**quick)


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


# A line: PDFium's own line breaks. A word: a run of characters between spaces
# and line breaks (PDFium's own, generated or not). NUL and U+FFFF are
# placeholders PDFium uses for nothing.
_SURROGATE = re.compile("[\ud800-\udfff]")
_LINE = re.compile(r"\S(?:[^\r\n]*\S)?")  # trimmed
_WORD = re.compile(r"[^\s\x00\uffff]+")
_PLACEHOLDER = re.compile("[\x00\uffff]")
# Where a typesetter may have drawn a space inside an "fi", "fl" or "ff" ligature.
_LIGATURE_SPACE = re.compile(r"(?<=f[filt]) (?=[a-z])")
# A run wider than this many band heights per character may hide a gap.
_MAX_RUN_WIDTH = 0.6
# Text objects of one line further apart than this many of their heights (a tab,
# a column gutter) are read word by word; a word space is well under one.
_MAX_OBJECT_GAP = 1.5
# A gap wider than this many band heights may part a column or a marginal note.
_WIDE_GAP = 2.0
_SPACE = re.compile(" ")
_BLANKS = re.compile(r"\s\s|[\t\xa0]")
# More text objects than this on one line: read it word by word.
_MAX_LINE_RECTS = 12


def _rotated(angle: float) -> bool:
    return 0.05 < angle < 6.23


class _PageRuns:
    """A text page's runs of text, each with its box, in content-stream order.

    Asking PDFium for every character's box costs a foreign call and some
    Python per character. Most lines of a legal text are one text object, or a
    few a word space apart in one type; such a line is one run, boxed from its
    first character to its last. PDFium's text-object rectangles say whether
    the objects do meet. A line whose objects leave a wider gap, step back,
    leave the band or turn, or that hides a wide gap inside one object
    (columns, marginal notes, tables, form blanks, rotated stamps), is read
    word by word, each word boxed from its first to its last character, and a
    word whose ends are not on one line character by character. The layout
    step then reads runs, words and characters alike, so a line gives the
    same text and box whichever way it was read.
    """

    def __init__(self, raw: Any, tp: Any, text: str, height: float, rect: Any) -> None:
        if _SURROGATE.search(text):
            text = _SURROGATE.sub(" ", text)
        self.raw, self.tp, self.height, self.rect = raw, tp, height, rect
        if "\x02" in text or "\ufffe" in text:  # PDFium's marks for a hyphen at a line end
            text = text.replace("\x02", "-").replace("\ufffe", "-")
        self.text = text
        self.ref = ctypes.byref(rect)
        self.edges = [ctypes.c_double() for _ in range(4)]  # a rectangle's, from GetRect
        self.edge_refs = [ctypes.byref(v) for v in self.edges]
        self.out: list[CharBox] = []
        self.last_end = -1
        self.rotated = False
        self.skipped = 0  # characters of rotated text left out

    def read(self) -> list[CharBox]:
        text = self.text
        for m in _LINE.finditer(text):
            a, b = m.span()
            if not self._line(a, b):
                self._words(a, b)
        return self.out

    def _line(self, a: int, b: int) -> bool:
        """The line text[a:b] as one run; False where it must be read word by word."""
        raw, tp, height, rect, ref = self.raw, self.tp, self.height, self.rect, self.ref
        k = raw.FPDFText_CountRects(tp, a, b - a)
        if k < 1 or k > _MAX_LINE_RECTS or _rotated(raw.FPDFText_GetCharAngle(tp, a)):
            return False
        # The run's box is the loose one (the font's ascent and descent), as
        # for words, so that line heights and pitches do not depend on which
        # letters a line happens to hold.
        if not raw.FPDFText_GetLooseCharBox(tp, a, ref):
            return False
        x0, y0, y1 = rect.left, height - rect.top, height - rect.bottom
        if not raw.FPDFText_GetLooseCharBox(tp, b - 1, ref):
            return False
        x1, ly0, ly1 = rect.right, height - rect.top, height - rect.bottom
        band = y1 - y0 if y1 - y0 > 0.5 else 0.5
        if x1 < x0 or min(y1, ly1) - max(y0, ly0) < 0.3 * band:
            return False
        if k > 1:
            # Objects in one type on one baseline share the loose band; a line
            # that steps up or down, or changes type, is read word by word.
            slack = 0.1 * band
            if abs(ly0 - y0) > slack or abs(ly1 - y1) > slack:
                return False
            if not self._objects_meet(k, y0 - slack, y1 + slack):
                return False
        run = self.text[a:b]
        if x1 - x0 > _MAX_RUN_WIDTH * band * (b - a) or _BLANKS.search(run):
            return False  # wide for its letters, or spaced out: a gap inside one object?
        if " " in run and self._wide_generated_space(a, run, band):
            return False
        if _LIGATURE_SPACE.search(run):
            run = self._join_ligatures(a, run)
        if "\x00" in run or "\uffff" in run:
            run = _PLACEHOLDER.sub("", run)
        out = self.out
        if out:
            prev = out[-1]
            out.append((" ", prev[3], prev[2], prev[3], prev[4], a - 1))
        out.append((run, x0, y0, x1, y1, a))
        self.last_end = b - 1
        self.rotated = False
        return True

    def _objects_meet(self, k: int, top_limit: float, bottom_limit: float) -> bool:
        """Whether the k text objects of the line last asked about follow on, in the band.

        Text-object rectangles are tight around the glyphs drawn; they tell
        where objects meet. Objects may stand a word space apart; a wider gap
        (a tab, a column), a step back or a glyph outside the band is for words
        to sort out.
        """
        raw, tp, height = self.raw, self.tp, self.height
        left, top, right, bottom = self.edges
        rx1 = 0.0
        for j in range(k):
            if not raw.FPDFText_GetRect(tp, j, *self.edge_refs):
                return False
            bx0, by0, bx1, by1 = left.value, height - top.value, right.value, height - bottom.value
            if by0 < top_limit or by1 > bottom_limit:
                return False
            h = by1 - by0 if by1 - by0 > 0.5 else 0.5
            if j and not (-0.6 * h <= bx0 - rx1 <= _MAX_OBJECT_GAP * h):
                return False
            rx1 = bx1 if bx1 > rx1 else rx1
        return True

    def _wide_generated_space(self, a: int, run: str, band: float) -> bool:
        """Whether a space PDFium generated inside the run stands for a wide gap.

        PDFium marks a gap inside one text object (a form blank, a table
        gutter) with a generated space of no width, placed where the next
        character starts; the gap is from the character before to there.
        """
        raw, tp, rect, ref = self.raw, self.tp, self.rect, self.ref
        spaces = [a + m.start() for m in _SPACE.finditer(run)]
        flags = list(map(raw.FPDFText_IsGenerated, repeat(tp, len(spaces)), spaces))
        if 1 not in flags:
            return False
        loose_box = raw.FPDFText_GetLooseCharBox
        for k, flag in zip(spaces, flags, strict=True):
            if flag == 1 and loose_box(tp, k, ref):
                start = rect.left
                if loose_box(tp, k - 1, ref) and start - rect.right > _WIDE_GAP * band:
                    return True
        return False

    def _join_ligatures(self, a: int, run: str) -> str:
        """The run without spaces drawn inside the ligature glyph before them."""
        drop = [
            m.start() for m in _LIGATURE_SPACE.finditer(run) if self._inside_previous(a + m.start())
        ]
        for i in reversed(drop):
            run = run[:i] + run[i + 1 :]
        return run

    def _inside_previous(self, k: int) -> bool:
        """Whether character k is a real space drawn inside the glyph of the two before."""
        raw, tp, rect, ref = self.raw, self.tp, self.rect, self.ref
        if raw.FPDFText_IsGenerated(tp, k) == 1 or not raw.FPDFText_GetLooseCharBox(tp, k, ref):
            return False
        left, right = rect.left, rect.right
        if right - left < 0.1 or not raw.FPDFText_GetLooseCharBox(tp, k - 1, ref):
            return False
        end = rect.right
        if not raw.FPDFText_GetLooseCharBox(tp, k - 2, ref):
            return False
        return rect.left < left and right < end

    def _words(self, start: int, end: int) -> None:
        """text[start:end] word by word, each boxed from its first to its last character."""
        raw, tp, text, height, rect, ref = (
            self.raw,
            self.tp,
            self.text,
            self.height,
            self.rect,
            self.ref,
        )
        loose_box = raw.FPDFText_GetLooseCharBox
        char_angle = raw.FPDFText_GetCharAngle
        out = self.out
        last_end, rotated = self.last_end, self.rotated
        for m in _WORD.finditer(text, start, end):
            a = m.start()
            b = m.end() - 1
            # Rotated text (form column heads, stamps) is not body text. PDFium
            # mostly breaks the line around it, so the angle is asked once a line,
            # and word by word while the text is rotated.
            if rotated or last_end < 0 or "\n" in text[last_end + 1 : a] or b == a:
                rotated = _rotated(char_angle(tp, a))
            if rotated:
                self.skipped += b - a + 1
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
                    rotated = _rotated(char_angle(tp, a))
                    if rotated:
                        self.skipped += b - a + 1
                    else:
                        out.extend(_char_boxes(raw, tp, text, a, b + 1, height, rect))
                        last_end = b
                    continue
                x1 = rect.right
            if last_end >= 0 and a > last_end + 1 and out:
                prev = out[-1]
                if (
                    x0 - prev[3] > 0.05 * (bottom - top)
                    or x0 < prev[1]
                    or not (a - last_end == 2 and self._inside_previous(a - 1))
                ):
                    out.append((" ", prev[3], prev[2], prev[3], prev[4], a - 1))
            out.append((m.group(), x0, top, x1, bottom, a))
            last_end = b
        self.last_end, self.rotated = last_end, rotated


# How many characters of a page are asked their angle to find the page's turn.
_TURN_SAMPLE = 400


def _page_turn(raw: Any, tp: Any, text: str) -> int:
    """The turn (0, 90, 180 or 270 degrees, clockwise) that sets most of the page's text upright.

    Text drawn at a quarter turn throughout (a landscape table set on a
    portrait page and turned by the page's /Rotate, a page typeset sideways)
    is the page's body, not a stamp in the margin; the angle most of its
    letters share says which way it stands.
    """
    letters = [k for k, ch in enumerate(text) if not ch.isspace() and ch not in "\x00\uffff"]
    if not letters:
        return 0
    step = max(1, len(letters) // _TURN_SAMPLE)
    turns: Counter[int] = Counter()
    for k in letters[::step]:
        quarter = round(raw.FPDFText_GetCharAngle(tp, k) / (math.pi / 2)) % 4
        turns[quarter] += 1
    quarter, _count = turns.most_common(1)[0]
    if quarter == 0 or turns[0] >= 0.4 * sum(turns.values()):
        return 0
    return (4 - quarter) % 4 * 90


class _Frame:
    """Page coordinates (y up, from the crop box) to those of the page turned upright."""

    def __init__(self, turn: int, cropbox: tuple[float, float, float, float]) -> None:
        left, bottom, right, top = cropbox
        self.turn, self.left, self.bottom = turn, left, bottom
        self.w, self.h = right - left, top - bottom
        self.width, self.height = (self.h, self.w) if turn in (90, 270) else (self.w, self.h)

    def box(self, x0: float, b: float, x1: float, t: float) -> tuple[float, float, float, float]:
        """(x0, top, x1, bottom) of the rectangle, top measured from the upright page's top."""
        x0, x1, b, t = x0 - self.left, x1 - self.left, b - self.bottom, t - self.bottom
        if self.turn == 90:
            return b, x0, t, x1
        if self.turn == 270:
            return self.h - t, self.w - x1, self.h - b, self.w - x0
        if self.turn == 180:
            return self.w - x1, b, self.w - x0, t
        return x0, self.h - t, x1, self.h - b


class _TurnedChars:
    """The page's characters at its turn, character by character, boxed upright.

    Characters drawn level on the unturned page (a schedule's heading, a
    running header over a turned form) are kept apart, boxed on the unturned
    page, in ``level``; characters at any other angle (a stamp across the
    page) are left out and counted, as rotated text is on an upright page.
    """

    def __init__(self, raw: Any, tp: Any, text: str, frame: _Frame, rect: Any) -> None:
        self.raw, self.tp, self.text, self.frame, self.rect = raw, tp, text, frame, rect
        self.skipped = 0
        self.level: list[CharBox] = []

    def read(self) -> Iterator[CharBox]:
        raw, tp, frame, rect = self.raw, self.tp, self.frame, self.rect
        ref = ctypes.byref(rect)
        upright = (4 - frame.turn // 90) % 4 * (math.pi / 2)
        unturned = _Frame(
            0, (frame.left, frame.bottom, frame.left + frame.w, frame.bottom + frame.h)
        )
        level = self.level
        prev: tuple[float, float, float, float] | None = None
        prev_level = False
        for k, ch in enumerate(self.text):
            if ch in "\x00\uffff":
                continue
            if ch.isspace():
                if prev is not None:
                    space: CharBox = (" ", prev[2], prev[1], prev[2], prev[3], k)
                    if prev_level:
                        level.append(space)
                    else:
                        yield space
                continue
            angle = raw.FPDFText_GetCharAngle(tp, k)
            off = abs(angle - upright) % (2 * math.pi)
            is_level = min(angle, 2 * math.pi - angle) <= 0.05
            if min(off, 2 * math.pi - off) > 0.05 and not is_level:
                self.skipped += 1
                continue
            if not raw.FPDFText_GetLooseCharBox(tp, k, ref):
                continue
            box = unturned if is_level else frame
            prev, prev_level = box.box(rect.left, rect.bottom, rect.right, rect.top), is_level
            char: CharBox = ("-" if ch in "\x02\ufffe" else ch, *prev, k)
            if is_level:
                level.append(char)
            else:
                yield char


def _above(first: list[Line], lines: list[Line]) -> list[Line]:
    """``first`` moved above ``lines``, as read before them: a turned page's level heading."""
    if first and lines:
        lift = max(line.bottom for line in first) - min(line.top for line in lines) + 20
        for line in first:
            line.top -= lift
            line.bottom -= lift
    return first + lines


def _char_boxes(
    raw: Any, tp: Any, text: str, a: int, b: int, height: float, rect: Any
) -> Iterator[CharBox]:
    ref = ctypes.byref(rect)
    for k in range(a, b):
        if raw.FPDFText_GetLooseCharBox(tp, k, ref):
            yield (text[k], rect.left, height - rect.top, rect.right, height - rect.bottom, k)
