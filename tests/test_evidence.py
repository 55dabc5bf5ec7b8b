"""Evidence an analyst can cite: quotes from the right language, pages only where the
source has pages, low-confidence verdicts marked in every format, and verdicts that
agree with the flags the cross checks use."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from html import escape
from pathlib import Path

import pytest

from service.cover import JOINT_LABELS, cover_corpus, thin_labels
from service.evidence import CITABLE_CHARS, CITABLE_SCORE, citable, major_languages, unit_key
from service.model import Coverage
from service.pipeline import score_corpus, score_document
from service.report import render_csv, render_html, render_markdown
from service.report.html import where
from tests.conftest import SAMPLE, corpus_file
from tests.test_report import NO_CHROMIUM

PALERMO = "intl/palermo-protocol-tip.md"
COE_TRAFFICKING = "intl/coe-convention-trafficking.md"
ARG_LAW = "arg/ley-26842-trata-de-personas.md"


def test_unit_keys_pair_an_article_with_its_translation() -> None:
    assert unit_key("Article 10(2)") == unit_key("Artikel 10(2)") == "10(2)"
    assert unit_key("p. 3, para. 2") is None and unit_key("para. 7") is None
    assert unit_key(None) is None


def test_a_bilingual_treaty_gives_one_version_of_an_article(model) -> None:  # type: ignore[no-untyped-def]
    """The Council of Europe trafficking convention is held in English and Dutch: an
    article and its translation both score for the same labels, and only one of them, in
    the document's main language, is quoted."""
    scored = score_document(corpus_file(COE_TRAFFICKING), model)
    doc, passages, cov = scored.document, scored.passages, scored.coverage
    assert major_languages(passages) == {"en", "nl"}
    by_id = {p.id: p for p in passages}
    thresholds = model.thresholds
    twins = 0
    for label, lc in cov.labels.items():
        keys = [(unit_key(e.citation), by_id[e.passage_id].language) for e in lc.evidence]
        units = [k for k, _ in keys if k]
        assert len(units) == len(set(units)), (label, keys)
        supporting = [
            p for p, pred in zip(passages, scored.predictions, strict=True)
            if pred.scores[label] >= thresholds[label]
        ]  # fmt: skip
        langs: dict[str | None, set[str | None]] = {}
        for p in supporting:
            langs.setdefault(unit_key(p.citation), set()).add(p.language)
        shown = {unit_key(e.citation) for e in lc.evidence}
        for key, in_langs in langs.items():
            if key is not None and key in shown and len(in_langs) > 1:
                twins += 1
                lang = next(by_id[e.passage_id].language for e in lc.evidence
                            if unit_key(e.citation) == key)  # fmt: skip
                assert lang == doc.language
    assert twins >= 3  # the case arises: both versions of an article support a label


def test_sources_without_pages_give_no_page(model_ref, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A Markdown protocol has no pages to turn to; a PDF bill does."""
    cov = score_corpus(
        [SAMPLE / PALERMO, SAMPLE / "brb/prevention-of-corruption-bill-2021.pdf"], model_ref
    )
    md, pdf = (next(d for d in cov.documents if d.path.endswith(x)) for x in (".md", ".pdf"))
    md_evidence = [e for lc in md.labels.values() for e in lc.evidence]
    pdf_evidence = [e for lc in pdf.labels.values() for e in lc.evidence]
    assert md_evidence and all(e.page is None for e in md_evidence)
    assert pdf_evidence and all(isinstance(e.page, int) and e.page > 0 for e in pdf_evidence)
    html = render_html(cov)
    for d in (md, pdf):
        shown = [e for lc in d.labels.values() if lc.covered for e in lc.evidence[:2]]
        assert shown
        for e in shown:
            assert escape(where(d, e)) in html
            assert where(d, e).endswith(f", p. {e.page}") == (d is pdf)


def test_one_article_is_quoted_at_the_sentence_of_each_label(model_ref) -> None:  # type: ignore[no-untyped-def]
    """Palermo Article 10 opens with information exchange between authorities (2.3) and
    goes on to the training of officials (3.6): each label quotes its own sentence."""
    cov = score_corpus([SAMPLE / PALERMO], model_ref)
    d = cov.documents[0]

    def quotes(label: str) -> list[str]:
        return [
            e.text for e in d.labels[label].evidence
            if e.citation and e.citation.startswith("Article 10")
        ]  # fmt: skip

    training, sharing = quotes("3.6"), quotes("2.3")
    assert training and sharing
    assert all("training" in q and "exchanging information" not in q for q in training)
    assert all("exchanging information" in q and "training" not in q for q in sharing)


@pytest.fixture(scope="module")
def low_run(model_ref) -> Coverage:  # type: ignore[no-untyped-def]
    return score_corpus([SAMPLE / ARG_LAW, SAMPLE / PALERMO], model_ref)


def test_thin_labels_are_covered_with_low_confidence_in_every_format(low_run, model_ref) -> None:  # type: ignore[no-untyped-def]
    thin = set(thin_labels(model_ref.load().meta))
    low = [
        (d, x) for d in low_run.documents for x, lc in d.labels.items()
        if lc.covered and lc.confidence == "low"
    ]  # fmt: skip
    assert any(x in thin for _, x in low), "the Argentine law covers a thin label"
    for d in low_run.documents:
        for x, lc in d.labels.items():
            # Low: a label the model barely knows, or a covered label with no passage
            # strong enough to quote.
            weak = lc.covered and not any(e.citable for e in lc.evidence)
            assert lc.confidence == ("low" if x in thin or weak else "ok"), (d.path, x)
    html = render_html(low_run)
    md = render_markdown(low_run)
    rows = list(csv.DictReader(io.StringIO(render_csv(low_run))))
    for d, x in low:
        assert f"{x} covered (low confidence)" in md or f"{x} (low confidence)" in md
        assert f"{x} covered (low confidence)" in html
        row = next(r for r in rows if r["path"] == d.path and r["label"] == x)
        assert (row["covered"], row["confidence"]) == ("yes", "low")
    assert "s-low" in html and "low confidence" in html


def test_joint_labels_agree_with_the_flags_the_checks_use(sample_run, low_run, model_ref) -> None:  # type: ignore[no-untyped-def]
    """2.1 and 2.4 join the two themes: a document covers them only when the same flags
    that the cross checks and the heat map show say it mentions both."""
    docs = [*sample_run.first.documents, *low_run.documents]
    joint = 0
    for d in docs:
        for x in JOINT_LABELS:
            if d.labels[x].covered:
                joint += 1
                assert d.mentions_trafficking and d.mentions_corruption, (d.path, x)
    assert joint >= 1
    cov = cover_corpus(docs, [], "m", model_ref.load().meta)
    tip = cov.corpus.checks["tip_mentions_corruption"]
    html = render_html(cov)
    for path in tip.failing:
        d = next(x for x in docs if x.path == path)
        assert not d.mentions_corruption
        assert not any(d.labels[x].covered for x in JOINT_LABELS)
    # The heat map shows, per document, the same two flags.
    for d in docs:
        flags = "\n".join(
            f"<td class='c'>{'yes' if f else 'no'}</td>"
            for f in (d.mentions_trafficking, d.mentions_corruption)
        )
        assert flags in html.split(f"title='{d.path}'>", 1)[1].split("</tr>", 1)[0]


@pytest.mark.skipif(shutil.which("chromium") is None, reason=NO_CHROMIUM)
def test_the_printed_report_shows_full_titles_and_low_confidence(low_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Printed by headless Chromium, the report shows every document's full title (the
    heat map's rows) and marks the low-confidence verdicts."""
    import pypdfium2 as pdfium

    html = tmp_path / "report.html"
    html.write_text(render_html(low_run), encoding="utf-8")
    pdf = tmp_path / "report.pdf"
    subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
         f"--print-to-pdf={pdf}", html.as_uri()],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    doc = pdfium.PdfDocument(pdf)
    text = " ".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))
    text = " ".join(text.replace("\ufffe", "").replace("\u00ad", "").split())
    for d in low_run.documents:
        assert d.title and " ".join(d.title.split()) in text, d.title
    assert "covered (low confidence)" in text


def test_citable_evidence_comes_first_and_a_heading_is_never_citable(sample_run) -> None:  # type: ignore[no-untyped-def]
    """Evidence offered for citing scores at the citable bar and holds more than a heading;
    weaker matches follow it, and a covered label with none is of low confidence."""
    seen = 0
    for d in sample_run.first.documents:
        for lc in d.labels.values():
            flags = [e.citable for e in lc.evidence]
            assert flags == sorted(flags, reverse=True)
            for e in lc.evidence:
                seen += 1
                strong = e.score >= CITABLE_SCORE and len(e.passage_text.strip()) >= CITABLE_CHARS
                assert e.citable == strong
            if lc.covered and lc.evidence and not lc.evidence[0].citable:
                assert lc.confidence == "low"
    assert seen >= 50


def test_a_list_item_heading_is_not_offered_as_a_quote(model) -> None:  # type: ignore[no-untyped-def]
    """The Dutch integrity circular's step "6.De controle op de naleving van de
    gedragsregels" names the monitoring of codes of conduct, but is a heading-length line:
    it may count towards 3.1, it is not offered as a quote to cite."""
    scored = score_document(corpus_file("nld/circulaire-integriteit-preventief-beleid.md"), model)
    at = next(i for i, p in enumerate(scored.passages) if p.text.startswith("6.De controle"))
    heading, score = scored.passages[at], scored.predictions[at].scores["3.1"]
    assert score >= model.thresholds["3.1"]  # it supports the label ...
    assert not citable(max(score, 1.0), heading)  # ... and is no quote, however it scores
    shown = [e for lc in scored.coverage.labels.values() for e in lc.evidence]
    assert all(not e.citable for e in shown if e.passage_id == heading.id)
