"""The API's own request and response bodies; passages, predictions and coverage are
the data model's types (service/model.py), unchanged."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from ..errors import JobFailed
from ..model import Passage, PassageInput, Prediction

JobState = Literal["queued", "running", "done", "failed"]
Role = Literal["reader", "annotator", "admin"]


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


class LabelledPassage(BaseModel):
    passage: Passage
    prediction: Prediction


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


def job_out(row: dict[str, Any]) -> JobOut:
    error = None
    if row["state"] == "failed":
        error = JobError(code=row["error_code"] or JobFailed.code, message=row["error"] or "")
    return JobOut(
        id=row["id"],
        document_id=row["document_id"],
        state=row["state"],
        progress=Progress(pages_done=row["pages_done"] or 0, pages_total=row["pages_total"]),
        error=error,
        attempts=row["attempts"],
        created_at=row["created_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        links={"self": f"/v1/jobs/{row['id']}", "document": f"/v1/documents/{row['document_id']}"},
    )


def document_out(row: dict[str, Any]) -> DocumentOut:
    base = f"/v1/documents/{row['id']}"
    links = {"self": base, "passages": f"{base}/passages", "coverage": f"{base}/coverage"}
    if row["job_id"]:
        links["job"] = f"/v1/jobs/{row['job_id']}"
    doc_type = row["doc_type"] or row["inferred_doc_type"]
    source: Literal["given", "inferred"] | None = (
        "given" if row["doc_type"] else "inferred" if doc_type else None
    )
    return DocumentOut(
        id=row["id"],
        filename=row["filename"],
        size=row["size"],
        format=row["format"],
        title=row["title"] or row["doc_title"],
        country=row["country"],
        doc_type=doc_type,
        doc_type_source=source,
        language=row["language"],
        pages=row["page_count"],
        passages=row["passage_count"],
        status=row["status"],
        job_id=row["job_id"],
        created_at=row["created_at"],
        links=links,
    )


def corpus_out(row: dict[str, Any]) -> CorpusOut:
    return CorpusOut(
        id=row["id"],
        name=row["name"],
        country=row["country"],
        document_ids=row["document_ids"],
        created_at=row["created_at"],
        links={"self": f"/v1/corpora/{row['id']}", "report": f"/v1/corpora/{row['id']}/report"},
    )
