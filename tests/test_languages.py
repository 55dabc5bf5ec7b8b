"""Verdicts beyond English, on real documents of the shared corpus: Portuguese texts get
labels and flags, and a Spanish "se trata de personas que ..." is not trafficking."""

from __future__ import annotations

from service.batch import Extraction
from service.lexicon import default_lexicon
from service.pipeline import DocumentHints, ScoredDocument, classify_document

BRA_CODE = "bra/decreto-1171-1994-codigo-etica-servidor-publico-federal.md"
BRA_PLAN = "bra/iii-pnetp-metas-lagcrs.txt"
PER_POLICY = "per/politica-nacional-integridad-lucha-corrupcion-ds-092-2017-pcm.pdf"


def _scored(extracted, model, rel: str, doc_type: str) -> ScoredDocument:  # type: ignore[no-untyped-def]
    doc, passages = extracted(rel)
    return classify_document(
        Extraction(document=doc, passages=passages),
        model,
        hints=DocumentHints(doc_type=doc_type, origin="given"),
        name=rel,
    )


def test_brazilian_code_of_ethics_is_read_as_portuguese_and_as_a_code(extracted, model) -> None:
    s = _scored(extracted, model, BRA_CODE, "code_of_conduct")
    assert s.document.language == "pt"
    assert s.coverage.mentions_corruption, "a code against misuse of office names corruption"
    assert s.coverage.labels["3.1"].status == "covered"
    assert sum("3.1" in p.labels for p in s.predictions) >= 5


def test_brazilian_trafficking_plan_is_about_trafficking(extracted, model) -> None:
    s = _scored(extracted, model, BRA_PLAN, "tip_action_plan")
    assert s.document.language == "pt"
    assert s.coverage.mentions_trafficking
    assert sum(bool(p.labels) for p in s.predictions) >= 5
    # A trafficking plan with no word on corruption does not cover the joint labels.
    assert s.coverage.labels["2.1"].status != "covered"


def test_peruvian_policy_se_trata_de_personas_is_not_trafficking(extracted, model) -> None:
    _doc, passages = extracted(PER_POLICY)
    phrase = [p for p in passages if "se trata de personas" in p.text.lower()]
    assert phrase, "the policy's 'se trata de personas que ...' passages are where they were"
    hits = default_lexicon().match_many([p.text for p in phrase])
    assert not any(h.flags.get("mentions_trafficking") for h in hits)
    s = _scored(extracted, model, PER_POLICY, "anticorruption_strategy")
    by_id = {p.id: p for p in s.predictions}
    assert not any(by_id[p.id].mentions_trafficking for p in phrase)
    assert s.coverage.mentions_corruption
