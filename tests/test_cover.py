"""Coverage from real documents' predictions: the document rule, evidence, corpus status
(covered, uncertain, gap), principles and the two cross checks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from service.cover import (
    MAX_LEAD,
    cover_corpus,
    cover_document,
    doc_covers,
    document_rule,
    thin_labels,
)
from service.evidence import MAX_QUOTE, QuoteFinder, flat
from service.labels import BY_ID, LABEL_IDS, RECOMMENDATIONS
from service.model import PassageInput
from tests.conftest import POC_BILL, TIP_BILL

EXTRADITION = "usa/18-usc-ch209-extradition.md"
TVPA = "usa/22-usc-ch78-trafficking-victims-protection.md"
# The manifest's types of the documents used here.
DOC_TYPES = {
    TIP_BILL: "tip_law",
    POC_BILL: "anticorruption_law",
    EXTRADITION: "mla_extradition_law",
    TVPA: "tip_law",
}


@dataclass
class Scored:
    doc: Any
    passages: list[Any]
    predictions: list[Any]
    items: list[PassageInput]

    def scores(self, label: str) -> list[float]:
        return [p.scores[label] for p in self.predictions]


@pytest.fixture(scope="module")
def scored(extracted, model):  # type: ignore[no-untyped-def]
    """scored(rel) -> the document, its passages and the model's predictions, cached."""
    cache: dict[str, Scored] = {}

    def get(rel: str) -> Scored:
        if rel not in cache:
            doc, passages = extracted(rel)
            items = [
                PassageInput(
                    id=p.id,
                    text=p.text,
                    title=doc.title,
                    doc_type=DOC_TYPES[rel],
                    heading=[*p.heading, *([p.title] if p.title else [])],
                )
                for p in passages
            ]
            cache[rel] = Scored(doc, passages, model.predict(items), items)
        return cache[rel]

    return get


def covered(s: Scored, meta: Any, rel: str, model: Any = None) -> Any:
    """The document's coverage; with ``model``, its evidence quotes sentences."""
    quotes = QuoteFinder(model.predict, {i.id: i for i in s.items}) if model else None
    return cover_document(
        s.doc, s.passages, s.predictions, meta, path=rel, doc_type=DOC_TYPES[rel],
        doc_type_source="meta", quotes=quotes,
    )  # fmt: skip


def test_the_document_rule_counts_passages_clearly_above_the_threshold(scored, model) -> None:  # type: ignore[no-untyped-def]
    """The Prevention of Corruption Bill's schedule (UNCAC) has many mutual legal assistance
    and extradition articles (1.2): the rule asks for enough of them, far enough above."""
    scores = scored(POC_BILL).scores("1.2")
    threshold = model.thresholds["1.2"]
    above = sum(1 for s in scores if s >= threshold)
    assert above >= 10, above  # Articles 44 (extradition), 46 (mutual legal assistance), ...
    assert doc_covers(scores, threshold, {"min_passages": above, "factor": 1.0})
    assert not doc_covers(scores, threshold, {"min_passages": above + 1, "factor": 1.0})
    # ... capped at 0.95, so a strict factor cannot rule out a passage scoring above it.
    assert max(scores) >= 0.95
    assert doc_covers(scores, threshold, {"min_passages": 1, "factor": 100.0})
    # "Clearly above": the bar is factor x threshold, below the cap. Raising the factor past
    # the weakest of the passages above the threshold leaves one passage too few.
    weakest = min(s for s in scores if s >= threshold)
    assert weakest < 0.95
    assert doc_covers(
        scores, threshold, {"min_passages": above, "factor": 0.99 * weakest / threshold}
    )
    assert not doc_covers(
        scores, threshold, {"min_passages": above, "factor": 1.01 * weakest / threshold}
    )
    # A document with no passages covers nothing.
    assert not doc_covers([], threshold, {"min_passages": 1, "factor": 1.0})


def test_a_document_covers_what_its_best_passages_show(scored, model) -> None:  # type: ignore[no-untyped-def]
    """Read in the bill: Article 30(2) of the scheduled UNCAC is on officials' immunities
    (6.1); the trafficking bill has nothing on immunity."""
    poc = covered(scored(POC_BILL), model.meta, POC_BILL)
    immunity = poc.labels["6.1"]
    assert immunity.covered
    best = immunity.evidence[0]
    assert best.citation == "Schedule, Article 30(2)" and "immunit" in best.text
    tip = covered(scored(TIP_BILL), model.meta, TIP_BILL)
    assert not tip.labels["6.1"].covered and tip.labels["6.1"].evidence == []
    # The US extradition chapter covers mutual legal assistance and extradition (1.2),
    # with sections of the chapter as its evidence.
    ext = covered(scored(EXTRADITION), model.meta, EXTRADITION)
    assert ext.labels["1.2"].covered
    assert all(e.citation.startswith("§ 31") for e in ext.labels["1.2"].evidence)
    assert not ext.labels["6.1"].covered


def test_evidence_is_the_best_passages_with_citation_page_and_quote(scored, model) -> None:  # type: ignore[no-untyped-def]
    s = scored(POC_BILL)
    cov = covered(s, model.meta, POC_BILL, model)
    by_id = {p.id: p for p in s.passages}
    rule = document_rule(model.meta)
    checked = 0
    for label in LABEL_IDS:
        lc = cov.labels[label]
        scores = s.scores(label)
        threshold = model.thresholds[label]
        assert lc.covered == doc_covers(scores, threshold, rule), label
        assert lc.score == max(scores)
        assert lc.supporting == sum(1 for x in scores if x >= threshold)
        assert len(lc.evidence) == min(3, lc.supporting)
        if lc.evidence:
            # The best passages in order, though one that leads other labels may step
            # back for a passage that leads this one.
            assert max(e.score for e in lc.evidence) == lc.score
            rest = [e.score for e in lc.evidence[1:]]
            assert rest == sorted(rest, reverse=True)
            others = sorted(scores, reverse=True)
            others.remove(lc.evidence[0].score)
            assert rest == others[: len(rest)]
        for e in lc.evidence:
            p = by_id[e.passage_id]
            assert (e.citation, e.page, e.passage_text) == (p.citation, p.page_start, p.text)
            assert e.score >= threshold
            checked += 1
    assert checked >= 20


def test_a_quote_is_the_sentences_of_the_passage_cut_at_word_boundaries(scored, model) -> None:  # type: ignore[no-untyped-def]
    """Every quote is a run of whole words of its passage, with the words just before and
    after it as context, and it is shorter than the passage when the passage is long."""
    cov = covered(scored(POC_BILL), model.meta, POC_BILL, model)
    quotes = [e for lc in cov.labels.values() for e in lc.evidence]
    assert len(quotes) >= 20
    shorter = 0
    for e in quotes:
        whole = flat(e.passage_text)
        body = e.text.removesuffix(" …")
        at = whole.find(body)
        assert at >= 0, e.text
        assert at == 0 or whole[at - 1] == " "
        end = at + len(body)
        assert e.text.endswith(" …") or end == len(whole) or whole[end] == " "
        before = e.context_before.removeprefix("… ")
        assert whole[:at].rstrip().endswith(before)
        assert whole[end:].lstrip().startswith(e.context_after.removesuffix(" …"))
        assert len(e.text) <= MAX_QUOTE + 2
        shorter += len(e.text) < len(whole)
    assert shorter >= len(quotes) // 2


def test_the_quote_is_the_sentence_that_carries_the_label(scored, model) -> None:  # type: ignore[no-untyped-def]
    """UNCAC Article 30(2), scheduled to the bill, is on officials' immunities: the quote
    for 6.1 is its sentence on "immunities or jurisdictional privileges", not the opening
    of a longer passage; Article 8 quotes its codes of conduct (3.1)."""
    cov = covered(scored(POC_BILL), model.meta, POC_BILL, model)
    immunity = cov.labels["6.1"].evidence[0]
    assert "immunit" in immunity.text.lower()
    codes = [
        e for e in cov.labels["3.1"].evidence if e.citation and e.citation.endswith("Article 8")
    ]
    assert codes and all("code" in e.text.lower() for e in codes)


def test_a_passage_leads_the_evidence_of_few_labels(scored, model) -> None:  # type: ignore[no-untyped-def]
    """A long article that touches many principles is first evidence only for those it
    supports most strongly; other labels lead with other passages where they have them."""
    for rel in (POC_BILL, TIP_BILL):
        cov = covered(scored(rel), model.meta, rel, model)
        first: dict[str, list[str]] = {}
        for label, lc in cov.labels.items():
            if lc.evidence:
                first.setdefault(lc.evidence[0].passage_id, []).append(label)
        for pid, labels in first.items():
            alone = [x for x in labels if cov.labels[x].supporting == 1]
            assert len(labels) - len(alone) <= MAX_LEAD, (rel, pid, labels)


def test_flags_keep_the_passages_that_raise_them(scored, model) -> None:  # type: ignore[no-untyped-def]
    """18 U.S.C. 3185(5) lists "embezzlement ... of the public funds, committed by public
    officers" among extraditable offences: the chapter speaks of corruption there."""
    ext = covered(scored(EXTRADITION), model.meta, EXTRADITION)
    assert ext.mentions_corruption and not ext.mentions_trafficking
    assert ext.corruption_evidence[0].citation == "§ 3185(5)"
    assert "public officers" in ext.corruption_evidence[0].text
    assert ext.trafficking_evidence == []


def test_corpus_labels_are_covered_uncertain_or_gaps(scored, model) -> None:  # type: ignore[no-untyped-def]
    docs = [covered(scored(rel), model.meta, rel) for rel in (TIP_BILL, POC_BILL, EXTRADITION)]
    cov = cover_corpus(docs, [], model.name, model.meta, country="BRB")
    labels = cov.corpus.labels
    thin = set(thin_labels(model.meta))
    # Labels with no training example at all are thin: never reported as gaps.
    assert {"2.1", "4.2"} <= thin
    for label in LABEL_IDS:
        covering = [d.path for d in docs if d.labels[label].covered]
        assert labels[label].documents == covering, label
        expected = "covered" if covering else ("uncertain" if label in thin else "gap")
        assert labels[label].status == expected, label
        assert labels[label].trust == ("thin" if label in thin else "ok")
    assert labels["6.1"].documents == [POC_BILL]
    assert set(labels["1.2"].documents) >= {POC_BILL, EXTRADITION}
    gaps = {g.label: g for g in cov.corpus.gaps}
    assert set(gaps) == {x for x in LABEL_IDS if labels[x].status == "gap"}
    assert cov.corpus.uncertain == [x for x in LABEL_IDS if labels[x].status == "uncertain"]
    assert not set(gaps) & thin
    # What two bills and an extradition chapter leave out is a gap, each with the guiding
    # principles' recommendation and its principle.
    assert gaps, "two bills and an extradition chapter cover every well-trained label"
    for g in gaps.values():
        assert g.recommendation == RECOMMENDATIONS[g.label] != ""
        assert (g.slug, g.principle) == (BY_ID[g.label].slug, int(g.label.split(".")[0]))
    # A principle is covered when all its sub-principles are, partial when some are.
    assert cov.corpus.principles["6"] == "covered"  # 6.1 alone
    for g in gaps.values():
        ids = [x for x in LABEL_IDS if BY_ID[x].principle == g.principle]
        some = any(labels[x].status == "covered" for x in ids)
        assert cov.corpus.principles[str(g.principle)] == ("partial" if some else "gap")
    assert cov.model["name"] == model.name


def test_cross_checks_on_the_barbados_bills(scored, model) -> None:  # type: ignore[no-untyped-def]
    """Read in the bills: the trafficking bill never names corruption or bribery, and the
    corruption bill never names trafficking, slavery or forced labour."""
    docs = [covered(scored(rel), model.meta, rel) for rel in (TIP_BILL, POC_BILL)]
    checks = cover_corpus(docs, [], model.name, model.meta).corpus.checks
    tip, ac = checks["tip_mentions_corruption"], checks["ac_mentions_trafficking"]
    assert (tip.passed, tip.applicable, tip.failing) == (False, [TIP_BILL], [TIP_BILL])
    assert (ac.passed, ac.applicable, ac.failing) == (False, [POC_BILL], [POC_BILL])
    assert tip.note == "0 of 1 anti-trafficking laws or plans pass"


def test_cross_checks_do_not_apply_without_such_documents(scored, model) -> None:  # type: ignore[no-untyped-def]
    docs = [covered(scored(EXTRADITION), model.meta, EXTRADITION)]
    checks = cover_corpus(docs, [], model.name, model.meta).corpus.checks
    for check in checks.values():
        assert (check.passed, check.applicable, check.failing) == (None, [], [])
        assert check.note.startswith("the corpus holds no ")


def test_cross_check_passes_where_the_law_deals_with_corruption(scored, model) -> None:  # type: ignore[no-untyped-def]
    """The TVPA (22 U.S.C. ch. 78) speaks of official complicity and corruption."""
    tvpa = covered(scored(TVPA), model.meta, TVPA)
    assert tvpa.mentions_corruption and tvpa.corruption_evidence
    check = cover_corpus([tvpa], [], model.name, model.meta).corpus.checks
    assert (check["tip_mentions_corruption"].passed, check["tip_mentions_corruption"].failing) == (
        True,
        [],
    )
    assert check["ac_mentions_trafficking"].passed is None  # no anti-corruption law
    # Beside the Barbados trafficking bill, which never names corruption, the check fails.
    docs = [tvpa, covered(scored(TIP_BILL), model.meta, TIP_BILL)]
    both = cover_corpus(docs, [], model.name, model.meta).corpus.checks["tip_mentions_corruption"]
    assert (both.passed, both.applicable, both.failing) == (False, [TVPA, TIP_BILL], [TIP_BILL])
    assert both.note == "1 of 2 anti-trafficking laws or plans pass"
