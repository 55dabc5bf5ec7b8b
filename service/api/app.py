"""The FastAPI application: a thin shell over the pipeline, the store and the job workers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from .. import __version__
from ..classify import Model, load_model, models_dir
from ..jobs import WorkerPool
from ..settings import Settings
from ..store import Store
from . import (
    routes_annotate_page,
    routes_annotation,
    routes_classify,
    routes_corpora,
    routes_documents,
    routes_health,
    routes_jobs,
    routes_keys,
    routes_models,
)
from .problems import BodyLimit, install_problem_handlers

DESCRIPTION = """\
Check a country's laws, plans and codes against the 18 OECD guiding principles on
corruption and trafficking in persons.

Upload documents (`POST /v1/documents`), follow their jobs (`GET /v1/jobs/{id}`), read
each document's coverage with evidence, group documents into a corpus and get its report
as JSON, HTML or CSV. Every route but the health checks needs an API key, sent as
`Authorization: Bearer KEY` or `X-API-Key: KEY`. Errors are `application/problem+json`.
"""

# Multipart framing and the small form fields, on top of the file itself.
_FORM_SLACK = 1 << 20


def create_app(settings: Settings | None = None, *, model: Model | None = None) -> FastAPI:
    """The app; on start it opens the store, loads the model (unless given) and starts the
    workers, which first put back in the queue the jobs a stopped server left running."""
    settings = settings or Settings.load()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = Store.open(settings.db_url, settings.data_dir)
        try:
            loaded = model or load_model(settings.model, models_dir(settings.models_dir))
            pool = WorkerPool(store, loaded, settings)
            app.state.store, app.state.model, app.state.pool = store, loaded, pool
            pool.start()
            try:
                yield
            finally:
                pool.stop()
        finally:
            store.close()

    app = FastAPI(
        title="tipscan",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    install_problem_handlers(app)

    def body_limit(method: str, path: str) -> int:
        if method == "POST" and path.rstrip("/") == "/v1/documents":
            return settings.max_upload_bytes + _FORM_SLACK
        return settings.max_json_bytes

    app.add_middleware(BodyLimit, limit_for=body_limit)
    for module in (
        routes_health,
        routes_documents,
        routes_jobs,
        routes_corpora,
        routes_classify,
        routes_keys,
        routes_models,
        routes_annotation,
        routes_annotate_page,
    ):
        app.include_router(module.router)
    return app
