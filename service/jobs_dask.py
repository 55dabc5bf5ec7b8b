"""The API's jobs on a Dask cluster: the store stays the queue, the cluster does the work.

With ``TIPSCAN_DASK_SCHEDULER`` set, each of the server's worker threads still
claims its job from the store, then hands the document to the cluster (one task,
the model loaded once per Dask worker by :class:`~.dask_executor.ModelPlugin`)
and stores what comes back in the transaction that ends the job. So the store
keeps every job's state: a server restarted while the cluster was scoring finds
the job ``running``, queues it again and submits it anew; a scheduler that stops
answering puts the job back in the queue rather than failing it.

Dask workers read the stored file by its path: the server's data folder must be
on a filesystem they see at the same path. Progress travels as Dask events (one
topic per server); the thread waiting on the task writes the latest to the store.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .batch import ErrorReply, rebuild_error
from .errors import JobInterrupted, TipscanError
from .pipeline import DocumentHints, ExtractOptions, ScoredDocument

if TYPE_CHECKING:
    from distributed import Client

    from .classify import Model

# How often the waiting thread writes the task's latest progress to the store (seconds).
PROGRESS_EVERY = 0.5


class ClusterLost(Exception):
    """The scheduler stopped answering while a job ran: the job goes back to the queue."""


def score_job_on_worker(
    path: str,
    name: str,
    hints: str,
    options: ExtractOptions,
    model_name: str,
    topic: str,
    job_id: str,
) -> str:
    """One job's document on a Dask worker: the scored document as JSON, or ``!`` and the
    error's code and message (the same shape as the bounded extraction child's answer)."""
    from distributed import get_worker

    from .dask_executor import worker_model
    from .pipeline import score_document

    worker = get_worker()

    def progress(done: int, total: int) -> None:
        worker.log_event(topic, {"job": job_id, "done": done, "total": total})

    try:
        scored = score_document(
            Path(path),
            worker_model(model_name),
            hints=DocumentHints.model_validate_json(hints),
            name=name,
            options=options,
            progress=progress,
        )
    except TipscanError as exc:
        return "!" + ErrorReply(code=exc.code, message=exc.message).model_dump_json()
    return scored.model_dump_json()


class DaskScorer:
    """Scores stored documents on the cluster at ``address`` with the server's model."""

    def __init__(self, address: str, model: Model, topic: str) -> None:
        from .classify import ModelRef
        from .dask_executor import ModelPlugin, connect

        self.client: Client = connect(address, given="the Dask scheduler")
        self.model_name = model.name
        self.topic = topic
        self._progress: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()
        try:
            ref = ModelRef(name=model.name, folder=model.folder, meta=model.meta)
            self.client.register_plugin(ModelPlugin(ref))
            self.client.subscribe_topic(topic, self._heard)
        except Exception:
            self.client.close()
            raise

    def close(self) -> None:
        self.client.close()

    def workers(self) -> int | None:
        """How many workers the cluster has now; None when the scheduler cannot be reached."""
        if self.client.status != "running":
            return None
        try:
            return len(self.client.nthreads())
        except Exception:
            return None

    def _heard(self, event: tuple[float, Any]) -> None:
        _, msg = event
        if isinstance(msg, dict) and {"job", "done", "total"} <= msg.keys():
            with self._lock:
                self._progress[str(msg["job"])] = (int(msg["done"]), int(msg["total"]))

    def _take_progress(self, job_id: str) -> tuple[int, int] | None:
        with self._lock:
            return self._progress.pop(job_id, None)

    def score(
        self,
        job_id: str,
        attempt: int,
        path: Path,
        *,
        name: str,
        hints: DocumentHints,
        options: ExtractOptions,
        progress: Callable[[int, int], None],
    ) -> ScoredDocument:
        """The document scored on the cluster; raises its :class:`TipscanError`, or
        :class:`ClusterLost` when the scheduler went away mid-task."""
        from distributed import KilledWorker

        future = self.client.submit(
            score_job_on_worker,
            str(path),
            name,
            hints.model_dump_json(),
            options,
            self.model_name,
            self.topic,
            job_id,
            key=f"tipscan-job-{job_id}-{attempt}",
            pure=False,
            retries=1,
        )
        try:
            while True:
                try:
                    answer: str = future.result(timeout=PROGRESS_EVERY)
                    break
                except TimeoutError:
                    if self.client.status in ("closing", "closed"):
                        raise ClusterLost("the connection to the scheduler closed") from None
                    heard = self._take_progress(job_id)
                    if heard is not None:
                        progress(*heard)
        except KilledWorker:
            raise JobInterrupted(
                "the cluster lost the worker scoring this document, twice; "
                "the document may be what stops it"
            ) from None
        except (TipscanError, ClusterLost):
            raise
        except Exception as exc:  # the scheduler went away, the task was cancelled
            raise ClusterLost(f"{type(exc).__name__}: {exc}") from exc
        finally:
            self._take_progress(job_id)
            future.release()
        if answer.startswith("!"):
            raise rebuild_error(ErrorReply.model_validate_json(answer[1:]))
        return ScoredDocument.model_validate_json(answer)
