"""Files written whole or not at all: readers (a resumed run, a second process) never see
half a result."""

from __future__ import annotations

import os
from pathlib import Path


def write_atomic(target: Path, data: str) -> None:
    """Write ``data`` to a hidden temporary file beside ``target``, then rename it over."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.write_text(data, encoding="utf-8")
    os.replace(tmp, target)
