"""HTTP API benchmark: classify latency and upload-to-coverage time, 1 and 8 clients.

Starts its own ``tipscan serve`` on a free loopback port with a temporary data dir
(so a fresh SQLite store and file store), creates an annotator key, and drives a
bounded load against 127.0.0.1 only:

- ``POST /v1/classify``: each client sends ``--requests`` requests of 32 real passages
  (extracted from corpus PDFs), one after another; latency per request.
- upload to coverage: each client uploads ``--uploads`` copies of the 30-page
  Barbados Whistleblower Protection Act, one after another, each made distinct by a
  PDF comment after ``%%EOF`` (the same bytes would be recognised as a duplicate),
  polls its job every 20 ms and reads the coverage; time from the POST to the
  coverage read. The server runs ``--workers`` job workers, so with 8 clients the
  jobs queue.

One warm-up request of each kind runs before the timed rounds. Median and p95
(nearest rank) over all requests of a round; the table is printed as Markdown and
the figures written to bench/results/api.json.

    python bench/api.py
    python bench/api.py --requests 10 --uploads 1    # quicker
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
CORPORA = [ROOT.parent / "shared" / "corpus", ROOT / "corpus"]
PDF_30 = "brb/whistleblower-protection-act-2021.pdf"
PASSAGE_SOURCES = [
    "lka/anti-corruption-act-2023.pdf",
    "brb/whistleblower-protection-act-2021.pdf",
    "brb/trafficking-in-persons-prevention-bill-2016.pdf",
    "brb/prevention-of-corruption-bill-2021.pdf",
]
BATCH = 32
HOST = "127.0.0.1"


def corpus_file(rel: str) -> Path | None:
    for base in CORPORA:
        if (base / rel).is_file():
            return base / rel
    return None


def real_passages() -> list[dict[str, Any]]:
    """Passages of corpus PDFs, as the classify contract's JSON objects."""
    from service.batch import process_file

    out: list[dict[str, Any]] = []
    for rel in PASSAGE_SOURCES:
        path = corpus_file(rel)
        if path is None:
            continue
        doc, passages = process_file(path)
        out += [
            {"id": p.id, "text": p.text, "title": doc.title, "heading": [*p.heading, p.citation]}
            for p in passages
        ]
    if len(out) < BATCH:
        sys.exit("bench/api.py: fewer than 32 passages found in the corpus PDFs")
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def tipscan_command() -> list[str]:
    script = Path(sys.executable).with_name("tipscan")
    if script.exists():
        return [str(script)]
    found = shutil.which("tipscan")
    return [found] if found else [sys.executable, "-m", "service.cli"]


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def run_clients(clients: int, work: Callable[[int], list[float]]) -> tuple[list[float], float]:
    """Run ``work(client_number)`` in ``clients`` threads; all latencies and the wall time."""
    latencies: list[float] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def one(n: int) -> None:
        try:
            got = work(n)
        except BaseException as exc:  # reported after the round
            errors.append(exc)
            return
        with lock:
            latencies.extend(got)

    threads = [threading.Thread(target=one, args=(n,)) for n in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    if errors:
        raise errors[0]
    return latencies, wall


class Bench:
    def __init__(self, base: str, key: str, passages: list[dict[str, Any]], pdf: bytes) -> None:
        self.base = base
        self.headers = {"Authorization": f"Bearer {key}"}
        self.passages = passages
        self.pdf = pdf
        self._copy = 0
        self._lock = threading.Lock()

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base, headers=self.headers, timeout=300)

    def classify(self, n_requests: int, offset: int) -> list[float]:
        out = []
        with self.client() as c:
            for i in range(n_requests):
                start = (offset * 7 + i) * BATCH % (len(self.passages) - BATCH)
                body = {"passages": self.passages[start : start + BATCH]}
                t0 = time.perf_counter()
                r = c.post("/v1/classify", json=body)
                out.append(time.perf_counter() - t0)
                r.raise_for_status()
                assert len(r.json()["predictions"]) == BATCH
        return out

    def distinct_pdf(self) -> bytes:
        with self._lock:
            self._copy += 1
            n = self._copy
        return self.pdf + f"\n%tipscan-bench copy {n}\n".encode()

    def upload_to_coverage(self, n_uploads: int) -> list[float]:
        out = []
        with self.client() as c:
            for _ in range(n_uploads):
                data = self.distinct_pdf()
                t0 = time.perf_counter()
                r = c.post("/v1/documents", files={"file": ("whistleblower.pdf", data)})
                r.raise_for_status()
                body = r.json()
                job_url = r.headers["location"]
                while True:
                    job = c.get(job_url).json()
                    if job["state"] in ("done", "failed"):
                        break
                    time.sleep(0.02)
                if job["state"] != "done":
                    raise RuntimeError(f"job failed: {job['error']}")
                cov = c.get(f"/v1/documents/{body['document']['id']}/coverage")
                cov.raise_for_status()
                out.append(time.perf_counter() - t0)
                assert job["progress"]["pages_total"] == 30
        return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--requests", type=int, default=25, help="classify requests per client")
    ap.add_argument("--uploads", type=int, default=3, help="uploads per client")
    ap.add_argument("--workers", type=int, default=2, help="the server's job workers")
    ap.add_argument("--clients", default="1,8", help="concurrency levels")
    args = ap.parse_args()
    levels = [int(x) for x in args.clients.split(",")]

    pdf_path = corpus_file(PDF_30)
    if pdf_path is None:
        sys.exit(f"bench/api.py: {PDF_30} is in neither ../shared/corpus nor corpus/")
    passages = real_passages()

    tmp = Path(tempfile.mkdtemp(prefix="tipscan-bench-api-"))
    env = {**os.environ, "TIPSCAN_DATA_DIR": str(tmp)}
    env.pop("TIPSCAN_DB", None)
    key = subprocess.run(
        [*tipscan_command(), "keys", "create", "--role", "annotator"],
        env=env, capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    port = free_port()
    log = (tmp / "server.log").open("wb")
    server = subprocess.Popen(
        [*tipscan_command(), "serve", "--host", HOST, "--port", str(port),
         "--workers", str(args.workers), "--log-level", "warning"],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    rows: list[dict[str, Any]] = []
    try:
        base = f"http://{HOST}:{port}"
        deadline = time.monotonic() + 120
        while True:
            if server.poll() is not None or time.monotonic() > deadline:
                sys.exit(
                    "bench/api.py: the server did not start:\n" + (tmp / "server.log").read_text()
                )
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        model = httpx.get(f"{base}/readyz").json()["model"]
        bench = Bench(base, key, passages, pdf_path.read_bytes())
        bench.classify(1, 0)  # warm-up
        bench.upload_to_coverage(1)

        for clients in levels:
            lat, wall = run_clients(clients, lambda n: bench.classify(args.requests, n))
            rows.append(summary("POST /v1/classify (32 passages)", clients, lat, wall))
        for clients in levels:
            lat, wall = run_clients(clients, lambda n: bench.upload_to_coverage(args.uploads))
            rows.append(summary("upload to coverage (30-page PDF)", clients, lat, wall))
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"\nmodel {model['name']}; server job workers: {args.workers}; "
          f"{os.cpu_count()} CPUs; Python {platform.python_version()}\n")  # fmt: skip
    print("| measure | clients | requests | median (ms) | p95 (ms) | throughput (/s) |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['measure']} | {r['clients']} | {r['n']} | {r['median_ms']:.0f} | "
            f"{r['p95_ms']:.0f} | {r['throughput_per_s']:.1f} |"
        )
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = {
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "model": model,
        "server_workers": args.workers,
        "batch": BATCH,
        "results": rows,
    }
    (RESULTS / "api.json").write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print(f"\nwritten: {RESULTS / 'api.json'}")


def summary(measure: str, clients: int, latencies: list[float], wall: float) -> dict[str, Any]:
    ms = [x * 1000 for x in latencies]
    return {
        "measure": measure,
        "clients": clients,
        "n": len(ms),
        "median_ms": round(statistics.median(ms), 1),
        "p95_ms": round(percentile(ms, 0.95), 1),
        "max_ms": round(max(ms), 1),
        "wall_s": round(wall, 2),
        "throughput_per_s": round(len(ms) / wall, 2),
    }


if __name__ == "__main__":
    main()
