"""The queues annotators read from: which passages to serve next, with context and suggestions.

- ``uncertainty``: passages whose scores lie nearest the model's per-label thresholds;
  where a second model family is installed (a spaCy textcat model beside the default),
  the passages the two models label differently come first among the nearest. Served
  round-robin over countries, and over documents within a country, so one long
  document does not fill the queue.
- ``random``: a seeded shuffle of every passage.
- ``document``: every passage of one document, in document order.
- ``double``: blind second readings: passages someone else decided and the caller has
  not, those with fewest readers first; served without suggestions.
- ``adjudicate``: passages whose annotators disagree (labels or flags) with no adjudication.

A passage the caller already decided is never served again: in ``document`` not
again in that queue, in the others not at all.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal, get_args

from ..classify import Model, list_models, load_model
from ..errors import InvalidRequest, NotFound
from ..labels import LABEL_IDS
from ..store import Store
from . import sources
from .loading import ensure_suggestions, sync_results
from .records import AnnotationPassage, Decision

Strategy = Literal["uncertainty", "random", "document", "double", "adjudicate"]
STRATEGIES: tuple[Strategy, ...] = get_args(Strategy)
CONTEXT = 2  # passages shown before and after
# Candidates nearest the thresholds that the second model also scores, per item served.
SECOND_OPINION = 5


@dataclass(frozen=True)
class QueueItem:
    passage: AnnotationPassage
    before: list[AnnotationPassage]
    after: list[AnnotationPassage]
    source: str | None
    suggestions: dict[str, float] | None
    thresholds: dict[str, float] | None


def source_link(p: AnnotationPassage) -> str | None:
    """A link to where the passage can be read (see :mod:`service.annotate.sources`)."""
    return sources.link(p)


def _interleave(groups: Iterable[Sequence[AnnotationPassage]]) -> Iterator[AnnotationPassage]:
    """One from each group in turn, keeping the order within each group."""
    queues = [iter(g) for g in groups]
    while queues:
        alive = []
        for q in queues:
            item = next(q, None)
            if item is not None:
                yield item
                alive.append(q)
        queues = alive


def _groups(
    passages: Iterable[AnnotationPassage], key: Callable[[AnnotationPassage], str]
) -> list[list[AnnotationPassage]]:
    """Passages grouped by ``key``, groups in order of first appearance."""
    out: dict[str, list[AnnotationPassage]] = defaultdict(list)
    for p in passages:
        out[key(p)].append(p)
    return list(out.values())


def spread(passages: Sequence[AnnotationPassage]) -> list[AnnotationPassage]:
    """Best-first passages re-ordered round-robin over countries, and within a country over
    documents, so that consecutive items come from different documents where they can."""
    per_country = [
        list(_interleave(_groups(ps, lambda p: p.doc_id)))
        for ps in _groups(passages, lambda p: p.country or "?")
    ]
    return list(_interleave(per_country))


@cache
def second_model(root: Path | None, default: str) -> Model | None:
    """The newest spaCy model installed beside the default, when the default is another kind."""
    metas = [m for m in list_models(root) if m.kind == "spacy" and m.name != default]
    if not metas:
        return None
    return load_model(sorted(metas, key=lambda m: m.name)[-1].name, root)


def margin(scores: dict[str, float], thresholds: dict[str, float]) -> float:
    """How near the passage is to a decision: the smallest distance of a score to its threshold."""
    return min(abs(scores[label] - thresholds[label]) for label in LABEL_IDS)


def disagreement(
    store: Store, a: Model, b: Model, passages: Sequence[AnnotationPassage]
) -> dict[str, int]:
    """Per passage, the labels on which models ``a`` and ``b`` (at their thresholds) differ."""
    sa = ensure_suggestions(store, a, passages)
    sb = ensure_suggestions(store, b, passages)
    return {
        p.id: sum(
            (sa[p.id][x] >= a.thresholds[x]) != (sb[p.id][x] >= b.thresholds[x]) for x in LABEL_IDS
        )
        for p in passages
    }


class Queues:
    """Serves queue items from the store, scoring passages with the service's model."""

    def __init__(self, store: Store, model: Model, models_root: Path | None = None) -> None:
        self.store = store
        self.model = model
        self.models_root = models_root

    def serve(
        self,
        strategy: Strategy,
        caller: str,
        limit: int,
        *,
        document: str | None = None,
        seed: int = 0,
    ) -> list[QueueItem]:
        sync_results(self.store)
        ann = self.store.annotation
        decisions = ann.decisions()
        mine = [d for d in decisions if d.annotator == caller]
        if strategy == "document":
            if not document:
                raise InvalidRequest("the document queue needs document=ID (sha256 or manifest id)")
            done = {d.passage_id for d in mine if d.queue == "document"}
            passages = ann.document_passages(document)
            if not passages:
                raise NotFound(f"no annotation passages for document {document}")
            picked = [p for p in passages if p.id not in done][:limit]
        else:
            done = {d.passage_id for d in mine}
            picked = self._pick(strategy, caller, limit, done, decisions, seed)
        return self._items(picked, blind=strategy == "double")

    def _pick(
        self,
        strategy: Strategy,
        caller: str,
        limit: int,
        done: set[str],
        decisions: list[Decision],
        seed: int,
    ) -> list[AnnotationPassage]:
        ann = self.store.annotation
        if strategy == "random":
            ids = [i for i in ann.passage_ids() if i not in done]
            chosen = random.Random(seed).sample(ids, min(limit, len(ids)))
            found = ann.passages(chosen)
            return [found[i] for i in chosen]
        if strategy == "double":
            readers: dict[str, set[str]] = defaultdict(set)
            for d in decisions:
                if d.annotator != caller:
                    readers[d.passage_id].add(d.annotator)
            ids = sorted((i for i in readers if i not in done), key=lambda i: (len(readers[i]), i))
            found = ann.passages(ids)
            return spread([found[i] for i in ids])[:limit]
        if strategy == "adjudicate":
            settled = {a.passage_id for a in ann.adjudications()}
            ids = sorted(i for i in disputed(decisions) if i not in settled and i not in done)
            found = ann.passages(ids)
            ordered = sorted(found.values(), key=lambda p: (p.doc_id, p.position))
            return spread(ordered)[:limit]
        if strategy == "uncertainty":
            return self._uncertain(limit, done)
        raise InvalidRequest(f"unknown strategy {strategy!r}; one of {', '.join(STRATEGIES)}")

    def _uncertain(self, limit: int, done: set[str]) -> list[AnnotationPassage]:
        ann = self.store.annotation
        ids = [i for i in ann.passage_ids() if i not in done]
        scores = ann.suggestions(self.model.name)
        missing = [i for i in ids if len(scores.get(i, {})) < len(LABEL_IDS)]
        if missing:
            scores.update(
                ensure_suggestions(self.store, self.model, list(ann.passages(missing).values()))
            )
        t = self.model.thresholds
        ranked = sorted(ids, key=lambda i: (margin(scores[i], t), i))
        pool_ids = ranked[: max(limit * SECOND_OPINION, limit)]
        found = ann.passages(pool_ids)
        pool = [found[i] for i in pool_ids]
        other = second_model(self.models_root, self.model.name)
        if other is not None and pool:
            differ = disagreement(self.store, self.model, other, pool)
            near = {p.id: i for i, p in enumerate(pool)}
            pool.sort(key=lambda p: (-differ[p.id], near[p.id]))
        return spread(pool)[:limit]

    def _items(self, picked: Sequence[AnnotationPassage], blind: bool) -> list[QueueItem]:
        scores = {} if blind else ensure_suggestions(self.store, self.model, picked)
        items = []
        for p in picked:
            before, after = self.store.annotation.neighbours(p, CONTEXT)
            items.append(
                QueueItem(
                    passage=p,
                    before=before,
                    after=after,
                    source=source_link(p),
                    suggestions=None if blind else scores[p.id],
                    thresholds=None if blind else dict(self.model.thresholds),
                )
            )
        return items


def disputed(decisions: Iterable[Decision]) -> set[str]:
    """Passages whose annotators' latest decisions differ in a label or a flag."""
    latest: dict[str, dict[str, Decision]] = defaultdict(dict)
    for d in decisions:  # in time order: a later decision replaces the annotator's earlier one
        latest[d.passage_id][d.annotator] = d
    out = set()
    for pid, by_annotator in latest.items():
        keys = {
            (tuple(d.labels), d.mentions_trafficking, d.mentions_corruption)
            for d in by_annotator.values()
        }
        if len(keys) > 1:
            out.add(pid)
    return out
