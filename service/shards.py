"""A run's resumable record: one shard per finished document in ``DIR/shards/``.

``<sha256>.json`` holds the document's result key (everything its coverage
depends on: bytes, model, options, hints, name), its coverage or failure,
when it was written and by which run. It is written atomically (a temporary
file, then ``os.replace``) by the process that collects the results, as each
document finishes, so a run that is killed loses only the documents in
flight: the next run over the same ``--out`` reads every shard whose result
key matches and scores only the rest. A shard that cannot be read, or that
was written for another model, other options or hints, is ignored (and
rewritten when its document is scored again).

Each shard written also appends one line (sha, run id, time) to
``journal.jsonl``: single short writes with ``O_APPEND``, so that how many
times each document was scored can be counted across runs.

Only outcomes that a new run would repeat are kept: a coverage, or a failure
that is about the file itself (corrupt, encrypted, too large, timed out...).
An internal error or a lost worker is not kept, so the next run tries the
document again.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path

from pydantic import BaseModel, ValidationError

from . import errors
from .atomic import write_atomic
from .model import DocumentCoverage, Failure

FOLDER = "shards"
JOURNAL = "journal.jsonl"
# Failures that are the file's own: scoring it again would fail the same way.
KEPT_FAILURES = frozenset(
    cls.code
    for cls in (
        errors.CorruptDocument,
        errors.DocumentTimeout,
        errors.EmptyDocument,
        errors.EncryptedDocument,
        errors.LimitExceeded,
        errors.UnsafeDocument,
        errors.UnsupportedFormat,
    )
)

Outcome = DocumentCoverage | Failure


class Shard(BaseModel):
    """One document's outcome, as a run recorded it."""

    sha256: str
    result_key: str
    run_id: str
    written_at: str
    coverage: DocumentCoverage | None = None
    failure: Failure | None = None

    def outcome(self) -> Outcome | None:
        return self.coverage if self.coverage is not None else self.failure


def new_run_id() -> str:
    return uuid.uuid4().hex


def keeps(outcome: Outcome) -> bool:
    """Whether a new run would come to the same outcome (so it is worth a shard)."""
    return isinstance(outcome, DocumentCoverage) or outcome.code in KEPT_FAILURES


class ShardStore:
    """The shards of one output folder (``<out>/shards``)."""

    def __init__(self, out: Path, run_id: str | None = None) -> None:
        self.folder = Path(out) / FOLDER
        self.run_id = run_id or new_run_id()

    def path(self, sha: str) -> Path:
        return self.folder / f"{sha}.json"

    def read(self, sha: str, result_key: str) -> Outcome | None:
        """The outcome recorded for this document and key; None when there is no usable one."""
        try:
            shard = Shard.model_validate_json(self.path(sha).read_bytes())
        except (OSError, ValidationError):
            return None
        if shard.sha256 != sha or shard.result_key != result_key:
            return None
        return shard.outcome()

    def write(self, sha: str, result_key: str, outcome: Outcome) -> bool:
        """Record the outcome (atomically) and journal it; False when it is not kept."""
        if not keeps(outcome):
            return False
        now = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        shard = Shard(
            sha256=sha,
            result_key=result_key,
            run_id=self.run_id,
            written_at=now,
            coverage=outcome if isinstance(outcome, DocumentCoverage) else None,
            failure=outcome if isinstance(outcome, Failure) else None,
        )
        write_atomic(self.path(sha), shard.model_dump_json(by_alias=True))
        self._journal({"sha256": sha, "run_id": self.run_id, "written_at": now})
        return True

    def _journal(self, entry: dict[str, str]) -> None:
        line = (json.dumps(entry) + "\n").encode()
        fd = os.open(self.folder / JOURNAL, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)  # one short write: appended whole, never interleaved
        finally:
            os.close(fd)


def read_journal(out: Path) -> list[dict[str, str]]:
    """The journal's entries, oldest first (a torn last line is skipped)."""
    path = Path(out) / FOLDER / JOURNAL
    if not path.is_file():
        return []
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entries.append(json.loads(line))
        except ValueError:
            continue
    return entries
