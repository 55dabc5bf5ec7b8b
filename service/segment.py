"""Document -> passages: the units a reader cites.

Legal documents are cut into articles and sections (recognising "Article 5",
"Art. 5 bis", "Artículo 14.-", "Artikel 3", "Section 12", "§ 201", "15.(1)",
"5A."), under a heading path of parts, chapters, titles and schedules.
Sub-paragraphs stay with their article unless it is too long to read as one
passage; then it is split at sub-paragraphs, then at sentences. Plans and
other prose become paragraphs (numbered ones keep their number). Tables of
contents are dropped.

A citation is what a reader pastes into a memo, so it must stand alone: a
schedule, annex or translation starts a scope that every citation in it names
("Schedule, Article 44(1)"); an annexed plan is cited by its own units ("Anexo,
Eje 2, Objetivo 2.1, para. 3"); units keep the document's own keyword and
numbering ("Articolul 19(1)", "3 §"); only paged sources are cited by page.
No two passages of a document share a citation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache, lru_cache
from itertools import pairwise

from .lang import detect_language
from .model import Block, Document, Passage

MAX_PASSAGE_CHARS = 2000

_NUM = r"(?P<num>\d{1,4}(?:[º°]|[A-Za-z]{0,2})(?:\^\d{1,2})?(?:\.\d{1,3})*(?:\s?(?:bis|ter|quater|quinquies|sexies))?|[IVXLC]{1,7}|premier|first)"
_UNIT_KEYWORD = re.compile(
    r"^(?P<kw>Article|ARTICLE|Art\.|ART\.|Artikel|ARTIKEL|Art|Artículo|ARTÍCULO|Articulo|ARTICULO"
    r"|Articolul|ARTICOLUL|Artigo|ARTIGO"
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
    r"Título|TÍTULO|TITULO|Chapitre|CHAPITRE|Titre|TITRE|Annexe|ANNEXE|Annex|ANNEX|Anexo|ANEXO|"
    r"Appendix|APPENDIX|Bijlage|BIJLAGE|"
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
    "articolul": "Articolul",
    "artigo": "Artigo",
    "section": "Section",
    "sec.": "Section",
    "rule": "Rule",
    "regulation": "Regulation",
    "clause": "Clause",
    "§": "§",
}
_ORDINAL_KEYWORDS = {"Artículo", "Artigo"}
# An annexed instrument (schedule, annex, appendix) starts a citation scope of its own.
_ANNEX = re.compile(
    r"^(?:THE\s+|The\s+)?(?:(?P<ord>FIRST|SECOND|THIRD|FOURTH|FIFTH|SIXTH|SEVENTH|EIGHTH|NINTH|TENTH|"
    r"First|Second|Third|Fourth|Fifth|Sixth|Seventh|Eighth|Ninth|Tenth)\s+)?"
    r"(?P<kw>SCHEDULE|Schedule|ANNEXE|Annexe|ANNEX|Annex|ANEXO|Anexo|APPENDIX|Appendix|BIJLAGE|Bijlage)\b"
    r"(?:\s+(?:N[°o.]\s*)?(?P<num>[IVXLC]{1,7}|\d{1,3}[A-Z]?|[A-Z])\b)?"
)
# A translation that follows the authentic text: its articles are cited as the translation's.
_TRANSLATION = re.compile(
    r"^(?P<kw>VERTALING|Vertaling|TRANSLATION|Translation|TRADUCTION|Traduction)\b"
)
# "— 2008, c. 3, s. 6": a provision of an amending act, reproduced in the consolidation.
_ENACTED_BY = re.compile(r"^[—–-]\s*(?P<act>\d{4}, c\. [\w-]+), ss?\. (?P<num>[\w.]+)$")
_ANNEX_WORD = {"es": "Anexo", "pt": "Anexo", "fr": "Annexe", "nl": "Bijlage", "ro": "Anexa"}
_ANNEXING = re.compile(
    r"\b(anexo|annex|annexe|schedule|bijlage|anexa|forma parte integrante)\b", re.I
)
# "(Section 21)", "[Section 12(8)]": the provision a schedule belongs to.
_SCHEDULE_REF = re.compile(
    r"^[(\[](?:sections?|articles?|rules?|regulations?|artikel|artículo)\b.{0,80}[)\]]$", re.I
)
_ANNEX_WORDS = re.compile(
    r"\b(?:SCHEDULE|Schedule|ANNEXE?|Annexe?|ANEXO|Anexo|APPENDIX|Appendix)\b"
)
_MEMORANDUM = re.compile(
    r"^(EXPLANATORY MEMORANDUM|Explanatory Memorandum|(STATEMENT OF )?OBJECTS AND REASONS|"
    r"Statement of Objects and Reasons|EXPOSICIÓN DE MOTIVOS|Exposición de motivos|"
    r"MEMORIE VAN TOELICHTING|Memorie van toelichting)\b"
)
# A plan's own units: "EJE 1:", "OBJETIVO ESPECÍFICO 2:", "Acción 2.1.3", "Indicador 4".
_PLAN_UNIT = re.compile(
    r"^(?:[IVX]{1,4}\.\s+)?(?P<kw>EJE|Eje|EIXO|Eixo|OBJETIVOS?(?:\s+ESPEC[ÍI]FICOS?)?|Objetivos?(?:\s+espec[íi]ficos?)?"
    r"|ACCI[ÓO]N|Acci[óo]n|A[ÇC][ÃA]O|Ação|INDICADOR|Indicador|META|Meta|LINEAMIENTO|Lineamiento"
    r"|ESTRATEGIA|Estrategia|PRIORITY|Priority|PILLAR|Pillar|OBJECTIVE|Objective|ACTION|Action)"
    r"\s+(?P<num>\d{1,2}(?:\.\d{1,2}){0,3})(?:\s*[:.\-–—]\s*|\s+(?=[A-ZÁÉÍÓÚ])|\s*$)(?P<rest>.*)$"
)
_PLAN_LEVEL = {
    "eje": 2,
    "eixo": 2,
    "pillar": 2,
    "priority": 2,
    "objetivo": 3,
    "objective": 3,
    "estrategia": 4,
    "lineamiento": 4,
    "acción": 4,
    "accion": 4,
    "ação": 4,
    "acao": 4,
    "action": 4,
    "meta": 5,
    "indicador": 5,
}
_PLAN_CHAPTER = re.compile(r"^(?P<num>[IVX]{1,5})\.\s+(?P<rest>[^a-z]{4,100})$")
_PLAN_LETTER = re.compile(r"^(?P<num>[A-Z])\.\s+(?P<rest>[^a-z]{4,140})$")
_SMALL_WORDS = frozenset(
    re.findall(
        r"\w+",
        "a an and against as at by for from in into of on or the to with de del la las los el y "
        "en e o da das do dos na no para por contra van het een voor tegen",
    )
)


def _smart_case(text: str) -> str:
    """ "UNITED NATIONS CONVENTION AGAINST CORRUPTION" -> "United Nations Convention against Corruption"."""
    if not _is_heading_caption(text):
        return text
    words = []
    for k, w in enumerate(text.split()):
        low = w.lower()
        if re.fullmatch(r"[IVXLC]+[.,:;]?", w):
            words.append(w)
        elif k and low in _SMALL_WORDS:
            words.append(low)
        else:
            words.append(low[:1].upper() + low[1:])
    return " ".join(words)


def _fold(text: str) -> str:
    """Case- and accent-insensitive form, for finding a caption in earlier text."""
    import unicodedata

    text = unicodedata.normalize("NFKD", text.casefold())
    return " ".join("".join(c for c in text if not unicodedata.combining(c)).split())


def _annex_label(text: str) -> str | None:
    """ "SECOND SCHEDULE" -> "Second Schedule"; "ANEXO N° 1" -> "Anexo 1"."""
    m = _ANNEX.match(text)
    if not m:
        return None
    parts = [m.group("ord"), m.group("kw"), m.group("num")]
    return " ".join(p if p == m.group("num") else p[:1].upper() + p[1:].lower() for p in parts if p)


_STRUCTURAL_LEVEL = {
    "part": 1,
    "title": 1,
    "titel": 1,
    "título": 1,
    "titulo": 1,
    "titre": 1,
    "schedule": 1,
    "annex": 1,
    "annexe": 1,
    "anexo": 1,
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
    scope: str | None = None  # "Schedule", "Anexo, Eje 1, Objetivo 1.1": said before the citation


def _norm_number(num: str) -> str:
    num = re.sub(r"\s+", " ", num.strip()).rstrip("º°")
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
    num = _norm_number(m.group("num"))
    if kw in _ORDINAL_KEYWORDS:
        num = re.sub(r"(?<=\d)o$", "", num)  # "Artículo 2º", read as "2o"
    return kw, num, m.end()


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
        # (level, text, citation part): a schedule or annex (level 0) and a plan's own units
        # ("Eje 1") are part of every citation under them.
        self.heading: list[tuple[int, str, str | None]] = []
        self.units: list[_Unit] = []
        self.cur: _Unit | None = None
        self.pending_title: str | None = None
        # A unit opened by a heading ("### Article 5"), still waiting for its body.
        self.awaiting: _Unit | None = None
        self.last_structural = -2  # index of the last Part/Chapter heading block
        self.caption_at = -2  # index of the last block of a schedule's heading
        # A plan (a whole document, or an annex) is cited by its own units: Eje, Objetivo ...
        self.plan_doc = _is_plan(self.texts)
        self.plan = self.plan_doc
        self.last_letter: str | None = None  # "A. SITUACIÓN ACTUAL", "B. META" ...
        self.skip: set[int] = set()  # blocks already read as part of a heading
        self.para_counts: dict[str | None, int] = {}
        self.scope_level: int | None = None  # the Markdown level of the schedule's heading
        self.enacted_by: str | None = None  # "2008, c. 3": the act the next provision is of
        # Where each schedule's heading last appears: an earlier one is a contents entry.
        self.annex_at = [
            (i, label)
            for i, t in enumerate(self.texts)
            if (label := _annex_label(t)) and _structural(t) and len(_ANNEX_WORDS.findall(t)) == 1
        ]
        self.annex_last = dict((label, i) for i, label in self.annex_at)
        self.plan_items: dict[str | None, int] = {}
        self.paged = doc.format == "pdf" and doc.page_count > 1
        self._folded: dict[int, str] = {}

    def run(self) -> list[_Unit]:
        for i, (block, text) in enumerate(zip(self.doc.blocks, self.texts, strict=True)):
            if i in self.toc or i in self.skip:
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
        if self.enacted_by is not None and number is not None:
            citation = f"{self.enacted_by}, s. {number}"  # cited as the amending act's section
            self.enacted_by = None
        self.cur = _Unit(
            citation,
            number,
            [h for _, h, _ in self.heading],
            title,
            numbered=numbered,
            scope=self._scope(),
        )
        self.units.append(self.cur)
        return self.cur

    def _scope(self) -> str | None:
        """What every citation here starts with: the schedule or annex, and the plan's units
        (a plan's chapter only where no smaller unit is known)."""
        parts = [(level, cite) for level, _, cite in self.heading if cite]
        if any(level >= 2 for level, _ in parts):
            parts = [(level, cite) for level, cite in parts if level != 1]
        return ", ".join(cite for _, cite in parts) or None

    def _in_scope(self) -> bool:
        return bool(self.heading) and self.heading[0][0] == 0 and self.heading[0][2] is not None

    def _scope_label(self) -> str | None:
        """The schedule or annex alone ("Second Schedule"), without a plan's units."""
        return self.heading[0][2] if self._in_scope() else None

    def _plan_active(self) -> bool:
        return self.plan and (self.plan_doc or self._in_scope())

    def _push_heading(
        self, level: int, text: str, index: int, structural: bool, cite: str | None = None
    ) -> None:
        while self.heading and self.heading[-1][0] >= level:
            self.heading.pop()
        self.heading.append((level, text, cite))
        self.cur = None
        self.awaiting = None
        if structural:
            self.last_structural = index

    def _caption_previous_heading(self, text: str) -> None:
        """ "CHAPTER II" then "PREVENTIVE MEASURES": one heading."""
        level, head, cite = self.heading[-1]
        self.heading[-1] = (level, f"{head}: {text}", cite)

    def _body_started(self) -> bool:
        """Whether a provision has been read: a schedule before any is a contents entry."""
        return any(u.blocks and u.number is not None for u in self.units)

    def _start_scope(self, i: int, label: str, heading: str, level: int | None = None) -> None:
        """A schedule or annex: a new citation scope, up to the next one (or a memorandum,
        or in Markdown the next heading as high as its own)."""
        self.heading = []
        self.scope_level = level
        self._push_heading(0, heading, i, structural=True, cite=label)
        self.caption_at = i
        self.last_letter = None
        provisions = 0
        for j in range(i + 1, len(self.texts)):
            t = self.texts[j]
            if _MEMORANDUM.match(t) or (_annex_label(t) and _structural(t)):
                break
            provisions += _unit_match(t) is not None
            if provisions >= 3:
                break
        self.plan = provisions < 3 or self.plan_doc

    def _ends_scope(self, i: int, text: str) -> bool:
        """An explanatory memorandum after the schedules belongs to none of them."""
        if not _MEMORANDUM.match(text) or not self._body_started():
            return False
        self.heading = []
        self._push_heading(0, text, i, structural=True)
        self.plan = self.plan_doc
        return True

    def _scope_heading(
        self, i: int, text: str, structural: tuple[int, str] | None, level: int | None = None
    ) -> bool:
        """ "SCHEDULE", then "(Section 21)" and "UNITED NATIONS CONVENTION AGAINST CORRUPTION":
        one heading, and the start of the schedule's citations."""
        label = _annex_label(text) if structural else None
        if label is None and (translation := _TRANSLATION.match(text)):
            label = translation.group("kw").capitalize()
        if label and (
            len(_ANNEX_WORDS.findall(text)) > 1
            or self.annex_last.get(label, i) > i
            or any(i != j and abs(i - j) <= 4 for j, _ in self.annex_at)
        ):
            # "FIRST SCHEDULE SECOND SCHEDULE ...", a schedule named again further on, or
            # one of a run of schedule headings: contents, not the schedule itself.
            label = None
        if label and self._body_started():
            self._start_scope(i, label, text, level)
            return True
        if self.caption_at != i - 1 or len(self.heading) != 1 or len(text) > 160:
            return False
        if structural or _unit_match(text) or _PREAMBLE.match(text):
            return False
        level, head, cite = self.heading[0]
        if _SCHEDULE_REF.match(text):
            self.heading[0] = (level, f"{head} {text}", cite)
        elif _is_heading_caption(text) and len(text) > 3 and text[:1].isalpha():
            self.heading[0] = (level, f"{head} — {_smart_case(text)}", cite)
        else:
            return False
        self.caption_at = i
        return True

    def _implicit_annex(self, i: int, text: str) -> bool:
        """A decree's annexed plan often starts with its title alone ("POLÍTICA NACIONAL DE
        INTEGRIDAD ..."): the title of what an earlier provision annexes starts an annex."""
        if len(text) < 15 or not _is_heading_caption(text) or not self._body_started():
            return False
        if self._in_scope() and _fold(text) in _fold(self.heading[0][1]):
            return False
        folded = _fold(text)
        for j in range(max(0, i - 80), i):
            if j in self.toc or len(self.texts[j]) <= len(text):
                continue
            if j not in self._folded:
                self._folded[j] = _fold(self.texts[j])
            if folded in self._folded[j] and _ANNEXING.search(self.texts[j]):
                label = _ANNEX_WORD.get(self.doc.language or "", "Annex")
                self._start_scope(i, label, f"{label} — {_smart_case(text)}")
                return True
        return False

    def _plan_heading(self, i: int, text: str) -> bool:
        """A plan's own units ("EJE 1", "OBJETIVO ESPECÍFICO 2:" + "1.2 ...", "Acción 2.1.3"),
        its chapters ("IV. DIAGNÓSTICO") and lettered headings ("A. SITUACIÓN ACTUAL")."""
        if len(text) > 200:
            return False
        letter = _PLAN_LETTER.match(text)
        if letter and (
            letter.group("num") == "A"
            or (
                self.last_letter is not None
                and ord(letter.group("num")) == ord(self.last_letter) + 1
            )
        ):
            self.last_letter = letter.group("num")
            self._push_heading(6, text, i, structural=False)
            return True
        unit = _PLAN_UNIT.match(text)
        if unit:
            kw = unit.group("kw").split()[0].lower()
            if kw not in _PLAN_LEVEL and kw.endswith("s"):
                kw = kw[:-1]
            num, rest = unit.group("num"), unit.group("rest").strip()
            nxt = self.texts[i + 1] if i + 1 < len(self.texts) else ""
            dotted = _DOTTED.match(nxt)
            cite = f"{kw[:1].upper()}{kw[1:]} {num}"
            head = text if len(rest) < 160 else cite
            if not rest and dotted and dotted.group("num").split(".")[-1] == num:
                # "OBJETIVO ESPECÍFICO 1:" then "1.1 GARANTIZAR ...": "Objetivo 1.1".
                num, rest = dotted.group("num"), nxt[dotted.end() :]
                self.skip.add(i + 1)
                cite = f"{kw[:1].upper()}{kw[1:]} {num}"
                head = f"{cite}: {_smart_case(rest)}"
            self._push_heading(_PLAN_LEVEL.get(kw, 4), head, i, structural=False, cite=cite)
            self.last_letter = None
            return len(rest) < 160  # a unit with its text in the same line is also a passage
        chapter = _PLAN_CHAPTER.match(text)
        if chapter:
            self._push_heading(1, text, i, structural=False, cite=chapter.group("num"))
            self.last_letter = None
            return True
        return False

    def _labelled(self, block: Block) -> None:
        """Structured sources (JSON, XML) say what the block is."""
        label = block.label or ""
        unit = _unit_match(label)  # "Articolul 19", "Art. 5"
        kw, num = (
            (unit[0], unit[1])
            if unit
            else (self.keyword, _norm_number(re.sub(r"^[sS](?=\d)", "", label)))
        )
        if self.cur is not None and self.cur.number == num and self.cur.blocks:
            self.cur.blocks.append(block)
        else:
            # Swedish statutes number their paragraphs "3 §".
            citation = f"{num} §" if not unit and self.doc.language == "sv" else f"{kw} {num}"
            self._open(citation, num, block.title).blocks.append(block)
        self.awaiting = None

    def _heading(self, i: int, block: Block, text: str) -> None:
        structural = _structural(text)
        unit = _unit_match(text)
        level = block.level if block.level is not None and block.level <= 6 else None
        enacted = _ENACTED_BY.match(text)
        if enacted:
            self.enacted_by = enacted.group("act")
        if self._ends_scope(i, text) or self._scope_heading(i, text, structural, level):
            return
        if (
            self._in_scope()
            and self.scope_level is not None
            and level is not None
            and level <= self.scope_level  # "## AMENDMENTS NOT IN FORCE" after "## SCHEDULE"
            and not unit  # "### Art. 1" under "#### VERTALING." is the translation's
        ):
            self.heading, self.scope_level, self.plan = [], None, self.plan_doc
        if self._plan_active() and self._plan_heading(i, text):
            return
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
        if len(text) < 160 and (
            self._ends_scope(i, text)
            or self._scope_heading(i, text, structural if not unit else None)
            or (not structural and not unit and self._implicit_annex(i, text))
        ):
            return
        if self._plan_active() and self._plan_heading(i, text):
            return
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
        keyword = self.keyword
        if self._plan_active():
            scope = self._scope()
            if scope != self._scope_label():
                # Inside a plan's units, a list numbered from 1 holds its items ("Eixo 1,
                # item 3"); a list that starts again is read as paragraphs.
                n = _int_prefix(bare.group("num"))
                if n is None or n != self.plan_items.get(scope, 0) + 1:
                    return False
                self.plan_items[scope] = n
                unit = self._open(f"item {n}", str(n), None, numbered=False)
                unit.blocks.append(block)
                self.cur = None
                return True
            keyword = "para."  # "First Schedule, para. 3"
        num = _norm_number(bare.group("num"))
        if cur is not None and cur.numbered:
            n, prev = _int_prefix(num), _int_prefix(cur.number)
            follows = prev is None or (
                n is not None and (prev < n <= prev + 10 or (n == prev and num != cur.number))
            )
            if not follows:
                return False
        unit = self._open(f"{keyword} {num}", num, block.title or self.pending_title)
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
        scope = self._scope()
        if dotted and not (self._plan_active() and scope):
            citation = f"para. {dotted.group('num')}"
        elif self.paged and scope == self._scope_label():
            # Only paged sources (PDF, scans) are cited by page.
            citation = f"p. {block.page}, para. {_page_para(self.units, block.page) + 1}"
        else:
            count = self.para_counts[scope] = self.para_counts.get(scope, 0) + 1
            citation = f"para. {count}"
        self._open(citation, None, self.pending_title, numbered=False).blocks.append(block)
        self.pending_title = None
        self.cur = None


def _is_plan(texts: list[str]) -> bool:
    """A plan or strategy set out in its own units (two or more "Eixo 1", "Objective 2" ...)
    rather than in articles or sections."""
    units = sum(1 for t in texts if len(t) < 200 and _PLAN_UNIT.match(t))
    provisions = sum(1 for t in texts if _unit_match(t))
    return units >= 2 and provisions < 3


def segment_document(doc: Document, max_chars: int = MAX_PASSAGE_CHARS) -> list[Passage]:
    """Cut a document into citable passages, in reading order."""
    units = _Segmenter(doc).run()
    passages: list[Passage] = []
    for u in units:
        if not u.blocks:
            continue
        for start, end, cite in _pieces(doc, u, max_chars):
            citation = f"{u.scope}, {cite}" if u.scope else cite
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
    return _unique(passages)


REPEATED = " (occurrence "


def _unique(passages: list[Passage]) -> list[Passage]:
    """The last resort against two passages cited alike (a document that holds two texts
    numbered alike, a number misread): the second says it is one, "Section 3 (occurrence 2)"."""
    seen: dict[str, int] = {}
    for p in passages:
        k = seen[p.citation] = seen.get(p.citation, 0) + 1
        if k > 1:
            p.citation = f"{p.citation}{REPEATED}{k})"
    return passages


def repeated_citations(passages: list[Passage]) -> int:
    """How many passages share a citation with an earlier one, or were told apart only by
    the last resort of numbering the occurrences: the measure of misread unit numbers."""
    seen: set[str] = set()
    count = 0
    for p in passages:
        count += p.citation in seen or REPEATED in p.citation
        seen.add(p.citation)
    return count


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


# "alin. (2)", "s. (3)": a reference, not the end of a sentence.
_ABBREVIATION = re.compile(
    r"\b(?:alin|art|arts|para|paras|par|s|ss|sec|secs|subs|no|nr|lit|pct|cf|p|pp|al|lid|inc)\.$",
    re.I,
)
# "(2)" inside a block: a subsection set inline ("... the Commission. (2) The Commission ...").
_INLINE_SUB = re.compile(r"\s(?P<mark>\((?P<num>\d{1,3}[A-Za-z]?)\))\s")


def _subsections(doc: Document, unit: _Unit) -> list[tuple[str | None, list[tuple[int, int]]]]:
    """A unit's spans grouped by sub-paragraph "(1)" / "1.", with (a)/(i) items kept in theirs.

    Sub-paragraphs set inline are found too, but only where the numbering goes on by one
    after a sentence ends, so that a cross-reference ("sections 3 (10) and (11)") is no cut.
    """
    groups: list[tuple[str | None, list[tuple[int, int]]]] = []
    last = 0
    for i, b in enumerate(unit.blocks):
        t = doc.block_text(b)
        body = t
        if i == 0:
            m = _UNIT_KEYWORD.match(t) or _BARE_NUMBER.match(t)
            if m is not None and _norm_number(m.group("num")) == unit.number:
                body = t[m.end() :].lstrip()
        num = _sub_num(_SUBDIVISION.match(body))
        if num is not None:
            last = _int_prefix(num) or last
        if i == 0 or num is not None:
            groups.append((num, [(b.char_start, b.char_end)]))
        else:
            groups[-1][1].append((b.char_start, b.char_end))
        for mm in _INLINE_SUB.finditer(t):
            n = _int_prefix(mm.group("num"))
            before = t[: mm.start()].rstrip()
            after_sentence = before[-1:] in {".", ";", ":", ")", "]"}
            after_sentence = after_sentence and not _ABBREVIATION.search(before)
            opening = i == 0 and last == 0 and n == 1 and mm.start() < 160  # after a title
            if n != last + 1 or not (after_sentence or opening):
                continue
            cut = b.char_start + mm.start("mark")
            s0, _e0 = groups[-1][1][-1]
            groups[-1][1][-1] = (s0, b.char_start + len(before))
            groups.append((mm.group("num"), [(cut, b.char_end)]))
            last = n
    return groups


def _pieces(doc: Document, unit: _Unit, max_chars: int) -> list[tuple[int, int, str]]:
    """Offsets and citations of a unit, split when it is too long to read as one passage.

    Pieces of one sub-paragraph after the first say so ("(cont.)"): no two passages of a
    unit carry the same citation.
    """
    start, end = unit.blocks[0].char_start, unit.blocks[-1].char_end
    if end - start <= max_chars:
        return [(start, end, unit.citation)]
    groups = _subsections(doc, unit)
    if len(groups) > 1 and groups[0][0] is None:
        first = groups[0][1]
        if first[-1][1] - first[0][0] < 150:
            # "Article 7. Public sector" alone is no passage: it leads the next one.
            num, spans = groups[1]
            groups[1:2] = [(num, first + spans)]
            groups.pop(0)
    out: list[tuple[int, int, str]] = []
    for num, spans in groups:
        citation = f"{unit.citation}({num})" if num and unit.numbered else unit.citation
        s, e = spans[0][0], spans[-1][1]
        if e - s <= max_chars:
            out.append((s, e, citation))
            continue
        # Still too long: pack its spans, and sentences of over-long spans.
        parts: list[tuple[int, int]] = []
        for s1, e1 in spans:
            if e1 - s1 <= max_chars:
                parts.append((s1, e1))
            else:
                for s2, e2 in _sentence_spans(doc.text, s1, e1):
                    # A definitions section is often one sentence of "; "-joined terms.
                    too_long = e2 - s2 > max_chars
                    parts.extend(_clause_spans(doc.text, s2, e2) if too_long else [(s2, e2)])
        out.extend((s2, e2, citation) for s2, e2 in _pack(parts, max_chars))
    return _continued(out)


def _continued(pieces: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """ "Section 3(1)", "Section 3(1) (cont.)", "Section 3(1) (cont. 2)"."""
    seen: dict[str, int] = {}
    out: list[tuple[int, int, str]] = []
    for s, e, citation in pieces:
        k = seen.get(citation, 0)
        seen[citation] = k + 1
        label = (
            citation if k == 0 else f"{citation} (cont.)" if k == 1 else f"{citation} (cont. {k})"
        )
        out.append((s, e, label))
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


def _clause_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """A sentence cut after each "; " (the semicolon stays with its clause)."""
    cuts = [start + m.end() for m in re.finditer(r";\s+", text[start:end])]
    bounds = [start, *cuts, end]
    spans = []
    for a, b in pairwise(bounds):
        b_trim = a + len(text[a:b].rstrip())
        if b_trim > a:
            spans.append((a, b_trim))
    return spans


def _pack(spans: list[tuple[int, int]], max_chars: int) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for s, e in spans:
        if out and e - out[-1][0] <= max_chars:
            out[-1] = (out[-1][0], e)
        else:
            out.append((s, e))
    return out
