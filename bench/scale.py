"""Scaling: the local process pool against a Dask LocalCluster, 1 and 2 workers each.

One corpus (default: the shipped sample ``corpus/``), the result cache off, no
shards; each configuration runs ``score_corpus`` in this process, repeated
(interleaved) and the median quoted:

- ``local 1`` / ``local 2``: the warm process pool (``--executor local --workers N``).
- ``dask 1`` / ``dask 2``: a LocalCluster of N single-threaded worker processes
  (``--executor dask --workers N``), started and closed by each run.

Each run is cut in three by the progress callback: start-up (hashing the
files, loading the model, forking the pool or starting the cluster, whose new
processes import the stack and load the model: paid once per run), scoring (first report to the last
document's), and teardown (closing the pool or cluster). Pages are each scored
document's page count from the coverage; rates are over scoring time, and over
the whole run.

    python bench/scale.py                                  # corpus/, 3 repeats
    python bench/scale.py --corpus ../shared/corpus --limit 20 --json scale.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

from tables import fmt_table

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))

CONFIGS = [("local", 1), ("local", 2), ("dask", 1), ("dask", 2)]


def one_run(files: list[Path], executor: str, workers: int) -> dict[str, float]:
    """Score ``files`` once with a model found afresh (so each run loads it)."""
    from service.classify import find_model
    from service.pipeline import score_corpus

    marks: list[float] = []

    def progress(_what: str, done: int, total: int) -> None:
        if not marks or done == total:
            marks.append(time.perf_counter())

    t0 = time.perf_counter()
    cov = score_corpus(
        files,
        find_model(),
        workers=workers,
        cache=None,
        progress=progress,
        executor="dask" if executor == "dask" else "local",
    )
    end = time.perf_counter()
    if cov.failures:
        raise SystemExit(f"{executor} {workers}: {len(cov.failures)} failed: {cov.failures[0]}")
    return {
        "startup_s": marks[0] - t0,
        "scoring_s": marks[-1] - marks[0],
        "teardown_s": end - marks[-1],
        "total_s": end - t0,
        "docs": len(cov.documents),
        "pages": sum(d.pages for d in cov.documents),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--limit", type=int, help="the first N documents (sorted by path)")
    ap.add_argument("--json", type=Path, metavar="FILE", help="write the results here")
    args = ap.parse_args()
    from service.batch import expand_paths

    files = sorted(expand_paths([args.corpus]))[: args.limit]
    if not files:
        raise SystemExit(f"{args.corpus}: no documents")
    # Imports paid here, untimed, so that the first configuration is not charged for them
    # (a cluster's workers are new processes: they import the stack in their start-up).
    from service.classify import find_model
    from service.segment import prepare

    find_model().load()
    prepare()
    runs: dict[str, list[dict[str, float]]] = {f"{e} {w}": [] for e, w in CONFIGS}
    for rep in range(args.repeat):
        for executor, workers in CONFIGS:
            r = one_run(files, executor, workers)
            runs[f"{executor} {workers}"].append(r)
            print(
                f"repeat {rep + 1} {executor} {workers}: start-up {r['startup_s']:.2f} s, "
                f"scoring {r['scoring_s']:.2f} s, total {r['total_s']:.2f} s",
                file=sys.stderr,
            )
    docs, pages = runs["local 1"][0]["docs"], runs["local 1"][0]["pages"]
    med = {
        name: {k: statistics.median(r[k] for r in rs) for k in rs[0] if k.endswith("_s")}
        for name, rs in runs.items()
    }
    base = med["local 1"]
    for m in med.values():
        m.update(
            pages_per_s=pages / m["scoring_s"],
            docs_per_s=docs / m["scoring_s"],
            pages_per_s_whole_run=pages / m["total_s"],
            scoring_speedup=base["scoring_s"] / m["scoring_s"],
            whole_run_speedup=base["total_s"] / m["total_s"],
        )
    result = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "corpus": str(args.corpus),
        "documents": docs,
        "pages": pages,
        "repeats": args.repeat,
        "runs": runs,
        "median": med,
    }
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    print(f"{docs} documents, {pages} pages; {args.repeat} repeats, medians, result cache off\n")
    print(
        fmt_table(
            [
                "executor workers",
                "start-up s",
                "scoring s",
                "teardown s",
                "pages/s",
                "docs/s",
                "pages/s whole run",
                "× local 1 (scoring)",
                "× local 1 (whole run)",
            ],
            [
                [
                    name,
                    f"{m['startup_s']:.2f}",
                    f"{m['scoring_s']:.2f}",
                    f"{m['teardown_s']:.2f}",
                    f"{m['pages_per_s']:.1f}",
                    f"{m['docs_per_s']:.2f}",
                    f"{m['pages_per_s_whole_run']:.1f}",
                    f"{m['scoring_speedup']:.2f}",
                    f"{m['whole_run_speedup']:.2f}",
                ]
                for name, m in med.items()
            ],
        )
    )


if __name__ == "__main__":
    main()
