"""Fresh, empty store databases for tests, on SQLite and on PostgreSQL.

SQLite is a file under the test's temporary folder. PostgreSQL is the server
that ``TIPSCAN_TEST_POSTGRES`` (a SQLAlchemy URL) names, else the one the
standard libpq variables describe (``PGHOST``, ``PGPORT``, ``PGUSER``,
``PGPASSWORD``, ``PGDATABASE``, as Debian's ``pg_virtualenv`` sets them); each
test (or module) gets a database of its own, created on it and dropped after.
Without a server the PostgreSQL cases skip, unless
``TIPSCAN_TEST_POSTGRES_REQUIRED=1`` (CI), when they fail: CI never skips them
silently.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

BACKENDS = ("sqlite", "postgresql")
NO_POSTGRES = (
    "no PostgreSQL configured: set TIPSCAN_TEST_POSTGRES to a SQLAlchemy URL or the PG* "
    'variables (e.g. run under pg_virtualenv: pg_virtualenv .venv/bin/pytest -m "not slow")'
)
# Every database a test makes starts so, and is dropped after the test.
PREFIX = "tipscan_test_"


def postgres_server_url() -> URL | None:
    """The PostgreSQL server to make test databases on; None when none is configured."""
    given = os.environ.get("TIPSCAN_TEST_POSTGRES")
    if given:
        url = make_url(given)
        return url.set(drivername="postgresql+psycopg") if url.drivername == "postgresql" else url
    if not (os.environ.get("PGHOST") or os.environ.get("PGDATABASE")):
        return None
    port = os.environ.get("PGPORT")
    return URL.create(
        "postgresql+psycopg",
        username=os.environ.get("PGUSER") or None,
        password=os.environ.get("PGPASSWORD") or None,
        host=os.environ.get("PGHOST") or None,
        port=int(port) if port else None,
        database=os.environ.get("PGDATABASE") or "postgres",
    )


def postgres_required() -> bool:
    return os.environ.get("TIPSCAN_TEST_POSTGRES_REQUIRED") == "1"


@cache
def _server() -> URL | None:
    return postgres_server_url()


def require_postgres() -> URL:
    """The server's URL; skips the test without one (fails it where one is required)."""
    url = _server()
    if url is None:
        if postgres_required():
            pytest.fail(f"TIPSCAN_TEST_POSTGRES_REQUIRED=1 but {NO_POSTGRES}", pytrace=False)
        pytest.skip(NO_POSTGRES)
    return url


def _admin(server: URL, sql: str) -> None:
    """Run one statement outside a transaction (CREATE and DROP DATABASE need that)."""
    engine = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as c:
            c.execute(text(sql))
    finally:
        engine.dispose()


@contextmanager
def postgres_database() -> Iterator[str]:
    """A new, empty PostgreSQL database's URL (with its password), dropped afterwards."""
    server = require_postgres()
    name = PREFIX + uuid.uuid4().hex[:16]
    _admin(server, f'CREATE DATABASE "{name}"')
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        # FORCE: a server a test killed may have left its connections behind.
        _admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def fresh_database(backend: str, folder: Path) -> Iterator[str]:
    """A new, empty store database's URL on ``backend`` (SQLite: a file in ``folder``)."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'tipscan.db'}"
    elif backend == "postgresql":
        with postgres_database() as url:
            yield url
    else:
        raise ValueError(f"unknown backend {backend!r}; one of {', '.join(BACKENDS)}")
