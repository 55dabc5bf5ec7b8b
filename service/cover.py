"""Passages + predictions -> coverage per document and per corpus, with evidence.

A long law has hundreds of passages, so "any passage above the passage
threshold" piles up false positives. A document covers a label when at
least ``min_passages`` of its passages score at or above ``factor`` times the
label's passage threshold; the rule is chosen by ``tipscan train`` on the
completely annotated documents (out-of-fold scores) and kept in the model's
meta.json.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from . import __version__
from .classify.meta import ModelMeta
from .doctype import AC_TYPES, TIP_TYPES
from .evidence import (
    Quote,
    QuoteFinder,
    citable,
    document_paged,
    evidence,
    leads,
    major_languages,
    make_quote,
    one_version,
)
from .labels import BY_ID, LABEL_IDS, PRINCIPLES, RECOMMENDATIONS
from .model import (
    CheckResult,
    CorpusCoverage,
    CorpusLabel,
    CountryCoverage,
    Coverage,
    Document,
    DocumentCoverage,
    Evidence,
    Failure,
    Gap,
    LabelCoverage,
    Passage,
    Prediction,
)

DEFAULT_RULE = {"min_passages": 1, "factor": 1.0}
EVIDENCE_PER_LABEL = 3
FLAG_EVIDENCE = 2
# A passage is the first piece of evidence for at most this many labels.
MAX_LEAD = 2
THIN_SUPPORT = 10


def document_rule(meta: ModelMeta) -> dict[str, Any]:
    return {**DEFAULT_RULE, **meta.document_rule.model_dump(exclude_none=True)}


# Labels whose definition joins the two themes: a document that does not deal with
# both trafficking and corruption cannot cover them (annotation guidelines, 2.1 and 2.4).
JOINT_LABELS = frozenset({"2.1", "2.4"})
DocStatus = Literal["covered", "uncertain", "none"]


def doc_status(
    scores: Sequence[float],
    threshold: float,
    rule: dict[str, Any],
    label: str = "",
    both_themes: bool = True,
) -> DocStatus:
    """The document-level rule.

    Covered: at least ``min_passages`` passages at ``factor`` times the label's
    passage threshold (and, with ``uncertain_single``, more than one passage at the
    threshold). Uncertain: some support, not enough. 2.1 and 2.4 need a document
    that mentions both trafficking and corruption."""
    if label in JOINT_LABELS and not both_themes:
        return "none"
    bar = min(0.95, threshold * float(rule.get("factor", 1.0)))
    strong = sum(1 for s in scores if s >= bar)
    supporting = sum(1 for s in scores if s >= threshold)
    if strong >= int(rule.get("min_passages", 1)) and not (
        rule.get("uncertain_single") and supporting < 2
    ):
        return "covered"
    return "uncertain" if supporting else "none"


def doc_covers(scores: Sequence[float], threshold: float, rule: dict[str, Any]) -> bool:
    return doc_status(scores, threshold, rule) == "covered"


def thin_labels(meta: ModelMeta) -> list[str]:
    """Labels whose model support is too thin to call a missing label a gap: fewer than
    THIN_SUPPORT training positives, or scored by the lexicon alone. (A model trained
    without calibration has every label "uncalibrated" by choice, not for want of data.)"""
    support = meta.support.get("train", {})
    modes = meta.modes
    return [
        label
        for label in LABEL_IDS
        if support.get(label, 0) < THIN_SUPPORT or modes.get(label) == "lexicon"
    ]


def _whole(p: Passage) -> Quote:
    return make_quote(p.text, 0, len(p.text))


def cover_document(
    doc: Document,
    passages: Sequence[Passage],
    predictions: Sequence[Prediction],
    meta: ModelMeta,
    *,
    path: str,
    doc_type: str,
    doc_type_source: str,
    country: str | None = None,
    quotes: QuoteFinder | None = None,
) -> DocumentCoverage:
    """A document's coverage. With ``quotes``, each piece of evidence quotes the sentences
    that carry its label; without, the passage's opening."""
    rule = document_rule(meta)
    thresholds = meta.thresholds
    thin = set(thin_labels(meta))
    both = any(p.mentions_trafficking for p in predictions) and any(
        p.mentions_corruption for p in predictions
    )
    pairs = list(zip(passages, predictions, strict=True))
    statuses: dict[str, DocStatus] = {}
    best: dict[str, float] = {}
    supporting: dict[str, list[tuple[float, Passage]]] = {}
    for label in LABEL_IDS:
        scored = sorted(((pred.scores[label], p) for p, pred in pairs), key=lambda x: -x[0])
        scores = [s for s, _ in scored]
        statuses[label] = doc_status(scores, thresholds[label], rule, label, both)
        best[label] = scores[0] if scores else 0.0
        supporting[label] = [(s, p) for s, p in scored if s >= thresholds[label]]
    languages = major_languages(passages)
    shown = leads(
        {
            x: sorted(
                one_version(supporting[x], doc.language, languages),
                key=lambda sp: not citable(*sp),
            )
            for x in LABEL_IDS
        },
        thresholds,
        MAX_LEAD,
    )
    chosen = {x: shown[x][:EVIDENCE_PER_LABEL] for x in LABEL_IDS}
    trafficking = [p for p, pred in pairs if pred.mentions_trafficking][:FLAG_EVIDENCE]
    corruption = [p for p, pred in pairs if pred.mentions_corruption][:FLAG_EVIDENCE]
    if quotes is not None:
        quotes.prepare([p for x in LABEL_IDS for _, p in chosen[x]] + trafficking + corruption)
    paged = document_paged(doc)

    def cite(p: Passage, score: float, quote: Quote) -> Evidence:
        return evidence(p, score, quote, paged=paged, main_language=doc.language)

    labels: dict[str, LabelCoverage] = {}
    for label in LABEL_IDS:
        status = statuses[label]
        strong = any(citable(*sp) for sp in supporting[label])
        labels[label] = LabelCoverage(
            covered=status == "covered",
            status=status,
            score=round(best[label], 4),
            supporting=len(supporting[label]),
            confidence="low" if label in thin or (status == "covered" and not strong) else "ok",
            evidence=[
                cite(p, s, quotes.for_label(p, label) if quotes else _whole(p))
                for s, p in chosen[label]
            ],
        )

    def flag_evidence(found: list[Passage], flag: str) -> list[Evidence]:
        return [cite(p, 1.0, quotes.for_flag(p, flag) if quotes else _whole(p)) for p in found]

    return DocumentCoverage(
        path=path,
        doc_id=doc.id,
        title=doc.title,
        doc_type=doc_type,
        doc_type_source=doc_type_source,  # type: ignore[arg-type]
        country=country,
        language=doc.language,
        pages=doc.page_count,
        passages=len(passages),
        mentions_trafficking=bool(trafficking),
        mentions_corruption=bool(corruption),
        trafficking_evidence=flag_evidence(trafficking, "mentions_trafficking"),
        corruption_evidence=flag_evidence(corruption, "mentions_corruption"),
        labels=labels,
        warnings=list(doc.warnings),
    )


def _check(
    docs: Sequence[DocumentCoverage], types: frozenset[str], attr: str, what: str
) -> CheckResult:
    applicable = [d for d in docs if d.doc_type in types]
    failing = [d.path for d in applicable if not getattr(d, attr)]
    if not applicable:
        return CheckResult.model_validate(
            {"pass": None, "applicable": [], "failing": [], "note": f"the corpus holds no {what}"}
        )
    return CheckResult.model_validate(
        {
            "pass": not failing,
            "applicable": [d.path for d in applicable],
            "failing": failing,
            "note": f"{len(applicable) - len(failing)} of {len(applicable)} {what} pass",
        }
    )


def cover_corpus(
    documents: Sequence[DocumentCoverage],
    failures: Sequence[Failure],
    model_name: str,
    meta: ModelMeta,
    country: str | None = None,
) -> Coverage:
    """The corpus's coverage; one country's when ``country`` is given or every document
    is that country's, and country by country as well when the documents span several."""
    cov = _cover(documents, failures, model_name, meta, country or single_country(documents))
    cov.countries = cover_countries(documents, model_name, meta)
    return cov


def _cover(
    documents: Sequence[DocumentCoverage],
    failures: Sequence[Failure],
    model_name: str,
    meta: ModelMeta,
    country: str | None,
) -> Coverage:
    thin = set(thin_labels(meta))
    labels: dict[str, CorpusLabel] = {}
    for label in LABEL_IDS:
        covering = [d.path for d in documents if d.labels[label].covered]
        best = max((d.labels[label].score for d in documents), default=0.0)
        status = "covered" if covering else ("uncertain" if label in thin else "gap")
        labels[label] = CorpusLabel(
            covered=bool(covering),
            status=status,  # type: ignore[arg-type]
            score=round(best, 4),
            documents=covering,
            trust="thin" if label in thin else "ok",
        )
    principles: dict[str, str] = {}
    for number in PRINCIPLES:
        ids = [x for x in LABEL_IDS if BY_ID[x].principle == number]
        states = {labels[x].status for x in ids}
        if states == {"covered"}:
            principles[str(number)] = "covered"
        elif "covered" in states:
            principles[str(number)] = "partial"
        elif "gap" in states:
            principles[str(number)] = "gap"
        else:
            principles[str(number)] = "uncertain"
    gaps = [
        Gap(
            label=x,
            slug=BY_ID[x].slug,
            principle=BY_ID[x].principle,
            recommendation=RECOMMENDATIONS[x],
        )
        for x in LABEL_IDS
        if labels[x].status == "gap"
    ]
    corpus = CorpusCoverage(
        labels=labels,
        principles=principles,  # type: ignore[arg-type]
        checks={
            "tip_mentions_corruption": _check(
                documents, TIP_TYPES, "mentions_corruption", "anti-trafficking laws or plans"
            ),
            "ac_mentions_trafficking": _check(
                documents, AC_TYPES, "mentions_trafficking", "anti-corruption laws or strategies"
            ),
        },
        gaps=gaps,
        uncertain=[x for x in LABEL_IDS if labels[x].status == "uncertain"],
    )
    return Coverage(
        tipscan_version=__version__,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        country=country,
        model={
            "name": model_name,
            "kind": meta.kind,
            "document_rule": document_rule(meta),
            "annotation_snapshot": meta.annotation_snapshot,
        },
        documents=list(documents),
        failures=list(failures),
        corpus=corpus,
    )


def group_by_country(documents: Sequence[DocumentCoverage]) -> dict[str, list[DocumentCoverage]]:
    """Documents by country, countries sorted; documents without a country are left out."""
    groups: dict[str, list[DocumentCoverage]] = {}
    for d in documents:
        if d.country:
            groups.setdefault(d.country, []).append(d)
    return dict(sorted(groups.items()))


def cover_countries(
    documents: Sequence[DocumentCoverage], model_name: str, meta: ModelMeta
) -> dict[str, CountryCoverage]:
    """Each country's coverage, computed as the corpus's is; empty unless the documents
    span several countries (one country's coverage is the corpus's own)."""
    groups = group_by_country(documents)
    if len(groups) < 2:
        return {}
    out: dict[str, CountryCoverage] = {}
    for country, docs in groups.items():
        corpus = _cover(docs, [], model_name, meta, country).corpus
        out[country] = CountryCoverage(**corpus.model_dump(), documents=[d.path for d in docs])
    return out


def single_country(documents: Sequence[DocumentCoverage]) -> str | None:
    """The one country all documents share, or None (several, or none known)."""
    found = {d.country for d in documents}
    return found.pop() if len(found) == 1 else None
