"""The API's own request and response bodies, built from the store's records; passages,
predictions and coverage are the data model's types (service/model.py), unchanged."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from ..errors import JobFailed
from ..model import PassageInput, Prediction
from ..store import CorpusRecord, DocumentRecord, JobRecord, JobState, LabelledPassage, Role


class Progress(BaseModel):
    pages_done: int
    pages_total: int | None = Field(description="known once the document is extracted")


class JobError(BaseModel):
    code: str = Field(description="stable: the TipscanError code, e.g. encrypted-document")
    message: str


class JobOut(BaseModel):
    id: str
    document_id: str
    state: JobState
    progress: Progress
    error: JobError | None = None
    attempts: int = Field(description="times a worker took the job (more after a restart)")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    links: dict[str, str]


class DocumentOut(BaseModel):
    id: str = Field(description="sha256 of the file: the same file is the same document")
    filename: str = Field(description="the name it was uploaded with")
    size: int
    format: str = Field(description="read from the bytes")
    title: str | None
    country: str | None
    doc_type: str | None
    doc_type_source: Literal["given", "inferred"] | None
    language: str | None
    pages: int | None
    passages: int | None
    status: JobState = Field(description="the state of the document's latest job")
    job_id: str | None
    created_at: datetime
    links: dict[str, str]


class UploadOut(BaseModel):
    document: DocumentOut
    job: JobOut
    duplicate: bool = Field(description="the same file was uploaded before")


class DocumentList(BaseModel):
    items: list[DocumentOut]
    total: int
    limit: int
    offset: int


class PassageList(BaseModel):
    items: list[LabelledPassage]
    total: int = Field(description="passages matching the filters")
    limit: int
    offset: int


class CorpusIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    country: str | None = Field(default=None, pattern=r"^[A-Za-z]{3}$", description="ISO alpha-3")
    document_ids: list[str] = Field(default_factory=list, max_length=1000)


class CorpusOut(BaseModel):
    id: str
    name: str
    country: str | None
    document_ids: list[str]
    created_at: datetime
    links: dict[str, str]


class CorpusList(BaseModel):
    items: list[CorpusOut]
    total: int
    limit: int
    offset: int


class ClassifyIn(BaseModel):
    """The JSON twin of ``tipscan classify``'s JSON Lines input."""

    passages: list[PassageInput]


class ClassifyOut(BaseModel):
    model: str
    predictions: list[Prediction]


class KeyIn(BaseModel):
    role: Role
    name: str | None = Field(default=None, max_length=200)


class KeyOut(BaseModel):
    id: str
    role: Role
    name: str | None
    created_at: datetime
    revoked_at: datetime | None = None
    key: str | None = Field(default=None, description="only in the answer that creates it")


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Ready(BaseModel):
    status: Literal["ready"] = "ready"
    store: Literal["ok"] = "ok"
    model: dict[str, Any] = Field(description="name, version and kind of the loaded model")
    workers: int = Field(description="worker threads alive")
    queued: int = Field(description="jobs waiting for a worker")
    cluster: dict[str, Any] | None = Field(
        default=None,
        description="where jobs are scored when not here: the Dask scheduler and its workers",
    )


def job_out(job: JobRecord) -> JobOut:
    error = None
    if job.state == "failed":
        error = JobError(code=job.error_code or JobFailed.code, message=job.error or "")
    return JobOut(
        id=job.id,
        document_id=job.document_id,
        state=job.state,
        progress=Progress.model_validate(job.progress, from_attributes=True),
        error=error,
        attempts=job.attempts,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        links={"self": f"/v1/jobs/{job.id}", "document": f"/v1/documents/{job.document_id}"},
    )


def document_out(doc: DocumentRecord) -> DocumentOut:
    base = f"/v1/documents/{doc.id}"
    links = {"self": base, "passages": f"{base}/passages", "coverage": f"{base}/coverage"}
    if doc.job_id:
        links["job"] = f"/v1/jobs/{doc.job_id}"
    doc_type = doc.doc_type or doc.inferred_doc_type
    source: Literal["given", "inferred"] | None = (
        "given" if doc.doc_type else "inferred" if doc_type else None
    )
    return DocumentOut(
        id=doc.id,
        filename=doc.filename,
        size=doc.size,
        format=doc.format,
        title=doc.title or doc.doc_title,
        country=doc.country,
        doc_type=doc_type,
        doc_type_source=source,
        language=doc.language,
        pages=doc.page_count,
        passages=doc.passage_count,
        status=doc.status,
        job_id=doc.job_id,
        created_at=doc.created_at,
        links=links,
    )


def corpus_out(corpus: CorpusRecord) -> CorpusOut:
    links = {"self": f"/v1/corpora/{corpus.id}", "report": f"/v1/corpora/{corpus.id}/report"}
    return CorpusOut(
        id=corpus.id,
        name=corpus.name,
        country=corpus.country,
        document_ids=corpus.document_ids,
        created_at=corpus.created_at,
        links=links,
    )
