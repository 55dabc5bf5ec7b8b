"""Documents (one per distinct file) and their stored results."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError

from ..errors import Conflict
from .db import Database, as_dict, now
from .files import FileStore, Staged
from .jobs import job_row, queue_job
from .schema import corpus_documents, documents, jobs, results


@dataclass(frozen=True)
class Added:
    """What an upload became: its document and job; whether the file was known; whether
    a job was queued."""

    document: dict[str, Any]
    job: dict[str, Any]
    duplicate: bool
    queued: bool


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
        self.files.keep(staged)
        sha = staged.sha256
        for _ in range(2):  # PostgreSQL: a concurrent duplicate upload won the insert
            try:
                with self.db.write() as c:
                    row = c.execute(select(documents).where(documents.c.id == sha)).first()
                    if row is not None:
                        doc = as_dict(row)
                        job = job_row(c, doc["job_id"]) if doc["job_id"] else None
                        if job is not None and job["state"] != "failed":
                            return Added(doc, job, duplicate=True, queued=False)
                        doc = queue_job(c, sha)
                        return Added(doc, job_row(c, doc["job_id"]), duplicate=True, queued=True)
                    c.execute(
                        insert(documents).values(
                            id=sha, filename=filename, size=staged.size, format=fmt,
                            country=country, doc_type=doc_type, title=title, status="queued",
                            created_at=now(), created_by=created_by,
                        )
                    )  # fmt: skip
                    doc = queue_job(c, sha)
                    return Added(doc, job_row(c, doc["job_id"]), duplicate=False, queued=True)
            except IntegrityError:
                continue
        raise Conflict("the upload could not be recorded; try again")

    def get_document(self, doc_id: str) -> dict[str, Any] | None:
        with self.db.read() as c:
            row = c.execute(select(documents).where(documents.c.id == doc_id)).first()
        return as_dict(row) if row else None

    def list_documents(
        self, *, limit: int, offset: int, country: str | None = None, status: str | None = None
    ) -> tuple[list[dict[str, Any]], int]:
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
        return [as_dict(r) for r in rows], int(total)

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

    def get_result(self, doc_id: str) -> dict[str, Any] | None:
        with self.db.read() as c:
            row = c.execute(select(results).where(results.c.document_id == doc_id)).first()
        return as_dict(row) if row else None
