"""Documents: upload (queues a job), list, read, passages with predictions, coverage, delete."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from ..doctype import DOC_TYPES
from ..errors import (
    DocumentFailed,
    EmptyDocument,
    InvalidRequest,
    JobFailed,
    NotFound,
    StillProcessing,
    UnsupportedMediaType,
)
from ..extract import sniff_format
from ..labels import LABEL_IDS
from ..model import DocumentCoverage
from ..store import DocumentRecord, ResultRecord, Staged, Store
from .auth import Annotator, Reader
from .deps import PoolDep, SettingsDep, StoreDep
from .problems import PROBLEM_RESPONSES
from .schemas import (
    DocumentList,
    DocumentOut,
    PassageList,
    UploadOut,
    document_out,
    job_out,
)

router = APIRouter(prefix="/v1/documents", tags=["documents"], responses=PROBLEM_RESPONSES)

_UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "PDF, DOCX, HTML, XML, JSON, Markdown or text; "
                            "the format is read from the bytes",
                        },
                        "country": {"type": "string", "pattern": "^[A-Za-z]{3}$"},
                        "doc_type": {"type": "string", "enum": list(DOC_TYPES)},
                        "title": {"type": "string", "maxLength": 300},
                    },
                }
            }
        },
    }
}


def _field(form: Any, name: str) -> str | None:
    value = form.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidRequest(f"the form field {name!r} must be text")
    return value.strip() or None


def _metadata(form: Any) -> tuple[str | None, str | None, str | None]:
    country, doc_type, title = (_field(form, k) for k in ("country", "doc_type", "title"))
    if country is not None and not re.fullmatch(r"[A-Za-z]{3}", country):
        raise InvalidRequest("country must be an ISO 3166 alpha-3 code, e.g. BRB")
    if doc_type is not None and doc_type not in DOC_TYPES:
        raise InvalidRequest(f"doc_type must be one of {', '.join(DOC_TYPES)}")
    if title is not None and len(title) > 300:
        raise InvalidRequest("title must be at most 300 characters")
    return (country.upper() if country else None), doc_type, title


def _clean_name(name: str | None) -> str:
    """The client's file name, kept for display: last path segment, no control characters."""
    base = re.split(r"[/\\]", name or "")[-1]
    base = re.sub(r"[\x00-\x1f\x7f]", "", base).strip()
    return base[:255] or "upload"


def _sniff(staged: Staged) -> str:
    head = staged.head(256 * 1024)
    # A zip's directory is at its end: DOCX needs the whole file to be told apart.
    data = staged.head(staged.size) if head.startswith(b"PK") else head
    return sniff_format(data)


def _get(store: Store, doc_id: str) -> DocumentRecord:
    doc = store.get_document(doc_id)
    if doc is None:
        raise NotFound(f"no document with id {doc_id}")
    return doc


def _processed(store: Store, doc: DocumentRecord) -> ResultRecord:
    """The document's stored results; 409 while its job runs or when it failed."""
    if doc.status == "failed":
        job = store.get_job(doc.job_id) if doc.job_id else None
        error, code = (job.error, job.error_code) if job else (None, None)
        raise DocumentFailed(
            f"the document could not be processed: {error or 'unknown reason'} "
            f"({code or JobFailed.code})",
        )
    result = store.get_result(doc.id) if doc.status == "done" else None
    if result is None:
        raise StillProcessing(
            f"the document is {doc.status}; poll /v1/jobs/{doc.job_id} until it is done",
        )
    return result


@router.post(
    "",
    status_code=202,
    summary="Upload a document; its processing is queued as a job",
    openapi_extra=_UPLOAD_BODY,
    responses={200: {"model": UploadOut, "description": "The same file was uploaded before"}},
)
async def upload_document(
    request: Request,
    response: Response,
    who: Annotator,
    store: StoreDep,
    settings: SettingsDep,
    pool: PoolDep,
) -> UploadOut:
    """Answers 202 with the document and its job, and ``Location: /v1/jobs/{id}``. A file
    uploaded before is recognised by its hash (200, ``duplicate: true``); it is processed
    again only if its last job failed."""
    content_type = request.headers.get("content-type", "")
    if not content_type.lower().startswith("multipart/form-data"):
        raise UnsupportedMediaType(
            "send the document as multipart/form-data, in the field 'file'",
        )
    # Parsed here, not by FastAPI, so that the key is checked before the body is read.
    form = await request.form(max_files=1, max_fields=8)
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise InvalidRequest("send the document in the multipart field 'file'")
        country, doc_type, title = _metadata(form)
        staged = await run_in_threadpool(store.files.stage, upload.file, settings.max_upload_bytes)
        filename = _clean_name(upload.filename)
    finally:
        await form.close()
    try:
        if staged.size == 0:
            raise EmptyDocument("the file is empty (0 bytes)")
        fmt = await run_in_threadpool(_sniff, staged)
        added = await run_in_threadpool(
            lambda: store.add_document(
                staged, filename=filename, fmt=fmt, country=country, doc_type=doc_type,
                title=title, created_by=who.key_id,
            )
        )  # fmt: skip
    finally:
        staged.discard()  # a no-op once the store has kept it
    if added.queued:
        pool.notify()
    response.status_code = 202 if added.queued else 200
    response.headers["Location"] = f"/v1/jobs/{added.job.id}"
    return UploadOut(
        document=document_out(added.document), job=job_out(added.job), duplicate=added.duplicate
    )


@router.get("", summary="The documents, newest first")
def list_documents(
    _who: Reader,
    store: StoreDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
    country: Annotated[str | None, Query(pattern=r"^[A-Za-z]{3}$")] = None,
    status: Literal["queued", "running", "done", "failed"] | None = None,
) -> DocumentList:
    rows, total = store.list_documents(
        limit=limit, offset=offset, country=country.upper() if country else None, status=status
    )
    return DocumentList(
        items=[document_out(r) for r in rows], total=total, limit=limit, offset=offset
    )


@router.get("/{doc_id}", summary="One document")
def get_document(doc_id: str, _who: Reader, store: StoreDep) -> DocumentOut:
    return document_out(_get(store, doc_id))


@router.delete("/{doc_id}", status_code=204, summary="Delete a document, its results and file")
def delete_document(doc_id: str, _who: Annotator, store: StoreDep) -> Response:
    if not store.delete_document(doc_id):
        raise NotFound(f"no document with id {doc_id}")
    return Response(status_code=204)


@router.get("/{doc_id}/passages", summary="The document's passages with their predictions")
def list_passages(
    doc_id: str,
    _who: Reader,
    store: StoreDep,
    label: Annotated[
        str | None, Query(description="only passages predicted to carry this label, e.g. L3")
    ] = None,
    mentions: Annotated[
        Literal["trafficking", "corruption"] | None,
        Query(description="only passages that mention trafficking or corruption"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> PassageList:
    if label is not None and label not in LABEL_IDS:
        raise InvalidRequest(f"unknown label {label!r}; one of {', '.join(LABEL_IDS)}")
    items = _processed(store, _get(store, doc_id)).passages
    if label is not None:
        items = [x for x in items if label in x.prediction.labels]
    if mentions == "trafficking":
        items = [x for x in items if x.prediction.mentions_trafficking]
    elif mentions == "corruption":
        items = [x for x in items if x.prediction.mentions_corruption]
    return PassageList(
        items=items[offset : offset + limit], total=len(items), limit=limit, offset=offset
    )


@router.get(
    "/{doc_id}/coverage",
    summary="The document's coverage: per label covered, score and evidence",
    response_model=DocumentCoverage,
)
def get_coverage(doc_id: str, _who: Reader, store: StoreDep) -> Response:
    coverage = _processed(store, _get(store, doc_id)).coverage
    return Response(coverage.model_dump_json(by_alias=True), media_type="application/json")
