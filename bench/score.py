"""End-to-end benchmark: ``tipscan score`` against plain PDF text loops, model start-up,
and classification throughput.

Whole processes, one run, each method repeated (interleaved) and the median quoted:

- ``pdfplumber``: a plain loop, ``page.extract_text()`` on every page of every PDF.
- ``pypdfium2``: a plain loop, ``get_textpage().get_text_range()`` on every page.
- ``score cold``: ``tipscan score FOLDER --out DIR --cache EMPTY`` (extraction,
  segmentation, classification, coverage and all four reports; a new, empty cache
  each time).
- ``score cached``: the same command again over the cache the cold run left.

Files: every text PDF of the shared corpus (the scanned one needs OCR, which is
measured by ``bench/extract.py``).

Model: the default model's load time in process (median of fresh processes), a
whole-process ``tipscan classify`` of one passage, and passages per second of
``Model.predict`` over every passage of those PDFs (the first pass, with the word
caches empty, and the median of the passes after it).

    python bench/score.py              # 3 repeats
    python bench/score.py --repeats 5
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tables import fmt_table

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
CORPUS = ROOT.parent / "shared" / "corpus"
TIPSCAN = [sys.executable, "-m", "service.cli"]
PASSAGE = {"id": "bench", "text": "Any public official who facilitates trafficking in persons."}


# --------------------------------------------------------------------------- child side


def plain_loop(engine: str, folder: str) -> None:
    pages = 0
    for f in sorted(Path(folder).glob("*.pdf")):
        if engine == "pdfplumber":
            import pdfplumber

            with pdfplumber.open(f) as pdf:
                for page in pdf.pages:
                    page.extract_text()
                    page.close()
                    pages += 1
        else:
            import pypdfium2 as pdfium

            pdf = pdfium.PdfDocument(f)
            for i in range(len(pdf)):
                page = pdf[i]
                textpage = page.get_textpage()
                textpage.get_text_range()
                textpage.close()
                page.close()
                pages += 1
            pdf.close()
    print(json.dumps({"pages": pages}))


def model_child(what: str, folder: str) -> None:
    t0 = time.perf_counter()
    from service.classify import load_model

    imported = time.perf_counter()
    model = load_model()
    loaded = time.perf_counter()
    out: dict = {"import_s": imported - t0, "load_s": loaded - imported, "model": model.name}
    if what == "throughput":
        from service.batch import process_file
        from service.doctype import infer_doc_type
        from service.pipeline import passage_inputs

        items = []
        for f in sorted(Path(folder).glob("*.pdf")):
            doc, passages = process_file(f)
            items += passage_inputs(doc, passages, infer_doc_type(doc.title, doc.text[:3000]))
        runs = []
        for _ in range(4):
            t = time.perf_counter()
            for start in range(0, len(items), 256):
                model.predict(items[start : start + 256])
            runs.append(time.perf_counter() - t)
        out.update(passages=len(items), runs_s=runs)
    print(json.dumps(out))


# --------------------------------------------------------------------------- parent side


def _run(cmd: list[str], **kw) -> tuple[float, str]:
    t = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, **kw)
    wall = time.perf_counter() - t
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return wall, done.stdout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--child", nargs=2, metavar=("WHAT", "FOLDER"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        what, folder = args.child
        if what in ("pdfplumber", "pypdfium2"):
            plain_loop(what, folder)
        else:
            model_child(what, folder)
        return
    if not CORPUS.is_dir():
        raise SystemExit(f"the shared corpus ({CORPUS}) is not beside the checkout")

    work = Path(tempfile.mkdtemp(prefix="tipscan-bench-"))
    pdfs = work / "pdfs"
    pdfs.mkdir()
    for f in sorted(CORPUS.rglob("*.pdf")):
        if "scanned" not in f.name:
            (pdfs / f"{f.parent.name}-{f.name}").symlink_to(f)
    files = sorted(pdfs.iterdir())
    me = [sys.executable, str(Path(__file__).resolve()), "--child"]
    times: dict[str, list[float]] = {k: [] for k in ("pdfplumber", "pypdfium2", "cold", "cached")}
    pages = 0
    try:
        for rep in range(args.repeats):
            cache = work / f"cache-{rep}"
            out = work / f"out-{rep}"
            for method in ("pdfplumber", "cold", "pypdfium2", "cached"):
                if method in ("pdfplumber", "pypdfium2"):
                    wall, stdout = _run([*me, method, str(pdfs)])
                    pages = json.loads(stdout)["pages"]
                else:
                    wall, stdout = _run(
                        [*TIPSCAN, "score", str(pdfs), "--out", str(out), "--cache", str(cache)]
                    )
                    expect = (
                        "0 from the cache" if method == "cold" else f"{len(files)} from the cache"
                    )
                    if expect not in stdout:
                        raise SystemExit(f"score {method}: expected '{expect}' in:\n{stdout}")
                times[method].append(wall)
                print(f"repeat {rep + 1} {method}: {wall:.2f} s", file=sys.stderr)
        loads, whole = [], []
        for _ in range(max(3, args.repeats)):
            _, stdout = _run([*me, "load", str(pdfs)])
            loads.append(json.loads(stdout)["load_s"])
            wall, _ = _run([*TIPSCAN, "classify", "-"], input=json.dumps(PASSAGE))
            whole.append(wall)
        _, stdout = _run([*me, "throughput", str(pdfs)])
        throughput = json.loads(stdout)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    med = {k: statistics.median(v) for k, v in times.items()}
    n = throughput["passages"]
    first, rest = throughput["runs_s"][0], statistics.median(throughput["runs_s"][1:])
    result = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "files": len(files),
        "pages": pages,
        "repeats": args.repeats,
        "wall_s": times,
        "median_s": med,
        "ratios": {
            "pdfplumber_over_cold": med["pdfplumber"] / med["cold"],
            "pypdfium2_over_cold": med["pypdfium2"] / med["cold"],
            "cold_over_cached": med["cold"] / med["cached"],
        },
        "model": {
            "name": throughput["model"],
            "load_s_median": statistics.median(loads),
            "classify_one_whole_process_s_median": statistics.median(whole),
            "passages": n,
            "passages_per_s_first_pass": n / first,
            "passages_per_s_median_later": n / rest,
        },
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "score.json").write_text(json.dumps(result, indent=1))
    print(
        f"{len(files)} text PDFs, {pages} pages; {args.repeats} repeats, medians (whole processes)\n"
    )
    print(
        fmt_table(
            ["method", "median s", "pages/s", "pdfplumber ÷ this"],
            [
                [k, f"{v:.2f}", f"{pages / v:.0f}", f"{med['pdfplumber'] / v:.1f}×"]
                for k, v in (
                    ("plain pdfplumber loop", med["pdfplumber"]),
                    ("plain pypdfium2 loop", med["pypdfium2"]),
                    ("tipscan score, cold cache", med["cold"]),
                    ("tipscan score, cached", med["cached"]),
                )
            ],
        )
    )
    m = result["model"]
    print(
        f"\ncold ÷ cached: {result['ratios']['cold_over_cached']:.1f}×\n"
        f"model {m['name']}: load {m['load_s_median'] * 1000:.0f} ms (median, in process); "
        f"whole-process `tipscan classify` of one passage {m['classify_one_whole_process_s_median']:.2f} s\n"
        f"classify: {n} passages, {m['passages_per_s_first_pass']:.0f} passages/s on the first pass, "
        f"{m['passages_per_s_median_later']:.0f} passages/s after it (median)"
    )


if __name__ == "__main__":
    main()
