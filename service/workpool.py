"""A pool of workers that starts warm: the stack imported and the model loaded once.

The parent loads the model, then forks its workers, which inherit both (the
model's arrays are shared copy-on-write); each worker runs
:func:`~.pipeline.score_document` per file, whose extraction forks a bounded
child from the warm worker in turn. So a batch pays start-up once, however
many files it holds, and a hostile file still costs only its own child.

Workers send back a document's coverage (or its failure) and write the
result cache themselves.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import InternalError, TipscanError
from .model import DocumentCoverage, Failure

if TYPE_CHECKING:
    from .classify import Model, ModelRef
    from .pipeline import DocumentHints, ExtractOptions


@dataclass(frozen=True)
class Task:
    path: str
    sha: str
    hints: DocumentHints
    result_key: str | None = None


# What a forked worker inherits from its parent: set just before the fork.
_inherited: dict[str, object] = {}


def score_task(
    task: Task,
    model: Model,
    options: ExtractOptions,
    cache: Path | None,
    base: Path | None = None,
) -> DocumentCoverage | Failure:
    """One task, file to coverage; the file's failure is returned, not raised.

    A relative ``task.path`` is read from ``base`` (default: the current folder) and
    still cited as given, so that where the work runs never changes the report."""
    from .pipeline import classify_document, extract_document, write_result

    source = Path(base, task.path) if base is not None else Path(task.path)
    try:
        extraction, _cached = extract_document(source, options, cache, sha=task.sha)
        coverage = classify_document(extraction, model, hints=task.hints, name=task.path).coverage
    except TipscanError as exc:
        return Failure(path=task.path, code=exc.code, message=exc.message)
    if cache is not None and task.result_key:
        write_result(cache, task.result_key, coverage)
    return coverage


def _work(task: Task) -> DocumentCoverage | Failure:
    model = _inherited["model"]
    options = _inherited["options"]
    cache = _inherited["cache"]
    return score_task(task, model, options, cache)  # type: ignore[arg-type]


def run_tasks(
    tasks: list[Task],
    ref: ModelRef,
    options: ExtractOptions,
    cache: Path | None,
    workers: int | None,
    started: Callable[[], None] = lambda: None,
) -> Iterator[tuple[Task, DocumentCoverage | Failure]]:
    """Each task's outcome, in the order they finish.

    ``started`` is called once the workers exist: a progress display with a
    thread of its own starts then, so that no worker is forked mid-draw."""
    from .segment import prepare

    model = ref.load()
    prepare()
    n = max(1, min(workers or os.cpu_count() or 1, len(tasks)))
    if n == 1 or os.name != "posix":
        started()
        for task in tasks:
            yield task, score_task(task, model, options, cache)
        return
    _inherited.update(model=model, options=options, cache=cache)
    left = {t.path: t for t in tasks}
    try:
        with ProcessPoolExecutor(n, mp_context=mp.get_context("fork")) as pool:
            futures = {pool.submit(_work, t): t for t in tasks}  # the first submit forks all
            started()
            for fut in as_completed(futures):
                task = futures[fut]
                try:
                    outcome = fut.result()
                except BrokenProcessPool:
                    continue  # scored again below, in this process
                except Exception as exc:  # a bug in a worker: this file fails, the batch goes on
                    outcome = Failure(path=task.path, code=InternalError.code, message=str(exc))
                del left[task.path]
                yield task, outcome
    finally:
        _inherited.clear()
    # A worker that died (killed, out of memory) broke the pool: what it left undone
    # runs here, each file still in its own bounded child.
    for task in list(left.values()):
        yield task, score_task(task, model, options, cache)
