"""Scoring on a Dask cluster: one task per document, the model loaded once per worker.

:class:`ModelPlugin` carries the model folder's files as bytes (a few MB of
npz and JSON), so workers need no shared model folder: each worker writes them
to a folder of its own, loads them with the same loader as everywhere else
(checksums verified) and keeps the model for every task it runs
(:func:`worker_model`). :func:`score_on_worker` scores one document there:
extraction in its bounded child, classification, coverage.
:func:`run_tasks_dask` mirrors :func:`.workpool.run_tasks`: it yields each
task's outcome as it finishes, so :func:`.pipeline.score_corpus` and all that
follows it (progress, failures, reports, exit codes) are the same code.

Documents are read by path on the workers: on a cluster, the corpus (and the
cache folder, unless it is turned off) must be on a filesystem that every
worker sees at the same path.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import InternalError, SettingsError, TipscanError
from .model import DocumentCoverage, Failure
from .workpool import Task, score_task

if TYPE_CHECKING:
    from distributed import Client

    from .classify import Model, ModelRef
    from .pipeline import ExtractOptions

# Seconds to reach a scheduler before giving up: a wrong address fails fast.
CONNECT_TIMEOUT = 5.0
INSTALL_HINT = "pip install 'tipscan[dask]'"

# The models this worker process loaded, by name (filled by ModelPlugin.setup).
_models: dict[str, Model] = {}

try:
    from distributed import WorkerPlugin
except ImportError:  # the executor is optional; the module still imports without it
    WorkerPlugin = object  # type: ignore[assignment,misc]


class SchedulerUnreachable(SettingsError):
    """The Dask scheduler named by --scheduler cannot be reached."""


def dask_missing() -> str | None:
    """Why the Dask executor cannot run here, or None when it can."""
    try:
        import dask  # noqa: F401
        import distributed  # noqa: F401
    except ImportError as exc:
        return f"--executor dask needs dask and distributed ({exc.name} is not installed): {INSTALL_HINT}"
    return None


def plugin_name(model_name: str) -> str:
    return f"tipscan-model-{model_name}"


class ModelPlugin(WorkerPlugin):
    """Loads one model on each worker, once, from the files it carries.

    Reusable by any task function: register ``ModelPlugin(ref)`` with the client,
    then call :func:`worker_model` in the task."""

    idempotent = True  # a model name is never reused for other files

    def __init__(self, ref: ModelRef) -> None:
        self.model_name = ref.name
        self.name = plugin_name(ref.name)
        self.files = {
            p.relative_to(ref.folder).as_posix(): p.read_bytes()
            for p in sorted(ref.folder.rglob("*"))
            if p.is_file()
        }
        self._folder: str | None = None

    def setup(self, worker: Any) -> None:
        from .classify import ModelRef, read_meta
        from .segment import prepare

        # A nanny starts its worker as a daemonic process, which may not start children;
        # each extraction runs in a bounded child forked from here, so the worker must.
        current = mp.current_process()
        if current.daemon:
            current._config["daemon"] = False  # type: ignore[attr-defined]
        root = tempfile.mkdtemp(
            prefix="tipscan-model-", dir=getattr(worker, "local_directory", None)
        )
        folder = Path(root) / self.model_name
        for rel, data in self.files.items():
            target = folder / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        ref = ModelRef(name=self.model_name, folder=folder, meta=read_meta(folder))
        _models[self.model_name] = ref.load()
        prepare()
        self._folder = root

    def teardown(self, worker: Any) -> None:
        _models.pop(self.model_name, None)
        if self._folder:
            shutil.rmtree(self._folder, ignore_errors=True)


def worker_model(name: str | None = None) -> Model:
    """The model a :class:`ModelPlugin` loaded in this worker (the only one when no name)."""
    if name is None and len(_models) == 1:
        return next(iter(_models.values()))
    if name is not None and name in _models:
        return _models[name]
    loaded = ", ".join(_models) or "none"
    raise InternalError(f"model {name!r} is not loaded on this worker (loaded: {loaded})")


def score_on_worker(
    task: Task, model_name: str, options: ExtractOptions, cache: str | None, base: str
) -> DocumentCoverage | Failure:
    """One document on a worker; any error is this document's failure, never the batch's."""
    try:
        model = worker_model(model_name)
        return score_task(task, model, options, Path(cache) if cache else None, Path(base))
    except TipscanError as exc:
        return Failure(path=task.path, code=exc.code, message=exc.message)
    except Exception as exc:
        return Failure(
            path=task.path,
            code=InternalError.code,
            message=f"internal error while scoring ({type(exc).__name__}: {exc})",
        )


def connect(address: str, timeout: float = CONNECT_TIMEOUT, given: str = "--scheduler") -> Client:
    """A client of the scheduler at ``address``; SchedulerUnreachable when there is none
    (its message names the address as ``given``: the flag or variable it came from)."""
    from distributed import Client
    from distributed.comm.addressing import get_address_host_port, normalize_address

    try:
        get_address_host_port(normalize_address(address))
    except ValueError as exc:
        raise SchedulerUnreachable(
            f"{given} {address}: not a scheduler address ({exc}); give tcp://HOST:PORT"
        ) from None
    try:
        return Client(address, timeout=timeout, set_as_default=False)
    except Exception as exc:  # refused, timed out, a malformed address
        raise SchedulerUnreachable(
            f"{given} {address}: cannot reach a Dask scheduler there within "
            f"{timeout:g} s ({type(exc).__name__}: {exc})"
        ) from None


def check_scheduler(
    address: str, timeout: float = CONNECT_TIMEOUT, given: str = "--scheduler"
) -> None:
    """Raise SchedulerUnreachable unless a scheduler answers at ``address``."""
    connect(address, timeout, given).close()


@contextmanager
def cluster_client(scheduler: str | None, workers: int) -> Iterator[Client]:
    """A client of ``scheduler``, or of a LocalCluster of ``workers`` single-threaded
    processes started here and closed on the way out."""
    import dask
    from distributed import Client, LocalCluster

    if scheduler is not None:
        client = connect(scheduler)
        try:
            yield client
        finally:
            client.close()
        return
    settings = {
        # Workers fork a bounded child per extraction; a daemonic process cannot.
        "distributed.worker.daemon": False,
        # A document whose worker dies is tried on another once (as retries=1), then failed.
        "distributed.scheduler.allowed-failures": 1,
    }
    with (
        dask.config.set(settings),
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",  # any free port: never a clash with another cluster's 8787
            silence_logs=logging.ERROR,
        ) as cluster,
        Client(cluster, set_as_default=False) as client,
    ):
        yield client


def run_tasks_dask(
    tasks: list[Task],
    ref: ModelRef,
    options: ExtractOptions,
    cache: Path | None,
    workers: int | None,
    started: Callable[[], None] = lambda: None,
    *,
    scheduler: str | None = None,
) -> Iterator[tuple[Task, DocumentCoverage | Failure]]:
    """Each task's outcome, in the order they finish, scored on a Dask cluster.

    Without ``scheduler``, a LocalCluster of ``workers`` processes (default: one per
    core, at most one per task) runs for the length of the call."""
    from distributed import as_completed

    n = max(1, min(workers or os.cpu_count() or 1, len(tasks)))
    with cluster_client(scheduler, n) as client:
        client.register_plugin(ModelPlugin(ref))
        base, cache_dir = os.getcwd(), str(cache) if cache is not None else None
        futures = {
            client.submit(
                score_on_worker,
                task,
                ref.name,
                options,
                cache_dir,
                base,
                key=f"tipscan-score-{task.sha}-{(task.result_key or str(i))[:16]}",
                pure=False,
                retries=1,
            ): task
            for i, task in enumerate(tasks)
        }
        started()
        for fut in as_completed(futures, loop=client.loop):
            task = futures[fut]
            try:
                outcome = fut.result()
            except Exception as exc:  # the worker died (KilledWorker), twice: this file fails
                outcome = Failure(
                    path=task.path,
                    code=InternalError.code,
                    message=f"lost: the worker scoring it stopped, and again on retry "
                    f"({type(exc).__name__}: {exc}); it is scored again on the next run",
                )
            yield task, outcome
