"""Annotation rows: passages to read, the model's suggestions, decisions and adjudications.

Append-only: a row is added once (an id already present is skipped, which makes
loading the same store twice a no-op) and never updated or deleted.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, insert, select
from sqlalchemy.engine import Connection

# The module, not its names: ``service.annotate.records`` imports the store's records, so
# whichever of the two packages is imported first finds the other half-made.
from ..annotate import records as annotate_records
from .db import Database, now
from .schema import adjudications, annotation_passages, decisions, suggestions
from .widths import check_widths

if TYPE_CHECKING:
    from ..annotate.records import Adjudication, AnnotationPassage, Decision

_CHUNK = 500


def _new(c: Connection, column: Any, ids: Sequence[str]) -> set[str]:
    """Which of ``ids`` are not yet in ``column``."""
    have: set[str] = set()
    for i in range(0, len(ids), _CHUNK):
        have.update(c.execute(select(column).where(column.in_(ids[i : i + _CHUNK]))).scalars())
    return set(ids) - have


def _insert_passages(c: Connection, passages: list[AnnotationPassage]) -> int:
    rows = {p.id: p for p in passages}
    new = _new(c, annotation_passages.c.id, list(rows))
    when = now()
    values = [
        {**p.model_dump(), "heading": json.dumps(p.heading), "created_at": when}
        for i, p in rows.items()
        if i in new
    ]
    check_widths(annotation_passages, values)
    if values:
        c.execute(insert(annotation_passages), values)
    return len(values)


def _insert_new(c: Connection, table: Any, rows: Sequence[Decision | Adjudication]) -> int:
    by_id = {r.id: r for r in rows}
    new = _new(c, table.c.id, list(by_id))
    values = [
        {**r.model_dump(), "labels": json.dumps(r.labels)} for i, r in by_id.items() if i in new
    ]
    check_widths(table, values)
    if values:
        c.execute(insert(table), values)
    return len(values)


def _passage(row: Any) -> AnnotationPassage:
    data = dict(row._mapping)
    data.pop("created_at", None)
    data["heading"] = json.loads(data["heading"])
    return annotate_records.AnnotationPassage.model_validate(data)


def _decision(row: Any) -> Decision:
    return annotate_records.Decision.model_validate(
        {**row._mapping, "labels": json.loads(row.labels)}
    )


def _adjudication(row: Any) -> Adjudication:
    return annotate_records.Adjudication.model_validate(
        {**row._mapping, "labels": json.loads(row.labels)}
    )


class Annotations:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- passages ------------------------------------------------------------------

    def add_passages(self, passages: Iterable[AnnotationPassage]) -> int:
        """Add the passages not yet stored; the number added."""
        with self.db.write() as c:
            return _insert_passages(c, list(passages))

    def passages(self, ids: Sequence[str] | None = None) -> dict[str, AnnotationPassage]:
        """The passages with these ids (all of them when None), by id."""
        q = select(annotation_passages)
        with self.db.read() as c:
            if ids is None:
                rows = list(c.execute(q))
            else:
                rows = []
                for i in range(0, len(ids), _CHUNK):
                    chunk = list(ids[i : i + _CHUNK])
                    rows += c.execute(q.where(annotation_passages.c.id.in_(chunk))).all()
        return {r.id: _passage(r) for r in rows}

    def passage_ids(self) -> list[str]:
        """Every passage id, sorted."""
        with self.db.read() as c:
            q = select(annotation_passages.c.id).order_by(annotation_passages.c.id)
            return list(c.execute(q).scalars())

    def document_passages(self, doc: str) -> list[AnnotationPassage]:
        """Every passage of a document (by sha256 or manifest id), in document order."""
        t = annotation_passages
        q = select(t).where((t.c.doc_id == doc) | (t.c.doc == doc)).order_by(t.c.position)
        with self.db.read() as c:
            return [_passage(r) for r in c.execute(q)]

    def neighbours(
        self, passage: AnnotationPassage, n: int
    ) -> tuple[list[AnnotationPassage], list[AnnotationPassage]]:
        """Up to ``n`` passages before (in order) and after a passage in its document."""
        t = annotation_passages
        same = t.c.doc_id == passage.doc_id
        with self.db.read() as c:
            before = c.execute(
                select(t).where(same, t.c.position < passage.position)
                .order_by(t.c.position.desc()).limit(n)
            ).all()  # fmt: skip
            after = c.execute(
                select(t).where(same, t.c.position > passage.position)
                .order_by(t.c.position).limit(n)
            ).all()  # fmt: skip
        return [_passage(r) for r in reversed(before)], [_passage(r) for r in after]

    def documents(self) -> set[str]:
        """The sha256 of every document with passages here."""
        with self.db.read() as c:
            return set(c.execute(select(annotation_passages.c.doc_id).distinct()).scalars())

    # --- suggestions ---------------------------------------------------------------

    def add_suggestions(self, scores: Mapping[str, Mapping[str, float]], model: str) -> int:
        """Each passage's score per label from ``model``; the number of passages."""
        when = now()
        values = [
            {"passage_id": pid, "label": label, "score": float(score), "model": model,
             "created_at": when}
            for pid, by_label in scores.items()
            for label, score in by_label.items()
        ]  # fmt: skip
        check_widths(suggestions, values)
        if values:
            with self.db.write() as c:
                c.execute(insert(suggestions), values)
        return len(scores)

    def suggestions(
        self, model: str, ids: Sequence[str] | None = None
    ) -> dict[str, dict[str, float]]:
        """The latest score per label from ``model`` of these passages (all when None)."""
        t = suggestions
        q = select(t.c.passage_id, t.c.label, t.c.score).where(t.c.model == model).order_by(t.c.id)
        out: dict[str, dict[str, float]] = {}
        rows: list[tuple[str, str, float]] = []
        with self.db.read() as c:
            # Raw tuples, fetched at once: a full table is 18 rows per passage.
            if ids is None:
                rows = [tuple(r) for r in c.execute(q).fetchall()]
            else:
                for i in range(0, len(ids), _CHUNK):
                    chunk = q.where(t.c.passage_id.in_(list(ids[i : i + _CHUNK])))
                    rows += [tuple(r) for r in c.execute(chunk).fetchall()]
        for pid, label, score in rows:
            out.setdefault(pid, {})[label] = score
        return out

    # --- decisions and adjudications -----------------------------------------------

    def add_decisions(self, rows: Iterable[Decision]) -> int:
        """Add the decisions not yet stored (by id); the number added."""
        with self.db.write() as c:
            return _insert_new(c, decisions, list(rows))

    def add_adjudications(self, rows: Iterable[Adjudication]) -> int:
        with self.db.write() as c:
            return _insert_new(c, adjudications, list(rows))

    def add_all(
        self,
        passages: Iterable[AnnotationPassage],
        decided: Iterable[Decision],
        adjudicated: Iterable[Adjudication],
    ) -> tuple[int, int, int]:
        """Passages, decisions and adjudications in one transaction: all of them or none.
        Rows already stored (by id) are skipped; the numbers added."""
        with self.db.write() as c:
            return (
                _insert_passages(c, list(passages)),
                _insert_new(c, decisions, list(decided)),
                _insert_new(c, adjudications, list(adjudicated)),
            )

    def decisions(
        self, *, annotator: str | None = None, passage_ids: Sequence[str] | None = None
    ) -> list[Decision]:
        """Decisions in the order they were made (and, at one time, as stored)."""
        q = select(decisions).order_by(decisions.c.at, decisions.c.id)
        if annotator is not None:
            q = q.where(decisions.c.annotator == annotator)
        if passage_ids is not None:
            q = q.where(decisions.c.passage_id.in_(list(passage_ids)))
        with self.db.read() as c:
            return [_decision(r) for r in c.execute(q)]

    def adjudications(self) -> list[Adjudication]:
        q = select(adjudications).order_by(adjudications.c.at, adjudications.c.id)
        with self.db.read() as c:
            return [_adjudication(r) for r in c.execute(q)]

    def counts(self) -> dict[str, int]:
        with self.db.read() as c:
            return {
                t.name: int(c.execute(select(func.count()).select_from(t)).scalar_one())
                for t in (annotation_passages, suggestions, decisions, adjudications)
            }
