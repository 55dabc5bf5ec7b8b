"""Annotation rows as typed records, and their view as lines of the JSONL annotation store.

A decision is one annotator's reading of one passage; an adjudication settles a
passage the annotators disagree on. Both are kept as written, never changed.
The final label set of a passage is computed by ``service.annotations.final_labels``
from the same records seen as store lines (decisions as ``manual`` or ``import``
lines, adjudications as ``review`` lines), so there is one rule, not two.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Literal

from pydantic import Field, field_validator

from ..annotations import Annotation, Final, final_labels
from ..labels import BY_ID, LABEL_IDS
from ..store.records import Record, Timestamp

DecisionSource = Literal["manual", "import"]


def check_labels(labels: Iterable[str]) -> list[str]:
    """Label ids in the guidelines' order; ValueError naming an unknown or repeated id."""
    labels = list(labels)
    unknown = [x for x in labels if x not in BY_ID]
    if unknown:
        raise ValueError(
            f"unknown label id {', '.join(map(repr, unknown))}; label ids are {', '.join(LABEL_IDS)}"
        )
    if len(set(labels)) != len(labels):
        raise ValueError("a label id is repeated")
    return sorted(labels, key=LABEL_IDS.index)


def stable_id(*parts: str) -> str:
    """An id derived from what a row records, so loading the same line twice adds it once."""
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


class AnnotationPassage(Record):
    """A passage as annotators read it: text, citation, heading path and where it sits."""

    id: str = Field(min_length=1)
    doc_id: str = Field(min_length=1)
    doc: str = Field(min_length=1, description="corpus manifest id or file name")
    doc_title: str
    doc_type: str
    language: str | None = None
    page: int = Field(ge=1)
    citation: str
    heading: list[str]
    text: str = Field(min_length=1)
    position: int = Field(description="order in the document (the passage's first character)")
    country: str | None = None
    source: str | None = Field(default=None, description="corpus path or file name")


# What a decision and an adjudication both record about the passage (and a store line too).
LABELLED = ("passage_id", "labels", "mentions_trafficking", "mentions_corruption")
# The passage as a store line describes it.
PASSAGE_FIELDS = ("doc_id", "doc", "doc_title", "doc_type", "language", "page", "citation",
                  "heading", "text")  # fmt: skip


class Labelled(Record):
    """One reader's labels and flags for a passage, as recorded: who and when."""

    id: str
    passage_id: str
    labels: list[str]
    mentions_trafficking: bool
    mentions_corruption: bool
    annotator: str
    at: Timestamp

    @field_validator("labels")
    @classmethod
    def _known(cls, labels: list[str]) -> list[str]:
        return check_labels(labels)


class Decision(Labelled):
    shown_suggestions: bool
    queue: str
    source: DecisionSource = "manual"
    note: str = ""


class Adjudication(Labelled):
    reason: str


def decision_id(passage_id: str, annotator: str, source: str, at: datetime) -> str:
    return stable_id(passage_id, annotator, source, at.isoformat())


def as_line(passage: AnnotationPassage, row: Decision | Adjudication) -> Annotation:
    """A decision or adjudication as a line of the JSONL store (an adjudication is ``review``)."""
    review = isinstance(row, Adjudication)
    return Annotation(
        passage_id=passage.id,
        **passage.model_dump(include=set(PASSAGE_FIELDS)),
        **row.model_dump(include=set(LABELLED) - {"passage_id"}),
        annotator=row.annotator,
        created_at=row.at,
        source="review" if review else row.source,  # type: ignore[union-attr]
        note=row.reason if isinstance(row, Adjudication) else row.note,
    )


def passage_of(
    line: Annotation, position: int, country: str | None, source: str | None
) -> AnnotationPassage:
    return AnnotationPassage(
        id=line.passage_id,
        **line.model_dump(include=set(PASSAGE_FIELDS)),
        position=position,
        country=country,
        source=source,
    )


def row_of(line: Annotation, queue: str) -> Decision | Adjudication:
    """A store line as a decision (``manual``/``import``) or an adjudication (``review``).

    The readers of the JSONL store never saw model output, so its decisions are blind.
    """
    at = line.created_at.astimezone(UTC) if line.created_at.tzinfo else line.created_at
    common = {
        "id": decision_id(line.passage_id, line.annotator, line.source, at),
        **line.model_dump(include=set(LABELLED)),
        "annotator": line.annotator,
        "at": at,
    }
    if line.source == "review":
        return Adjudication(**common, reason=line.note)
    return Decision(
        **common, shown_suggestions=False, queue=queue, source=line.source, note=line.note
    )


def finals(
    passages: dict[str, AnnotationPassage],
    decisions: Iterable[Decision],
    adjudications: Iterable[Adjudication] = (),
) -> dict[str, Final]:
    """The final labels of every decided passage of ``passages``, by the store's one rule."""
    rows: list[Decision | Adjudication] = [*decisions, *adjudications]
    lines = [as_line(passages[r.passage_id], r) for r in rows if r.passage_id in passages]
    return final_labels(lines)
