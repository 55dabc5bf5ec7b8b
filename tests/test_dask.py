"""Scoring on Dask: the same coverage as the local pool, the run's shards, resuming a
killed run, and the executor's usage errors."""

from __future__ import annotations

import collections
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from typer.testing import CliRunner

from service.cli import app
from service.errors import CorruptDocument, InternalError
from service.model import DocumentCoverage, Failure
from service.pipeline import (
    DocumentHints,
    ExtractOptions,
    RunStats,
    file_sha256,
    result_key,
    score_corpus,
)
from service.shards import FOLDER, JOURNAL, ShardStore, read_journal
from tests.conftest import (
    POC_BILL,
    ROOT,
    SAMPLE,
    SAMPLE_RUN,
    SHARED,
    SHARED_ABSENT,
    TRUNCATED,
)

TIPSCAN = [sys.executable, "-m", "service.cli"]
FACT_SHEET = "usa/wh-fact-sheet-national-action-plan-combat-human-trafficking-2021.md"
# Ten documents of corpus/ of middling size (PDFs, XML, JSON, Markdown): long enough
# to score that a run can be caught with some of them done and not all.
RESUME_RUN = (
    "brb/prevention-of-corruption-bill-2021.pdf",
    "brb/trafficking-in-persons-prevention-bill-2016.pdf",
    "can/conflict-of-interest-act.xml",
    "esp/lo-2-1986-fuerzas-cuerpos-seguridad.md",
    "esp/estrategia-nacional-crimen-organizado-2025.md",
    "esp/codigo-conducta-guardia-civil-rd-176-2022.md",
    "nga/corrupt-practices-and-other-related-offences-act-2000.json",
    "rou/legea-678-2001-trafic-de-persoane.json",
    "intl/palermo-protocol-tip.md",
    "lka/saarc-trafficking-convention-act-2005.pdf",
)
runner = CliRunner()


def _copy(rels: tuple[str, ...], folder: Path, base: Path = SAMPLE) -> Path:
    for rel in rels:
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(base / rel, folder / rel)
    return folder


def _env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "TIPSCAN_CACHE": str(tmp_path / "cache")}


def _score(args: list[str], tmp_path: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*TIPSCAN, "score", *args],
        cwd=ROOT,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _coverage(out: Path) -> dict:
    """coverage.json without what depends on the wall clock."""
    data = json.loads((out / "coverage.json").read_text("utf-8"))
    data.pop("created_at")
    return data


def _local_and_dask(corpus: Path, tmp_path: Path) -> tuple[dict, dict]:
    outs = {}
    for executor in ("local", "dask"):
        out = tmp_path / f"out-{executor}"
        args = [str(corpus), "--out", str(out), "--no-cache", "--workers", "2"]
        done = _score([*args, "--executor", executor], tmp_path)
        assert done.returncode in (0, 1), done.stderr
        outs[executor] = out
    return _coverage(outs["local"]), _coverage(outs["dask"])


def test_dask_gives_the_local_pools_coverage(tmp_path: Path) -> None:
    """Five documents of corpus/ and a truncated bill: a 2-worker LocalCluster writes
    the coverage.json the local pool writes, failure included."""
    corpus = _copy(SAMPLE_RUN, tmp_path / "corpus")
    data = (SAMPLE / POC_BILL).read_bytes()
    (corpus / TRUNCATED).write_bytes(data[: len(data) // 3])
    local, dask = _local_and_dask(corpus, tmp_path)
    assert len(local["documents"]) == len(SAMPLE_RUN)
    assert [f["code"] for f in local["failures"]] == [CorruptDocument.code]
    assert dask == local
    # The dask run recorded every document, the corrupt one too (a new run fails it alike).
    shards = {p.stem for p in (tmp_path / "out-dask" / FOLDER).glob("*.json")}
    assert shards == {file_sha256(p) for p in corpus.rglob("*") if p.is_file()}


@pytest.mark.slow
@pytest.mark.ocr  # the shared corpus holds a scanned act
def test_dask_gives_the_local_pools_coverage_on_the_shared_corpus(tmp_path: Path) -> None:
    if not SHARED.is_dir():
        pytest.skip(SHARED_ABSENT)
    local, dask = _local_and_dask(SHARED, tmp_path)
    assert len(local["documents"]) + len(local["failures"]) >= 50
    assert dask == local


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _gone(proc: psutil.Process) -> bool:
    try:
        return proc.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_a_killed_dask_run_resumes_scoring_each_document_once(tmp_path: Path) -> None:
    corpus = _copy(RESUME_RUN, tmp_path / "corpus")
    out = tmp_path / "out"
    shard_dir = out / FOLDER
    args = [str(corpus), "--out", str(out), "--no-cache", "--executor", "dask", "--workers", "2"]
    first = subprocess.Popen(
        [*TIPSCAN, "score", *args],
        cwd=ROOT,
        env=_env(tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 300
    done: list[Path] = []
    try:
        while not done and first.poll() is None and time.monotonic() < deadline:
            done = list(shard_dir.glob("*.json"))
            time.sleep(0.02)  # polling the folder, not waiting for the work
        family = _descendants(first.pid)
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
    assert family, "the LocalCluster's worker processes were not seen"
    _, alive = psutil.wait_procs(family, timeout=30)
    assert all(_gone(p) for p in alive), f"left running: {[p.pid for p in alive]}"
    done = list(shard_dir.glob("*.json"))  # as the kill left them
    before = {p.name: (json.loads(p.read_bytes())["run_id"], p.stat().st_mtime_ns) for p in done}
    assert 0 < len(before) < len(RESUME_RUN), "the run was not caught part way"

    second = _score(args, tmp_path)
    assert second.returncode == 0, second.stderr
    shas = {file_sha256(corpus / rel) for rel in RESUME_RUN}
    assert {p.stem for p in shard_dir.glob("*.json")} == shas
    counts = collections.Counter(e["sha256"] for e in read_journal(out))
    assert counts == dict.fromkeys(shas, 1)  # each scored once: none twice, none lost
    assert len(set(e["run_id"] for e in read_journal(out))) == 2
    for name, (run_id, mtime) in before.items():
        shard = shard_dir / name
        assert (json.loads(shard.read_bytes())["run_id"], shard.stat().st_mtime_ns) == (
            run_id,
            mtime,
        )
    assert f"{len(before)} of them from this --out's shards" in second.stdout
    listed = {d["path"] for d in json.loads((out / "coverage.json").read_bytes())["documents"]}
    assert listed == {str(corpus / rel) for rel in RESUME_RUN}


def test_a_corrupt_shard_is_rescored_and_another_key_is_not_reused(
    model_ref, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    corpus = _copy((FACT_SHEET,), tmp_path / "corpus")
    out = tmp_path / "out"

    def run(meta: dict[str, DocumentHints] | None = None) -> RunStats:
        stats = RunStats()
        cov = score_corpus(
            [corpus], model_ref, meta=meta, workers=1, stats=stats, shards=ShardStore(out)
        )
        assert len(cov.documents) == 1
        return stats

    sha = file_sha256(corpus / FACT_SHEET)
    shard = out / FOLDER / f"{sha}.json"
    assert (run().cache_misses, shard.is_file()) == (1, True)
    assert run().shard_hits == 1  # read back, not scored again
    shard.write_bytes(shard.read_bytes()[:100])  # cut short, as by a full disk
    again = run()
    assert (again.shard_hits, again.cache_misses) == (0, 1)
    assert ShardStore(out).read(sha, json.loads(shard.read_bytes())["result_key"]) is not None
    # Other hints (a title from --meta) change the result key: the shard is not theirs.
    titled = run({FACT_SHEET: DocumentHints(title="A fact sheet")})
    assert (titled.shard_hits, titled.cache_misses) == (0, 1)
    # Another model's key does not read this model's shard either.
    hints = DocumentHints(title="A fact sheet")
    name = str(corpus / FACT_SHEET)
    ours = result_key(sha, ExtractOptions(), model_ref.name, hints, name)
    theirs = result_key(sha, ExtractOptions(), "tfidf-context-1.0.1", hints, name)
    assert ShardStore(out).read(sha, ours) is not None
    assert ShardStore(out).read(sha, theirs) is None
    assert len((out / FOLDER / JOURNAL).read_text().splitlines()) == 3


def test_only_failures_of_the_file_itself_are_kept(tmp_path: Path) -> None:
    store = ShardStore(tmp_path)
    corrupt = Failure(path="a.pdf", code=CorruptDocument.code, message="damaged")
    internal = Failure(path="b.pdf", code=InternalError.code, message="lost: worker died")
    assert store.write("a" * 64, "k1", corrupt) is True
    assert store.write("b" * 64, "k2", internal) is False
    assert store.read("a" * 64, "k1") == corrupt
    assert store.read("b" * 64, "k2") is None
    assert [e["sha256"] for e in read_journal(tmp_path)] == ["a" * 64]
    assert not isinstance(store.read("a" * 64, "k1"), DocumentCoverage)


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--executor", "dask", "--scheduler", "tcp://127.0.0.1:1"], "cannot reach a Dask"),
        (["--executor", "dask", "--scheduler", "no-port"], "not a scheduler address"),
        (["--scheduler", "tcp://127.0.0.1:8786"], "--scheduler goes with --executor dask"),
    ],
)
def test_executor_usage_errors(extra: list[str], expected: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(app, ["score", str(SAMPLE / FACT_SHEET), "--out", str(out), *extra])
    assert result.exit_code == 2, result.output
    assert expected in result.output
    assert "Traceback" not in result.output and not out.exists()


def test_dask_not_installed_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed fails
    out = tmp_path / "out"
    args = ["score", str(SAMPLE / FACT_SHEET), "--out", str(out), "--executor", "dask"]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "pip install 'tipscan[dask]'" in result.output


SCANNED = "lka/passport-exit-permit-amendment-1980-scanned.pdf"


@pytest.mark.ocr
def test_a_document_whose_workers_keep_dying_is_failed_unkept_then_scored_next_run(
    model_ref, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """Kill every worker that takes the scanned act (its OCR takes seconds) until the
    cluster gives it up: the run reports it lost, keeps no shard for it, and scores the
    other document; the next run scores the act. No document is lost across runs."""
    import threading

    import dask
    from distributed import LocalCluster

    corpus = _copy((SCANNED, FACT_SHEET), tmp_path / "corpus")
    scanned_sha = file_sha256(corpus / SCANNED)
    out = tmp_path / "out"
    kills: list[int] = []
    with (
        dask.config.set(
            {"distributed.worker.daemon": False, "distributed.scheduler.allowed-failures": 1}
        ),
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
    ):
        running = threading.Event()

        def killer() -> None:
            # Each time the act's task runs on a worker, kill that worker's process.
            seen: set[str] = set()
            while running.is_set():
                for ts in list(cluster.scheduler.tasks.values()):
                    worker = ts.processing_on
                    if scanned_sha in str(ts.key) and worker is not None:
                        nanny = next(
                            (n for n in cluster.workers.values()
                             if getattr(n, "worker_address", None) == worker.address),
                            None,
                        )  # fmt: skip
                        if nanny is not None and nanny.process is not None:
                            pid = nanny.process.pid
                            if pid is not None and worker.address not in seen:
                                seen.add(worker.address)
                                os.kill(pid, signal.SIGKILL)
                                kills.append(pid)
                time.sleep(0.01)  # polling the scheduler's state, not waiting for work

        running.set()
        thread = threading.Thread(target=killer, daemon=True)
        thread.start()
        try:
            cov = score_corpus(
                [corpus],
                model_ref,
                cache=None,
                executor="dask",
                scheduler=cluster.scheduler_address,
                shards=ShardStore(out),
            )
        finally:
            running.clear()
            thread.join()
    assert len(kills) == 2  # one death allowed, the second gives the document up
    assert [f.code for f in cov.failures] == [InternalError.code]
    assert "lost" in cov.failures[0].message
    assert [d.path for d in cov.documents] == [str(corpus / FACT_SHEET)]
    assert not (out / FOLDER / f"{scanned_sha}.json").exists()
    assert scanned_sha not in {e["sha256"] for e in read_journal(out)}

    again = score_corpus([corpus], model_ref, cache=None, workers=1, shards=ShardStore(out))
    assert not again.failures and len(again.documents) == 2
    counts = collections.Counter(e["sha256"] for e in read_journal(out))
    assert counts == {scanned_sha: 1, file_sha256(corpus / FACT_SHEET): 1}
