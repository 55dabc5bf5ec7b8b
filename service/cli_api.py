"""CLI commands of the HTTP service: ``serve`` and ``keys``; thin shells over the API and store.

Every command reads the same configuration: flags, else ``TIPSCAN_DB`` and
``TIPSCAN_DATA_DIR`` (and the other ``TIPSCAN_*`` variables of
service/settings.py), else the defaults.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from .cli_docs import PlainUsage

if TYPE_CHECKING:
    from .settings import Settings
    from .store import Store

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Store URL (SQLAlchemy): sqlite:///path.db, or postgresql+psycopg://... with a "
        "PostgreSQL driver installed [env TIPSCAN_DB; default a SQLite file in the data dir]",
    ),
]
DataDirOption = Annotated[
    str | None,
    typer.Option(
        "--data-dir",
        help="Folder for uploaded files (and the default SQLite store) "
        "[env TIPSCAN_DATA_DIR; default ~/.local/share/tipscan]",
    ),
]


class Role(StrEnum):
    reader = "reader"
    annotator = "annotator"
    admin = "admin"


USAGE = 2  # a flag, variable or store the caller must fix (the exit codes of service/cli.py)


def _err(message: str) -> None:
    typer.echo(f"tipscan: {message}", err=True)


def _settings(**flags: Any) -> Settings:
    from .errors import TipscanError
    from .settings import Settings

    try:
        return Settings.load(**flags)
    except TipscanError as exc:
        _err(exc.message)
        raise typer.Exit(USAGE) from None


def _store(db: str | None, data_dir: str | None) -> Store:
    from .store import Store

    settings = _settings(db_url=db, data_dir=data_dir)
    try:
        return Store.open(settings.db_url, settings.data_dir)
    except Exception as exc:  # a bad URL or an unreachable database: say which, not a trace
        _err(f"cannot open the store {settings.db_url}: {type(exc).__name__}: {exc}")
        raise typer.Exit(USAGE) from None


def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    db: DbOption = None,
    data_dir: DataDirOption = None,
    workers: Annotated[
        int | None,
        typer.Option("--workers", min=1, help="Job worker threads [env TIPSCAN_WORKERS; 2]."),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option("--model", help="Model name [env TIPSCAN_MODEL; the models' DEFAULT]."),
    ] = None,
    models: Annotated[
        str | None,
        typer.Option(
            "--models",
            help="Folder of models [env TIPSCAN_MODELS; the models installed with tipscan].",
        ),
    ] = None,
    max_upload_mb: Annotated[
        float | None,
        typer.Option("--max-upload-mb", help="Largest upload [env TIPSCAN_MAX_UPLOAD_MB; 50]."),
    ] = None,
    max_pages: Annotated[
        int | None,
        typer.Option("--max-pages", help="Most pages a document may have [env TIPSCAN_MAX_PAGES]."),
    ] = None,
    dask_scheduler: Annotated[
        str | None,
        typer.Option(
            "--dask-scheduler",
            metavar="tcp://HOST:PORT",
            help="Score the jobs on this Dask cluster [env TIPSCAN_DASK_SCHEDULER; here]. Its "
            "workers must see --data-dir at the same path.",
        ),
    ] = None,
    log_level: Annotated[str, typer.Option("--log-level", help="uvicorn log level.")] = "info",
) -> None:
    import uvicorn

    from .api import create_app
    from .classify import load_model, models_dir
    from .errors import TipscanError
    from .store import Store

    settings = _settings(
        db_url=db,
        data_dir=data_dir,
        workers=workers,
        model=model,
        models_dir=models,
        max_upload_mb=max_upload_mb,
        max_pages=max_pages,
        dask_scheduler=dask_scheduler,
    )
    # Checked here, so that a missing model or store is one line, not a failed start-up trace.
    try:
        loaded = load_model(settings.model, models_dir(settings.models_dir))
        Store.open(settings.db_url, settings.data_dir).close()
        if settings.dask_scheduler:
            from .dask_executor import check_scheduler

            given = "--dask-scheduler" if dask_scheduler else "TIPSCAN_DASK_SCHEDULER"
            check_scheduler(settings.dask_scheduler, given=given)
    except TipscanError as exc:
        _err(exc.message)
        raise typer.Exit(USAGE) from None
    except Exception as exc:
        _err(f"cannot open the store {settings.db_url}: {type(exc).__name__}: {exc}")
        raise typer.Exit(USAGE) from None
    typer.echo(
        f"tipscan: serving on http://{host}:{port} (API docs at /docs); model {loaded.name}; "
        f"store {settings.db_url}; files in {settings.data_dir}"
        + (
            f"; jobs on the Dask cluster at {settings.dask_scheduler}"
            if settings.dask_scheduler
            else ""
        ),
        err=True,
    )
    uvicorn.run(create_app(settings, model=loaded), host=host, port=port, log_level=log_level)


def keys_create(
    role: Annotated[Role, typer.Option("--role", help="reader, annotator or admin.")],
    name: Annotated[str | None, typer.Option("--name", help="Who or what the key is for.")] = None,
    db: DbOption = None,
    data_dir: DataDirOption = None,
) -> None:
    store = _store(db, data_dir)
    try:
        record, key = store.create_key(role.value, name)
    finally:
        store.close()
    typer.echo(key)
    _err(f"created {role.value} key {record.id}; it is shown only this once")


def keys_list(db: DbOption = None, data_dir: DataDirOption = None) -> None:
    store = _store(db, data_dir)
    try:
        keys = store.list_keys()
    finally:
        store.close()
    for k in keys:
        state = f"revoked {k.revoked_at:%Y-%m-%d}" if k.revoked_at else "live"
        typer.echo(
            f"{k.id}  {k.role:9}  {state:18}  {k.created_at:%Y-%m-%d %H:%M}  "
            f"{k.name or ''}".rstrip()
        )


def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id (from `tipscan keys list`).")],
    db: DbOption = None,
    data_dir: DataDirOption = None,
) -> None:
    store = _store(db, data_dir)
    try:
        revoked = store.revoke_key(key_id)
    finally:
        store.close()
    if not revoked:
        _err(f"no live key with id {key_id}")
        raise typer.Exit(USAGE)
    typer.echo(f"revoked {key_id}")


def register(app: typer.Typer) -> None:
    """Add the service's commands to the main CLI."""
    app.command(
        "serve",
        cls=PlainUsage,
        help=(
            "Serve the HTTP API (OpenAPI docs at /docs) with its job workers. State lives in "
            "one store (--db, default a SQLite file in --data-dir) and uploaded files in "
            "--data-dir; jobs left running by a stopped server are taken up again on start.\n\n"
            "Examples:\n\n"
            "    tipscan serve\n\n"
            "    tipscan serve --host 0.0.0.0 --port 8080 --workers 4\n\n"
            "    TIPSCAN_DB=postgresql+psycopg://db/tipscan tipscan serve\n\n"
            "    tipscan serve --dask-scheduler tcp://scheduler:8786 --workers 16"
        ),
    )(serve)
    keys_app = typer.Typer(
        help=(
            "API keys: create, list and revoke (the store keeps only their hashes).\n\n"
            "Example:\n\n    tipscan keys create --role annotator"
        ),
        no_args_is_help=True,
        rich_markup_mode=None,
    )
    keys_app.command(
        "create",
        cls=PlainUsage,
        help=(
            "Create an API key for a role and print the key alone on stdout (it is not "
            "stored, only its hash). Readers read; annotators also upload and delete; "
            "admins also manage keys.\n\n"
            "Example:\n\n    KEY=$(tipscan keys create --role annotator --name analyst)"
        ),
    )(keys_create)
    keys_app.command(
        "list",
        cls=PlainUsage,
        help="The keys: id, role, state, creation time, name.\n\nExample:\n\n    tipscan keys list",
    )(keys_list)
    keys_app.command(
        "revoke",
        cls=PlainUsage,
        help="Revoke a key by its id.\n\nExample:\n\n    tipscan keys revoke 3f9a1c2e",
    )(keys_revoke)
    app.add_typer(keys_app, name="keys")
