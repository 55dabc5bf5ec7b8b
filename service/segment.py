"""Document -> passages: the units a reader cites.

Legal documents are cut into articles and sections (recognising "Article 5",
"Art. 5 bis", "Artículo 14.-", "Artikel 3", "Section 12", "§ 201", "15.(1)",
"5A."), under a heading path of parts, chapters, titles and schedules.
Sub-paragraphs stay with their article unless it is too long to read as one
passage; then it is split at sub-paragraphs, then at sentences. Plans and
other prose become paragraphs (numbered ones keep their number). Tables of
contents are dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache, lru_cache

from .lang import detect_language
from .model import Block, Document, Passage

MAX_PASSAGE_CHARS = 2000

_NUM = r"(?P<num>\d{1,4}[A-Za-z]{0,2}(?:\.\d{1,3})*(?:\s?(?:bis|ter|quater|quinquies|sexies))?|[IVXLC]{1,7}|premier|first)"
_UNIT_KEYWORD = re.compile(
    r"^(?P<kw>Article|ARTICLE|Art\.|ART\.|Artikel|ARTIKEL|Art|Artículo|ARTÍCULO|Articulo|ARTICULO"
    r"|Section|SECTION|Sec\.|SEC\.|Rule|RULE|Regulation|REGULATION|Clause|CLAUSE|§)"
    r"\s*" + _NUM + r"(?![\w-])\s*(?:\.-|\.|:|-|–|—)?\s*",
)
# "15.", "5A.", "3.(1)"; India Code amendment marks come first: "1 [7. Offence ...".
_BARE_NUMBER = re.compile(
    r"^(?:\d{1,2}\s?\[)?(?P<num>\d{1,3}[A-Z]{0,2})\s?\.(?!\d)\s*(?:-|–|—)?\s*"
)
_HEADING_NUMBER = re.compile(r"^(?P<num>\d{1,4}(?:\.\d{1,3})?[A-Z]{0,2})\.?\s+(?=\S)")
_SUBDIVISION = re.compile(r"^\((?P<num>\d{1,3}[A-Za-z]?)\)|^(?P<num2>\d{1,3})\.(?!\d)\s")
_ENUM_ITEM = re.compile(r"^\((?:[a-z]{1,2}|[ivxlc]{1,5}|\d{1,3}[A-Za-z]?)\)\s*")
_DOTTED = re.compile(r"^(?P<num>\d{1,2}(?:\.\d{1,2}){1,3})\.?\s+(?=\S)")
_STRUCTURAL = re.compile(
    r"^(?P<kw>PART|Part|CHAPTER|Chapter|TITLE|Title|SCHEDULE|Schedule|DIVISION|Division|"
    r"Hoofdstuk|HOOFDSTUK|Titel|TITEL|Afdeling|AFDELING|Paragraaf|PARAGRAAF|Capítulo|CAPÍTULO|CAPITULO|"
    r"Título|TÍTULO|TITULO|Chapitre|CHAPITRE|Titre|TITRE|Annex|ANNEX|Appendix|APPENDIX|Bijlage|BIJLAGE|"
    r"(?:FIRST|SECOND|THIRD|FOURTH|FIFTH|SIXTH) SCHEDULE|(?:First|Second|Third|Fourth|Fifth|Sixth) Schedule|"
    r"FORM|Form)"
    r"(?:\s+(?P<num>[IVXLC]{1,7}|\d{1,3}[A-Z]?|[A-Z])\b)?"
)
_PREAMBLE = re.compile(
    r"^(P\s?R\s?E\s?[AÁ]\s?M\s?B\s?[UL]\s?[LU]\s?[OEA]?|Preamble|PREAMBLE|Preambule|Préambule|Preámbulo|Preambulo)\b\s*:?\s*"
)
_TOC_HEADING = re.compile(
    r"^(arrangement of (sections|clauses|regulations|articles)|(table of )?contents|sections|"
    r"inhoudsopgave|inhoud|índice|indice|table des matières|sommaire|innehåll)\s*:?$",
    re.IGNORECASE,
)
_LEGAL_WORD = re.compile(r"\b(shall|may|must|means|zal|kan|wordt|moet|deberá|podrá|será)\b", re.I)
# Contents entries are titles: they may say "may" ("Victim may offer a defence") but not "shall".
_SENTENCE_WORD = re.compile(r"\b(shall|must|means|zal|wordt|moet|deberá|será)\b", re.I)

_KEYWORD_CITE = {
    "article": "Article",
    "art.": "Article",
    "art": "Article",
    "artikel": "Artikel",
    "artículo": "Artículo",
    "articulo": "Artículo",
    "section": "Section",
    "sec.": "Section",
    "rule": "Rule",
    "regulation": "Regulation",
    "clause": "Clause",
    "§": "§",
}
_STRUCTURAL_LEVEL = {
    "part": 1,
    "title": 1,
    "titel": 1,
    "título": 1,
    "titulo": 1,
    "titre": 1,
    "schedule": 1,
    "annex": 1,
    "appendix": 1,
    "bijlage": 1,
    "chapter": 2,
    "hoofdstuk": 2,
    "capítulo": 2,
    "capitulo": 2,
    "chapitre": 2,
    "division": 3,
    "afdeling": 3,
    "paragraaf": 4,
}


@dataclass
class _Unit:
    citation: str
    number: str | None
    heading: list[str]
    title: str | None = None
    blocks: list[Block] = field(default_factory=list)
    numbered: bool = True  # False for running prose paragraphs
    bare: bool = False  # opened by a bare number ("15.") rather than a keyword


def _norm_number(num: str) -> str:
    num = re.sub(r"\s+", " ", num.strip())
    return "1" if num.lower() in {"premier", "first"} else num


def _int_prefix(num: str | None) -> int | None:
    m = re.match(r"\d+", num or "")
    return int(m.group()) if m else None


@lru_cache(maxsize=4096)  # asked of the same block by several passes
def _unit_match(text: str) -> tuple[str, str, int] | None:
    """(citation keyword, number, match end) for an explicit article/section start."""
    m = _UNIT_KEYWORD.match(text)
    if not m:
        return None
    kw = _KEYWORD_CITE.get(m.group("kw").lower(), m.group("kw").title())
    return kw, _norm_number(m.group("num")), m.end()


def _structural(text: str) -> tuple[int, str] | None:
    if len(text) > 160:
        return None
    m = _STRUCTURAL.match(text)
    if not m:
        return None
    rest = text[m.end() :].strip(" .:-–—")
    # "Part" without a number must at least look like a heading, not a sentence.
    unnumbered = not m.group("num") and not m.group("kw").upper().endswith("SCHEDULE")
    if unnumbered and (rest[:1].islower() or _LEGAL_WORD.search(rest)):
        return None
    if _LEGAL_WORD.search(rest) and len(rest) > 60:
        return None
    kw = m.group("kw").split()[-1].lower()
    return _STRUCTURAL_LEVEL.get(kw, 2), text


@cache
def _sentencizer():
    import spacy

    nlp = spacy.blank("xx")
    nlp.add_pipe("sentencizer")
    return nlp


def prepare() -> None:
    """Build now what segmentation otherwise builds on first need (spaCy's sentencizer,
    the language identifier), so that children forked afterwards start with them."""
    from .lang import _identifier

    _sentencizer()
    _identifier()


def _toc_blocks(doc: Document) -> set[int]:
    """Indices of blocks that belong to a table of contents (or arrangement of sections)."""
    texts = [doc.block_text(b) for b in doc.blocks]
    # The last block at which each number opens a real (long or legal) provision.
    last_long: dict[str, int] = {}
    short: dict[int, str] = {}
    numbered: dict[int, str] = {}
    for i, (b, t) in enumerate(zip(doc.blocks, texts, strict=True)):
        m = _unit_match(t) or (
            ("", _norm_number(mm.group("num")), mm.end()) if (mm := _BARE_NUMBER.match(t)) else None
        )
        if m is None:
            continue
        numbered[i] = m[1]
        if len(t) < 160 and not _SENTENCE_WORD.search(t) and b.kind != "heading":
            short[i] = m[1]
        if len(t) >= 160 or _LEGAL_WORD.search(t):
            last_long[m[1]] = i
    drop: set[int] = set()
    # A short numbered line whose number comes back later as a real provision
    # is a contents entry; keep only runs of them (three or more), so that a
    # lone short provision ("5. Repealed.") is not lost.
    run: list[int] = []
    fillers = 0
    last_num: int | None = None
    for i in range(len(texts) + 1):
        # A contents entry: its number comes back later as a real provision.
        entry = i in short and last_long.get(short[i], -1) > i
        num = _int_prefix(short.get(i))
        # Contents numbers rise; a number that falls back starts the body.
        restart = entry and last_num is not None and num is not None and num < last_num
        if entry and not restart:
            run.append(i)
            fillers, last_num = 0, num if num is not None else last_num
            continue
        toc_heading = i < len(texts) and bool(_TOC_HEADING.match(texts[i]))
        filler = i < len(texts) and (toc_heading or _is_toc_filler(doc.blocks[i], texts[i]))
        if run and filler and not restart and fillers < 3:
            run.append(i)
            fillers += 1
            continue
        entries = [j for j in run if j in short]
        if len(entries) >= 3 and not _continues_a_list(entries, numbered, short):
            last = max(entries)
            drop.update(j for j in run if j <= last)
        run, fillers, last_num = ([i], 0, num) if restart else ([], 0, None)
    for i, t in enumerate(texts):
        if _TOC_HEADING.match(t):
            drop.add(i)
    # Stragglers: a contents entry cut off from its run by a page break.
    for i in short:
        if i not in drop and short[i] in last_long and ({i - 1, i - 2, i + 1, i + 2} & drop):
            drop.add(i)
    return drop


def _continues_a_list(entries: list[int], numbered: dict[int, str], short: dict[int, str]) -> bool:
    """Short numbered lines that a full provision of the same numbering continues or
    precedes ("4." short, then "5." with its text) are a list in the body, whose
    numbers recur in the next list, not contents: contents end where numbering restarts."""
    first, last = _int_prefix(short[entries[0]]), _int_prefix(short[entries[-1]])
    before = max((j for j in numbered if j < entries[0]), default=None)
    after = min((j for j in numbered if j > entries[-1]), default=None)
    continued = (
        after is not None
        and after not in short
        and last is not None
        and _int_prefix(numbered[after]) == last + 1
    )
    preceded = (
        before is not None
        and before not in short
        and first is not None
        and _int_prefix(numbered[before]) == first - 1
    )
    return continued or preceded


def _is_toc_filler(block: Block, text: str) -> bool:
    """Lines between contents entries: chapter headings, titles, page numbers."""
    return len(text) < 160 and not _SENTENCE_WORD.search(text)


_CONSTITUTION = re.compile(r"\b(constitution of|constitución política|grondwet voor)\b", re.I)
_AMENDING = re.compile(r"\b(bill|amendment|act,? no\.)\b", re.I)


def _default_keyword(doc: Document) -> str:
    """How bare-numbered provisions ("14.") are cited: articles in a constitution, else sections."""
    headings = [doc.block_text(b) for b in doc.blocks[:12]]
    opening = "\n".join([doc.title, *(h for h in headings if len(h) < 100)])
    if _CONSTITUTION.search(opening) and not _AMENDING.search(doc.title):
        return {"nl": "Artikel", "es": "Artículo"}.get(doc.language or "", "Article")
    return "Section"


def _scheme(doc: Document, texts: list[str]) -> str:
    """Whether provisions are introduced by keywords ("Article 5") or bare numbers ("5.")."""
    keyword = sum(1 for t in texts if _unit_match(t))
    bare = sum(1 for t in texts if _BARE_NUMBER.match(t) and (len(t) > 80 or _LEGAL_WORD.search(t)))
    return "keyword" if keyword >= 3 and keyword >= 0.5 * bare else "bare"


class _Segmenter:
    """Walks a document's blocks once, opening units (provisions, paragraphs) under headings."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.texts = [doc.block_text(b) for b in doc.blocks]
        self.toc = _toc_blocks(doc)
        self.scheme = _scheme(doc, self.texts)
        self.has_articles = any((m := _unit_match(t)) and m[0] != "§" for t in self.texts)
        self.keyword = _default_keyword(doc)
        self.heading: list[tuple[int, str]] = []
        self.units: list[_Unit] = []
        self.cur: _Unit | None = None
        self.prose_count = 0
        self.pending_title: str | None = None
        # A unit opened by a heading ("### Article 5"), still waiting for its body.
        self.awaiting: _Unit | None = None
        self.last_structural = -2  # index of the last Part/Chapter heading block

    def run(self) -> list[_Unit]:
        for i, (block, text) in enumerate(zip(self.doc.blocks, self.texts, strict=True)):
            if i in self.toc:
                continue
            if block.label:
                self._labelled(block)
            elif (
                block.kind == "heading"
                and (block.level or 1) <= 6
                and not _ENUM_ITEM.match(text)  # "(a) For the purpose ..." set as a heading
            ):
                self._heading(i, block, text)
            else:
                self._paragraph(i, block, text)
        return self.units

    def _open(
        self, citation: str, number: str | None, title: str | None, numbered: bool = True
    ) -> _Unit:
        self.cur = _Unit(citation, number, [h for _, h in self.heading], title, numbered=numbered)
        self.units.append(self.cur)
        return self.cur

    def _push_heading(self, level: int, text: str, index: int, structural: bool) -> None:
        while self.heading and self.heading[-1][0] >= level:
            self.heading.pop()
        self.heading.append((level, text))
        self.cur = None
        self.awaiting = None
        if structural:
            self.last_structural = index

    def _caption_previous_heading(self, text: str) -> None:
        """ "CHAPTER II" then "PREVENTIVE MEASURES": one heading."""
        level, head = self.heading[-1]
        self.heading[-1] = (level, f"{head}: {text}")

    def _labelled(self, block: Block) -> None:
        """Structured sources (JSON, XML) say what the block is."""
        num = _norm_number(re.sub(r"^[sS](?=\d)", "", block.label or ""))
        if self.cur is not None and self.cur.number == num and self.cur.blocks:
            self.cur.blocks.append(block)
        else:
            self._open(f"{self.keyword} {num}", num, block.title).blocks.append(block)
        self.awaiting = None

    def _heading(self, i: int, block: Block, text: str) -> None:
        structural = _structural(text)
        unit = _unit_match(text)
        if _PREAMBLE.match(text):
            self.awaiting = self._open("Preamble", None, None)
            return
        if unit and unit[0] == "§" and self.has_articles:
            # "§ 2 Eed en belofte" groups articles: a heading, not a provision.
            self._push_heading(3, text, i, structural=True)
            return
        if unit:
            kw, num, end = unit
            cur = self.cur
            if cur is not None and cur.number == num and cur.citation.startswith(kw):
                return  # a heading repeated before each subsection
            self.awaiting = self._open(f"{kw} {num}", num, text[end:].strip() or None)
            return
        numbered = _HEADING_NUMBER.match(text)
        if numbered and not structural:
            num = _norm_number(numbered.group("num"))
            if self.cur is not None and self.cur.number == num:
                return
            self.awaiting = self._open(f"{self.keyword} {num}", num, text[numbered.end() :])
            return
        if self.awaiting is not None and not self.awaiting.blocks and not structural:
            if self.awaiting.title is None:
                self.awaiting.title = text  # "####Statement of purpose" under "### Article 1"
            return
        if not structural and self.heading and self.last_structural == i - 1:
            self._caption_previous_heading(text)
            return
        level = block.level if block.level is not None else (structural[0] if structural else 1)
        self._push_heading(level, text, i, structural=bool(structural))

    def _paragraph(self, i: int, block: Block, text: str) -> None:
        structural = _structural(text)
        unit = _unit_match(text)
        if structural and len(text) < 120 and not unit:
            self._push_heading(structural[0], structural[1], i, structural=True)
            return
        if self.heading and self.last_structural == i - 1 and _is_heading_caption(text):
            self._caption_previous_heading(text)
            self.last_structural = i
            return
        if _PREAMBLE.match(text):
            preamble = self._open("Preamble", None, None)
            self.awaiting = preamble
            if len(text) > 40:
                preamble.blocks.append(block)
                self.awaiting = None
            return
        if unit and (self.scheme == "keyword" or unit[0] != "§"):
            kw, num, _end = unit
            cur = self.cur
            if (
                cur is not None
                and cur.number == num
                and cur.citation.startswith(kw)
                and not cur.blocks
            ):
                cur.blocks.append(block)
            else:
                self._open(f"{kw} {num}", num, block.title or self.pending_title).blocks.append(
                    block
                )
            self.pending_title = None
            self.awaiting = None
            return
        if self._bare_provision(block, text):
            return
        if self.awaiting is not None:
            self.awaiting.blocks.append(block)
            self.awaiting = None
            return
        nxt = self.texts[i + 1] if i + 1 < len(self.texts) else ""
        if _is_title_line(text) and (_BARE_NUMBER.match(nxt) or _unit_match(nxt)):
            # A section's title set as its own short line before the section.
            self.pending_title = text
            return
        if self.cur is not None and self.cur.numbered:
            self.cur.blocks.append(block)
            return
        self._prose(i, block, text)

    def _bare_provision(self, block: Block, text: str) -> bool:
        """Open a section at "15." when the number follows on from the last one."""
        bare = _BARE_NUMBER.match(text)
        if not bare:
            return False
        cur = self.cur
        in_keyword_unit = (
            cur is not None and cur.numbered and cur.number is not None and not cur.bare
        )
        if self.scheme != "bare" and in_keyword_unit:
            return False  # "1." inside "Article 5" is its paragraph 1
        num = _norm_number(bare.group("num"))
        if cur is not None and cur.numbered:
            n, prev = _int_prefix(num), _int_prefix(cur.number)
            follows = prev is None or (
                n is not None and (prev < n <= prev + 10 or (n == prev and num != cur.number))
            )
            if not follows:
                return False
        unit = self._open(f"{self.keyword} {num}", num, block.title or self.pending_title)
        unit.bare = True
        unit.blocks.append(block)
        self.pending_title = None
        self.awaiting = None
        return True

    def _prose(self, i: int, block: Block, text: str) -> None:
        """Running prose: each paragraph is a passage; short title lines lead the next one."""
        nxt = self.doc.blocks[i + 1] if i + 1 < len(self.doc.blocks) else None
        if nxt is not None and _is_title_line(text) and len(text) < 100 and nxt.kind == "paragraph":
            self.pending_title = (
                text if self.pending_title is None else f"{self.pending_title} {text}"
            )
            return
        dotted = _DOTTED.match(text)
        if dotted:
            citation = f"para. {dotted.group('num')}"
        else:
            self.prose_count += 1
            citation = (
                f"p. {block.page}, para. {_page_para(self.units, block.page) + 1}"
                if self.doc.page_count > 1
                else f"para. {self.prose_count}"
            )
        self._open(citation, None, self.pending_title, numbered=False).blocks.append(block)
        self.pending_title = None
        self.cur = None


def segment_document(doc: Document, max_chars: int = MAX_PASSAGE_CHARS) -> list[Passage]:
    """Cut a document into citable passages, in reading order."""
    units = _Segmenter(doc).run()
    passages: list[Passage] = []
    for u in units:
        if not u.blocks:
            continue
        for start, end, citation in _pieces(doc, u, max_chars):
            text = doc.text[start:end]
            if not text.strip():
                continue
            passages.append(
                Passage(
                    id=Passage.make_id(doc.id, start, end),
                    doc_id=doc.id,
                    text=text,
                    page_start=doc.page_at(start),
                    page_end=doc.page_at(max(end - 1, start)),
                    char_start=start,
                    char_end=end,
                    citation=citation,
                    heading=u.heading,
                    title=u.title,
                    language=detect_language(text, doc.language) or doc.language,
                )
            )
    return passages


def _page_para(units: list[_Unit], page: int) -> int:
    return sum(1 for u in units if not u.numbered and u.blocks and u.blocks[0].page == page)


def _is_heading_caption(text: str) -> bool:
    """The name line under "CHAPTER II": upper case, short, no sentence."""
    letters = [c for c in text if c.isalpha()]
    return (
        bool(letters) and len(text) < 120 and sum(c.isupper() for c in letters) > 0.8 * len(letters)
    )


def _is_title_line(text: str) -> bool:
    """A short line without closing punctuation: a section title or caption."""
    return (
        len(text) < 120
        and not re.search(r"[.;:,]$", text)
        and not _LEGAL_WORD.search(text)
        and not _ENUM_ITEM.match(text)
        and text[:1].isupper()
    )


def _pieces(doc: Document, unit: _Unit, max_chars: int) -> list[tuple[int, int, str]]:
    """Offsets and citations of a unit, split when it is too long to read as one passage."""
    start, end = unit.blocks[0].char_start, unit.blocks[-1].char_end
    if end - start <= max_chars:
        return [(start, end, unit.citation)]
    # Split at sub-paragraphs "(1)" / "1.", keeping (a)/(i) items with their sub-paragraph.
    groups: list[tuple[str | None, list[Block]]] = []
    for i, b in enumerate(unit.blocks):
        t = doc.block_text(b)
        if i == 0:
            m = _UNIT_KEYWORD.match(t) or _BARE_NUMBER.match(t)
            own = m is not None and _norm_number(m.group("num")) == unit.number
            sub = _SUBDIVISION.match(t[m.end() :].lstrip() if own and m else t)
            groups.append((_sub_num(sub), [b]))
            continue
        sub = _SUBDIVISION.match(t)
        if sub:
            groups.append((_sub_num(sub), [b]))
        else:
            groups[-1][1].append(b)
    if len(groups) > 1 and groups[0][0] is None:
        first = groups[0][1]
        if first[-1].char_end - first[0].char_start < 150:
            # "Article 7. Public sector" alone is no passage: it leads the next one.
            num, blocks = groups[1]
            groups[1:2] = [(num, first + blocks)]
            groups.pop(0)
    out: list[tuple[int, int, str]] = []
    for num, blocks in groups:
        citation = f"{unit.citation}({num})" if num and unit.numbered else unit.citation
        s, e = blocks[0].char_start, blocks[-1].char_end
        if e - s <= max_chars:
            out.append((s, e, citation))
            continue
        # Still too long: pack its blocks, and sentences of over-long blocks.
        spans: list[tuple[int, int]] = []
        for b in blocks:
            if b.char_end - b.char_start <= max_chars:
                spans.append((b.char_start, b.char_end))
            else:
                spans.extend(_sentence_spans(doc.text, b.char_start, b.char_end))
        out.extend((s2, e2, citation) for s2, e2 in _pack(spans, max_chars))
    return out


def _sub_num(m: re.Match[str] | None) -> str | None:
    if m is None:
        return None
    return m.group("num") or m.group("num2")


def _sentence_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    nlp = _sentencizer()
    piece = text[start:end]
    sents = [(start + s.start_char, start + s.end_char) for s in nlp(piece).sents]
    return sents or [(start, end)]


def _pack(spans: list[tuple[int, int]], max_chars: int) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for s, e in spans:
        if out and e - out[-1][0] <= max_chars:
            out[-1] = (out[-1][0], e)
        else:
            out.append((s, e))
    return out
