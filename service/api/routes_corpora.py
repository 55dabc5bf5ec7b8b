"""Corpora: a named set of documents for a country, and its coverage report."""

from __future__ import annotations

from collections import Counter
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Response

from ..classify import Model
from ..cover import cover_corpus
from ..errors import JobFailed, NotAcceptable, NotFound, StillProcessing
from ..model import Coverage, DocumentCoverage, Failure
from ..report import render_csv, render_html, render_json, render_markdown
from ..store import CorpusRecord, Store
from .auth import Annotator, Reader
from .deps import ModelDep, StoreDep
from .problems import PROBLEM_RESPONSES
from .schemas import CorpusIn, CorpusList, CorpusOut, corpus_out

router = APIRouter(prefix="/v1/corpora", tags=["corpora"], responses=PROBLEM_RESPONSES)

ReportFormat = Literal["json", "html", "csv", "md"]
MEDIA = {
    "json": "application/json",
    "html": "text/html; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
}
_BY_MEDIA = {
    "application/json": "json",
    "text/html": "html",
    "application/xhtml+xml": "html",
    "text/csv": "csv",
    "text/markdown": "md",
    "text/*": "html",
    "application/*": "json",
    "*/*": "json",
}


def negotiate(accept: str | None) -> ReportFormat:
    """The report format an Accept header asks for (JSON when it asks for nothing)."""
    if not accept or not accept.strip():
        return "json"
    ranges = []
    for i, part in enumerate(accept.split(",")):
        media, *params = (x.strip() for x in part.split(";"))
        q = 1.0
        for p in params:
            if p.startswith("q="):
                try:
                    q = float(p[2:])
                except ValueError:
                    q = 0.0
        ranges.append((-q, i, media.lower()))
    for neg_q, _, media in sorted(ranges):
        if neg_q < 0 and media in _BY_MEDIA:
            return _BY_MEDIA[media]  # type: ignore[return-value]
    raise NotAcceptable(
        "the report comes as application/json, text/html, text/csv or text/markdown "
        "(or ask with ?format=json|html|csv|md)",
    )


def _get(store: Store, corpus_id: str) -> CorpusRecord:
    corpus = store.get_corpus(corpus_id)
    if corpus is None:
        raise NotFound(f"no corpus with id {corpus_id}")
    return corpus


def corpus_coverage(store: Store, model: Model, corpus: CorpusRecord) -> Coverage:
    """cover_corpus over the stored coverage of each document; failed documents listed."""
    members = store.corpus_members(corpus.id)
    pending = [m.document.id for m in members if m.document.status in ("queued", "running")]
    if pending:
        raise StillProcessing(
            f"{len(pending)} of the corpus's {len(members)} documents are still being processed "
            f"(first: /v1/documents/{pending[0]}); ask again when their jobs are done",
        )
    # Reports name documents by path: file names, made unique where two are alike.
    names = Counter(m.document.filename for m in members)
    jobs = store.job_errors([m.document.job_id for m in members if m.document.job_id])
    documents: list[DocumentCoverage] = []
    failures: list[Failure] = []
    for m in members:
        d, cov = m.document, m.coverage
        path = d.filename if names[d.filename] == 1 else f"{d.filename} ({d.id[:8]})"
        if cov is None:
            job = jobs.get(d.job_id) if d.job_id else None
            error, code = (job.error, job.error_code) if job else (None, None)
            failures.append(
                Failure(
                    path=path,
                    code=code or JobFailed.code,
                    message=error or "the document could not be processed",
                )
            )
            continue
        documents.append(
            cov.model_copy(update={"path": path, "country": cov.country or corpus.country})
        )
    return cover_corpus(documents, failures, model.name, model.meta, country=corpus.country)


@router.post("", status_code=201, summary="Create a corpus from uploaded documents")
def create_corpus(body: CorpusIn, who: Annotator, store: StoreDep, response: Response) -> CorpusOut:
    corpus = store.create_corpus(
        body.name, body.country.upper() if body.country else None, body.document_ids, who.key_id
    )
    response.headers["Location"] = f"/v1/corpora/{corpus.id}"
    return corpus_out(corpus)


@router.get("", summary="The corpora, newest first")
def list_corpora(
    _who: Reader,
    store: StoreDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> CorpusList:
    rows, total = store.list_corpora(limit=limit, offset=offset)
    return CorpusList(items=[corpus_out(r) for r in rows], total=total, limit=limit, offset=offset)


@router.get("/{corpus_id}", summary="One corpus")
def get_corpus(corpus_id: str, _who: Reader, store: StoreDep) -> CorpusOut:
    return corpus_out(_get(store, corpus_id))


@router.delete("/{corpus_id}", status_code=204, summary="Delete a corpus (not its documents)")
def delete_corpus(corpus_id: str, _who: Annotator, store: StoreDep) -> Response:
    if not store.delete_corpus(corpus_id):
        raise NotFound(f"no corpus with id {corpus_id}")
    return Response(status_code=204)


@router.get(
    "/{corpus_id}/report",
    summary="The corpus's coverage report: JSON, HTML, CSV or Markdown",
    response_model=Coverage,
    responses={
        200: {"content": {m.split(";")[0]: {} for m in MEDIA.values()}},
        406: {"description": "No format the client accepts"},
        409: {"description": "Documents still being processed"},
    },
)
def get_report(
    corpus_id: str,
    _who: Reader,
    store: StoreDep,
    model: ModelDep,
    fmt: Annotated[
        ReportFormat | None, Query(alias="format", description="wins over the Accept header")
    ] = None,
    accept: Annotated[str | None, Header()] = None,
) -> Response:
    """The format comes from ``?format=`` or else the ``Accept`` header (JSON by default)."""
    corpus = _get(store, corpus_id)
    chosen: ReportFormat = fmt or negotiate(accept)
    cov = corpus_coverage(store, model, corpus)
    render = {"json": render_json, "html": render_html, "csv": render_csv, "md": render_markdown}
    headers = {"Vary": "Accept"}
    if chosen == "csv":
        headers["Content-Disposition"] = f'attachment; filename="coverage-{corpus_id}.csv"'
    return Response(render[chosen](cov), media_type=MEDIA[chosen], headers=headers)
