"""The API's jobs on a Dask cluster (``TIPSCAN_DASK_SCHEDULER``): scored there, with the
same coverage as here, still finished after the server is killed and restarted, and
queued again, not failed, when the cluster goes away."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import TIP_BILL, corpus_file
from tests.databases import BACKENDS, fresh_database
from tests.test_api import (
    Server,
    _headers,
    _tipscan,
    _upload,
    kill_mid_job_and_restart,
    serving,
    wait_for_job,
)
from tests.test_store import add, row

pytest.importorskip("distributed")

# Two documents of the sample corpus/ other than TIP_BILL (which another test uploads).
PAIR = (
    "brb/prevention-of-corruption-bill-2021.pdf",
    "lka/saarc-trafficking-convention-act-2005.pdf",
)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    """A one-worker LocalCluster whose scheduler runs in this process."""
    import dask
    from distributed import LocalCluster

    with (
        dask.config.set({"distributed.worker.daemon": False}),
        LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as c,
    ):
        yield c


@pytest.fixture(scope="module", params=BACKENDS)
def server(
    request: pytest.FixtureRequest, cluster: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """``tipscan serve`` with its jobs on the cluster, on a fresh store of each backend."""
    folder = tmp_path_factory.mktemp(f"dask-server-{request.param}")
    with (
        fresh_database(request.param, folder) as url,
        serving(folder, url, TIPSCAN_DASK_SCHEDULER=cluster.scheduler_address) as srv,
    ):
        yield srv


def _ran_on_cluster(cluster: Any) -> int:
    """Job tasks the cluster has computed (keys ``tipscan-job-...``; a task's counts are
    its transitions, so each computed one went into ``memory`` once)."""
    prefix = cluster.scheduler.task_prefixes.get("tipscan-job")
    return 0 if prefix is None else int(prefix.state_counts.get("memory", 0))


def test_a_job_is_scored_on_the_cluster_as_it_would_be_here(server: Server, cluster: Any) -> None:
    from service.classify import load_model
    from service.pipeline import DocumentHints, score_document

    before = _ran_on_cluster(cluster)
    body = _upload(server, TIP_BILL)
    ready = server.get("/readyz").json()
    assert ready["cluster"] == {"scheduler": cluster.scheduler_address, "workers": 1}
    job = wait_for_job(server.get, body["job"]["id"], deadline_s=120)
    assert job["state"] == "done", job
    assert job["progress"]["pages_done"] == job["progress"]["pages_total"] == 26
    assert _ran_on_cluster(cluster) == before + 1
    there = server.get(f"/v1/documents/{body['document']['id']}/coverage").json()
    path = corpus_file(TIP_BILL)
    here = score_document(
        path, load_model(), hints=DocumentHints(origin="given"), name=path.name
    ).coverage
    assert there == json.loads(here.model_dump_json(by_alias=True))


def test_a_file_the_cluster_cannot_read_fails_its_job_with_the_reason(server: Server) -> None:
    client = server.client
    assert client is not None
    # A PDF cut short: the worker's bounded child says why, and the job records it.
    data = corpus_file(TIP_BILL).read_bytes()[:20_000]
    r = client.post(
        "/v1/documents",
        files={"file": ("cut.pdf", data, "application/pdf")},
        headers=_headers(server),
    )
    assert r.status_code == 202, r.text
    job = wait_for_job(server.get, r.json()["job"]["id"], deadline_s=120)
    assert job["state"] == "failed" and job["error"]["code"] == "corrupt-document", job


def test_a_job_on_the_cluster_survives_a_killed_server(server: Server) -> None:
    """kill -9 while the cluster scores a job; the restarted server submits it again."""
    uploaded = [_upload(server, rel) for rel in PAIR]
    job_ids = [u["job"]["id"] for u in uploaded]
    interrupted = kill_mid_job_and_restart(server, job_ids)
    for job_id in job_ids:
        job = wait_for_job(server.get, job_id, deadline_s=180)
        assert job["state"] == "done", job
    for running in interrupted:
        assert server.get(f"/v1/jobs/{running}").json()["attempts"] >= 2
    for u in uploaded:
        cov = server.get(f"/v1/documents/{u['document']['id']}/coverage")
        assert cov.status_code == 200 and set(cov.json()["labels"])


def test_serve_refuses_an_unreachable_scheduler(tmp_path: Path) -> None:
    srv = Server(tmp_path, f"sqlite:///{tmp_path / 'tipscan.db'}")
    srv.env["TIPSCAN_DASK_SCHEDULER"] = "tcp://127.0.0.1:9"
    out = subprocess.run(
        [*_tipscan(), "serve", "--port", "0"], env=srv.env, capture_output=True, text=True
    )
    assert out.returncode == 2
    assert "tcp://127.0.0.1:9" in out.stderr and "Dask scheduler" in out.stderr


@pytest.mark.ocr
def test_a_cluster_that_goes_away_puts_its_job_back_in_the_queue(tmp_path: Path) -> None:
    """The scheduler stops while it scores a job: the job is queued again, not failed."""
    import threading
    import time

    import dask
    from distributed import LocalCluster

    from service.classify import load_model
    from service.jobs import run_job
    from service.jobs_dask import DaskScorer
    from service.settings import Settings
    from service.store import Store

    store = Store.open(f"sqlite:///{tmp_path / 't.db'}", tmp_path)
    scanned = corpus_file("lka/passport-exit-permit-amendment-1980-scanned.pdf")
    added = add(store, scanned.read_bytes(), scanned.name, fmt="pdf")
    job = store.claim_job("here:1:abcdef:0")
    assert job is not None and job.id == added.job.id
    model = load_model()
    with (
        dask.config.set({"distributed.worker.daemon": False}),
        LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
    ):
        scorer = DaskScorer(cluster.scheduler_address, model, topic="t")
        worker = threading.Thread(
            target=run_job,
            args=(store, model, Settings(data_dir=tmp_path), job, "here:1:abcdef:0", scorer),
        )
        worker.start()
        end = time.monotonic() + 60
        while not any(
            str(key).startswith("tipscan-job-") and ts.state == "processing"
            for key, ts in cluster.scheduler.tasks.items()
        ):
            assert time.monotonic() < end and worker.is_alive(), "the job never ran"
            time.sleep(0.01)
        cluster.close()  # the scheduler goes away mid-task (OCR takes seconds)
        worker.join(60)
    scorer.close()
    try:
        again = row(store.get_job(job.id))
        assert (again.state, again.worker, again.attempts) == ("queued", None, 1)
        assert row(store.claim_job("there:2:abcdef:0")).id == job.id  # taken up again
    finally:
        store.close()
