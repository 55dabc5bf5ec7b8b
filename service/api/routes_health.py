"""Health checks, open to all: is the process up; can it do its work."""

from __future__ import annotations

from fastapi import APIRouter

from ..errors import NotReady
from .deps import ModelDep, PoolDep, StoreDep
from .problems import MEDIA_TYPE, ProblemDetail
from .schemas import Health, Ready

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is up")
def healthz() -> Health:
    return Health()


@router.get(
    "/readyz",
    summary="The store is reachable and the model loaded",
    responses={503: {"model": ProblemDetail, "content": {MEDIA_TYPE: {}}}},
)
def readyz(store: StoreDep, model: ModelDep, pool: PoolDep) -> Ready:
    try:
        store.ping()
        queued = store.queued_count()
    except Exception:
        raise NotReady("the store cannot be reached") from None
    if pool.alive() == 0:
        raise NotReady("no job worker is running")
    cluster = None
    if pool.cluster is not None:
        address = pool.settings.dask_scheduler
        workers = pool.cluster.workers()
        if workers is None:
            raise NotReady(f"the Dask scheduler at {address} cannot be reached")
        if workers == 0:
            raise NotReady(f"the Dask cluster at {address} has no workers")
        cluster = {"scheduler": address, "workers": workers}
    return Ready(
        model={"name": model.name, "version": model.meta.version, "kind": model.meta.kind},
        workers=pool.alive(),
        queued=queued,
        cluster=cluster,
    )
