"""The HTML report: one self-contained page (no scripts, no network), readable printed."""

from __future__ import annotations

import os
from collections.abc import Sequence
from html import escape
from pathlib import Path

from ..labels import BY_ID, LABEL_IDS, PRINCIPLES
from ..model import Coverage, DocumentCoverage

CSS = """
body{font:15px/1.45 Georgia,'Times New Roman',serif;color:#1d1d1d;max-width:1200px;margin:2em auto;padding:0 1.2em}
h1,h2,h3{font-family:Helvetica,Arial,sans-serif;line-height:1.2}
h1{font-size:1.6em;margin-bottom:.2em} h2{font-size:1.25em;margin-top:1.8em;border-bottom:2px solid #ddd}
h3{font-size:1.05em;margin:1.2em 0 .4em}
.meta{color:#555;font-size:.9em}
table{border-collapse:collapse;margin:.6em 0;font-family:Helvetica,Arial,sans-serif;font-size:.85em}
th,td{border:1px solid #ccc;padding:.3em .45em;vertical-align:top;text-align:left}
th{background:#f3f3f3}
.heat td.c{text-align:center;min-width:2.6em;font-variant-numeric:tabular-nums}
.heat th.doc{writing-mode:vertical-rl;transform:rotate(180deg);white-space:nowrap;max-height:16em;overflow:hidden;font-weight:normal}
.s-covered{background:#1a7f37;color:#fff}.s-partial{background:#f0c000}.s-gap{background:#cf222e;color:#fff}
.s-uncertain{background:#d0d7de}
.pass{color:#1a7f37;font-weight:bold}.fail{color:#cf222e;font-weight:bold}.na{color:#666;font-weight:bold}
.checks{display:flex;gap:1em;flex-wrap:wrap}
.check{border:1px solid #ccc;border-radius:6px;padding:.6em 1em;flex:1;min-width:18em}
blockquote{margin:.4em 0 .8em 0;padding:.3em .8em;border-left:4px solid #1a7f37;background:#f6f8f6}
blockquote .cite{display:block;font-family:Helvetica,Arial,sans-serif;font-size:.8em;color:#444;margin-top:.3em}
.gap{border-left:4px solid #cf222e;padding:.2em .8em;margin:.5em 0}
.legend span{display:inline-block;padding:0 .5em;margin-right:.4em}
@media print{body{max-width:none;margin:0;font-size:11pt}.heat th.doc{max-height:none}
 a{color:inherit;text-decoration:none} h2{break-after:avoid} blockquote,.gap,tr{break-inside:avoid}
 .s-covered,.s-partial,.s-gap,.s-uncertain{-webkit-print-color-adjust:exact;print-color-adjust:exact}}
"""


def _cell_style(score: float, covered: bool) -> str:
    if covered:
        return "background:#1a7f37;color:#fff"
    # light to darker amber as the best score grows, never reaching "covered" green
    light = 97 - int(min(score, 1.0) * 35)
    return f"background:hsl(40,90%,{light}%)"


def _short(d: DocumentCoverage) -> str:
    name = d.title or Path(d.path).name
    return name if len(name) <= 60 else name[:57] + "..."


def _source_link(d: DocumentCoverage, page: int, out_dir: Path | None) -> str | None:
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
    return f"{href}#page={page}" if src.suffix.lower() == ".pdf" else href


def _check_html(value: bool | None) -> str:
    if value is None:
        return '<span class="na">n/a</span>'
    return '<span class="pass">PASS</span>' if value else '<span class="fail">FAIL</span>'


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
            h += [f"<li>fails: {escape(_short(by_path[p]))}</li>" for p in check.failing]
            h.append("</ul>")
        h.append("</div>")
    h.append("</div>")

    h.append("<h2>Summary by principle</h2><table class='summary'><tr><th>principle</th>"
             "<th>status</th><th>sub-principles</th></tr>")  # fmt: skip
    for number, ptitle in PRINCIPLES.items():
        status = c.principles[str(number)]
        subs = " ".join(
            f"<span class='s-{c.labels[x].status}' title='{escape(BY_ID[x].slug)}'>&nbsp;{x} "
            f"{c.labels[x].status}&nbsp;</span>"
            for x in LABEL_IDS
            if BY_ID[x].principle == number
        )
        h.append(f"<tr><td>{number}. {escape(ptitle)}</td><td class='s-{status}'>{status}</td>"
                 f"<td>{subs}</td></tr>")  # fmt: skip
    h.append("</table>")
    h.append(render_countries_html(cov))
    if c.uncertain:
        h.append(f"<p class='meta'>Marked uncertain, not gaps: {', '.join(c.uncertain)} (the model "
                 "has too few training examples of these to trust a missing label).</p>")  # fmt: skip

    h.append("<h2>Heat map: principles &times; documents</h2>")
    h.append("<p class='legend meta'><span style='background:#1a7f37;color:#fff'>covered</span>"
             "<span style='background:hsl(40,90%,75%)'>high score, not covered</span>"
             "<span style='background:hsl(40,90%,96%)'>low score</span> "
             "numbers: the best passage score</p>")  # fmt: skip
    h.append("<table class='heat' id='heatmap'><tr><th>label</th>")
    h += [
        f"<th class='doc' title='{escape(d.path)}'>{escape(_short(d))}</th>" for d in cov.documents
    ]
    h.append("</tr>")
    for label in LABEL_IDS:
        h.append(f"<tr><th>{label} {escape(BY_ID[label].slug)}</th>")
        for d in cov.documents:
            lc = d.labels[label]
            text = "&#10003;" if lc.covered else f"{lc.score:.2f}"
            h.append(f"<td class='c' style='{_cell_style(lc.score, lc.covered)}' "
                     f"title='{escape(_short(d))}: {label} score {lc.score:.2f}'>{text}</td>")  # fmt: skip
        h.append("</tr>")
    h.append("<tr><th>mentions trafficking</th>")
    h += [f"<td class='c'>{'yes' if d.mentions_trafficking else 'no'}</td>" for d in cov.documents]
    h.append("</tr><tr><th>mentions corruption</th>")
    h += [f"<td class='c'>{'yes' if d.mentions_corruption else 'no'}</td>" for d in cov.documents]
    h.append("</tr></table>")

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
        h.append(f"<h3 id='evidence-{label}'>{label} {escape(BY_ID[label].slug)}</h3>")
        for d in docs:
            for e in d.labels[label].evidence[:2]:
                quote = e.text if len(e.text) <= 700 else e.text[:700] + " ..."
                where = f"{escape(_short(d))}, {escape(e.citation or '')}, page {e.page}"
                link = _source_link(d, e.page, out_dir)
                if link:
                    where = f"<a href='{escape(link)}'>{where}</a>"
                h.append(f"<blockquote>{escape(quote)}<span class='cite'>{where}; "
                         f"score {e.score:.2f}</span></blockquote>")  # fmt: skip

    h.append("<h2>Documents</h2><table><tr><th>document</th><th>type</th><th>pages</th>"
             "<th>passages</th><th>language</th><th>warnings</th></tr>")  # fmt: skip
    for d in cov.documents:
        h.append(f"<tr><td>{escape(_short(d))}<br><small>{escape(d.path)}</small></td>"
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
            st = r.corpus.labels[label].status
            h.append(f"<td class='c s-{st}'>{st}</td>")
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
