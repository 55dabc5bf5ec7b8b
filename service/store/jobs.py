"""The job queue: one job per processing of a document, claimed by one worker at a time.

A claim is one write transaction: on SQLite it holds the write lock from its
first statement (``BEGIN IMMEDIATE``), on PostgreSQL it picks the job with
``FOR UPDATE SKIP LOCKED``, so two workers never take the same job. A job's
results are written in the transaction that marks it done, so a server killed
mid-job leaves it ``running`` with nothing half-written: ``recover_jobs``
queues it again on the next start.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Connection, Row

from ..errors import JobInterrupted
from ..model import DocumentCoverage, Passage, Prediction
from .db import Database, now
from .records import DocumentRecord, DocumentSummary, JobProgress, JobRecord
from .schema import documents, jobs, results

# A job interrupted this many times (the server died while running it each
# time) is failed rather than queued again: the document may be what kills it.
MAX_ATTEMPTS = 3


def queue_job(c: Connection, doc_id: str) -> tuple[DocumentRecord, JobRecord]:
    """Queue a new job for a document and make it the document's latest; both, as they now are."""
    job_id = uuid.uuid4().hex
    t = now()
    c.execute(
        insert(jobs).values(
            id=job_id, document_id=doc_id, state="queued", pages_done=0, attempts=0,
            created_at=t, updated_at=t,
        )
    )  # fmt: skip
    c.execute(
        update(documents).where(documents.c.id == doc_id).values(status="queued", job_id=job_id)
    )
    doc = c.execute(select(documents).where(documents.c.id == doc_id)).one()
    return DocumentRecord.model_validate(doc._mapping), load_job(c, job_id)


def job_record(row: Row[Any]) -> JobRecord:
    """A row of ``jobs`` as a record (its page counts as its progress)."""
    progress = JobProgress(pages_done=row.pages_done, pages_total=row.pages_total)
    return JobRecord.model_validate({**row._mapping, "progress": progress})


def load_job(c: Connection, job_id: str) -> JobRecord:
    return job_record(c.execute(select(jobs).where(jobs.c.id == job_id)).one())


def _end(c: Connection, job_id: str, doc_id: str, state: str, **values: Any) -> None:
    t = now()
    c.execute(
        update(jobs)
        .where(jobs.c.id == job_id)
        .values(state=state, finished_at=t, updated_at=t, **values)
    )
    c.execute(
        update(documents)
        .where(documents.c.id == doc_id, documents.c.job_id == job_id)
        .values(status=state)
    )


def _utc(t: datetime) -> datetime:
    """A stored time as UTC (SQLite gives back naive times, written in UTC)."""
    return t if t.tzinfo is not None else t.replace(tzinfo=UTC)


def _requeue(c: Connection, job_id: str, doc_id: str) -> None:
    c.execute(
        update(jobs)
        .where(jobs.c.id == job_id)
        .values(state="queued", worker=None, pages_done=0, updated_at=now())
    )
    c.execute(
        update(documents)
        .where(documents.c.id == doc_id, documents.c.job_id == job_id)
        .values(status="queued")
    )


def _owned(c: Connection, job_id: str, worker: str) -> Any:
    return c.execute(
        select(jobs.c.document_id, jobs.c.pages_total).where(
            jobs.c.id == job_id, jobs.c.state == "running", jobs.c.worker == worker
        )
    ).first()


class Jobs:
    def __init__(self, db: Database) -> None:
        self.db = db

    def get_job(self, job_id: str) -> JobRecord | None:
        with self.db.read() as c:
            row = c.execute(select(jobs).where(jobs.c.id == job_id)).first()
        return job_record(row) if row else None

    def job_errors(self, job_ids: Sequence[str]) -> dict[str, JobRecord]:
        """These jobs by id (for their error code and message)."""
        with self.db.read() as c:
            rows = c.execute(select(jobs).where(jobs.c.id.in_(list(job_ids)))).all()
        return {r.id: job_record(r) for r in rows}

    def queued_count(self) -> int:
        with self.db.read() as c:
            n = c.execute(
                select(func.count()).select_from(jobs).where(jobs.c.state == "queued")
            ).scalar_one()
        return int(n)

    def claim_job(self, worker: str) -> JobRecord | None:
        """Take the oldest queued job for ``worker``, atomically; None when there is none."""
        with self.db.write() as c:
            pick = (
                select(jobs.c.id, jobs.c.document_id)
                .where(jobs.c.state == "queued")
                .order_by(jobs.c.created_at, jobs.c.id)
                .limit(1)
            )
            if not self.db.is_sqlite:
                pick = pick.with_for_update(skip_locked=True)
            row = c.execute(pick).first()
            if row is None:
                return None
            t = now()
            c.execute(
                update(jobs)
                .where(jobs.c.id == row.id, jobs.c.state == "queued")
                .values(
                    state="running", worker=worker, attempts=jobs.c.attempts + 1,
                    pages_done=0, pages_total=None, started_at=t, updated_at=t,
                )
            )  # fmt: skip
            c.execute(
                update(documents)
                .where(documents.c.id == row.document_id, documents.c.job_id == row.id)
                .values(status="running")
            )
            return load_job(c, row.id)

    def recover_jobs(
        self, lease_s: float = 0.0, gone: Callable[[str | None], bool] | None = None
    ) -> tuple[int, int]:
        """Jobs left ``running`` by a server that stopped: queued again, or failed past
        MAX_ATTEMPTS. Returns (queued, failed).

        A job counts as left when its worker is known to be ``gone`` or when it has not
        been heard of (claim, progress, :meth:`heartbeat`) for ``lease_s`` seconds; with
        the default 0, every running job does (one server on its own store, at start).
        Several servers on one store each keep their own jobs' heartbeats fresh, so one
        that starts, or looks for the jobs of a server that died, leaves the others'
        running jobs alone."""
        cutoff = now() - timedelta(seconds=lease_s)
        queued = failed = 0
        with self.db.write() as c:
            pick = select(jobs).where(jobs.c.state == "running")
            if not self.db.is_sqlite:
                pick = pick.with_for_update(skip_locked=True)
            for row in c.execute(pick).all():
                if not (_utc(row.updated_at) <= cutoff or (gone is not None and gone(row.worker))):
                    continue
                if row.attempts >= MAX_ATTEMPTS:
                    _end(
                        c, row.id, row.document_id, "failed", error_code=JobInterrupted.code,
                        error=f"the server stopped {row.attempts} times while processing this "
                        "document; it may be what stops it",
                    )  # fmt: skip
                    failed += 1
                    continue
                _requeue(c, row.id, row.document_id)
                queued += 1
        return queued, failed

    def heartbeat(self, server: str) -> int:
        """Mark the running jobs of ``server``'s workers (ids ``<server>:<n>``) as alive
        now; how many there are."""
        with self.db.write() as c:
            done = c.execute(
                update(jobs)
                .where(jobs.c.state == "running", jobs.c.worker.startswith(f"{server}:"))
                .values(updated_at=now())
            )
        return int(done.rowcount or 0)

    def release_job(self, job_id: str, worker: str) -> bool:
        """Put a job this worker holds back in the queue (the cluster it was handed to went
        away; no fault of the document's). False if the job is no longer this worker's."""
        with self.db.write() as c:
            row = _owned(c, job_id, worker)
            if row is None:
                return False
            _requeue(c, job_id, row.document_id)
        return True

    def set_progress(self, job_id: str, worker: str, done: int, total: int | None) -> None:
        with self.db.write() as c:
            c.execute(
                update(jobs)
                .where(jobs.c.id == job_id, jobs.c.state == "running", jobs.c.worker == worker)
                .values(pages_done=done, pages_total=total, updated_at=now())
            )

    def fail_job(self, job_id: str, worker: str, code: str, message: str) -> bool:
        """Record why a job failed; False if the job is no longer this worker's."""
        with self.db.write() as c:
            row = _owned(c, job_id, worker)
            if row is None:
                return False
            _end(c, job_id, row.document_id, "failed", error_code=code, error=message)
        return True

    def finish_job(
        self,
        job_id: str,
        worker: str,
        *,
        model: str,
        passages: Sequence[Passage],
        predictions: Sequence[Prediction],
        coverage: DocumentCoverage,
        summary: DocumentSummary,
    ) -> bool:
        """Store a job's results (each passage with its prediction, the coverage, what the
        job learnt of the document) and mark it done, in one transaction.

        False (and nothing written) when the job is no longer this worker's:
        its document was deleted, or another server took it over.
        """
        labelled = json.dumps(
            [
                {"passage": p.model_dump(mode="json"), "prediction": q.model_dump(mode="json")}
                for p, q in zip(passages, predictions, strict=True)
            ],
            ensure_ascii=False,
        )
        document = {
            "doc_title": summary.title[:300],  # the column's width
            "language": summary.language,
            "page_count": summary.page_count,
            "passage_count": len(passages),
            "inferred_doc_type": summary.inferred_doc_type,
        }
        with self.db.write() as c:
            row = _owned(c, job_id, worker)
            if row is None:
                return False
            c.execute(delete(results).where(results.c.document_id == row.document_id))
            c.execute(
                insert(results).values(
                    document_id=row.document_id, model=model, created_at=now(),
                    passages=labelled, coverage=coverage.model_dump_json(by_alias=True),
                )
            )  # fmt: skip
            c.execute(update(documents).where(documents.c.id == row.document_id).values(**document))
            pages = summary.page_count or row.pages_total or 0
            _end(
                c, job_id, row.document_id, "done", pages_done=pages, pages_total=pages,
                error_code=None, error=None,
            )  # fmt: skip
        return True
