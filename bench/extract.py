"""Extraction benchmark: pages/s and peak memory, tipscan against the plain engines.

Methods, each measured in its own subprocess (so peak memory is per method):

- ``plumber_plain``: pdfplumber ``page.extract_text()`` on every page, ``page.close()`` after.
- ``pdfium_plain``: pypdfium2 ``pdf[i].get_textpage().get_text_range()`` on every page.
- ``tipscan_pdfium``: tipscan ``extract_path(engine="pdfium")`` + ``segment_document``.
- ``tipscan_pdfplumber``: the same with ``engine="pdfplumber"``.

Memory: peak RSS of each child (below), and for tipscan with pdfium the first 100 and all
pages of the generated PDF in separate processes, RSS and Python's own allocations
(tracemalloc), the latter split into the peak and the output kept at the end.

Files: every text PDF of the corpus (the scanned one needs OCR and is reported on its own)
plus a generated 1,000-page legal-style PDF laid out from real corpus passages.

Timing: each child first runs its method once on the smallest file (warm-up: imports,
lazy models; tipscan also builds its sentencizer, which that file does not need), then
times the loop over all files. Interpreter start and warm-up are reported but are not in pages/s. Each (method, repeat) is a fresh process; the median
of the repeats is quoted. Peak memory is the child's VmHWM (/proc/self/status), which
execve resets; ``ru_maxrss`` is recorded too, but Linux carries it over from the parent
across fork+exec, so it is only trustworthy because the parent stays small (the PDF is
generated in a subprocess as well).

    python bench/extract.py            # full run, 3 repeats
    python bench/extract.py --quick    # smoke run: 3 small PDFs + 100 generated pages, 1 repeat
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

from tables import fmt_table

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
CACHE = RESULTS / "cache"
CORPUS = BENCH.parent.parent / "shared" / "corpus"
SCANNED = "lka/passport-exit-permit-amendment-1980-scanned.pdf"
# Real English text for the generated PDF: passages of these corpus documents.
SOURCES = [
    "intl/uncac.md",
    "intl/palermo-protocol-tip.md",
    "intl/coe-criminal-law-convention-corruption.md",
    "intl/coe-civil-law-convention-corruption.md",
    "intl/coe-convention-trafficking.md",
    "intl/european-convention-extradition.md",
]
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
GEN_VERSION = 2
METHODS = ["plumber_plain", "pdfium_plain", "tipscan_pdfium", "tipscan_pdfplumber"]
BASELINE = "plumber_plain"
TARGET_RATIO = 20.0


# --------------------------------------------------------------------------- child side


def _maxrss_mib() -> float:
    """getrusage(RUSAGE_SELF).ru_maxrss (Linux reports KiB).

    Linux carries ru_maxrss across fork and execve, so in a child it is at least the
    parent's RSS at the time of the fork: a floor, not this program's own peak.
    """
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _status_mib(field: str) -> float:
    """A field of /proc/self/status in MiB: VmHWM (peak RSS of this image) or VmRSS."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def _rss_mib() -> float:
    """Peak RSS of this process image: VmHWM is reset by execve, unlike ru_maxrss."""
    hwm = _status_mib("VmHWM")
    return hwm if hwm == hwm else _maxrss_mib()


def _current_rss_mib() -> float:
    return _status_mib("VmRSS")


def _run_one(method: str, path: str) -> dict:
    """Process one file; return its page count and what came out."""
    if method == "plumber_plain":
        import pdfplumber

        chars = 0
        with pdfplumber.open(path) as pdf:
            n = len(pdf.pages)
            for page in pdf.pages:
                chars += len(page.extract_text() or "")
                page.close()
        return {"pages": n, "chars": chars}
    if method == "pdfium_plain":
        import pypdfium2 as pdfium

        chars = 0
        pdf = pdfium.PdfDocument(path)
        try:
            n = len(pdf)
            for i in range(n):
                page = pdf[i]
                textpage = page.get_textpage()
                chars += len(textpage.get_text_range())
                textpage.close()
                page.close()
        finally:
            pdf.close()
        return {"pages": n, "chars": chars}
    if method in ("tipscan_pdfium", "tipscan_pdfplumber"):
        from service.extract import extract_path
        from service.extract.limits import Limits
        from service.segment import segment_document

        engine = method.split("_", 1)[1]
        # Only the timeout is raised (default 300 s) so the slow engine cannot abort a run.
        doc = extract_path(path, engine=engine, limits=Limits(timeout_s=3600))
        passages = segment_document(doc)
        return {
            "pages": doc.page_count,
            "chars": len(doc.text),
            "passages": len(passages),
            "warnings": doc.warnings,
        }
    raise SystemExit(f"unknown method {method}")


def _warm_up(method: str, warmup: str | None) -> None:
    if warmup:
        _run_one(method, warmup)
    if method.startswith("tipscan"):
        # The smallest file has no provision long enough to need the sentencizer.
        from service.segment import prepare

        prepare()


def traced(files: list[str], warmup: str | None) -> None:
    """tipscan (pdfium) under tracemalloc: Python's peak, and what is handed back.

    The documents and passages are kept, as a caller would keep them, so the
    allocations left at the end are the output; the peak shows what extraction
    needed on top.
    """
    import gc
    import tracemalloc

    from service.extract import extract_path
    from service.segment import segment_document

    _warm_up("tipscan_pdfium", warmup)
    gc.collect()
    tracemalloc.start()
    kept = []
    for f in files:
        doc = extract_path(f)
        kept.append((doc, segment_document(doc)))
    gc.collect()
    current, peak = tracemalloc.get_traced_memory()
    json.dump(
        {
            "pages": sum(d.page_count for d, _ in kept),
            "output_mib": current / 2**20,
            "peak_mib": peak / 2**20,
        },
        sys.stdout,
    )


def child(method: str, files: list[str], warmup: str | None) -> None:
    if method == "traced":
        traced(files, warmup)
        return
    t0 = time.perf_counter()
    rss_start = _current_rss_mib()
    _warm_up(method, warmup)
    warm_s = time.perf_counter() - t0
    rss_warm = _current_rss_mib()
    peak_warm = _rss_mib()
    per_file = []
    t_all = time.perf_counter()
    for f in files:
        t = time.perf_counter()
        out = _run_one(method, f)
        out["seconds"] = time.perf_counter() - t
        out["file"] = f
        per_file.append(out)
    total_s = time.perf_counter() - t_all
    json.dump(
        {
            "method": method,
            "seconds": total_s,
            "pages": sum(r["pages"] for r in per_file),
            "warmup_s": warm_s,
            "rss_start_mib": rss_start,
            "rss_after_warmup_mib": rss_warm,
            "peak_after_warmup_mib": peak_warm,
            "peak_rss_mib": _rss_mib(),
            "ru_maxrss_mib": _maxrss_mib(),
            "files": per_file,
        },
        sys.stdout,
    )


# --------------------------------------------------------------------------- generated PDF


def _font_filter(font_path: Path):
    """A function mapping text to what the font can draw (missing glyphs -> '?')."""
    from fontTools.ttLib import TTFont

    cmap = set(TTFont(str(font_path), lazy=True).getBestCmap())

    def clean(text: str) -> str:
        return "".join(c if ord(c) in cmap else "?" for c in text)

    return clean


_LATIN1_MAP = str.maketrans(
    {"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-", "…": "...", "•": "*"}
)


def _latin1(text: str) -> str:
    text = text.translate(_LATIN1_MAP)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return text.encode("latin-1", "replace").decode("latin-1")


def _source_sections() -> list[tuple[str, list[str]]]:
    """(title, paragraphs) of every English passage of the source documents."""
    from service.extract import extract_path
    from service.segment import segment_document

    sections = []
    for rel in SOURCES:
        doc = extract_path(CORPUS / rel)
        for p in segment_document(doc):
            if p.language != "en":
                continue
            paras = [line.strip() for line in p.text.split("\n") if line.strip()]
            if paras:
                sections.append((p.title or p.citation, paras))
    return sections


def generate_legal_pdf(path: Path, pages: int) -> dict:
    """Lay corpus passages out as numbered sections until exactly ``pages`` pages."""
    from fpdf import FPDF

    sections = _source_sections()
    regular, bold = FONT_DIR / "DejaVuSerif.ttf", FONT_DIR / "DejaVuSerif-Bold.ttf"
    use_ttf = regular.exists() and bold.exists()
    clean = _font_filter(regular) if use_ttf else _latin1
    family = "DejaVuSerif" if use_ttf else "Times"
    header_text = "CONSOLIDATED INTEGRITY AND ANTI-CORRUPTION CODE (benchmark edition)"

    class LegalPDF(FPDF):
        def header(self) -> None:
            self.set_font(family, "", 8)
            self.cell(0, 5, header_text, align="C", new_x="LMARGIN", new_y="NEXT")
            self.ln(4)

        def footer(self) -> None:
            self.set_y(-15)
            self.set_font(family, "", 8)
            self.cell(0, 5, f"Page {self.page_no()}", align="C")

    pdf = LegalPDF(format="A4")
    pdf.set_title("Consolidated Integrity and Anti-Corruption Code (benchmark)")
    if use_ttf:
        pdf.add_font(family, "", str(regular))
        pdf.add_font(family, "B", str(bold))
    pdf.set_auto_page_break(False)
    pdf.set_margins(25, 20, 25)
    pdf.add_page()
    bottom = pdf.h - 22
    width = pdf.w - pdf.l_margin - pdf.r_margin
    line_h = 5.2
    number = 0
    done = False

    def room(h: float) -> bool:
        """Make room for a line of height h; False once the last page is full."""
        if pdf.get_y() + h <= bottom:
            return True
        if pdf.page_no() >= pages:
            return False
        pdf.add_page()
        return True

    while not done:
        for title, paras in sections:
            number += 1
            pdf.set_font(family, "B", 10.5)
            if not room(2 * line_h + 3):
                done = True
                break
            pdf.ln(3)
            heading = clean(f"Section {number}. {title}")
            pdf.multi_cell(width, line_h, heading, align="L", new_x="LMARGIN", new_y="NEXT")
            pdf.set_font(family, "", 10)
            for para in paras:
                lines = pdf.multi_cell(width, line_h, clean(para), dry_run=True, output="LINES")
                for line in lines:
                    if not room(line_h):
                        done = True
                        break
                    pdf.cell(width, line_h, line, new_x="LMARGIN", new_y="NEXT")
                if done:
                    break
                pdf.ln(1.5)
            if done:
                break
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    pdf.output(str(tmp))
    tmp.replace(path)
    return {"sections": number, "font": family, "source_sections": len(sections)}


def cut_pages(src: Path, dst: Path, n: int) -> None:
    """The first n pages of src as a new PDF."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(src))
    new = pdfium.PdfDocument.new()
    new.import_pages(pdf, list(range(n)))
    new.save(str(dst))
    new.close()
    pdf.close()


def page_count(path: Path) -> int:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path))
    n = len(pdf)
    pdf.close()
    return n


# --------------------------------------------------------------------------- parent side


def measure(method: str, files: list[Path], warmup: Path | None) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", method]
    if warmup:
        cmd += ["--warmup", str(warmup)]
    cmd += ["--files", *map(str, files)]
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=BENCH.parent)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"{method} failed:\n{proc.stderr[-3000:]}")
    result = json.loads(proc.stdout)
    result["process_wall_s"] = wall
    return result


def summarise(runs: list[dict], subset: set[str] | None = None) -> dict:
    """Median seconds over repeats, optionally over a subset of files."""
    secs, pages = [], 0
    for r in runs:
        files = [f for f in r["files"] if subset is None or f["file"] in subset]
        secs.append(sum(f["seconds"] for f in files))
        pages = sum(f["pages"] for f in files)
    med = statistics.median(secs)
    return {
        "pages": pages,
        "median_s": med,
        "runs_s": secs,
        "pages_per_s": pages / med if med else float("inf"),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="smoke run: few files, 1 repeat")
    ap.add_argument("--pages", type=int, default=1000, help="pages of the generated PDF")
    ap.add_argument("--methods", nargs="*", default=METHODS, choices=METHODS)
    ap.add_argument("--no-flat", action="store_true", help="skip the memory-flatness check")
    ap.add_argument("--no-scanned", action="store_true", help="skip the scanned (OCR) PDF")
    ap.add_argument("--out", type=Path, default=RESULTS / "extract.json")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--warmup", help=argparse.SUPPRESS)
    ap.add_argument("--files", nargs="*", help=argparse.SUPPRESS)
    ap.add_argument("--generate", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.generate:
        json.dump(generate_legal_pdf(args.generate, args.pages), sys.stdout)
        return
    if args.child:
        child(args.child, args.files or [], args.warmup)
        return
    if BASELINE not in args.methods:
        args.methods.insert(0, BASELINE)
    repeat = 1 if args.quick else args.repeat

    corpus = sorted(
        p for p in CORPUS.glob("*/*.pdf") if p.relative_to(CORPUS).as_posix() != SCANNED
    )
    if args.quick:
        corpus = sorted(corpus, key=lambda p: p.stat().st_size)[:3]

    gen = CACHE / f"legal-{args.pages}p-v{GEN_VERSION}.pdf"
    gen_info: dict = {"path": str(gen), "cached": gen.exists()}
    if not gen.exists():
        # In a subprocess: importing tipscan here would raise this process's RSS, which
        # children inherit as their ru_maxrss floor.
        t = time.perf_counter()
        cmd = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--generate",
            str(gen),
            "--pages",
            str(args.pages),
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=BENCH.parent)
        if proc.returncode != 0:
            raise SystemExit(f"generating {gen} failed:\n{proc.stderr[-3000:]}")
        gen_info.update(json.loads(proc.stdout))
        gen_info["generate_s"] = round(time.perf_counter() - t, 1)
    gen_info["pages"] = page_count(gen)
    print(f"generated PDF: {gen} ({gen_info['pages']} pages, {gen.stat().st_size:,} bytes)")

    tmpdir = Path(tempfile.mkdtemp(prefix="tipscan-bench-"))
    first100 = tmpdir / "legal-first100.pdf"
    cut_pages(gen, first100, min(100, gen_info["pages"]))
    gen_used = first100 if args.quick else gen
    files = [*corpus, gen_used]
    warmup = min(corpus, key=lambda p: p.stat().st_size)
    corpus_set = {str(p) for p in corpus}
    print(
        f"files: {len(corpus)} corpus PDFs + {gen_used.name}; repeat {repeat}; "
        f"warm-up file {warmup.name}",
        flush=True,
    )

    results: dict = {}
    for method in args.methods:
        runs = []
        for i in range(repeat):
            r = measure(method, files, warmup)
            print(
                f"  {method} run {i + 1}: {r['pages']} pages in {r['seconds']:.1f} s, "
                f"peak {r['peak_rss_mib']:.0f} MiB",
                flush=True,
            )
            runs.append(r)
        results[method] = {
            "all": summarise(runs),
            "corpus": summarise(runs, corpus_set),
            "generated": summarise(runs, {str(gen_used)}),
            "peak_rss_mib": statistics.median(r["peak_rss_mib"] for r in runs),
            "peak_rss_mib_runs": [r["peak_rss_mib"] for r in runs],
            "ru_maxrss_mib_runs": [r["ru_maxrss_mib"] for r in runs],
            "rss_after_warmup_mib": statistics.median(r["rss_after_warmup_mib"] for r in runs),
            "warmup_s": statistics.median(r["warmup_s"] for r in runs),
            "process_wall_s": statistics.median(r["process_wall_s"] for r in runs),
            "per_file": [
                {k: f[k] for k in ("file", "pages", "chars", "passages", "seconds") if k in f}
                for f in runs[0]["files"]
            ],
            "warnings": {f["file"]: f["warnings"] for f in runs[0]["files"] if f.get("warnings")},
        }

    base = results[BASELINE]
    rows = []
    for method, r in results.items():
        a = r["all"]
        rows.append(
            [
                method,
                str(a["pages"]),
                f"{a['median_s']:.2f}",
                f"{a['pages_per_s']:.1f}",
                f"{a['pages_per_s'] / base['all']['pages_per_s']:.2f}x",
                f"{r['peak_rss_mib']:.0f}",
                f"{r['peak_rss_mib'] / base['peak_rss_mib']:.2f}x",
                f"{r['rss_after_warmup_mib']:.0f}",
                f"{r['warmup_s']:.2f}",
                " / ".join(f"{s:.1f}" for s in a["runs_s"]),
            ]
        )
    print()
    print(
        f"## Extraction speed and memory ({len(corpus)} corpus PDFs + generated "
        f"{page_count(gen_used)}-page PDF; median of {repeat})"
    )
    print()
    print(
        fmt_table(
            [
                "method",
                "pages",
                "median s",
                "pages/s",
                "vs plumber",
                "peak RSS MiB",
                "RSS vs plumber",
                "RSS after warm-up MiB",
                "warm-up s",
                "runs s",
            ],
            rows,
        )
    )
    print()
    sub_rows = []
    for method, r in results.items():
        c, g = r["corpus"], r["generated"]
        sub_rows.append(
            [
                method,
                f"{c['pages']}",
                f"{c['pages_per_s']:.1f}",
                f"{c['pages_per_s'] / base['corpus']['pages_per_s']:.2f}x",
                f"{g['pages']}",
                f"{g['pages_per_s']:.1f}",
                f"{g['pages_per_s'] / base['generated']['pages_per_s']:.2f}x",
            ]
        )
    print("### By subset (pages/s, ratio vs plain pdfplumber)")
    print()
    print(
        fmt_table(
            [
                "method",
                "corpus pages",
                "corpus p/s",
                "vs plumber",
                "generated pages",
                "generated p/s",
                "vs plumber",
            ],
            sub_rows,
        )
    )
    print()
    per_file_rows = []
    for i, f in enumerate(results[BASELINE]["per_file"]):
        row = [Path(f["file"]).name, str(f["pages"])]
        for method in results:
            pf = results[method]["per_file"][i]
            row.append(f"{pf['pages'] / pf['seconds']:.0f}" if pf["seconds"] else "-")
        for method in ("tipscan_pdfium", "tipscan_pdfplumber"):
            if method in results:
                row.append(str(results[method]["per_file"][i].get("passages", "-")))
        per_file_rows.append(row)
    print("### Per file (pages/s of the first run; passages from tipscan)")
    print()
    print(
        fmt_table(
            [
                "file",
                "pages",
                *results,
                *(f"passages {m.split('_')[1]}" for m in results if m.startswith("tipscan")),
            ],
            per_file_rows,
        )
    )
    print()

    verdict = {}
    if "tipscan_pdfium" in results:
        ratio = results["tipscan_pdfium"]["all"]["pages_per_s"] / base["all"]["pages_per_s"]
        verdict = {"ratio": ratio, "target": TARGET_RATIO, "met": ratio >= TARGET_RATIO}
        print(
            f"**Target** tipscan (pdfium, default) >= {TARGET_RATIO:g}x plain pdfplumber "
            f"pages/s: measured {ratio:.2f}x -> {'MET' if verdict['met'] else 'NOT MET'}"
        )
        print()

    flat: dict = {}
    if not args.no_flat:
        flat_methods = (
            ["tipscan_pdfium"] if args.quick else ["tipscan_pdfium", "tipscan_pdfplumber"]
        )
        rows = []
        for method in flat_methods:
            a = measure(method, [first100], warmup)
            b = measure(method, [gen], warmup)
            flat[method] = {
                "pages_small": a["pages"],
                "pages_large": b["pages"],
                "peak_small_mib": a["peak_rss_mib"],
                "peak_large_mib": b["peak_rss_mib"],
                "after_warmup_small_mib": a["rss_after_warmup_mib"],
                "after_warmup_large_mib": b["rss_after_warmup_mib"],
                "seconds_small": a["seconds"],
                "seconds_large": b["seconds"],
            }
            f = flat[method]
            growth = f["peak_large_mib"] - f["peak_small_mib"]
            base_large = f["peak_large_mib"] - f["after_warmup_large_mib"]
            base_small = f["peak_small_mib"] - f["after_warmup_small_mib"]
            f["growth_mib"] = growth
            f["kib_per_extra_page"] = growth * 1024 / max(1, f["pages_large"] - f["pages_small"])
            rows.append(
                [
                    method,
                    f"{f['peak_small_mib']:.0f} ({base_small:+.0f})",
                    f"{f['peak_large_mib']:.0f} ({base_large:+.0f})",
                    f"{growth:+.0f}",
                    f"{f['kib_per_extra_page']:.0f}",
                    f"{f['seconds_small']:.1f} / {f['seconds_large']:.1f}",
                ]
            )
        for label, path in (("small", first100), ("large", gen)):
            t = measure("traced", [path], warmup)
            flat["tipscan_pdfium"][f"python_peak_{label}_mib"] = t["peak_mib"]
            flat["tipscan_pdfium"][f"python_output_{label}_mib"] = t["output_mib"]
        print("### Memory flatness (generated PDF: first 100 pages vs all pages, one process each)")
        print()
        print(
            fmt_table(
                [
                    "method",
                    "peak MiB 100 p (over warm-up)",
                    f"peak MiB {gen_info['pages']} p (over warm-up)",
                    "growth MiB",
                    "KiB per extra page",
                    "seconds 100 p / all",
                ],
                rows,
            )
        )
        print()

        f = flat["tipscan_pdfium"]
        print(
            "Python allocations of tipscan_pdfium (tracemalloc, documents and passages kept): "
            f"100 p peak {f['python_peak_small_mib']:.1f} MiB, output "
            f"{f['python_output_small_mib']:.1f} MiB; {gen_info['pages']} p peak "
            f"{f['python_peak_large_mib']:.1f} MiB, output {f['python_output_large_mib']:.1f} MiB"
        )
        print()

    scanned: dict = {}
    if not args.no_scanned and not args.quick:
        spath = CORPUS / SCANNED
        r = measure("tipscan_pdfium", [spath], warmup)
        p = measure("pdfium_plain", [spath], None)
        f = r["files"][0]
        scanned = {
            "file": SCANNED,
            "pages": f["pages"],
            "tipscan_pdfium_s": f["seconds"],
            "tipscan_chars": f["chars"],
            "passages": f.get("passages"),
            "warnings": f.get("warnings"),
            "peak_rss_mib": r["peak_rss_mib"],
            "plain_pdfium_chars": p["files"][0]["chars"],
        }
        print(f"### Scanned PDF (separate; not in the tables above): {SCANNED}")
        print()
        print(
            f"plain pdfium text layer: {scanned['plain_pdfium_chars']} chars; tipscan pdfium "
            f"(OCR): {f['pages']} pages in {f['seconds']:.1f} s, {f['chars']} chars, "
            f"{f.get('passages')} passages, peak {r['peak_rss_mib']:.0f} MiB; "
            f"warnings: {f.get('warnings')}"
        )
        print()

    from importlib.metadata import version

    report = {
        "host": {
            "python": platform.python_version(),
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
            "pdfplumber": version("pdfplumber"),
            "pdfminer.six": version("pdfminer.six"),
            "pypdfium2": version("pypdfium2"),
        },
        "parent_ru_maxrss_mib": _maxrss_mib(),
        "peak_memory_source": "VmHWM of each child (/proc/self/status)",
        "quick": args.quick,
        "repeat": repeat,
        "corpus_files": [str(p) for p in corpus],
        "generated": gen_info,
        "warmup_file": str(warmup),
        "methods": results,
        "target": verdict,
        "memory_flatness": flat,
        "scanned": scanned,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(f"JSON written to {args.out}")
    for f in tmpdir.iterdir():
        f.unlink()
    tmpdir.rmdir()


if __name__ == "__main__":
    main()
