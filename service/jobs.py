"""Document jobs, processed outside the request path by a pool of worker threads.

Each worker claims the oldest queued job from the store (atomically, so
several workers, or several servers on one PostgreSQL store, never take the
same job), extracts the stored file in an isolated child process (a hostile
file costs that job alone), classifies its passages with the model loaded
once, computes the document's coverage and stores everything in one
transaction. A job's results are written only at its end, so a server killed
mid-job leaves the job ``running`` with nothing half-written;
:meth:`WorkerPool.start` puts such jobs back in the queue before the first
worker starts.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import socket
import sys
import threading
import time
import uuid

from .classify import Model
from .errors import InternalError, NotFound, TipscanError
from .pipeline import DocumentHints, ExtractOptions, score_document
from .settings import Settings
from .store import DocumentSummary, JobRecord, Store

log = logging.getLogger("tipscan.jobs")

_PR_SET_PDEATHSIG = 1
_guarded = False


def guard_children() -> None:
    """Have every child this process forks die with the thread that forked it (Linux).

    Extraction runs in a forked child that sends its result through a pipe.
    If the server is killed, a child with a large result would otherwise block
    on that pipe for ever, holding the server's listening socket.
    """
    global _guarded
    if _guarded or not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    parent = [os.getpid()]

    def before() -> None:
        parent[0] = os.getpid()

    def after_in_child() -> None:
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent[0]:  # the server died before prctl took effect
            os._exit(1)

    os.register_at_fork(before=before, after_in_child=after_in_child)
    _guarded = True


class WorkerPool:
    """``settings.workers`` threads that claim and process queued jobs until stopped."""

    def __init__(self, store: Store, model: Model, settings: Settings) -> None:
        self.store = store
        self.model = model
        self.settings = settings
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"

    def start(self) -> None:
        from .segment import prepare

        guard_children()
        prepare()  # built once here, not in every extraction child
        queued, failed = self.store.recover_jobs()
        if queued or failed:
            log.warning("interrupted jobs: %d queued again, %d failed", queued, failed)
        self.store.files.clean_staging()
        for i in range(self.settings.workers):
            t = threading.Thread(
                target=self._run, args=(f"{self._id}:{i}",), name=f"tipscan-worker-{i}", daemon=True
            )
            t.start()
            self._threads.append(t)

    def notify(self) -> None:
        """A job was queued: wake the idle workers."""
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop taking jobs; a job still running after ``timeout`` is left to the next start."""
        self._stop.set()
        self._wake.set()
        deadline = time.monotonic() + timeout
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))

    def alive(self) -> int:
        return sum(t.is_alive() for t in self._threads)

    def _run(self, worker: str) -> None:
        while not self._stop.is_set():
            try:
                job = self.store.claim_job(worker)
            except Exception:
                log.exception("cannot claim a job; retrying")
                job = None
            if job is None:
                self._wake.wait(self.settings.poll_s)
                self._wake.clear()
                continue
            try:
                run_job(self.store, self.model, self.settings, job, worker)
            except Exception:
                log.exception("job %s failed on an internal error", job.id)
                try:
                    self.store.fail_job(
                        job.id, worker, InternalError.code,
                        "an internal error stopped this job; the server log has the details",
                    )  # fmt: skip
                except Exception:
                    log.exception("cannot record the failure of job %s", job.id)


def run_job(store: Store, model: Model, settings: Settings, job: JobRecord, worker: str) -> None:
    """Score one claimed job's document (:func:`~.pipeline.score_document`) and store it."""
    doc = store.get_document(job.document_id)
    if doc is None:
        store.fail_job(job.id, worker, NotFound.code, "the document was deleted")
        return
    hints = DocumentHints(
        title=doc.title, doc_type=doc.doc_type, country=doc.country, origin="given"
    )
    options = ExtractOptions(
        engine=settings.engine, limits=settings.limits, max_memory=settings.max_memory
    )
    try:
        scored = score_document(
            store.files.path(doc.id),
            model,
            hints=hints,
            name=doc.filename,
            options=options,
            progress=lambda done, total: store.set_progress(job.id, worker, done, total),
        )
    except TipscanError as exc:
        store.fail_job(job.id, worker, exc.code, exc.message)
        return
    found = scored.document
    store.finish_job(
        job.id,
        worker,
        model=model.name,
        passages=scored.passages,
        predictions=scored.predictions,
        coverage=scored.coverage,
        summary=DocumentSummary(
            title=found.title,
            language=found.language,
            page_count=found.page_count,
            inferred_doc_type=None if doc.doc_type else scored.coverage.doc_type,
        ),
    )
