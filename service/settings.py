"""Service configuration, the same for every command: flags, else environment, else defaults.

``TIPSCAN_DATA_DIR`` is where uploaded files (and, by default, the SQLite
store) live; ``TIPSCAN_DB`` is a SQLAlchemy URL for the store
(``postgresql+psycopg://...`` for PostgreSQL).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .batch import DEFAULT_MAX_MEMORY
from .errors import TipscanError
from .extract import DEFAULT_ENGINE, DEFAULT_LIMITS, EngineName, Limits


class SettingsError(TipscanError):
    code = "invalid-settings"


def default_data_dir(env: Mapping[str, str] | None = None) -> Path:
    """``TIPSCAN_DATA_DIR``, else ``$XDG_DATA_HOME/tipscan``, else ``~/.local/share/tipscan``."""
    env = os.environ if env is None else env
    if env.get("TIPSCAN_DATA_DIR"):
        return Path(env["TIPSCAN_DATA_DIR"]).expanduser()
    if env.get("XDG_DATA_HOME"):
        return Path(env["XDG_DATA_HOME"]) / "tipscan"
    return Path.home() / ".local" / "share" / "tipscan"


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


# Setting name -> (environment variable, type).
_ENV: dict[str, tuple[str, type]] = {
    "db_url": ("TIPSCAN_DB", str),
    "workers": ("TIPSCAN_WORKERS", int),
    "max_upload_mb": ("TIPSCAN_MAX_UPLOAD_MB", float),
    "max_pages": ("TIPSCAN_MAX_PAGES", int),
    "job_timeout_s": ("TIPSCAN_JOB_TIMEOUT", float),
    "max_memory_mb": ("TIPSCAN_MAX_MEMORY_MB", int),
    "model": ("TIPSCAN_MODEL", str),
}


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    db_url: str
    workers: int = 2
    max_upload_mb: float = 50.0
    max_pages: int = DEFAULT_LIMITS.max_pages
    job_timeout_s: float = DEFAULT_LIMITS.timeout_s
    max_memory_mb: int = DEFAULT_MAX_MEMORY // 2**20
    max_classify_batch: int = 256
    max_json_mb: float = 16.0
    model: str | None = None
    engine: EngineName = DEFAULT_ENGINE
    # How often idle workers look for jobs queued by another process.
    poll_s: float = 1.0

    @classmethod
    def load(cls, env: Mapping[str, str] | None = None, **flags: Any) -> Settings:
        """Settings from flags (those not None), else the environment, else the defaults."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for name, (var, kind) in _ENV.items():
            raw = env.get(var)
            if raw:
                try:
                    values[name] = kind(raw)
                except ValueError:
                    raise SettingsError(
                        f"{var}={raw!r} is not a valid {kind.__name__}; fix or unset it"
                    ) from None
        values.update({k: v for k, v in flags.items() if v is not None})
        data_dir = Path(values.pop("data_dir", None) or default_data_dir(env)).expanduser()
        db_url = values.pop("db_url", None) or sqlite_url(data_dir / "tipscan.db")
        settings = cls(data_dir=data_dir, db_url=db_url, **values)
        settings.check()
        return settings

    def check(self) -> None:
        if self.workers < 1:
            raise SettingsError("workers must be at least 1")
        if self.max_upload_mb <= 0 or self.max_pages < 1:
            raise SettingsError("the upload size and page limits must be positive")

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 2**20)

    @property
    def max_json_bytes(self) -> int:
        return int(self.max_json_mb * 2**20)

    @property
    def max_memory(self) -> int:
        return self.max_memory_mb * 2**20

    @property
    def limits(self) -> Limits:
        """What one job's extraction may cost."""
        return replace(
            DEFAULT_LIMITS,
            max_bytes=self.max_upload_bytes,
            max_pages=self.max_pages,
            timeout_s=self.job_timeout_s,
        )
