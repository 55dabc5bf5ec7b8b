"""Coverage -> JSON, CSV, Markdown and HTML, and several countries side by side."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path

from ..labels import BY_ID, LABEL_IDS, PRINCIPLES
from ..model import Coverage
from .countries import render_countries_markdown, report_title, spans_countries
from .html import render_compare_html, render_html, where
from .words import LOW, STATUS_WORD, check_word, label_word, low_confidence

__all__ = [
    "render_compare_csv",
    "render_compare_html",
    "render_csv",
    "render_html",
    "render_json",
    "render_markdown",
    "write_reports",
]


def render_json(cov: Coverage) -> str:
    return cov.model_dump_json(by_alias=True, indent=1) + "\n"


def render_csv(cov: Coverage) -> str:
    """One row per document x label."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(
        ["path", "title", "doc_type", "country", "label", "slug", "covered", "status",
         "confidence", "score", "supporting_passages", "best_citation", "best_page", "best_quote"]
    )  # fmt: skip
    for d in cov.documents:
        for label in LABEL_IDS:
            lc = d.labels[label]
            best = lc.evidence[0] if lc.evidence else None
            w.writerow(
                [d.path, d.title or "", d.doc_type, d.country or cov.country or "", label,
                 BY_ID[label].slug, "yes" if lc.covered else "no", lc.status, lc.confidence,
                 f"{lc.score:.4f}", lc.supporting, best.citation if best else "",
                 "" if best is None or best.page is None else best.page,
                 best.text if best else ""]
            )  # fmt: skip
    return buf.getvalue()


def render_markdown(cov: Coverage) -> str:
    c = cov.corpus
    lines = [
        f"# C{report_title(cov)[1:]}",
        "",
        f"{len(cov.documents)} documents scored, {len(cov.failures)} failed; model "
        f"`{cov.model['name']}`; {cov.created_at}.",
        "",
        "## Cross checks",
        "",
    ]
    for name, check in c.checks.items():
        lines.append(f"- **{name}**: {check_word(check.passed)} ({check.note})")
        for path in check.failing:
            lines.append(f"  - fails: {path}")
    lines += ["", "## Summary", "", "| principle | status | sub-principles |", "|---|---|---|"]
    for number, title in PRINCIPLES.items():
        subs = ", ".join(
            f"{x} {label_word(c.labels[x])}" for x in LABEL_IDS if BY_ID[x].principle == number
        )
        lines.append(f"| {number}. {title} | {STATUS_WORD[c.principles[str(number)]]} | {subs} |")
    if c.gaps:
        lines += ["", "## Gaps and what the guiding principles recommend", ""]
        for g in c.gaps:
            lines.append(f"- **{g.label} {g.slug}**: {g.recommendation}")
    low = [x for x in LABEL_IDS if low_confidence(c.labels[x])]
    if low:
        lines += [
            "",
            f"Covered with low confidence: {', '.join(low)}. The model saw too few training "
            "examples of these labels to be relied on, or no passage scores high enough to "
            "quote: read the evidence before citing it.",
        ]
    if c.uncertain:
        lines += [
            "",
            "Not reported as gaps, because the model's training support for them is too thin to "
            f"trust a negative: {', '.join(c.uncertain)}.",
        ]
    lines += ["", *render_countries_markdown(cov)]
    lines += ["## Evidence", ""]
    for label in LABEL_IDS:
        docs = [d for d in cov.documents if d.labels[label].covered]
        if not docs:
            continue
        note = " (low confidence)" if label in low else ""
        lines.append(f"### {label} {BY_ID[label].slug}{note}")
        lines.append("")
        for d in docs:
            for e in d.labels[label].evidence[:2]:
                weak = "" if e.citable else " (weaker match: check before citing)"
                lines.append(f'- {where(d, e)} (score {e.score:.2f}){weak}: "{e.text}"')
        lines.append("")
    lines += ["## Documents", "", "| document | type | passages | covers |", "|---|---|---|---|"]
    for d in cov.documents:
        covers = (
            ", ".join(
                x + (" (low confidence)" if low_confidence(d.labels[x]) else "")
                for x in LABEL_IDS
                if d.labels[x].covered
            )
            or "-"
        )
        lines.append(f"| {d.title or d.path} | {d.doc_type} | {d.passages} | {covers} |")
    if cov.failures:
        lines += ["", "## Failed documents", ""]
        lines += [f"- {f.path}: {f.message} ({f.code})" for f in cov.failures]
    return "\n".join(lines) + "\n"


def write_reports(cov: Coverage, out: Path) -> list[Path]:
    """coverage.json, coverage.csv, report.md and report.html in ``out`` (and compare.csv,
    principles x countries, when the documents span several countries)."""
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "coverage.json": render_json(cov),
        "coverage.csv": render_csv(cov),
        "report.md": render_markdown(cov),
        "report.html": render_html(cov, out),
    }
    if spans_countries(cov):
        from .countries import per_country_reports

        files["compare.csv"] = render_compare_csv(per_country_reports(cov))
    written = []
    for name, text in files.items():
        path = out / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def load_coverage(path: Path | str) -> Coverage:
    return Coverage.model_validate(json.loads(Path(path).read_text(encoding="utf-8")))


def render_compare_csv(reports: Sequence[Coverage]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    names = [r.country or f"corpus {i + 1}" for i, r in enumerate(reports)]
    w.writerow(["label", "slug", "principle", *names])
    for label in LABEL_IDS:
        w.writerow(
            [label, BY_ID[label].slug, BY_ID[label].principle,
             *(LOW if low_confidence(cl) else cl.status
               for cl in (r.corpus.labels[label] for r in reports))]
        )  # fmt: skip
    for check in ("tip_mentions_corruption", "ac_mentions_trafficking"):
        w.writerow([check, "", "", *(check_word(r.corpus.checks[check].passed) for r in reports)])
    return buf.getvalue()
