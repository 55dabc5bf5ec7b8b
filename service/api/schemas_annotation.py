"""Request and response bodies of the annotation routes (``/v1/annotation``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..annotate.queues import QueueItem, Strategy
from ..annotate.records import check_labels


class PassageView(BaseModel):
    id: str
    doc_id: str
    doc_title: str
    doc_type: str
    language: str | None
    page: int
    citation: str
    heading: list[str]
    text: str
    country: str | None


class ContextPassage(BaseModel):
    id: str
    citation: str
    text: str


class Context(BaseModel):
    before: list[ContextPassage] = Field(description="the passages just before, in order")
    after: list[ContextPassage]
    source: str | None = Field(description="a relative link to where the passage can be read")


class QueueEntry(BaseModel):
    passage: PassageView
    context: Context
    suggestions: dict[str, float] | None = Field(
        description="the model's score per label (all 18); null in the double queue"
    )
    thresholds: dict[str, float] | None = Field(description="the model's per-label thresholds")


class QueueOut(BaseModel):
    strategy: Strategy
    items: list[QueueEntry]


def queue_entry(item: QueueItem) -> QueueEntry:
    def ctx(ps: list) -> list[ContextPassage]:
        return [ContextPassage(id=p.id, citation=p.citation, text=p.text) for p in ps]

    return QueueEntry(
        passage=PassageView.model_validate(item.passage.model_dump()),
        context=Context(before=ctx(item.before), after=ctx(item.after), source=item.source),
        suggestions=item.suggestions,
        thresholds=item.thresholds,
    )


class _Labelled(BaseModel):
    model_config = ConfigDict(extra="forbid")

    passage_id: str = Field(min_length=1, max_length=120)
    labels: list[str] = Field(description="label ids, e.g. ['2.3', '3.1']; empty for none")
    mentions_trafficking: bool
    mentions_corruption: bool

    @field_validator("labels")
    @classmethod
    def _known(cls, labels: list[str]) -> list[str]:
        return check_labels(labels)


class DecisionIn(_Labelled):
    queue: str = Field(min_length=1, max_length=40, description="the queue the passage came from")
    note: str | None = Field(default=None, max_length=4000)
    shown_suggestions: bool | None = Field(
        default=None,
        description="whether the model's scores were shown (default: false in double, else true)",
    )


class AdjudicationIn(_Labelled):
    reason: str = Field(min_length=1, max_length=4000)


class LabelInfo(BaseModel):
    id: str
    slug: str
    principle: int
    definition: str = Field(description="one line, from the annotation guidelines")


class LabelsOut(BaseModel):
    labels: list[LabelInfo]
    flags: list[str]


class LabelKappaOut(BaseModel):
    kappa: float | None
    n: int = Field(description="pairs of blind decisions compared")


class PairOut(BaseModel):
    first: str
    second: str
    n: int
    per_label: dict[str, float | None]


class AgreementOut(BaseModel):
    per_label: dict[str, LabelKappaOut]
    pairs: dict[str, PairOut]
    alpha: float | None = Field(description="Krippendorff's alpha, nominal, 18 binary labels")
    n: int = Field(description="passages read blind by two or more annotators")


class ImportOut(BaseModel):
    format: str
    passages: int
    decisions: int
    adjudications: int
    passages_added: int
    decisions_added: int
    adjudications_added: int
