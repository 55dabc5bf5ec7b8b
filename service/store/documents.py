"""Documents (one per distinct file) and their stored results."""

from __future__ import annotations

from pydantic import TypeAdapter
from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError

from ..errors import Conflict
from ..model import DocumentCoverage
from .db import Database, now
from .files import FileStore, Staged
from .jobs import load_job, queue_job
from .records import Added, DocumentRecord, LabelledPassage, ResultRecord
from .schema import corpus_documents, documents, jobs, results
from .widths import check_widths

_PASSAGES = TypeAdapter(list[LabelledPassage])


class Documents:
    def __init__(self, db: Database, files: FileStore) -> None:
        self.db = db
        self.files = files

    def add_document(
        self,
        staged: Staged,
        *,
        filename: str,
        fmt: str,
        country: str | None,
        doc_type: str | None,
        title: str | None,
        created_by: str | None,
    ) -> Added:
        """Keep an upload and queue its job.

        A file already in the store is recognised by its hash: its document
        is returned with its latest job, and a new job is queued only if
        that one failed.
        """
        meta = {"filename": filename, "format": fmt, "country": country, "doc_type": doc_type,
                "title": title, "created_by": created_by}  # fmt: skip
        check_widths(documents, [meta])
        self.files.keep(staged)
        sha = staged.sha256
        for _ in range(2):  # PostgreSQL: a concurrent duplicate upload won the insert
            try:
                with self.db.write() as c:
                    row = c.execute(select(documents).where(documents.c.id == sha)).first()
                    if row is not None:
                        doc = DocumentRecord.model_validate(row._mapping)
                        job = load_job(c, doc.job_id) if doc.job_id else None
                        if job is not None and job.state != "failed":
                            return Added(document=doc, job=job, duplicate=True, queued=False)
                        doc, job = queue_job(c, sha)
                        return Added(document=doc, job=job, duplicate=True, queued=True)
                    c.execute(
                        insert(documents).values(
                            id=sha, size=staged.size, status="queued", created_at=now(), **meta
                        )
                    )  # fmt: skip
                    doc, job = queue_job(c, sha)
                    return Added(document=doc, job=job, duplicate=False, queued=True)
            except IntegrityError:
                continue
        raise Conflict("the upload could not be recorded; try again")

    def get_document(self, doc_id: str) -> DocumentRecord | None:
        with self.db.read() as c:
            row = c.execute(select(documents).where(documents.c.id == doc_id)).first()
        return DocumentRecord.model_validate(row._mapping) if row else None

    def list_documents(
        self, *, limit: int, offset: int, country: str | None = None, status: str | None = None
    ) -> tuple[list[DocumentRecord], int]:
        """A page of documents, newest first, and how many match in all."""
        where = []
        if country:
            where.append(documents.c.country == country)
        if status:
            where.append(documents.c.status == status)
        with self.db.read() as c:
            total = c.execute(
                select(func.count()).select_from(documents).where(*where)
            ).scalar_one()
            rows = c.execute(
                select(documents)
                .where(*where)
                .order_by(documents.c.created_at.desc(), documents.c.id)
                .limit(limit)
                .offset(offset)
            ).all()
        return [DocumentRecord.model_validate(r._mapping) for r in rows], int(total)

    def delete_document(self, doc_id: str) -> bool:
        """Forget a document: its rows, its jobs, its results and its file."""
        with self.db.write() as c:
            c.execute(delete(corpus_documents).where(corpus_documents.c.document_id == doc_id))
            c.execute(delete(results).where(results.c.document_id == doc_id))
            c.execute(delete(jobs).where(jobs.c.document_id == doc_id))
            gone = c.execute(delete(documents).where(documents.c.id == doc_id)).rowcount == 1
        if gone:
            self.files.delete(doc_id)
        return gone

    def get_result(self, doc_id: str) -> ResultRecord | None:
        """A processed document's passages, predictions and coverage; None until it is done."""
        with self.db.read() as c:
            row = c.execute(select(results).where(results.c.document_id == doc_id)).first()
        if row is None:
            return None
        return ResultRecord(
            document_id=row.document_id,
            model=row.model,
            passages=_PASSAGES.validate_json(row.passages),
            coverage=DocumentCoverage.model_validate_json(row.coverage),
            created_at=row.created_at,
        )
