"""Document jobs, processed outside the request path by a pool of worker threads.

Each worker claims the oldest queued job from the store (atomically, so
several workers, or several servers on one PostgreSQL store, never take the
same job), extracts the stored file in an isolated child process (a hostile
file costs that job alone), classifies its passages with the model loaded
once, computes the document's coverage and stores everything in one
transaction. A job's results are written only at its end, so a server killed
mid-job leaves the job ``running`` with nothing half-written;
:meth:`WorkerPool.start` puts such jobs back in the queue before the first
worker starts. With ``TIPSCAN_DASK_SCHEDULER`` set, the workers hand each
claimed document to that Dask cluster instead (:mod:`.jobs_dask`).
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
from typing import TYPE_CHECKING

from .classify import Model
from .errors import InternalError, NotFound, TipscanError
from .jobs_dask import ClusterLost
from .pipeline import DocumentHints, ExtractOptions, score_document
from .settings import Settings
from .store import DocumentSummary, JobRecord, Store

if TYPE_CHECKING:
    from .jobs_dask import DaskScorer

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
        self.cluster: DaskScorer | None = None
        self._keeper: threading.Thread | None = None

    def start(self) -> None:
        """Connect to the Dask cluster (if one is set; an unreachable one is a
        :class:`~.errors.SettingsError`), queue again what a stopped server left
        running, then start the threads."""
        from .segment import prepare

        if self.settings.dask_scheduler:
            from .jobs_dask import DaskScorer

            self.cluster = DaskScorer(
                self.settings.dask_scheduler, self.model, topic=f"tipscan-progress-{self._id}"
            )
        guard_children()
        prepare()  # built once here, not in every extraction child
        self._recover()
        self.store.files.clean_staging()
        for i in range(self.settings.workers):
            t = threading.Thread(
                target=self._run, args=(f"{self._id}:{i}",), name=f"tipscan-worker-{i}", daemon=True
            )
            t.start()
            self._threads.append(t)
        self._keeper = threading.Thread(target=self._keep, name="tipscan-jobs-keeper", daemon=True)
        self._keeper.start()

    def _recover(self) -> None:
        lease = self.settings.job_lease_s
        queued, failed = self.store.recover_jobs(lease, gone=self._gone)
        if queued or failed:
            log.warning("interrupted jobs: %d queued again, %d failed", queued, failed)
            self.notify()

    def _gone(self, worker: str | None) -> bool:
        """Whether the server that ran a job (worker id ``host:pid:tag:n``) is known to
        have stopped: an earlier server on this host whose process is no more (or one
        with this very pid, restarted, as a container's first process is). Servers on
        other hosts are judged by their heartbeats alone."""
        if not worker:
            return True
        if worker.startswith(f"{self._id}:"):
            return False
        host, pid, *_ = [*worker.split(":"), ""]
        if host != socket.gethostname() or not pid.isdigit():
            return False
        if int(pid) == os.getpid():
            return True
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return True
        except OSError:
            return False
        return False

    def _keep(self) -> None:
        """Every quarter lease, tell the store this server's running jobs are alive; every
        other time, queue again the jobs of servers that stopped heartbeating."""
        beat = self.settings.job_lease_s / 4
        tick = 0
        while not self._stop.wait(beat):
            tick += 1
            try:
                self.store.heartbeat(self._id)
                if tick % 2 == 0:
                    self._recover()
            except Exception:
                log.exception("cannot keep the jobs' heartbeats; retrying")

    def notify(self) -> None:
        """A job was queued: wake the idle workers."""
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop taking jobs; a job still running after ``timeout`` is left to the next start."""
        self._stop.set()
        self._wake.set()
        deadline = time.monotonic() + timeout
        for t in [*self._threads, *filter(None, [self._keeper])]:
            t.join(max(0.0, deadline - time.monotonic()))
        if self.cluster is not None:
            self.cluster.close()

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
                run_job(self.store, self.model, self.settings, job, worker, self.cluster)
            except Exception:
                log.exception("job %s failed on an internal error", job.id)
                try:
                    self.store.fail_job(
                        job.id, worker, InternalError.code,
                        "an internal error stopped this job; the server log has the details",
                    )  # fmt: skip
                except Exception:
                    log.exception("cannot record the failure of job %s", job.id)


def run_job(
    store: Store,
    model: Model,
    settings: Settings,
    job: JobRecord,
    worker: str,
    cluster: DaskScorer | None = None,
) -> None:
    """Score one claimed job's document (:func:`~.pipeline.score_document`, here or on
    the ``cluster``) and store it."""
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
    progress = lambda done, total: store.set_progress(job.id, worker, done, total)  # noqa: E731
    path = store.files.path(doc.id)
    try:
        if cluster is None:
            scored = score_document(
                path, model, hints=hints, name=doc.filename, options=options, progress=progress
            )
        else:
            scored = cluster.score(
                job.id, job.attempts, path, name=doc.filename, hints=hints, options=options,
                progress=progress,
            )  # fmt: skip
    except ClusterLost as exc:
        log.warning("job %s: the Dask cluster went away (%s); queued again", job.id, exc)
        store.release_job(job.id, worker)
        return
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
