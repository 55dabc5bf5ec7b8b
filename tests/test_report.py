"""The reports of a real small run (five documents of corpus/ and a truncated PDF): JSON,
CSV, Markdown, self-contained HTML, and several runs side by side."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from typer.testing import CliRunner

from service.cli import app
from service.labels import BY_ID, LABEL_IDS
from service.report import (
    load_coverage,
    render_compare_csv,
    render_csv,
    render_markdown,
    write_reports,
)
from service.report.words import LOW, low_confidence
from tests.conftest import POC_BILL, SAMPLE_RUN, TRUNCATED

NO_CHROMIUM = (
    "chromium is not installed (apt-get install chromium); the HTML report cannot be printed "
    "to check what a reader sees"
)


@pytest.fixture(scope="module")
def reports(sample_run, tmp_path_factory: pytest.TempPathFactory) -> Path:  # type: ignore[no-untyped-def]
    out = tmp_path_factory.mktemp("report")
    written = write_reports(sample_run.first, out)
    assert sorted(p.name for p in written) == [
        "coverage.csv",
        "coverage.json",
        "report.html",
        "report.md",
    ]
    assert all(p.parent == out and p.stat().st_size > 0 for p in written)
    return out


def test_json_is_the_coverage_and_lists_every_document(sample_run, reports: Path) -> None:  # type: ignore[no-untyped-def]
    cov = sample_run.first
    data = json.loads((reports / "coverage.json").read_text("utf-8"))
    assert sorted(d["path"] for d in data["documents"]) == sorted(
        str(sample_run.folder / rel) for rel in SAMPLE_RUN
    )
    assert [(f["path"], f["code"]) for f in data["failures"]] == [
        (str(sample_run.folder / TRUNCATED), "corrupt-document")
    ]
    for d in data["documents"]:
        assert set(d["labels"]) == set(LABEL_IDS)
        assert {"doc_type", "mentions_trafficking", "mentions_corruption"} <= set(d)
        for lc in d["labels"].values():
            assert {"covered", "score", "supporting", "evidence"} <= set(lc)
            for e in lc["evidence"]:
                assert {"citation", "page", "text", "score"} <= set(e) and e["text"]
    checks = data["corpus"]["checks"]
    assert checks["ac_mentions_trafficking"]["pass"] is False  # "pass", as the guidelines say
    assert checks["ac_mentions_trafficking"]["failing"] == [str(sample_run.folder / POC_BILL)]
    # Read back, it is the same coverage.
    assert load_coverage(reports / "coverage.json") == cov


def test_csv_has_one_row_per_document_and_label(sample_run, reports: Path) -> None:  # type: ignore[no-untyped-def]
    cov = sample_run.first
    with (reports / "coverage.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(SAMPLE_RUN) * 18
    keys = [(r["path"], r["label"]) for r in rows]
    assert sorted(keys) == sorted((d.path, x) for d in cov.documents for x in LABEL_IDS)
    by_key = {(d.path, x): d.labels[x] for d in cov.documents for x in LABEL_IDS}
    for r in rows:
        lc = by_key[(r["path"], r["label"])]
        assert r["slug"] == BY_ID[r["label"]].slug
        assert r["covered"] == ("yes" if lc.covered else "no")
        assert float(r["score"]) == pytest.approx(lc.score, abs=5e-5)
        assert int(r["supporting_passages"]) == lc.supporting
        best = lc.evidence[0] if lc.evidence else None
        assert r["best_citation"] == (best.citation if best else "")
        assert r["best_page"] == ("" if best is None or best.page is None else str(best.page))
        assert r["best_quote"] == (best.text if best else "")
        assert (r["status"], r["confidence"]) == (lc.status, lc.confidence)
    # The failed file has no rows: it is listed in the other reports with its reason.
    assert TRUNCATED not in {Path(r["path"]).name for r in rows}
    poc = [r for r in rows if r["path"] == str(sample_run.folder / POC_BILL)]
    immunity = next(r for r in poc if r["label"] == "6.1")
    assert (immunity["covered"], immunity["best_citation"]) == ("yes", "Schedule, Article 30(2)")
    assert render_csv(cov) == (reports / "coverage.csv").read_bytes().decode("utf-8")


def test_markdown_has_checks_summary_gaps_evidence_and_every_document(
    sample_run, reports: Path
) -> None:  # type: ignore[no-untyped-def]
    cov = sample_run.first
    md = (reports / "report.md").read_text("utf-8")
    assert md == render_markdown(cov)
    assert f"{len(SAMPLE_RUN)} documents scored, 1 failed" in md
    tip = cov.corpus.checks["tip_mentions_corruption"]
    assert f"- **tip_mentions_corruption**: FAIL ({tip.note})" in md
    for path in tip.failing:
        assert f"  - fails: {path}" in md
    for number in range(1, 7):
        assert f"| {number}. " in md
    for gap in cov.corpus.gaps:
        assert f"- **{gap.label} {gap.slug}**: {gap.recommendation}" in md
    for label in cov.corpus.uncertain:
        assert label in md.split("trust a negative: ")[1].split("\n")[0]
    documents = md.split("## Documents")[1]
    for d in cov.documents:
        covers = ", ".join(
            x + (" (low confidence)" if d.labels[x].confidence == "low" else "")
            for x in LABEL_IDS
            if d.labels[x].covered
        )
        assert (
            f"| {d.title or d.path} | {d.doc_type} | {d.passages} | {covers or '-'} |" in documents
        )
    assert f"- {sample_run.folder / TRUNCATED}: " in md and "(corrupt-document)" in md
    # The evidence quotes the passage: Article 30(2) of the scheduled UNCAC, on immunities.
    poc = sample_run.document(POC_BILL)
    evidence = md.split("### 6.1 immunity")[1].split("###")[0]
    assert (
        f"{poc.title}, Schedule, Article 30(2), p. {poc.labels['6.1'].evidence[0].page}" in evidence
    )


class _Html(HTMLParser):
    """Tags, every URL-valued attribute and the visible text of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.urls: list[str] = []
        self.ids: set[str] = set()
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("href", "src", "action", "srcset", "data", "poster") and value:
                self.urls.append(value)
            if name == "id" and value:
                self.ids.add(value)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_html_is_self_contained_and_lists_every_document(sample_run, reports: Path) -> None:  # type: ignore[no-untyped-def]
    cov = sample_run.first
    html = (reports / "report.html").read_text("utf-8")
    page = _Html()
    page.feed(html)
    # No scripts, nothing fetched from elsewhere: no script, iframe, link or img tags, and
    # every URL is a relative path (no scheme, no host).
    assert not {"script", "iframe", "object", "embed", "link", "img"} & set(page.tags)
    assert "http://" not in html and "https://" not in html and "@import" not in html
    assert page.urls, "evidence links to the local source files"
    for url in page.urls:
        parts = urlsplit(url)
        assert not parts.scheme and not parts.netloc, url
        # Each link opens the local source file (at its page, for a PDF).
        target = (reports / unquote(parts.path)).resolve()
        assert target.is_file() and str(target).startswith(str(sample_run.folder.resolve()))
        if target.suffix == ".pdf":
            assert parts.fragment.startswith("page="), url
    assert {"check-tip_mentions_corruption", "check-ac_mentions_trafficking", "heatmap"} <= page.ids
    assert {f"gap-{g.label}" for g in cov.corpus.gaps} <= page.ids
    covered = {x for d in cov.documents for x in LABEL_IDS if d.labels[x].covered}
    assert {f"evidence-{x}" for x in covered} == {i for i in page.ids if i.startswith("evidence-")}
    text = " ".join("".join(page.text).split())
    # Cross checks come first.
    assert text.index("Cross checks") < text.index("Summary by principle") < text.index("Heat map")
    for d in cov.documents:
        assert d.path in text
    assert f"{sample_run.folder / TRUNCATED}" in text and "(corrupt-document)" in text


def test_compare_puts_runs_side_by_side(sample_run, reports: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cov = sample_run.first
    rows = list(csv.reader(io.StringIO(render_compare_csv([cov, cov]))))
    assert rows[0] == ["label", "slug", "principle", "corpus 1", "corpus 2"]
    assert [r[0] for r in rows[1:]] == [
        *LABEL_IDS,
        "tip_mentions_corruption",
        "ac_mentions_trafficking",
    ]
    for r in rows[1:19]:
        cl = cov.corpus.labels[r[0]]
        assert r[3] == r[4] == (LOW if low_confidence(cl) else cl.status)
    assert rows[19][3:] == ["FAIL", "FAIL"] and rows[20][3:] == ["FAIL", "FAIL"]
    # `tipscan compare` reads the coverage.json files and writes both reports.
    result = CliRunner().invoke(
        app, ["compare", str(reports / "coverage.json"), str(reports / "coverage.json"),
              "--out", str(tmp_path)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (tmp_path / "compare.csv").read_bytes().decode("utf-8") == render_compare_csv([cov, cov])
    html = (tmp_path / "compare.html").read_text("utf-8")
    assert "<script" not in html and "http" not in html
    assert html.count("<tr>") == 1 + 18 + 2


@pytest.mark.skipif(shutil.which("chromium") is None, reason=NO_CHROMIUM)
def test_html_report_renders_in_chromium(sample_run, reports: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Print the report with headless Chromium and read the PDF back: what shows is visible."""
    import pypdfium2 as pdfium

    pdf = tmp_path / "report.pdf"
    subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
         f"--print-to-pdf={pdf}", (reports / "report.html").as_uri()],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    doc = pdfium.PdfDocument(pdf)
    text = " ".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))
    text = " ".join(text.split())
    assert "Heat map" in text and "6.1 immunity" in text
    quote = " ".join(sample_run.document(POC_BILL).labels["6.1"].evidence[0].text.split())[:60]
    assert quote in text
