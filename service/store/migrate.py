"""Schema migrations (Alembic), run from code: no alembic.ini, no working-directory state.

``upgrade`` brings a database to the newest revision in one write transaction,
so that two servers opening one store at once migrate it once. A database
made before the store had migrations (its tables, no ``alembic_version``) is
stamped at the initial revision first: its schema is exactly that revision's.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from ..errors import InvalidStore
from .db import Database

MIGRATIONS = Path(__file__).parent / "migrations"
INITIAL = "0001"
# The tables revision 0001 creates: what a store made before migrations holds.
INITIAL_TABLES = frozenset(
    {"api_keys", "documents", "jobs", "corpora", "corpus_documents", "results"}
)
# Any fixed number: PostgreSQL serialises migrations on this advisory lock.
_PG_LOCK = 0x7469_7073


def alembic_config(connection: Connection | None = None, url: str | None = None) -> Config:
    """An Alembic configuration for the store's migrations, on a connection or a URL."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["connection"] = connection
    return config


def head() -> str:
    """The newest revision."""
    revision = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert revision is not None
    return revision


def current(connection: Connection) -> str | None:
    """The revision a database is at (None: no migration has run)."""
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(db: Database) -> None:
    """Migrate the database to the newest revision, adopting a store made before migrations."""
    with _migrating(db) as c:
        config = alembic_config(c)
        if current(c) is None and _premigration(c):
            command.stamp(config, INITIAL)
        command.upgrade(config, "head")


def _premigration(c: Connection) -> bool:
    """Whether the database is a store made before migrations: all of 0001's tables."""
    found = INITIAL_TABLES & set(inspect(c).get_table_names())
    if found and found != INITIAL_TABLES:
        raise InvalidStore(
            f"the database has some of tipscan's tables ({', '.join(sorted(found))}) but not "
            "all, and no migration record; point the store at an empty database or a tipscan one"
        )
    return bool(found)


@contextmanager
def _migrating(db: Database) -> Iterator[Connection]:
    """A write transaction fit for schema changes.

    SQLite alters a table by copying it and dropping the old one, which foreign
    keys forbid; they are switched off (possible only outside a transaction),
    and checked before the transaction commits.
    """
    with db.engine.connect() as conn:
        if not db.is_sqlite:
            with conn.begin():
                if conn.dialect.name == "postgresql":
                    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK})
                yield conn
            return
        raw = conn.connection.dbapi_connection
        assert raw is not None
        raw.execute("PRAGMA foreign_keys=OFF")
        try:
            conn.execution_options(tipscan_write=True)
            with conn.begin():
                yield conn
                broken = conn.exec_driver_sql("PRAGMA foreign_key_check").first()
                if broken is not None:
                    raise InvalidStore(f"a migration broke a foreign key: {tuple(broken)}")
        finally:
            raw.execute("PRAGMA foreign_keys=ON")
