"""Uploaded files, stored by their sha256 under ``<data dir>/files``.

The name a client gave is kept as data in the database, never used as a path.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from ..errors import UploadTooLarge

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
