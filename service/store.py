"""The service's one store: a database (SQLite file by default, PostgreSQL by URL) and files.

Tables are SQLAlchemy Core, so the same statements run on both databases.
SQLite runs in WAL mode with a busy timeout, and every write transaction
starts with ``BEGIN IMMEDIATE``: a transaction that reads and then writes
(claiming a job, recognising a duplicate upload) holds the write lock from
its first statement, so it waits its turn instead of failing half-way. On
PostgreSQL the job claim uses ``FOR UPDATE SKIP LOCKED``.

Uploaded files are stored by their sha256 under ``<data dir>/files``; the
name a client gave is kept as data, never used as a path.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import IntegrityError

from .errors import TipscanError

ROLES = ("reader", "annotator", "admin")
JOB_STATES = ("queued", "running", "done", "failed")
# A job interrupted this many times (the server died while running it each
# time) is failed rather than queued again: the document may be what kills it.
MAX_ATTEMPTS = 3

metadata = MetaData()

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("name", String(200)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
)

documents = Table(
    "documents",
    metadata,
    Column("id", String(64), primary_key=True, comment="sha256 of the file"),
    Column("filename", String(255), nullable=False, comment="as uploaded; never a path"),
    Column("size", BigInteger, nullable=False),
    Column("format", String(16), nullable=False),
    Column("country", String(3)),
    Column("doc_type", String(40), comment="given at upload; else inferred by the job"),
    Column("title", String(300), comment="given at upload"),
    Column("status", String(16), nullable=False, comment="state of the latest job"),
    Column("job_id", String(32), comment="the latest job"),
    Column("doc_title", String(300), comment="title found in the document"),
    Column("inferred_doc_type", String(40), comment="when none was given"),
    Column("language", String(8)),
    Column("page_count", Integer),
    Column("passage_count", Integer),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(16)),
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("document_id", String(64), ForeignKey("documents.id"), nullable=False, index=True),
    Column("state", String(16), nullable=False),
    Column("pages_done", Integer, nullable=False, default=0),
    Column("pages_total", Integer),
    Column("error_code", String(40)),
    Column("error", Text),
    Column("attempts", Integer, nullable=False, default=0),
    Column("worker", String(120)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("started_at", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_jobs_state_created", "state", "created_at"),
)

corpora = Table(
    "corpora",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("country", String(3)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(16)),
)

corpus_documents = Table(
    "corpus_documents",
    metadata,
    Column("corpus_id", String(32), ForeignKey("corpora.id"), primary_key=True),
    Column("document_id", String(64), ForeignKey("documents.id"), primary_key=True),
    Column("position", Integer, nullable=False),
)

results = Table(
    "results",
    metadata,
    Column("document_id", String(64), ForeignKey("documents.id"), primary_key=True),
    Column("model", String(200), nullable=False),
    Column("passages", Text, nullable=False, comment="JSON: [{passage, prediction}]"),
    Column("coverage", Text, nullable=False, comment="JSON: DocumentCoverage"),
    Column("created_at", DateTime(timezone=True), nullable=False),
)


class UploadTooLarge(TipscanError):
    code = "upload-too-large"


class UnknownDocuments(TipscanError):
    code = "unknown-document"


def now() -> datetime:
    return datetime.now(UTC)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _aware(value: Any) -> Any:
    # SQLite keeps no time zone; everything the store writes is UTC.
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _dict(row: Any) -> dict[str, Any]:
    return {k: _aware(v) for k, v in row._mapping.items()}


# --- files -----------------------------------------------------------------------

_SHA = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Staged:
    """An upload written to the staging folder, not yet in the store."""

    path: Path
    sha256: str
    size: int

    def head(self, n: int) -> bytes:
        with self.path.open("rb") as fh:
            return fh.read(n)

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


@dataclass(frozen=True)
class Added:
    """What an upload became: its document and job; whether the file was known; whether
    a job was queued."""

    document: dict[str, Any]
    job: dict[str, Any]
    duplicate: bool
    queued: bool


class FileStore:
    """Files by content: ``files/ab/cd/<sha256>``; uploads are staged, then moved in."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.files = root / "files"
        self.staging = root / "staging"
        self.files.mkdir(parents=True, exist_ok=True)
        self.staging.mkdir(parents=True, exist_ok=True)

    def path(self, sha: str) -> Path:
        if not _SHA.fullmatch(sha):
            raise ValueError(f"not a sha256: {sha!r}")
        return self.files / sha[:2] / sha[2:4] / sha

    def stage(self, src: IO[bytes], max_bytes: int) -> Staged:
        """Copy ``src`` to the staging folder, hashing it; UploadTooLarge past ``max_bytes``."""
        target = self.staging / f"{uuid.uuid4().hex}.part"
        h = hashlib.sha256()
        size = 0
        try:
            with target.open("wb") as out:
                while chunk := src.read(1 << 20):
                    size += len(chunk)
                    if size > max_bytes:
                        raise UploadTooLarge(
                            f"the file is over the upload limit of {max_bytes / 2**20:g} MiB"
                        )
                    h.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
        except BaseException:
            target.unlink(missing_ok=True)
            raise
        return Staged(target, h.hexdigest(), size)

    def keep(self, staged: Staged) -> Path:
        """Move a staged upload to its place (durably); a file already there is kept."""
        dest = self.path(staged.sha256)
        if dest.exists():
            staged.discard()
            return dest
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged.path, dest)
        _fsync_dir(dest.parent)
        return dest

    def delete(self, sha: str) -> None:
        self.path(sha).unlink(missing_ok=True)

    def stored(self) -> list[str]:
        """The hashes of the stored files."""
        return sorted(p.name for p in self.files.glob("*/*/*") if _SHA.fullmatch(p.name))

    def clean_staging(self, older_than_s: float = 3600.0) -> None:
        """Drop uploads left half-written by a server that died (not those of a live one)."""
        cutoff = time.time() - older_than_s
        for p in self.staging.glob("*.part"):
            try:
                if p.stat().st_mtime < cutoff:
                    p.unlink()
            except OSError:
                pass


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# --- the database ----------------------------------------------------------------


def _sqlite_engine(url: str) -> Engine:
    engine = create_engine(url)

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        # pysqlite's own transaction handling is switched off; "begin" below says BEGIN.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        write = conn.get_execution_options().get("tipscan_write")
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


class Store:
    """The database and the files; every method is one short transaction."""

    def __init__(self, url: str, data_dir: Path) -> None:
        parsed = make_url(url)
        self.url = url
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        if self.is_sqlite:
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            self.engine = _sqlite_engine(url)
        else:
            self.engine = create_engine(url, pool_pre_ping=True)
        self.files = FileStore(data_dir)

    @classmethod
    def open(cls, url: str, data_dir: Path) -> Store:
        """Open the store, creating its tables and folders where missing."""
        store = cls(url, data_dir)
        with store.write() as c:
            metadata.create_all(c)
        return store

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            conn.execution_options(tipscan_write=True)
            with conn.begin():
                yield conn

    def ping(self) -> None:
        with self.read() as c:
            c.execute(text("SELECT 1"))

    def counts(self) -> dict[str, int]:
        """Rows per table (and stored files): what tests compare before and after."""
        with self.read() as c:
            out = {
                t.name: int(c.execute(select(func.count()).select_from(t)).scalar_one())
                for t in metadata.sorted_tables
            }
        out["files"] = len(self.files.stored())
        return out

    # --- API keys --------------------------------------------------------------

    def create_key(self, role: str, name: str | None = None) -> tuple[str, str]:
        """A new key for ``role``: (key id, key). Only the key's hash is stored."""
        if role not in ROLES:
            raise TipscanError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
        key = "tsk_" + secrets.token_urlsafe(32)
        key_id = secrets.token_hex(4)
        with self.write() as c:
            c.execute(
                insert(api_keys).values(
                    id=key_id, key_hash=hash_key(key), role=role, name=name, created_at=now()
                )
            )
        return key_id, key

    def find_key(self, key: str) -> dict[str, Any] | None:
        """The live key row for a presented key, if any."""
        with self.read() as c:
            row = c.execute(
                select(api_keys).where(
                    api_keys.c.key_hash == hash_key(key), api_keys.c.revoked_at.is_(None)
                )
            ).first()
        return _dict(row) if row else None

    def list_keys(self) -> list[dict[str, Any]]:
        with self.read() as c:
            rows = c.execute(
                select(api_keys.c.id, api_keys.c.role, api_keys.c.name, api_keys.c.created_at,
                       api_keys.c.revoked_at).order_by(api_keys.c.created_at)
            ).all()  # fmt: skip
        return [_dict(r) for r in rows]

    def revoke_key(self, key_id: str) -> bool:
        with self.write() as c:
            done = c.execute(
                update(api_keys)
                .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=now())
            )
        return done.rowcount == 1

    # --- documents -------------------------------------------------------------

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
                with self.write() as c:
                    row = c.execute(select(documents).where(documents.c.id == sha)).first()
                    if row is not None:
                        doc = _dict(row)
                        job = self._job(c, doc["job_id"]) if doc["job_id"] else None
                        if job is not None and job["state"] != "failed":
                            return Added(doc, job, duplicate=True, queued=False)
                        doc = self._queue(c, sha)
                        return Added(doc, self._job(c, doc["job_id"]), duplicate=True, queued=True)
                    c.execute(
                        insert(documents).values(
                            id=sha, filename=filename, size=staged.size, format=fmt,
                            country=country, doc_type=doc_type, title=title, status="queued",
                            created_at=now(), created_by=created_by,
                        )
                    )  # fmt: skip
                    doc = self._queue(c, sha)
                    return Added(doc, self._job(c, doc["job_id"]), duplicate=False, queued=True)
            except IntegrityError:
                continue
        raise TipscanError("the upload could not be recorded; try again")

    def _queue(self, c: Connection, doc_id: str) -> dict[str, Any]:
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
        return _dict(c.execute(select(documents).where(documents.c.id == doc_id)).one())

    def _job(self, c: Connection, job_id: str) -> dict[str, Any]:
        return _dict(c.execute(select(jobs).where(jobs.c.id == job_id)).one())

    def get_document(self, doc_id: str) -> dict[str, Any] | None:
        with self.read() as c:
            row = c.execute(select(documents).where(documents.c.id == doc_id)).first()
        return _dict(row) if row else None

    def list_documents(
        self, *, limit: int, offset: int, country: str | None = None, status: str | None = None
    ) -> tuple[list[dict[str, Any]], int]:
        where = []
        if country:
            where.append(documents.c.country == country)
        if status:
            where.append(documents.c.status == status)
        with self.read() as c:
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
        return [_dict(r) for r in rows], int(total)

    def delete_document(self, doc_id: str) -> bool:
        """Forget a document: its rows, its jobs, its results and its file."""
        with self.write() as c:
            c.execute(delete(corpus_documents).where(corpus_documents.c.document_id == doc_id))
            c.execute(delete(results).where(results.c.document_id == doc_id))
            c.execute(delete(jobs).where(jobs.c.document_id == doc_id))
            gone = c.execute(delete(documents).where(documents.c.id == doc_id)).rowcount == 1
        if gone:
            self.files.delete(doc_id)
        return gone

    def get_result(self, doc_id: str) -> dict[str, Any] | None:
        with self.read() as c:
            row = c.execute(select(results).where(results.c.document_id == doc_id)).first()
        return _dict(row) if row else None

    # --- jobs ------------------------------------------------------------------

    def get_job(self, job_id: str) -> dict[str, Any] | None:
        with self.read() as c:
            row = c.execute(select(jobs).where(jobs.c.id == job_id)).first()
        return _dict(row) if row else None

    def queued_count(self) -> int:
        with self.read() as c:
            n = c.execute(
                select(func.count()).select_from(jobs).where(jobs.c.state == "queued")
            ).scalar_one()
        return int(n)

    def claim_job(self, worker: str) -> dict[str, Any] | None:
        """Take the oldest queued job for ``worker``, atomically; None when there is none."""
        with self.write() as c:
            pick = (
                select(jobs.c.id, jobs.c.document_id)
                .where(jobs.c.state == "queued")
                .order_by(jobs.c.created_at, jobs.c.id)
                .limit(1)
            )
            if not self.is_sqlite:
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
            return self._job(c, row.id)

    def recover_jobs(self) -> tuple[int, int]:
        """Jobs left ``running`` by a server that stopped: queued again, or failed past
        MAX_ATTEMPTS. Returns (queued, failed). Call it before any worker starts."""
        queued = failed = 0
        with self.write() as c:
            rows = c.execute(select(jobs).where(jobs.c.state == "running")).all()
            for row in rows:
                if row.attempts >= MAX_ATTEMPTS:
                    self._end(
                        c, row.id, row.document_id, "failed", error_code="job-interrupted",
                        error=f"the server stopped {row.attempts} times while processing this "
                        "document; it may be what stops it",
                    )  # fmt: skip
                    failed += 1
                    continue
                c.execute(
                    update(jobs)
                    .where(jobs.c.id == row.id)
                    .values(state="queued", worker=None, pages_done=0, updated_at=now())
                )
                c.execute(
                    update(documents)
                    .where(documents.c.id == row.document_id, documents.c.job_id == row.id)
                    .values(status="queued")
                )
                queued += 1
        return queued, failed

    def set_progress(self, job_id: str, worker: str, done: int, total: int | None) -> None:
        with self.write() as c:
            c.execute(
                update(jobs)
                .where(jobs.c.id == job_id, jobs.c.state == "running", jobs.c.worker == worker)
                .values(pages_done=done, pages_total=total, updated_at=now())
            )

    def _end(self, c: Connection, job_id: str, doc_id: str, state: str, **values: Any) -> None:
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

    def _owned(self, c: Connection, job_id: str, worker: str) -> Any:
        return c.execute(
            select(jobs.c.document_id, jobs.c.pages_total).where(
                jobs.c.id == job_id, jobs.c.state == "running", jobs.c.worker == worker
            )
        ).first()

    def fail_job(self, job_id: str, worker: str, code: str, message: str) -> bool:
        """Record why a job failed; False if the job is no longer this worker's."""
        with self.write() as c:
            row = self._owned(c, job_id, worker)
            if row is None:
                return False
            self._end(c, job_id, row.document_id, "failed", error_code=code, error=message)
        return True

    def finish_job(
        self,
        job_id: str,
        worker: str,
        *,
        model: str,
        passages: Sequence[dict[str, Any]],
        coverage: str,
        document: dict[str, Any],
    ) -> bool:
        """Store a job's results and mark it done, in one transaction.

        False (and nothing written) when the job is no longer this worker's:
        its document was deleted, or another server took it over.
        """
        with self.write() as c:
            row = self._owned(c, job_id, worker)
            if row is None:
                return False
            c.execute(delete(results).where(results.c.document_id == row.document_id))
            c.execute(
                insert(results).values(
                    document_id=row.document_id, model=model, created_at=now(),
                    passages=json.dumps(passages, ensure_ascii=False), coverage=coverage,
                )
            )  # fmt: skip
            c.execute(update(documents).where(documents.c.id == row.document_id).values(**document))
            self._end(
                c, job_id, row.document_id, "done", pages_done=row.pages_total or 0,
                error_code=None, error=None,
            )  # fmt: skip
        return True

    # --- corpora ---------------------------------------------------------------

    def create_corpus(
        self, name: str, country: str | None, document_ids: Sequence[str], created_by: str | None
    ) -> dict[str, Any]:
        ids = list(dict.fromkeys(document_ids))
        corpus_id = uuid.uuid4().hex
        with self.write() as c:
            known = set(
                c.execute(select(documents.c.id).where(documents.c.id.in_(ids))).scalars().all()
            )
            missing = [x for x in ids if x not in known]
            if missing:
                raise UnknownDocuments("no document with id " + ", ".join(missing))
            c.execute(
                insert(corpora).values(
                    id=corpus_id, name=name, country=country, created_at=now(),
                    created_by=created_by,
                )
            )  # fmt: skip
            if ids:
                c.execute(
                    insert(corpus_documents),
                    [{"corpus_id": corpus_id, "document_id": d, "position": i}
                     for i, d in enumerate(ids)],
                )  # fmt: skip
        corpus = self.get_corpus(corpus_id)
        assert corpus is not None
        return corpus

    def get_corpus(self, corpus_id: str) -> dict[str, Any] | None:
        with self.read() as c:
            row = c.execute(select(corpora).where(corpora.c.id == corpus_id)).first()
            if row is None:
                return None
            ids = (
                c.execute(
                    select(corpus_documents.c.document_id)
                    .where(corpus_documents.c.corpus_id == corpus_id)
                    .order_by(corpus_documents.c.position)
                )
                .scalars()
                .all()
            )
        return {**_dict(row), "document_ids": list(ids)}

    def list_corpora(self, *, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
        with self.read() as c:
            total = c.execute(select(func.count()).select_from(corpora)).scalar_one()
            ids = (
                c.execute(
                    select(corpora.c.id)
                    .order_by(corpora.c.created_at.desc(), corpora.c.id)
                    .limit(limit)
                    .offset(offset)
                )
                .scalars()
                .all()
            )
        out = [self.get_corpus(x) for x in ids]
        return [x for x in out if x is not None], int(total)

    def delete_corpus(self, corpus_id: str) -> bool:
        with self.write() as c:
            c.execute(delete(corpus_documents).where(corpus_documents.c.corpus_id == corpus_id))
            return c.execute(delete(corpora).where(corpora.c.id == corpus_id)).rowcount == 1

    def corpus_members(self, corpus_id: str) -> list[tuple[dict[str, Any], str | None]]:
        """Each document of a corpus, in order, with its stored coverage JSON (None if none)."""
        with self.read() as c:
            rows = c.execute(
                select(documents, results.c.coverage)
                .join(corpus_documents, corpus_documents.c.document_id == documents.c.id)
                .outerjoin(results, results.c.document_id == documents.c.id)
                .where(corpus_documents.c.corpus_id == corpus_id)
                .order_by(corpus_documents.c.position)
            ).all()
        out = []
        for r in rows:
            d = _dict(r)
            out.append((d, d.pop("coverage")))
        return out

    def job_errors(self, job_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        with self.read() as c:
            rows = c.execute(select(jobs).where(jobs.c.id.in_(list(job_ids)))).all()
        return {r.id: _dict(r) for r in rows}
