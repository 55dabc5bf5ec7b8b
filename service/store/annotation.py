"""Annotation rows: passages to read, the model's suggestions, decisions and adjudications.

Append-only: a row is added once (an id already present is skipped, which makes
loading the same store twice a no-op) and never updated or deleted.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.engine import Connection

from ..annotate.records import Adjudication, AnnotationPassage, Decision
from .db import Database, now
from .schema import adjudications, annotation_passages, decisions, suggestions

_CHUNK = 500


def _new(c: Connection, column: Any, ids: Sequence[str]) -> set[str]:
    """Which of ``ids`` are not yet in ``column``."""
    have: set[str] = set()
    for i in range(0, len(ids), _CHUNK):
        have.update(c.execute(select(column).where(column.in_(ids[i : i + _CHUNK]))).scalars())
    return set(ids) - have


def _passage(row: Any) -> AnnotationPassage:
    data = dict(row._mapping)
    data.pop("created_at", None)
    data["heading"] = json.loads(data["heading"])
    return AnnotationPassage.model_validate(data)


def _decision(row: Any) -> Decision:
    return Decision.model_validate({**row._mapping, "labels": json.loads(row.labels)})


def _adjudication(row: Any) -> Adjudication:
    return Adjudication.model_validate({**row._mapping, "labels": json.loads(row.labels)})


class Annotations:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- passages ------------------------------------------------------------------

    def add_passages(self, passages: Iterable[AnnotationPassage]) -> int:
        """Add the passages not yet stored; the number added."""
        rows = {p.id: p for p in passages}
        when = now()
        with self.db.write() as c:
            new = _new(c, annotation_passages.c.id, list(rows))
            values = [
                {**rows[i].model_dump(), "heading": json.dumps(rows[i].heading), "created_at": when}
                for i in rows
                if i in new
            ]
            if values:
                c.execute(insert(annotation_passages), values)
        return len(values)

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
        with self.db.read() as c:
            if ids is None:
                rows = list(c.execute(q))
            else:
                rows = []
                for i in range(0, len(ids), _CHUNK):
                    rows += c.execute(q.where(t.c.passage_id.in_(list(ids[i : i + _CHUNK])))).all()
        for r in rows:
            out.setdefault(r.passage_id, {})[r.label] = r.score
        return out

    # --- decisions and adjudications -----------------------------------------------

    def add_decisions(self, rows: Iterable[Decision]) -> int:
        """Add the decisions not yet stored (by id); the number added."""
        return self._add(decisions, list(rows))

    def add_adjudications(self, rows: Iterable[Adjudication]) -> int:
        return self._add(adjudications, list(rows))

    def _add(self, table: Any, rows: list[Decision] | list[Adjudication]) -> int:
        by_id = {r.id: r for r in rows}
        with self.db.write() as c:
            new = _new(c, table.c.id, list(by_id))
            values = [
                {**r.model_dump(), "labels": json.dumps(r.labels)}
                for r in by_id.values()
                if r.id in new
            ]
            if values:
                c.execute(insert(table), values)
        return len(values)

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
