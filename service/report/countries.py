"""Documents grouped by country: each country's coverage, and the countries side by side.

A corpus that spans several countries (by the metadata's ``country`` column) is
covered per country with the same rules as the whole corpus
(:func:`~service.cover.cover_corpus`); the reports then add a principles x countries
table, the one ``tipscan compare`` draws from separate runs.
"""

from __future__ import annotations

from html import escape

from ..countries import country_name
from ..model import Coverage
from .html import render_compare_table
from .words import check_word, label_word


def spans_countries(cov: Coverage) -> bool:
    return len(cov.countries) > 1


def per_country_reports(cov: Coverage) -> list[Coverage]:
    """One Coverage per country (its documents and its corpus-level coverage), in the
    shape ``tipscan compare`` takes, so the side-by-side table is drawn by the same code."""
    by_path = {d.path: d for d in cov.documents}
    return [
        cov.model_copy(
            update={
                "country": country,
                "documents": [by_path[p] for p in cc.documents if p in by_path],
                "failures": [],
                "corpus": cc,
                "countries": {},
            }
        )
        for country, cc in cov.countries.items()
    ]


def _named(code: str) -> str:
    name = country_name(code)
    return f"{code} ({name})" if name else code


def countries_phrase(cov: Coverage) -> str:
    """ "3 countries (BRB, NLD, USA)"; a group that is not a country (intl) is named apart."""
    iso = [c for c in cov.countries if country_name(c)]
    others = [c for c in cov.countries if not country_name(c)]
    counted = f"{len(iso)} {'country' if len(iso) == 1 else 'countries'}"
    if others:
        counted += f" and {', '.join(others)}"
    return f"{counted} ({', '.join(cov.countries)})"


def report_title(cov: Coverage) -> str:
    """The title: "coverage report: BRB (Barbados)", or "... 8 countries (ARG, ...)"."""
    if cov.country:
        return f"coverage report: {_named(cov.country)}"
    if len(cov.countries) > 1:
        return f"coverage report: {countries_phrase(cov)}"
    return "coverage report"


def render_countries_html(cov: Coverage) -> str:
    """The principles x countries section of the HTML report ('' for one country)."""
    if not spans_countries(cov):
        return ""
    rows = [
        "<h2 id='countries'>Countries compared: principles &times; countries</h2>",
        "<p class='meta'>Each country's documents covered as a corpus of their own "
        "(coverage.json, <code>countries</code>; compare.csv).</p>",
        "<table><tr><th>country</th><th>documents</th><th>labels covered</th></tr>",
    ]
    for code, cc in cov.countries.items():
        covered = sum(1 for v in cc.labels.values() if v.covered)
        rows.append(
            f"<tr><td>{escape(_named(code))}</td><td>{len(cc.documents)}</td>"
            f"<td>{covered} of {len(cc.labels)}</td></tr>"
        )
    rows.append("</table>")
    rows += render_compare_table(per_country_reports(cov), table_id="countries-table")
    return "\n".join(rows)


def render_countries_markdown(cov: Coverage) -> list[str]:
    """The principles x countries section of the Markdown report (no lines for one country)."""
    if not spans_countries(cov):
        return []
    codes = list(cov.countries)
    lines = [
        "## Countries compared",
        "",
        "| label | " + " | ".join(codes) + " |",
        "|---|" + "---|" * len(codes),
    ]
    first = next(iter(cov.countries.values()))
    for label in first.labels:
        cells = [label_word(cov.countries[c].labels[label]) for c in codes]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    for check in first.checks:
        words = [check_word(cov.countries[c].checks[check].passed) for c in codes]
        lines.append(f"| {check} | " + " | ".join(words) + " |")
    lines.append(
        "| documents | " + " | ".join(str(len(cov.countries[c].documents)) for c in codes) + " |"
    )
    return [*lines, ""]
