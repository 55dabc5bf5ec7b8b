"""Progress on a terminal (rich), silent when stderr is not one."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def progress_reporter() -> Iterator[Callable[[str, int, int], None]]:
    """A ``(what, done, total)`` callback drawing one bar per stage on a terminal."""
    if not sys.stderr.isatty():
        yield lambda _what, _done, _total: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskID,
        TextColumn,
        TimeElapsedColumn,
    )

    bars: dict[str, TaskID] = {}
    progress = Progress(
        TextColumn("{task.description:10}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=False,
    )

    def report(what: str, done: int, total: int) -> None:
        # The display (and its refresh thread) starts with the first report, so that
        # work forked before it never inherits a half-drawn terminal.
        if not progress.live.is_started:
            progress.start()
        if what not in bars:
            bars[what] = progress.add_task(what, total=total)
        progress.update(bars[what], completed=done, total=total)

    try:
        yield report
    finally:
        if progress.live.is_started:
            progress.stop()
