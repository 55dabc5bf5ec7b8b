"""Evidence an analyst can quote: the sentence(s) of a passage that carry a label.

A passage is the unit the model classifies and the reader cites, but a long
article holds many sentences and only one or two of them carry a given
principle. The quote is found by scoring the passage's sentences, and pairs of
neighbouring sentences, with the same model and the same context (title,
heading path, document type) as the passage itself: the window that scores
highest for the label is the quote, with a little text either side, cut at word
boundaries. The whole passage travels with it, for the reader who wants it.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from itertools import pairwise

from .model import Document, Evidence, Passage, PassageInput, Prediction

MAX_QUOTE = 700
# Evidence is offered as citable when its passage scores at least this for the label and
# holds more than a heading. Below it a match is still shown, marked as weaker: on the
# held-out test documents, 54% of all shown passages carried their label and 79% of
# those at 0.99 or above (training/evidence_precision.py).
CITABLE_SCORE = 0.99
CITABLE_CHARS = 60
CONTEXT = 160
# A unit shorter than this ("1.", "(a)", "Article 5") is read with the next one ...
MIN_UNIT = 40
# ... unless it is longer than a number or label, when it ends the unit before it.
LABEL_LIKE = 14
# Windows of up to this many units are tried; a longer window must score clearly better.
MAX_WINDOW = 2
WINDOW_COST = 0.02

# A line that starts a list item: "(a) ", "a) ", "1. ", "(iv) ", "- ", "• ".
_ITEM = re.compile(r"\n[ \t]*(?:\(?[0-9]{1,3}[a-z]?[.)]|\(?[a-z]{1,2}\)|\([ivxlc]{1,5}\)|[-•–])\s")
# An item of a run-in list: "...; (b) To enhance", "...: (i) the".
_RUN_IN = re.compile(r"[;:]\s+(?=(?:\([a-z0-9]{1,4}\)|[a-z0-9]{1,3}\))\s)")
_SPACE = re.compile(r"\s+")

Predict = Callable[[Sequence[PassageInput]], list[Prediction]]


@dataclass(frozen=True)
class Quote:
    text: str
    before: str
    after: str
    score: float | None = None  # the quote's own score for the label, when scored


def _sentencizer():
    from .segment import _sentencizer as build

    return build()


def sentence_units(text: str) -> list[tuple[int, int]]:
    """Sentences of ``text`` (spaCy's sentencizer), further cut where a list item starts
    a line; fragments shorter than MIN_UNIT are joined to what follows when they look
    like a number or label, else to what precedes."""
    cuts: set[int] = {0, len(text)}
    for sent in _sentencizer()(text).sents:
        start = sent.start_char
        # "... 7 ani. (2) Fapta", "-( 1 ) Without": the sentencizer cuts after the "(".
        opening = len(text[:start].rstrip(" "))
        cuts.add(opening - 1 if opening and text[opening - 1] == "(" else start)
    cuts.update(m.start() + 1 for m in _ITEM.finditer(text))
    cuts.update(m.end() for m in _RUN_IN.finditer(text))
    points = sorted(cuts)
    spans = [(a, b) for a, b in pairwise(points) if text[a:b].strip()]
    units: list[tuple[int, int]] = []
    pending: int | None = None
    for a, b in spans:
        start = a if pending is None else pending
        piece = text[start:b].strip()
        if len(piece) >= MIN_UNIT:
            units.append((start, b))
            pending = None
        elif len(piece) > LABEL_LIKE and units and pending is None:
            # "d) Employment, educational and training opportunities.": the end of a list.
            units[-1] = (units[-1][0], b)
        else:
            pending = start  # "1.", "(a)", "Article 5": read with what follows
    if pending is not None:
        if units:
            units[-1] = (units[-1][0], len(text))
        else:
            units.append((pending, len(text)))
    return [_strip(text, a, b) for a, b in units] or [(0, len(text))]


def _strip(text: str, a: int, b: int) -> tuple[int, int]:
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    return a, b


def windows(units: Sequence[tuple[int, int]]) -> list[tuple[int, int, int]]:
    """Candidate quotes: runs of 1..MAX_WINDOW consecutive units, as (start, end, size)."""
    out = []
    for i in range(len(units)):
        for size in range(1, MAX_WINDOW + 1):
            if i + size <= len(units):
                out.append((units[i][0], units[i + size - 1][1], size))
    return out


def flat(text: str) -> str:
    """Runs of white space (the line breaks of a PDF's lines) as one space."""
    return _SPACE.sub(" ", text).strip()


def _cut_words_end(text: str, limit: int) -> str:
    """At most ``limit`` characters from the start, ending at a word boundary."""
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > limit // 2 else limit].rstrip(" ,;:") + " …"


def _cut_words_start(text: str, limit: int) -> str:
    """At most ``limit`` characters from the end, starting at a word boundary."""
    if len(text) <= limit:
        return text
    cut = text.find(" ", len(text) - limit)
    return "… " + text[cut + 1 if 0 <= cut < len(text) - limit // 2 else len(text) - limit :]


def make_quote(text: str, start: int, end: int) -> Quote:
    """The quote ``text[start:end]`` flattened and capped at MAX_QUOTE, with CONTEXT
    characters before and after (after: only when the quote is whole), every cut at a
    word boundary."""
    whole = flat(text[start:end])
    quote = _cut_words_end(whole, MAX_QUOTE)
    before = _cut_words_start(flat(text[:start]), CONTEXT)
    # A quote cut short has no text "just after" it.
    after = _cut_words_end(flat(text[end:]), CONTEXT) if quote == whole else ""
    return Quote(text=quote, before=before, after=after)


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def margin(score: float, threshold: float) -> float:
    """How far a score clears a label's threshold, on the log-odds scale."""
    return _logit(score) - _logit(threshold)


class QuoteFinder:
    """Scores the windows of the passages a document's evidence draws on, once each."""

    def __init__(self, predict: Predict, inputs: dict[str, PassageInput]):
        self._predict = predict
        self._inputs = inputs
        self._scored: dict[str, tuple[list[tuple[int, int, int]], list[Prediction]]] = {}

    def prepare(self, passages: Sequence[Passage]) -> None:
        """Score the windows of all ``passages`` in one call to the model."""
        todo = [p for p in passages if p.id not in self._scored]
        batch: list[PassageInput] = []
        spans: dict[str, list[tuple[int, int, int]]] = {}
        for p in todo:
            spans[p.id] = windows(sentence_units(p.text))
            base = self._inputs[p.id]
            batch += [
                base.model_copy(update={"id": f"{p.id}#{i}", "text": p.text[a:b]})
                for i, (a, b, _) in enumerate(spans[p.id])
            ]
        predictions = self._predict(batch) if batch else []
        at = 0
        for p in todo:
            n = len(spans[p.id])
            self._scored[p.id] = (spans[p.id], predictions[at : at + n])
            at += n

    def for_label(self, p: Passage, label: str) -> Quote:
        """The window of ``p`` that scores highest for ``label`` (a longer window must
        beat a shorter one by WINDOW_COST per extra unit)."""
        self.prepare([p])
        spans, preds = self._scored[p.id]
        best = max(
            range(len(spans)),
            key=lambda i: (preds[i].scores[label] - WINDOW_COST * (spans[i][2] - 1), -i),
        )
        start, end, _ = spans[best]
        quote = make_quote(p.text, start, _complete(p.text, end, spans))
        return replace(quote, score=preds[best].scores[label])

    def for_flag(self, p: Passage, flag: str) -> Quote:
        """The first single sentence of ``p`` that mentions the theme (``flag`` is
        ``mentions_trafficking`` or ``mentions_corruption``); the passage's opening
        sentence when none does on its own."""
        self.prepare([p])
        spans, preds = self._scored[p.id]
        singles = [i for i, s in enumerate(spans) if s[2] == 1]
        hit = next((i for i in singles if getattr(preds[i], flag)), singles[0] if singles else 0)
        return make_quote(p.text, spans[hit][0], spans[hit][1])


_ENDS = re.compile(r"[.;:!?)\]\"”’»]\s*$")


def _complete(text: str, end: int, spans: Sequence[tuple[int, int, int]]) -> int:
    """Extend a quote that stops mid-sentence ("(a) shall") by the units that follow,
    up to two, until it ends as a sentence or list item does."""
    singles = [(a, b) for a, b, size in spans if size == 1]
    for _ in range(2):
        if _ENDS.search(text[:end]):
            break
        following = [b for a, b in singles if a >= end]
        if not following:
            break
        end = following[0]
    return end


def evidence(
    p: Passage, score: float, quote: Quote, *, paged: bool, main_language: str | None
) -> Evidence:
    return Evidence(
        passage_id=p.id,
        citation=p.citation,
        page=p.page_start if paged else None,
        text=quote.text,
        context_before=quote.before,
        context_after=quote.after,
        passage_text=p.text,
        language=p.language or main_language,
        score=round(score, 4),
        quote_score=None if quote.score is None else round(quote.score, 4),
        citable=citable(score, p),
    )


_UNIT = re.compile(r"\d+[a-zA-Z]?(?:\s*\(\d+[a-z]?\))*")


def unit_key(citation: str | None) -> str | None:
    """The language-free number of a cited unit: "Article 10(2)" and "Artikel 10(2)"
    are one unit in two languages. None for paragraphs, which translations do not share."""
    if not citation or citation.startswith(("p. ", "para")):
        return None
    m = _UNIT.search(citation)
    return re.sub(r"\s+", "", m.group(0)) if m else None


def major_languages(passages: Sequence[Passage], share: float = 0.2) -> set[str]:
    """The languages that hold at least ``share`` of a document's passages: two of them
    make a bilingual document (a treaty in its authentic and translated texts)."""
    counts = Counter(p.language for p in passages if p.language)
    total = sum(counts.values())
    return {lang for lang, n in counts.items() if total and n >= share * total}


def one_version(
    ranked: Sequence[tuple[float, Passage]], main_language: str | None, languages: set[str]
) -> list[tuple[float, Passage]]:
    """Drop the other-language versions of a unit when the document holds it in several
    of its major ``languages`` (a bilingual treaty): the version in the document's main
    language stays, or the best-scoring one when none is in it."""
    if len(languages) < 2:
        return list(ranked)
    by_unit: dict[str, list[tuple[float, Passage]]] = {}
    for s, p in ranked:
        key = unit_key(p.citation)
        if key is not None and p.language in languages:
            by_unit.setdefault(key, []).append((s, p))
    drop: set[str] = set()
    for versions in by_unit.values():
        if len({p.language for _, p in versions}) < 2:
            continue
        main = [p for _, p in versions if p.language == main_language]
        keep = main[0] if main else versions[0][1]
        drop.update(p.id for _, p in versions if p.language != keep.language)
    return [(s, p) for s, p in ranked if p.id not in drop]


def citable(score: float, p: Passage) -> bool:
    """Strong enough to be offered as a quote an analyst can cite (see CITABLE_SCORE)."""
    return score >= CITABLE_SCORE and len(p.text.strip()) >= CITABLE_CHARS


def leads(
    supporting: dict[str, list[tuple[float, Passage]]],
    thresholds: dict[str, float],
    max_lead: int,
) -> dict[str, list[tuple[float, Passage]]]:
    """Reorder each label's supporting passages (citable first, then best first) so that
    a passage leads (comes first for) at most ``max_lead`` labels: those it clears the
    threshold of by most. For the other labels the best passage that may lead, and is as
    citable as the first, comes first; the others follow in order."""
    margins: dict[str, list[tuple[float, str]]] = {}
    for label, ranked in supporting.items():
        for s, p in ranked:
            margins.setdefault(p.id, []).append((margin(s, thresholds[label]), label))
    allowed = {pid: {label for _, label in sorted(m, reverse=True)[:max_lead]}
               for pid, m in margins.items()}  # fmt: skip
    out = {}
    for label, ranked in supporting.items():
        first = citable(*ranked[0]) if ranked else False
        lead = next(
            (i for i, (sc, p) in enumerate(ranked)
             if label in allowed[p.id] and citable(sc, p) == first),
            0,
        )  # fmt: skip
        out[label] = [*ranked[lead : lead + 1], *ranked[:lead], *ranked[lead + 1 :]]
    return out


def document_paged(doc: Document) -> bool:
    """Whether the source has pages a reader can turn to (PDFs); text, HTML, Markdown,
    XML, JSON and DOCX files do not, and their evidence gives no page."""
    return doc.format == "pdf"
