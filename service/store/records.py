"""The store's rows as typed records: what ``Store`` methods return and ``finish_job`` takes.

Records are read-only snapshots of a row; times are always UTC. The API's
response bodies (``service/api/schemas.py``) are built from them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict

from ..model import DocumentCoverage, Passage, Prediction

Role = Literal["reader", "annotator", "admin"]
JobState = Literal["queued", "running", "done", "failed"]


def _utc(value: datetime) -> datetime:
    # SQLite keeps no time zone; everything the store writes is UTC.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


Timestamp = Annotated[datetime, AfterValidator(_utc)]


class Record(BaseModel):
    model_config = ConfigDict(frozen=True)


class KeyRecord(Record):
    """An API key as the store shows it: never the key, nor its hash."""

    id: str
    role: Role
    name: str | None
    created_at: Timestamp
    revoked_at: Timestamp | None


class DocumentRecord(Record):
    """One distinct file, what its uploader said of it and what its latest job found."""

    id: str
    filename: str
    size: int
    format: str
    country: str | None
    doc_type: str | None
    title: str | None
    status: JobState
    job_id: str | None
    doc_title: str | None
    inferred_doc_type: str | None
    language: str | None
    page_count: int | None
    passage_count: int | None
    created_at: Timestamp
    created_by: str | None


class JobProgress(Record):
    pages_done: int
    pages_total: int | None


class JobRecord(Record):
    """One processing of a document."""

    id: str
    document_id: str
    state: JobState
    progress: JobProgress
    error_code: str | None
    error: str | None
    attempts: int
    worker: str | None
    created_at: Timestamp
    started_at: Timestamp | None
    finished_at: Timestamp | None
    updated_at: Timestamp


class Added(Record):
    """What an upload became: its document and job; whether the file was known; whether
    a job was queued."""

    document: DocumentRecord
    job: JobRecord
    duplicate: bool
    queued: bool


class LabelledPassage(BaseModel):
    passage: Passage
    prediction: Prediction


class ResultRecord(Record):
    """A processed document's passages with their predictions, and its coverage."""

    document_id: str
    model: str
    passages: list[LabelledPassage]
    coverage: DocumentCoverage
    created_at: Timestamp


class DocumentSummary(Record):
    """What a finished job learnt of its document, kept on the document's row."""

    title: str
    language: str | None
    page_count: int
    inferred_doc_type: str | None


class CorpusRecord(Record):
    id: str
    name: str
    country: str | None
    document_ids: list[str]
    created_at: Timestamp
    created_by: str | None


class CorpusMember(Record):
    """A document of a corpus, with its coverage (None until it is processed, or if it failed)."""

    document: DocumentRecord
    coverage: DocumentCoverage | None
