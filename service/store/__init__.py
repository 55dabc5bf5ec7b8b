"""The service's one store: a database (SQLite file by default, PostgreSQL by URL) and files.

``Store`` composes the parts, each a small module over the tables of
``schema``: ``files`` (uploads by content), ``keys``, ``documents`` (and their
results), ``jobs`` (the queue) and ``corpora``. Every method is one short
transaction; rows come back as the typed, read-only records of ``records``.
``Store.open`` migrates the database to the newest schema (``migrate``) before
anything else touches it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from ..model import DocumentCoverage, Passage, Prediction
from . import migrate
from .annotation import Annotations
from .corpora import Corpora
from .db import Database
from .documents import Documents
from .files import FileStore, Staged
from .jobs import MAX_ATTEMPTS, Jobs
from .keys import Keys, hash_key
from .records import (
    Added,
    CorpusMember,
    CorpusRecord,
    DocumentRecord,
    DocumentSummary,
    JobProgress,
    JobRecord,
    JobState,
    KeyRecord,
    LabelledPassage,
    ResultRecord,
    Role,
)
from .schema import JOB_STATES, ROLES, metadata

__all__ = [
    "JOB_STATES",
    "MAX_ATTEMPTS",
    "ROLES",
    "Added",
    "CorpusMember",
    "CorpusRecord",
    "DocumentRecord",
    "DocumentSummary",
    "FileStore",
    "JobProgress",
    "JobRecord",
    "JobState",
    "KeyRecord",
    "LabelledPassage",
    "ResultRecord",
    "Role",
    "Staged",
    "Store",
    "hash_key",
]


class Store:
    """The database and the files, behind the methods the API, the jobs and the CLI use."""

    def __init__(self, url: str, data_dir: Path) -> None:
        """Connect without migrating (``open`` migrates): for a look at a store in use."""
        self.db = Database(url)
        self.url = url
        self.is_sqlite = self.db.is_sqlite
        self.engine = self.db.engine
        self.files = FileStore(data_dir)
        self.keys = Keys(self.db)
        self.documents = Documents(self.db, self.files)
        self.jobs = Jobs(self.db)
        self.corpora = Corpora(self.db)
        self.annotation = Annotations(self.db)

    @classmethod
    def open(cls, url: str, data_dir: Path) -> Store:
        """Open the store, creating its folders and migrating its database to the newest schema."""
        store = cls(url, data_dir)
        try:
            migrate.upgrade(store.db)
        except BaseException:
            store.close()
            raise
        return store

    def close(self) -> None:
        self.db.close()

    def read(self) -> AbstractContextManager[Connection]:
        return self.db.read()

    def write(self) -> AbstractContextManager[Connection]:
        """One transaction that holds the write lock (SQLite) from its first statement."""
        return self.db.write()

    def ping(self) -> None:
        self.db.ping()

    def counts(self) -> dict[str, int]:
        """Rows per table (and stored files): what tests compare before and after."""
        with self.db.read() as c:
            out = {
                t.name: int(c.execute(select(func.count()).select_from(t)).scalar_one())
                for t in metadata.sorted_tables
            }
        out["files"] = len(self.files.stored())
        return out

    # --- API keys ------------------------------------------------------------------

    def create_key(self, role: str, name: str | None = None) -> tuple[KeyRecord, str]:
        """A new key for ``role``: (its record, the key). Only the key's hash is stored."""
        return self.keys.create_key(role, name)

    def find_key(self, key: str) -> KeyRecord | None:
        """The live key for a presented key, if any."""
        return self.keys.find_key(key)

    def list_keys(self) -> list[KeyRecord]:
        return self.keys.list_keys()

    def revoke_key(self, key_id: str) -> bool:
        return self.keys.revoke_key(key_id)

    # --- documents -----------------------------------------------------------------

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
        """Keep an upload and queue its job (a known file: only if its last job failed)."""
        return self.documents.add_document(
            staged, filename=filename, fmt=fmt, country=country, doc_type=doc_type, title=title,
            created_by=created_by,
        )  # fmt: skip

    def get_document(self, doc_id: str) -> DocumentRecord | None:
        return self.documents.get_document(doc_id)

    def list_documents(
        self, *, limit: int, offset: int, country: str | None = None, status: str | None = None
    ) -> tuple[list[DocumentRecord], int]:
        return self.documents.list_documents(
            limit=limit, offset=offset, country=country, status=status
        )

    def delete_document(self, doc_id: str) -> bool:
        """Forget a document: its rows, its jobs, its results and its file."""
        return self.documents.delete_document(doc_id)

    def get_result(self, doc_id: str) -> ResultRecord | None:
        """A processed document's passages, predictions and coverage; None until it is done."""
        return self.documents.get_result(doc_id)

    # --- jobs ----------------------------------------------------------------------

    def get_job(self, job_id: str) -> JobRecord | None:
        return self.jobs.get_job(job_id)

    def job_errors(self, job_ids: Sequence[str]) -> dict[str, JobRecord]:
        return self.jobs.job_errors(job_ids)

    def queued_count(self) -> int:
        return self.jobs.queued_count()

    def claim_job(self, worker: str) -> JobRecord | None:
        """Take the oldest queued job for ``worker``, atomically; None when there is none."""
        return self.jobs.claim_job(worker)

    def recover_jobs(
        self, lease_s: float = 0.0, gone: Callable[[str | None], bool] | None = None
    ) -> tuple[int, int]:
        """Requeue (or fail, past MAX_ATTEMPTS) the jobs a stopped server left running:
        (queued, failed). See :meth:`.jobs.Jobs.recover_jobs` for ``lease_s`` and ``gone``."""
        return self.jobs.recover_jobs(lease_s, gone)

    def heartbeat(self, server: str) -> int:
        return self.jobs.heartbeat(server)

    def release_job(self, job_id: str, worker: str) -> bool:
        return self.jobs.release_job(job_id, worker)

    def set_progress(self, job_id: str, worker: str, done: int, total: int | None) -> None:
        self.jobs.set_progress(job_id, worker, done, total)

    def fail_job(self, job_id: str, worker: str, code: str, message: str) -> bool:
        """Record why a job failed; False if the job is no longer this worker's."""
        return self.jobs.fail_job(job_id, worker, code, message)

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
        """Store a job's results and mark it done, in one transaction; False if the job is
        no longer this worker's."""
        return self.jobs.finish_job(
            job_id, worker, model=model, passages=passages, predictions=predictions,
            coverage=coverage, summary=summary,
        )  # fmt: skip

    # --- corpora -------------------------------------------------------------------

    def create_corpus(
        self, name: str, country: str | None, document_ids: Sequence[str], created_by: str | None
    ) -> CorpusRecord:
        return self.corpora.create_corpus(name, country, document_ids, created_by)

    def get_corpus(self, corpus_id: str) -> CorpusRecord | None:
        return self.corpora.get_corpus(corpus_id)

    def list_corpora(self, *, limit: int, offset: int) -> tuple[list[CorpusRecord], int]:
        return self.corpora.list_corpora(limit=limit, offset=offset)

    def delete_corpus(self, corpus_id: str) -> bool:
        return self.corpora.delete_corpus(corpus_id)

    def corpus_members(self, corpus_id: str) -> list[CorpusMember]:
        """Each document of a corpus, in order, with its coverage (None if it has none)."""
        return self.corpora.corpus_members(corpus_id)
