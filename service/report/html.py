"""The HTML report: one self-contained page (no scripts, no network), readable printed."""

from __future__ import annotations

import os
from collections.abc import Sequence
from html import escape
from pathlib import Path

from ..evidence import flat
from ..labels import BY_ID, LABEL_IDS, PRINCIPLES
from ..model import Coverage, DocumentCoverage, Evidence
from .words import LOW, label_word, low_confidence

CSS = """
body{font:15px/1.45 Georgia,'Times New Roman',serif;color:#1d1d1d;max-width:1200px;margin:2em auto;padding:0 1.2em}
h1,h2,h3{font-family:Helvetica,Arial,sans-serif;line-height:1.2}
h1{font-size:1.6em;margin-bottom:.2em} h2{font-size:1.25em;margin-top:1.8em;border-bottom:2px solid #ddd}
h3{font-size:1.05em;margin:1.2em 0 .4em}
.meta{color:#555;font-size:.9em}
table{border-collapse:collapse;margin:.6em 0;font-family:Helvetica,Arial,sans-serif;font-size:.85em}
th,td{border:1px solid #ccc;padding:.3em .45em;vertical-align:top;text-align:left}
th{background:#f3f3f3}
.heat td.c{text-align:center;min-width:2.4em;font-variant-numeric:tabular-nums}
.heat th.docname{font-weight:normal;min-width:16em;max-width:28em}
.heat th.lab{text-align:center;font-size:.9em}
.s-covered{background:#1a7f37;color:#fff}.s-partial{background:#f0c000}.s-gap{background:#cf222e;color:#fff}
.s-uncertain{background:#d0d7de}
.s-low{background:repeating-linear-gradient(135deg,#8fd19e 0 6px,#c9ecd2 6px 12px);color:#0b3d17;font-weight:bold}
.ctx{color:#666} q{quotes:none;font-weight:bold}
blockquote.weak{border-left-color:#d4a72c;background:#fbf8ef} span.weak{font-family:Helvetica,Arial,sans-serif;font-size:.75em;color:#7a5d00;font-weight:bold}
details summary{font-family:Helvetica,Arial,sans-serif;font-size:.8em;color:#0550ae;cursor:pointer}
.passage{white-space:pre-wrap;font-size:.9em;border-top:1px dashed #ccc;margin-top:.3em;padding-top:.3em}
.pass{color:#1a7f37;font-weight:bold}.fail{color:#cf222e;font-weight:bold}.na{color:#666;font-weight:bold}
.checks{display:flex;gap:1em;flex-wrap:wrap}
.check{border:1px solid #ccc;border-radius:6px;padding:.6em 1em;flex:1;min-width:18em}
blockquote{margin:.4em 0 .8em 0;padding:.3em .8em;border-left:4px solid #1a7f37;background:#f6f8f6}
blockquote .cite{display:block;font-family:Helvetica,Arial,sans-serif;font-size:.8em;color:#444;margin-top:.3em}
.gap{border-left:4px solid #cf222e;padding:.2em .8em;margin:.5em 0}
.legend span{display:inline-block;padding:0 .5em;margin-right:.4em}
@media print{body{max-width:none;margin:0;font-size:11pt}.heat th.doc{max-height:none}
 a{color:inherit;text-decoration:none} h2{break-after:avoid} blockquote,.gap,tr{break-inside:avoid}
 .s-covered,.s-partial,.s-gap,.s-uncertain,.s-low{-webkit-print-color-adjust:exact;print-color-adjust:exact}}
"""


def _cell(d: DocumentCoverage, label: str) -> str:
    """One heat-map cell: covered (low confidence hatched), uncertain, or the best score."""
    lc = d.labels[label]
    name = escape(d.title or d.path, quote=True)
    if low_confidence(lc):
        cls, text = "c s-low", "&#10003;?"
    elif lc.covered:
        cls, text = "c s-covered", "&#10003;"
    elif lc.status == "uncertain":
        cls, text = "c s-uncertain", "?"
    else:
        # light to darker amber as the best score grows, never reaching "covered" green
        light = 97 - int(min(lc.score, 1.0) * 35)
        return (f"<td class='c' style='background:hsl(40,90%,{light}%)' title='{name}: {label} "
                f"not covered, best score {lc.score:.2f}'>{lc.score:.2f}</td>")  # fmt: skip
    return (f"<td class='{cls}' title='{name}: {label} {label_word(lc)}, "
            f"best score {lc.score:.2f}'>{text}</td>")  # fmt: skip


def _name(d: DocumentCoverage) -> str:
    return d.title or Path(d.path).name


def _source_link(d: DocumentCoverage, page: int | None, out_dir: Path | None) -> str | None:
    """A link to the page of the local source file (PDF viewers honour #page=N), relative
    to the report's folder. Without a folder (a report served by the API, whose paths
    are names clients chose) there is no local file to link to, and none is looked up."""
    if out_dir is None:
        return None
    src = Path(d.path)
    if not src.exists():
        return None
    target = os.path.relpath(src.resolve(), out_dir.resolve())
    href = Path(target).as_posix()
    return f"{href}#page={page}" if page and src.suffix.lower() == ".pdf" else href


def where(d: DocumentCoverage, e: Evidence) -> str:
    """ "Title, Article 5(2), p. 12": the page only where the source has pages and the
    citation does not already give it."""
    parts = [_name(d)]
    if e.citation:
        parts.append(e.citation)
    if e.page is not None and not (e.citation or "").startswith("p. "):
        parts.append(f"p. {e.page}")
    return ", ".join(parts)


def _check_html(value: bool | None) -> str:
    if value is None:
        return '<span class="na">n/a</span>'
    return '<span class="pass">PASS</span>' if value else '<span class="fail">FAIL</span>'


def _status_span(word: str, status: str) -> str:
    cls = "low" if word == LOW else status
    return f"<span class='s-{cls}'>&nbsp;{escape(word)}&nbsp;</span>"


def _evidence_html(d: DocumentCoverage, e: Evidence, out_dir: Path | None) -> str:
    cite = escape(where(d, e))
    link = _source_link(d, e.page, out_dir)
    if link:
        cite = f"<a href='{escape(link)}'>{cite}</a>"
    before = f"<span class='ctx'>{escape(e.context_before)} </span>" if e.context_before else ""
    after = f"<span class='ctx'> {escape(e.context_after)}</span>" if e.context_after else ""
    whole = ""
    if e.passage_text and flat(e.passage_text) != e.text:
        whole = (f"<details><summary>whole passage</summary><div class='passage'>"
                 f"{escape(e.passage_text)}</div></details>")  # fmt: skip
    lang = f" lang='{escape(e.language)}'" if e.language else ""
    weak = "" if e.citable else "<span class='weak'>weaker match: check before citing</span> "
    cls = "" if e.citable else " class='weak'"
    return (f"<blockquote{lang}{cls}>{weak}{before}<q>{escape(e.text)}</q>{after}"
            f"<span class='cite'>{cite}; score {e.score:.2f}</span>{whole}</blockquote>")  # fmt: skip


def render_html(cov: Coverage, out_dir: Path | None = None) -> str:
    c = cov.corpus
    from .countries import render_countries_html, report_title

    title = f"tipscan {report_title(cov)}"
    h: list[str] = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f"<p class='meta'>{len(cov.documents)} documents scored, {len(cov.failures)} failed. "
        f"Model <code>{escape(str(cov.model['name']))}</code>. Generated {escape(cov.created_at)} "
        f"by tipscan {escape(cov.tipscan_version)}. Scores are a model's reading: check the quoted "
        "passages before citing them.</p>",
        "<h2>Cross checks</h2><div class='checks'>",
    ]
    names = {
        "tip_mentions_corruption": "Anti-trafficking laws and plans mention corruption",
        "ac_mentions_trafficking": "Anti-corruption laws and strategies mention trafficking",
    }
    by_path = {d.path: d for d in cov.documents}
    for key, check in c.checks.items():
        h.append(f"<div class='check' id='check-{key}'><b>{escape(names[key])}</b> "
                 f"({escape(key)}): {_check_html(check.passed)}<br>{escape(check.note)}")  # fmt: skip
        if check.failing:
            h.append("<ul>")
            h += [f"<li>fails: {escape(_name(by_path[p]))}</li>" for p in check.failing]
            h.append("</ul>")
        h.append("</div>")
    h.append("</div>")

    h.append("<h2>Summary by principle</h2><table class='summary'><tr><th>principle</th>"
             "<th>status</th><th>sub-principles</th></tr>")  # fmt: skip
    for number, ptitle in PRINCIPLES.items():
        status = c.principles[str(number)]
        subs = " ".join(
            f"<span title='{escape(BY_ID[x].slug)}'>{x}</span>"
            f"{_status_span(label_word(c.labels[x]), c.labels[x].status)}"
            for x in LABEL_IDS
            if BY_ID[x].principle == number
        )
        h.append(f"<tr><td>{number}. {escape(ptitle)}</td><td class='s-{status}'>{status}</td>"
                 f"<td>{subs}</td></tr>")  # fmt: skip
    h.append("</table>")
    low = [x for x in LABEL_IDS if low_confidence(c.labels[x])]
    if low:
        h.append(f"<p class='meta' id='low-confidence'>Covered with low confidence: "
                 f"{', '.join(low)}. The model saw too few training examples of these labels "
                 "to be relied on, or no passage scores high enough to quote: read the "
                 "evidence before citing it.</p>")  # fmt: skip
    h.append(render_countries_html(cov))
    if c.uncertain:
        h.append(f"<p class='meta'>Marked uncertain, not gaps: {', '.join(c.uncertain)} (the model "
                 "has too few training examples of these to trust a missing label).</p>")  # fmt: skip

    h.append("<h2>Heat map: documents &times; principles</h2>")
    h.append("<p class='legend meta'><span class='s-covered'>&#10003; covered</span>"
             "<span class='s-low'>&#10003;? covered (low confidence)</span>"
             "<span class='s-uncertain'>? uncertain</span>"
             "<span style='background:hsl(40,90%,75%)'>0.60 high score, not covered</span>"
             "<span style='background:hsl(40,90%,96%)'>0.05 low score</span> "
             "numbers: the best passage score. The two theme columns are the flags the "
             "cross checks use.</p>")  # fmt: skip
    h.append("<table class='heat' id='heatmap'><tr><th>document</th>")
    h += [f"<th class='lab' title='{escape(BY_ID[x].slug)}'>{x}</th>" for x in LABEL_IDS]
    h.append("<th class='lab'>traf&shy;ficking</th><th class='lab'>corrup&shy;tion</th></tr>")
    for d in cov.documents:
        h.append(f"<tr><th class='docname' title='{escape(d.path)}'>{escape(_name(d))}"
                 f"<br><small>{escape(d.doc_type)}</small></th>")  # fmt: skip
        h += [_cell(d, x) for x in LABEL_IDS]
        h += [f"<td class='c'>{'yes' if flag else 'no'}</td>"
              for flag in (d.mentions_trafficking, d.mentions_corruption)]  # fmt: skip
        h.append("</tr>")
    h.append("</table>")

    if c.gaps:
        h.append("<h2>Gaps and what the guiding principles recommend</h2>")
        for g in c.gaps:
            h.append(f"<div class='gap' id='gap-{g.label}'><b>{g.label} {escape(g.slug)}</b> "
                     f"(principle {g.principle}): {escape(g.recommendation)}</div>")  # fmt: skip

    h.append("<h2>Evidence</h2>")
    for label in LABEL_IDS:
        docs = [d for d in cov.documents if d.labels[label].covered]
        if not docs:
            continue
        note = " <span class='s-low'>&nbsp;low confidence&nbsp;</span>" if label in low else ""
        h.append(f"<h3 id='evidence-{label}'>{label} {escape(BY_ID[label].slug)}{note}</h3>")
        for d in docs:
            h += [_evidence_html(d, e, out_dir) for e in d.labels[label].evidence[:2]]

    h.append("<h2>Documents</h2><table><tr><th>document</th><th>type</th><th>pages</th>"
             "<th>passages</th><th>language</th><th>warnings</th></tr>")  # fmt: skip
    for d in cov.documents:
        h.append(f"<tr><td>{escape(_name(d))}<br><small>{escape(d.path)}</small></td>"
                 f"<td>{escape(d.doc_type)} <small>({d.doc_type_source})</small></td>"
                 f"<td>{d.pages}</td><td>{d.passages}</td><td>{escape(d.language or '')}</td>"
                 f"<td>{escape('; '.join(d.warnings))}</td></tr>")  # fmt: skip
    h.append("</table>")
    if cov.failures:
        h.append("<h2>Failed documents</h2><ul>")
        h += [
            f"<li>{escape(f.path)}: {escape(f.message)} ({escape(f.code)})</li>"
            for f in cov.failures
        ]
        h.append("</ul>")
    h.append("</body></html>\n")
    return "\n".join(h)


def render_compare_table(reports: Sequence[Coverage], table_id: str = "compare") -> list[str]:
    """The principles x countries table: each report's corpus-level status per label."""
    names = [r.country or f"corpus {i + 1}" for i, r in enumerate(reports)]
    h = [
        f"<table class='heat' id='{escape(table_id)}'><tr><th>label</th>",
        *(f"<th>{escape(n)}</th>" for n in names),
        "</tr>",
    ]
    for label in LABEL_IDS:
        h.append(f"<tr><th>{label} {escape(BY_ID[label].slug)}</th>")
        for r in reports:
            cl = r.corpus.labels[label]
            h.append(f"<td class='c'>{_status_span(label_word(cl), cl.status)}</td>")
        h.append("</tr>")
    for key in ("tip_mentions_corruption", "ac_mentions_trafficking"):
        h.append(f"<tr><th>{key}</th>")
        h += [f"<td class='c'>{_check_html(r.corpus.checks[key].passed)}</td>" for r in reports]
        h.append("</tr>")
    h.append("</table>")
    return h


def render_compare_html(reports: Sequence[Coverage]) -> str:
    h = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>tipscan comparison</title><style>{CSS}</style></head><body>",
        "<h1>Principles &times; countries</h1>",
        *render_compare_table(reports),
        "</body></html>\n",
    ]
    return "\n".join(h)
