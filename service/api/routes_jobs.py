"""Jobs: what became of an upload."""

from __future__ import annotations

from fastapi import APIRouter

from ..errors import NotFound
from .auth import Reader
from .deps import StoreDep
from .problems import PROBLEM_RESPONSES
from .schemas import JobOut, job_out

router = APIRouter(prefix="/v1/jobs", tags=["jobs"], responses=PROBLEM_RESPONSES)


@router.get("/{job_id}", summary="A job's state, progress (pages) and error")
def get_job(job_id: str, _who: Reader, store: StoreDep) -> JobOut:
    job = store.get_job(job_id)
    if job is None:
        raise NotFound(f"no job with id {job_id}")
    return job_out(job)
