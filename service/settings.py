"""Service configuration, the same for every command: flags, else environment, else defaults.

Each setting ``name`` is read from ``TIPSCAN_<NAME>`` (pydantic-settings), with
three shorter names kept: ``TIPSCAN_DB`` (a SQLAlchemy URL for the store,
``postgresql+psycopg://...`` for PostgreSQL), ``TIPSCAN_JOB_TIMEOUT`` and
``TIPSCAN_MODELS`` (the models folder). ``TIPSCAN_DATA_DIR`` is where uploaded
files (and, by default, the SQLite store) live. ``TIPSCAN_DASK_SCHEDULER`` hands
the jobs to a Dask cluster.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .errors import SettingsError
from .extract import DEFAULT_ENGINE, DEFAULT_LIMITS, DEFAULT_MAX_MEMORY, EngineName, Limits


def default_data_dir() -> Path:
    """``$XDG_DATA_HOME/tipscan``, else ``~/.local/share/tipscan``."""
    if os.environ.get("XDG_DATA_HOME"):
        return Path(os.environ["XDG_DATA_HOME"]) / "tipscan"
    return Path.home() / ".local" / "share" / "tipscan"


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="TIPSCAN_", frozen=True, extra="forbid", populate_by_name=True
    )

    data_dir: Path = Field(default_factory=default_data_dir)
    db_url: str = Field(default="", validation_alias=AliasChoices("db_url", "TIPSCAN_DB"))
    workers: int = Field(default=2, ge=1)
    max_upload_mb: float = Field(default=50.0, gt=0)
    max_pages: int = Field(default=DEFAULT_LIMITS.max_pages, ge=1)
    job_timeout_s: float = Field(
        default=DEFAULT_LIMITS.timeout_s,
        gt=0,
        validation_alias=AliasChoices("job_timeout_s", "TIPSCAN_JOB_TIMEOUT"),
    )
    max_memory_mb: int = Field(default=DEFAULT_MAX_MEMORY // 2**20, ge=64)
    max_classify_batch: int = Field(default=256, ge=1)
    max_json_mb: float = Field(default=16.0, gt=0)
    model: str | None = None
    models_dir: Path | None = Field(
        default=None, validation_alias=AliasChoices("models_dir", "TIPSCAN_MODELS")
    )
    engine: EngineName = DEFAULT_ENGINE
    corpus_dir: Path | None = Field(
        default=None,
        description="folder whose MANIFEST paths the annotation store names (source links)",
    )
    dask_scheduler: str | None = Field(
        default=None,
        description="tcp://HOST:PORT of a Dask scheduler: jobs are scored on its cluster",
    )
    job_lease_s: float = Field(
        default=60.0,
        ge=1.0,
        description="a running job not heard of for this long is another server's that "
        "stopped: queued again (servers heartbeat their jobs every quarter of it)",
    )
    # How often idle workers look for jobs queued by another process.
    poll_s: float = Field(default=1.0, gt=0)

    @field_validator("data_dir", "models_dir")
    @classmethod
    def _home(cls, value: Path | None) -> Path | None:
        return value.expanduser() if value is not None else None

    @model_validator(mode="after")
    def _store_beside_data(self) -> Settings:
        if not self.db_url:
            object.__setattr__(self, "db_url", sqlite_url(self.data_dir / "tipscan.db"))
        return self

    @classmethod
    def load(cls, **flags: Any) -> Settings:
        """Settings from flags (those not None), else the environment, else the defaults."""
        try:
            return cls(**{k: v for k, v in flags.items() if v is not None})
        except ValidationError as exc:
            first = exc.errors()[0]
            name = str(first["loc"][0]) if first["loc"] else "settings"
            raise SettingsError(
                f"{name}={first.get('input')!r}: {first['msg']}; fix the flag or the "
                f"TIPSCAN_{name.upper()} variable"
            ) from None

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
