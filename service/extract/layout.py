"""Page layout, engine-neutral.

PDF engines (pdfplumber, PDFium) and OCR each turn a page into the same
neutral form: characters become :class:`Line` segments with a bounding box and
a font size. Everything that reads a page as a person would (running headers
and footers, marginal notes, columns, paragraphs, hyphenation) works on that
form, here, once, so that both engines give the same passages.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from itertools import pairwise
from operator import attrgetter
from statistics import median
from typing import Literal, NamedTuple

from .normalize import normalize_inline

# (text, x0, top, x1, bottom, key for boldness); top/bottom measured from the page top.
CharBox = tuple[str, float, float, float, float, object]


@dataclass(slots=True)
class Line:
    """A run of text on one baseline, without wide gaps inside."""

    text: str
    x0: float
    top: float
    x1: float
    bottom: float
    size: float
    bold: bool = False

    @property
    def height(self) -> float:
        return max(self.bottom - self.top, 0.1)


@dataclass(slots=True)
class LayoutPage:
    """One page in the neutral form an engine yields."""

    number: int
    width: float
    height: float
    lines: list[Line]
    ocr: bool = False
    readable: bool = True
    rotated_chars: int = 0  # characters of rotated text the engine left out
    kept_chars: int = 0  # characters of the lines read, before layout


@dataclass(slots=True)
class TextBlock:
    """A paragraph (or heading) of a page's body, with the marginal note beside it."""

    text: str
    top: float
    note: str | None = None


# Why layout leaves a line out of a page's body.
Dropped = Literal["running header/footer", "page number", "banner"]


@dataclass(slots=True)
class PageText:
    number: int
    blocks: list[TextBlock] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # Lines left out of the body, by reason, in page order.
    dropped: dict[Dropped, list[str]] = field(default_factory=dict)
    # Every line would have been left out: the page was kept as plain paragraphs.
    kept_whole: bool = False
    has_text: bool = False  # set once the page's blocks are taken


_LETTERS = re.compile(r"[^\W\d_]")
_SPACE_CHARS = frozenset(" \t\r\n\u00a0\x02\ufffe")


def chars_to_lines(
    chars: Iterable[CharBox], bold_of: Callable[[object], bool] | None = None
) -> list[Line]:
    """Group characters, in content-stream order, into line segments.

    A segment ends where the next character is not on the same baseline, goes
    back to the left, or sits more than three font sizes to the right (a
    column gutter or the gap before a marginal note). Characters drawn twice on
    the same spot (fake bold) are kept once. Spaces come from the PDF's own
    space characters, or from gaps wider than the segment's usual gap between
    letters, so that letter-spaced (tracked) text is not torn apart.

    The last element of each character is a key (a font name, a character
    index) that ``bold_of`` turns into boldness; it is asked once a segment,
    for the segment's first character, which keeps the engines' per-character
    work small.
    """
    lines: list[Line] = []
    chs: list[str] = []
    x0s: list[float] = []
    x1s: list[float] = []
    spaces: list[bool] = []
    x0 = top = x1 = bottom = size = 0.0
    key: object = None
    pending_space = False

    def flush() -> None:
        n = len(chs)
        if n == 1:  # a whole line the engine read as one run
            text = chs[0].strip()
        else:
            gaps = sorted(x0s[i] - x1s[i - 1] for i in range(1, n) if not spaces[i])
            typical = gaps[len(gaps) // 2] if gaps else 0.0
            # Band height ~ 1.2 em: a word space is ~ 0.15 of it.
            limit = max(0.15 * size, 1.6 * max(typical, 0.0) + 0.12 * size)
            out = [chs[0]]
            for i in range(1, n):
                if spaces[i] or x0s[i] - x1s[i - 1] > limit:
                    out.append(" ")
                out.append(chs[i])
            text = "".join(out).strip()
        if text:
            bold = bold_of(key) if bold_of is not None else False
            lines.append(Line(text, x0, top, x1, bottom, size, bold))
        chs.clear()
        x0s.clear()
        x1s.clear()
        spaces.clear()

    for ch, cx0, ctop, cx1, cbottom, ckey in chars:
        if ch in _SPACE_CHARS or ch.isspace():
            # A space drawn inside the previous glyph (after an "ffi" ligature,
            # say) is a typesetter's kerning trick, not a word break.
            if not chs or cx1 - cx0 < 0.1 or not (x0s[-1] < cx0 and cx1 < x1s[-1]):
                pending_space = True
            continue
        # Font sizes are unreliable across producers (text matrices scale a
        # size-1 font); the glyph band's height is what both engines agree on.
        csize = cbottom - ctop
        if csize < 0.5:
            csize = 0.5
        if chs:
            lo = ctop if ctop > top else top
            hi = cbottom if cbottom < bottom else bottom
            smallest = csize if csize < size else size
            gap = cx0 - x1
            if hi - lo > 0.3 * smallest and -0.6 * csize <= gap <= (
                3.0 * csize if csize > 4.0 else 12.0
            ):
                if ch == chs[-1] and abs(cx0 - x0s[-1]) < 0.5:
                    continue  # the same glyph again: overprinted bold
                chs.append(ch)
                x0s.append(cx0)
                x1s.append(cx1)
                spaces.append(pending_space)
                if cx1 > x1:
                    x1 = cx1
                # A raised or lowered glyph (italic letter, footnote mark) stays
                # on the line but must not stretch its band.
                if csize > 0.6 * (bottom - top):
                    if ctop < top:
                        top = ctop
                    if cbottom > bottom:
                        bottom = cbottom
                    if csize > size:
                        size = csize
                pending_space = False
                continue
            flush()
        chs.append(ch)
        x0s.append(cx0)
        x1s.append(cx1)
        spaces.append(False)
        x0, top, x1, bottom, size, key = cx0, ctop, cx1, cbottom, csize, ckey
        pending_space = False
    if chs:
        flush()
    return lines


@cache
def _furniture_patterns() -> tuple[re.Pattern[str], re.Pattern[str] | None]:
    """Banner lines (gazette prices, printers' imprints) from the data file.

    Rows anchored at the start are joined into one pattern, tried at the start
    of a line only; the few others are searched through the line.
    """
    text = resources.files("service.data").joinpath("furniture.txt").read_text("utf-8")
    rows = [r.strip() for r in text.splitlines()]
    rows = [r for r in rows if r and not r.startswith("#")]
    anchored = [r[1:] for r in rows if r.startswith("^")]
    floating = [r for r in rows if not r.startswith("^")]

    def joined(parts: list[str]) -> str:
        return "|".join(f"(?:{r})" for r in parts)

    return (
        re.compile(joined(anchored) or "(?!)", re.IGNORECASE),
        re.compile(joined(floating), re.IGNORECASE) if floating else None,
    )


def _is_banner(text: str) -> bool:
    start, anywhere = _furniture_patterns()
    return start.match(text) is not None or (
        anywhere is not None and anywhere.search(text) is not None
    )


_PAGE_NUMBER = re.compile(
    r"^[\W_]*(page|pag\.|página|pagina|blz\.)?\s*([0-9]{1,4}|[ivxlcdm]{1,7})"
    r"(\s*(of|/|de|van)\s*[0-9]{1,4})?[\W_]*$",
    re.IGNORECASE,
)
_DOT_LEADER = re.compile(r"(\.\s?){5,}\s*\d*\s*$|…{2,}")
_ENUM_START = re.compile(
    r"^(\(?\d{1,3}[A-Z]?(\.\d+)*[.)](\s|\(|$)|\d{1,3}[A-Z]?\.\(|\((\d{1,3}[A-Z]?|[a-z]{1,2}|[ivxlc]{1,5})\)"
    r"|[•\-–·]\s|§|(Article|Art\.|Section|Sec\.|Artículo|Artikel|Rule|Regulation|Clause|Chapter"
    r"|CHAPTER|Part|PART|Schedule|SCHEDULE|Title|TITLE|Capítulo|CAPÍTULO|Hoofdstuk|Titel)\b)"
)
_ENDS_SENTENCE = re.compile(r"([.:;!?—–-]|\b(and|or|en|of|y|o))[\"')\]]?$")


def _ends_sentence(text: str) -> bool:
    # The pattern ends at the end and is at most five characters long.
    return _ENDS_SENTENCE.search(text, max(len(text) - 6, 0)) is not None


def _has_leader(text: str) -> bool:
    """Whether _DOT_LEADER matches, asked only where it can (most lines have no leader)."""
    if "……" in text:
        return True
    tail = text.rstrip().rstrip("0123456789").rstrip()
    if not (
        tail.endswith("..") or (tail[-3:-2] == "." and tail[-2:-1].isspace() and tail[-1:] == ".")
    ):
        return False
    return _DOT_LEADER.search(text) is not None


_TOP_LEFT = attrgetter("top", "x0")
_LEFT = attrgetter("x0")


_DIGITS = re.compile(r"\d+")


def _row_key(text: str) -> str:
    """A row's text as furniture is recognised: no case, no spaces, numbers as '#'."""
    return "".join(_DIGITS.sub("#", text.lower()).split())


def _group_rows(segments: Sequence[Line]) -> list[list[Line]]:
    """Segments on one baseline, top to bottom, each row left to right."""
    rows: list[list[Line]] = []
    row: list[Line] = []
    rtop = rbottom = 0.0
    for seg in sorted(segments, key=_TOP_LEFT):
        top, bottom = seg.top, seg.bottom
        if row:
            overlap = (bottom if bottom < rbottom else rbottom) - (top if top > rtop else rtop)
            height = bottom - top if bottom - top > 0.1 else 0.1
            if overlap > 0.5 * (height if height < rbottom - rtop else rbottom - rtop):
                row.append(seg)
                if top < rtop:
                    rtop = top
                if bottom > rbottom:
                    rbottom = bottom
                continue
        row = [seg]
        rows.append(row)
        rtop, rbottom = top, bottom
    for row in rows:
        if len(row) > 1:
            row.sort(key=_LEFT)
    return rows


def _row_text(row: Sequence[Line]) -> str:
    return " ".join(s.text for s in row)


def find_furniture(page_rows: Sequence[list[list[Line]]]) -> set[str]:
    """Keys of rows that repeat at the top or bottom of many pages (rows per page)."""
    counts: Counter[str] = Counter()
    for rows in page_rows:
        edge = rows[:3] + rows[-3:] if len(rows) > 6 else rows
        counts.update({_row_key(_row_text(r)) for r in edge})
    threshold = max(2, math.ceil(0.2 * len(page_rows)))
    return {
        key
        for key, n in counts.items()
        if n >= threshold and len(page_rows) >= 2 and sum(c.isalpha() for c in key) >= 4
    }


def _furniture_reason(text: str, key: str, at_edge: bool, furniture: set[str]) -> Dropped | None:
    """Why a row is page furniture, or None when it is not."""
    if key in furniture:
        return "running header/footer"
    if at_edge and _PAGE_NUMBER.match(text):
        return "page number"
    return "banner" if _is_banner(text) else None


def _join_lines(lines: Sequence[str]) -> str:
    """Join a paragraph's lines, undoing hyphenation at line ends."""
    out = ""
    for line in lines:
        if not out:
            out = line
        elif out.endswith("-") and len(out) > 1 and out[-2].isalpha() and line[:1].isalpha():
            # "ap-\nplication" -> "application"; "Director-\nGeneral" keeps its hyphen.
            out = out[:-1] + line if line[:1].islower() else out + line
        else:
            out = out + " " + line
    return out


def _split_columns(segments: list[Line], width: float) -> list[list[Line]]:
    """One region per column of text, in reading order."""
    long = [s for s in segments if len(s.text) >= 15]
    if len(long) >= 10:
        mid = width / 2
        left = [s for s in long if s.x1 <= mid + 6]
        right = [s for s in long if s.x0 >= mid - 6]
        spanning = len(long) - len(left) - len(right)
        if len(left) >= 4 and len(right) >= 4 and spanning <= 0.1 * len(long):
            gutter = (max(s.x1 for s in left) + min(s.x0 for s in right)) / 2
            cols_top = min(s.top for s in left + right)
            above = [s for s in segments if s.x0 < gutter < s.x1 and s.top < cols_top]
            below = [s for s in segments if s.x0 < gutter < s.x1 and s.top >= cols_top]
            lcol = [s for s in segments if s.x1 <= gutter]
            rcol = [s for s in segments if s.x0 >= gutter]
            return [r for r in (above, lcol, rcol, below) if r]
    return [segments]


def _split_notes(segments: list[Line]) -> tuple[list[Line], list[Line]]:
    """Separate a side column of marginal notes from the body."""
    long = [s for s in segments if len(s.text) >= 25]
    if len(long) < 3:
        return segments, []
    lefts = sorted(s.x0 for s in long)
    rights = sorted(s.x1 for s in long)
    body_left = lefts[len(lefts) // 20]
    body_right = rights[-1 - len(rights) // 20]
    body, notes = [], []
    for s in segments:
        outside = s.x1 < body_left - 2 or s.x0 > body_right + 2
        if outside and len(_LETTERS.findall(s.text, 0, 40)) >= 3:
            notes.append(s)
        else:
            body.append(s)
    # Marginal notes are a narrow column beside the body; columns holding this
    # much of the text are a table's, and body text.
    if sum(len(s.text) for s in notes) > _MAX_NOTE_SHARE * sum(len(s.text) for s in segments):
        return segments, []
    return body, notes


# Of a region's text, the most that a side column of marginal notes holds.
_MAX_NOTE_SHARE = 0.4


def _note_groups(notes: list[Line]) -> list[tuple[float, str]]:
    """Consecutive note lines merged into notes: (top, text)."""
    groups: list[tuple[float, str]] = []
    last_bottom = -1e9
    for row in _group_rows(notes):
        text = _row_text(row)
        top = min(s.top for s in row)
        gap_limit = 1.2 * max(s.height for s in row)
        if groups and top - last_bottom <= gap_limit:
            groups[-1] = (groups[-1][0], _join_lines([groups[-1][1], text]))
        else:
            groups.append((top, text))
        last_bottom = max(s.bottom for s in row)
    return groups


class _Row(NamedTuple):
    """What paragraph building needs of a row."""

    text: str
    top: float
    height: float
    left: float
    right: float
    size: float  # of the first segment
    bold: bool  # every segment bold


def _row_facts(row: Sequence[Line]) -> _Row:
    if len(row) == 1:
        s = row[0]
        return _Row(s.text, s.top, s.height, s.x0, s.x1, s.size, s.bold)
    return _Row(
        _row_text(row),
        min(s.top for s in row),
        max(s.height for s in row),
        row[0].x0,
        row[-1].x1,
        row[0].size,
        all(s.bold for s in row),
    )


def _region_blocks(segments: list[Line]) -> list[TextBlock]:
    rows = [_row_facts(r) for r in _group_rows(segments)]
    if not rows:
        return []
    tops = [r.top for r in rows]
    most = 3 * median(r.height for r in rows)
    pitches = sorted(b - a for a, b in pairwise(tops) if 0 < b - a < most)
    # The line pitch inside a paragraph: a low quantile, since gaps between
    # paragraphs can be as frequent as lines within them.
    pitch = pitches[len(pitches) // 4] if pitches else most / 3 * 1.2
    left = min(r.left for r in rows)
    right = max(r.right for r in rows)
    width = max(right - left, 1.0)

    blocks: list[TextBlock] = []
    cur: list[str] = []
    cur_top = tops[0]
    prev: _Row | None = None
    for row in rows:
        text, top, size = row.text, row.top, row.size
        new = prev is None
        if prev is not None:
            prev_ended = prev.right < right - 0.15 * width or _ends_sentence(prev.text)
            new = top - prev.top > 1.4 * pitch or (
                prev_ended
                and (
                    (row.left > left + 0.5 * size and prev.right < right - 0.1 * width)  # indented
                    or abs(size - prev.size) > 0.2 * max(size, 1.0)  # size jump
                    or row.bold != prev.bold
                    or bool(_ENUM_START.match(text))
                )
            )
        if new and cur:
            blocks.append(TextBlock(_join_lines(cur), cur_top))
            cur = []
        if not cur:
            cur_top = top
        cur.append(text)
        prev = row
    if cur:
        blocks.append(TextBlock(_join_lines(cur), cur_top))
    return blocks


def _attach_notes(blocks: list[TextBlock], notes: list[tuple[float, str]]) -> None:
    for note_top, note in notes:
        best: TextBlock | None = None
        for b in blocks:
            if b.top <= note_top + 4:
                best = b
        if best is None and blocks:
            best = blocks[0]
        if best is not None:
            best.note = note if best.note is None else f"{best.note} {note}"


def layout_page(
    page: LayoutPage, furniture: set[str], rows: list[list[Line]], *, keep_whole: bool = False
) -> PageText:
    """Body paragraphs of one page (its lines grouped in ``rows``) in reading order,
    furniture removed, notes attached.

    With ``keep_whole``, a page that the rules would leave without a paragraph
    keeps all its lines as plain paragraphs (``PageText.kept_whole``).
    """
    kept: list[Line] = []
    out = PageText(page.number)

    def drop(reason: Dropped, text: str) -> None:
        out.dropped.setdefault(reason, []).append(text)

    last_rows = len(rows) - 3
    for i, row in enumerate(rows):
        if i < 3 or i >= last_rows:  # furniture stands at the top or the bottom
            text = _row_text(row)
            reason = _furniture_reason(text, _row_key(text), True, furniture)
            if reason is not None:
                drop(reason, text)
                continue
        for seg in row:
            if _has_leader(seg.text):
                seg = Line(
                    _DOT_LEADER.sub("", seg.text).strip(),
                    seg.x0,
                    seg.top,
                    seg.x1,
                    seg.bottom,
                    seg.size,
                    seg.bold,
                )
            if seg.text and _is_banner(seg.text):
                drop("banner", seg.text)
            elif seg.text:
                kept.append(seg)
    _lay_out(out, kept, page.width)
    if keep_whole and not out.blocks and rows:
        out.blocks, out.notes = [], []
        _lay_out(out, [seg for row in rows for seg in row], page.width, banners=False)
        out.kept_whole = bool(out.blocks)
    return out


def _lay_out(out: PageText, kept: list[Line], width: float, *, banners: bool = True) -> None:
    """Blocks and notes of a page's kept lines, column by column."""
    for region in _split_columns(kept, width):
        body, notes = _split_notes(region)
        blocks = _region_blocks(body)
        groups = _note_groups(notes)
        _attach_notes(blocks, groups)
        out.blocks.extend(blocks)
        out.notes.extend(normalize_inline(t) for _, t in groups)
    for b in out.blocks:
        b.text = normalize_inline(b.text)
        if b.note:
            b.note = normalize_inline(b.note)
    blocks = []
    for b in out.blocks:
        if banners and _is_banner(b.text):
            out.dropped.setdefault("banner", []).append(b.text)
        elif b.text:
            blocks.append(b)
    out.blocks = blocks


def layout_pages(pages: Sequence[LayoutPage], *, keep_whole: bool = False) -> Iterator[PageText]:
    """Each page laid out in turn, once the running headers and footers of all are known."""
    page_rows = [_group_rows(p.lines) for p in pages]
    furniture = find_furniture(page_rows)
    for i, page in enumerate(pages):
        yield layout_page(page, furniture, page_rows[i], keep_whole=keep_whole)
        page_rows[i] = []  # done with: a long document's rows need not all live on
