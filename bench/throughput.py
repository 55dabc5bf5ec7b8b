"""Throughput model: what one core pays per text page, per OCR page and per passage, and
what a corpus of a million pages would take on N workers.

Measured in this process, on one core (``OMP_THREAD_LIMIT=1``, so Tesseract does not
spread a page over several cores), after a warm-up document:

- text pages: ``process_file`` (sniff, extract, segment) on every text PDF of the corpus;
  seconds per page = total seconds / total pages.
- OCR pages: the same on image-only PDFs: the corpus's scanned PDF, and real pages of
  the corpus's text PDFs rasterised to images (``--ocr-pages`` of them, at the OCR
  resolution, written as an image-only PDF), so that the OCR figure rests on more
  than one short scan.
- the bounded child: ``extract_isolated`` (each document extracted in a forked child
  with a deadline and a memory cap, as every executor runs it) against ``process_file``
  in process, on the text PDFs; the difference per document is what isolation costs.
- classify: ``classify_document`` (passage labels, coverage, quotes) on every text PDF's
  extraction; seconds per passage, and passages per page, so that a page's total cost
  is its extraction plus its passages' classification.

Each figure is the median of ``--repeats`` passes. The projection for a corpus of P
pages, a share s of them scanned, on N single-core workers:

    T(N) = (P * ((1 - s) * text_page + s * ocr_page + passages_per_page * passage)
            + D * isolation) / (N * e)

with D = P / (the corpus's pages per text PDF) documents, and the whole multiplied by
the ratio of a whole ``score_corpus`` run on one worker over the text PDFs to the sum of
its measured parts (what the run adds: sniffing, hashing, the corpus's coverage). e is the parallel efficiency: measured by ``bench/scale.py`` (the speed-up of
2 Dask workers over 1, halved; read from ``--scale``, its JSON); without it, the table
says e = 1 is assumed. Start-up (a worker loads the model once) is paid once per worker and is
left out, being seconds against hours.

    python bench/throughput.py [--corpus DIR] [--ocr-pages 8] [--repeats 3]
        [--scale bench/results/scale.json] [--json bench/results/throughput.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

from tables import fmt_table

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
SHARED = ROOT.parent / "shared" / "corpus"
SAMPLE = ROOT / "corpus"
RESULTS = BENCH / "results"

os.environ.setdefault("OMP_THREAD_LIMIT", "1")
sys.path.insert(0, str(ROOT))

from service.batch import Extraction, extract_isolated, process_file  # noqa: E402
from service.classify import find_model  # noqa: E402
from service.model import Document, Passage  # noqa: E402
from service.pipeline import DocumentHints, classify_document  # noqa: E402

PAGES = 1_000_000
WORKERS = (1, 2, 16, 64, 256)
OCR_SHARES = (0.0, 0.3, 1.0)


def text_layer_pdfs(corpus: Path) -> tuple[list[Path], list[Path]]:
    """The corpus's PDFs, split into those with a text layer and the scanned ones."""
    import pypdfium2 as pdfium

    text, scanned = [], []
    for f in sorted(corpus.rglob("*.pdf")):
        pdf = pdfium.PdfDocument(str(f))
        try:
            chars = sum(
                len(pdf[i].get_textpage().get_text_range()) for i in range(min(3, len(pdf)))
            )
        finally:
            pdf.close()
        (text if chars > 200 else scanned).append(f)
    return text, scanned


def rasterise(sources: list[Path], pages: int, target: Path, dpi: float) -> int:
    """Real pages of text PDFs as one image-only PDF (what a scanner gives); its page count."""
    import pypdfium2 as pdfium

    images = []
    for f in sources:
        pdf = pdfium.PdfDocument(str(f))
        try:
            for i in range(1, len(pdf)):  # a title page is rarely typical; start at page 2
                if len(images) >= pages:
                    break
                images.append(pdf[i].render(scale=dpi / 72.0, grayscale=True).to_pil())
        finally:
            pdf.close()
        if len(images) >= pages:
            break
    images[0].save(target, save_all=True, append_images=images[1:], resolution=dpi)
    return len(images)


def extract_all(files: list[Path]) -> tuple[float, int, list[tuple[Document, list[Passage]]]]:
    """Seconds to extract and segment the files, their pages, and what came out."""
    out = []
    t0 = time.perf_counter()
    for f in files:
        out.append(process_file(f))
    seconds = time.perf_counter() - t0
    return seconds, sum(d.page_count for d, _ in out), out


def isolate_all(files: list[Path]) -> float:
    """Seconds to extract and segment the files, each in its bounded child."""
    from service.extract import DEFAULT_ENGINE, DEFAULT_LIMITS, DEFAULT_MAX_MEMORY

    t0 = time.perf_counter()
    for f in files:
        extract_isolated(f, DEFAULT_ENGINE, DEFAULT_LIMITS, DEFAULT_MAX_MEMORY)
    return time.perf_counter() - t0


def whole_run(files: list[Path]) -> float:
    """Seconds for ``score_corpus`` over the files on one worker, with no cache."""
    from service.pipeline import score_corpus

    t0 = time.perf_counter()
    score_corpus(files, find_model(None, ROOT / "models"), workers=1, cache=None)
    return time.perf_counter() - t0


def classify_all(extracted: list[tuple[Document, list[Passage]]], model: object) -> float:
    t0 = time.perf_counter()
    for doc, passages in extracted:
        classify_document(
            Extraction(document=doc, passages=passages),
            model,  # type: ignore[arg-type]
            hints=DocumentHints(),
            name=doc.source,
        )
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, default=SHARED if SHARED.is_dir() else SAMPLE)
    ap.add_argument("--ocr-pages", type=int, default=8, help="text-PDF pages rasterised for OCR")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--scale", type=Path, default=RESULTS / "scale.json")
    ap.add_argument("--json", type=Path, default=RESULTS / "throughput.json")
    args = ap.parse_args()

    from service.extract import DEFAULT_LIMITS

    text, scanned = text_layer_pdfs(args.corpus)
    model = find_model(None, ROOT / "models").load()
    with tempfile.TemporaryDirectory() as tmp:
        raster = Path(tmp) / "rasterised.pdf"
        n_raster = rasterise(text, args.ocr_pages, raster, DEFAULT_LIMITS.ocr_dpi)
        ocr_files = [*scanned, raster]
        extract_all(text[:1])  # warm-up: imports, the sentencizer
        classify_all([process_file(text[0])], model)
        text_s, ocr_s, cls_s, iso_s, run_s = [], [], [], [], []
        for _ in range(args.repeats):
            s, text_pages, extracted = extract_all(text)
            text_s.append(s)
            s, ocr_pages, _ = extract_all(ocr_files)
            ocr_s.append(s)
            cls_s.append(classify_all(extracted, model))
            iso_s.append(isolate_all(text))
            run_s.append(whole_run(text))
    passages = sum(len(p) for _, p in extracted)
    text_page = statistics.median(text_s) / text_pages
    ocr_page = statistics.median(ocr_s) / ocr_pages
    passage = statistics.median(cls_s) / passages
    per_page = passages / text_pages
    isolation = max(0.0, (statistics.median(iso_s) - statistics.median(text_s)) / len(text))
    doc_pages = text_pages / len(text)
    # The parts against the whole: what score_corpus adds (sniffing, hashing, the corpus's
    # coverage) is charged to every page, in proportion.
    parts = statistics.median(text_s) + statistics.median(cls_s) + isolation * len(text)
    overhead = max(1.0, statistics.median(run_s) / parts)

    efficiency, efficiency_from = 1.0, "assumed (no bench/scale.py result)"
    measured = None
    if args.scale.is_file():
        median = json.loads(args.scale.read_text())["median"]
        measured = median["dask 1"]["scoring_s"] / median["dask 2"]["scoring_s"] / 2
        # Above 1 is noise (or a cache the second worker warmed): never project past linear.
        efficiency = min(1.0, measured)
        efficiency_from = (
            f"from bench/scale.py (2 Dask workers against 1: {measured:.2f}, at most 1 "
            f"projected; {args.scale.name})"
        )

    print(
        f"corpus {os.path.relpath(args.corpus, ROOT)}: {len(text)} text PDFs ({text_pages} pages, {passages} "
        f"passages), OCR: {len(scanned)} scanned PDFs + {n_raster} rasterised pages "
        f"({ocr_pages} pages); {args.repeats} repeats, medians; "
        f"{platform.processor() or platform.machine()}, one core\n"
    )
    print(
        fmt_table(
            ["cost, one core", "seconds", "per page incl. classify"],
            [
                [
                    "text page (extract + segment)",
                    f"{text_page:.4f}",
                    f"{text_page + per_page * passage:.4f}",
                ],
                [
                    "OCR page (render + Tesseract + segment)",
                    f"{ocr_page:.3f}",
                    f"{ocr_page + per_page * passage:.3f}",
                ],
                [
                    f"passage (classify, cover, quotes); {per_page:.1f} per page",
                    f"{passage:.5f}",
                    "",
                ],
                [
                    f"document in its bounded child; {doc_pages:.0f} pages per PDF",
                    f"{isolation:.4f}",
                    f"{isolation / doc_pages:.4f}",
                ],
                [
                    "whole run (score_corpus, 1 worker) on the text PDFs, against the "
                    f"parts ({parts:.2f} s)",
                    f"{statistics.median(run_s):.2f}",
                    f"× {overhead:.2f}",
                ],
            ],
        )
    )
    rows = []
    projection = {}
    for share in OCR_SHARES:
        cost = (1 - share) * text_page + share * ocr_page + per_page * passage
        cost = (cost + isolation / doc_pages) * overhead
        row = [f"{share:.0%}"]
        for n in WORKERS:
            hours = PAGES * cost / (n * (efficiency if n > 1 else 1.0)) / 3600
            projection[f"{share}:{n}"] = hours
            row.append(f"{hours:,.1f} h" if hours >= 1 else f"{hours * 60:,.1f} min")
        rows.append(row)
    print(f"\n{PAGES:,} pages, parallel efficiency e = {efficiency:.2f} {efficiency_from}:\n")
    print(fmt_table(["scanned share"] + [f"{n} workers" for n in WORKERS], rows))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(
        json.dumps(
            {
                "corpus": os.path.relpath(args.corpus, ROOT),
                "text_pages": text_pages,
                "ocr_pages": ocr_pages,
                "passages": passages,
                "text_page_s": text_page,
                "ocr_page_s": ocr_page,
                "passage_s": passage,
                "passages_per_page": per_page,
                "isolation_s_per_document": isolation,
                "whole_run_overhead": overhead,
                "pages_per_document": doc_pages,
                "efficiency": efficiency,
                "efficiency_measured": measured,
                "efficiency_from": efficiency_from,
                "projection_hours": projection,
                "runs": {
                    "text_s": text_s,
                    "ocr_s": ocr_s,
                    "classify_s": cls_s,
                    "isolated_s": iso_s,
                },
            },
            indent=2,
        )
    )
    print(f"\nwritten: {args.json}")


if __name__ == "__main__":
    main()
