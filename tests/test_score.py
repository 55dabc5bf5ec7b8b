"""Scoring a corpus: a small sample of corpus/ end to end, document types, failures in a
batch, the cache, metadata; the whole shared corpus (slow)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from service.doctype import infer_doc_type
from service.errors import TipscanError
from service.pipeline import read_meta, score_corpus
from tests.conftest import POC_BILL, SAMPLE, SAMPLE_RUN, SHARED, SHARED_ABSENT, TIP_BILL, TRUNCATED

DUTCH_INSTRUCTION = "nld/aanwijzing-mensenhandel.md"
FACT_SHEET = "usa/wh-fact-sheet-national-action-plan-combat-human-trafficking-2021.md"
EXTRADITION = "usa/18-usc-ch209-extradition.md"


def _manifest(base: Path) -> dict[str, dict[str, str]]:
    with (base / "MANIFEST.csv").open(newline="", encoding="utf-8") as fh:
        return {row["path"]: row for row in csv.DictReader(fh)}


@pytest.mark.slow
@pytest.mark.ocr  # the shared corpus holds a scanned act
def test_doc_type_inference_against_the_shared_manifest() -> None:
    if not (SHARED / "MANIFEST.csv").is_file():
        pytest.skip(SHARED_ABSENT)
    from service.extract import extract_path

    rows = list(_manifest(SHARED).values())
    right = 0
    for row in rows:
        doc = extract_path(SHARED / row["path"])
        right += infer_doc_type(doc.title, doc.text[:3000]) == row["doc_type"]
    assert right / len(rows) >= 0.85, f"{right}/{len(rows)}"


def test_scoring_the_sample(sample_run, extracted) -> None:  # type: ignore[no-untyped-def]
    """Five documents of corpus/ end to end: typed, every passage scored, flagged, checked."""
    cov = sample_run.first
    manifest = _manifest(SAMPLE)
    for rel in SAMPLE_RUN:
        d = sample_run.document(rel)
        # No --meta: the readable rules find the manifest's type from title and opening.
        assert (d.doc_type, d.doc_type_source) == (manifest[rel]["doc_type"], "inferred"), rel
        assert d.passages == len(extracted(rel)[1]), rel
    docs = {rel: sample_run.document(rel) for rel in SAMPLE_RUN}
    flags = {rel: (d.mentions_trafficking, d.mentions_corruption) for rel, d in docs.items()}
    assert flags == {
        TIP_BILL: (True, False),
        POC_BILL: (False, True),
        DUTCH_INSTRUCTION: (True, False),
        FACT_SHEET: (True, False),
        EXTRADITION: (False, True),  # s. 3185(5): embezzlement of public funds by officers
    }
    # None of the three anti-trafficking texts names corruption, and the corruption bill
    # never names trafficking.
    path = lambda rel: str(sample_run.folder / rel)  # noqa: E731
    tip = cov.corpus.checks["tip_mentions_corruption"]
    ac = cov.corpus.checks["ac_mentions_trafficking"]
    assert tip.passed is False
    assert sorted(tip.failing) == [path(TIP_BILL), path(DUTCH_INSTRUCTION), path(FACT_SHEET)]
    assert (ac.passed, ac.failing) == (False, [path(POC_BILL)])
    # What the model reads in them: the extradition chapter covers extradition (1.2); the
    # UNCAC scheduled to the corruption bill covers immunities (Art. 30(2)), data collection
    # (Art. 10's periodic reports on the risks of corruption, then Art. 61) and public-sector
    # recruitment (Art. 7(1)).
    labels = cov.corpus.labels
    assert path(EXTRADITION) in labels["1.2"].documents
    poc = docs[POC_BILL]
    best = {x: [e.citation for e in poc.labels[x].evidence[:2]] for x in ("6.1", "5.1", "3.5")}
    assert best["6.1"][0] == "Schedule, Article 30(2)"
    assert best["3.5"][0] == "Schedule, Article 7(1)"
    assert best["5.1"] == ["Schedule, Article 10", "Schedule, Article 61"]
    assert labels["3.6"].status == "gap"  # no training of officials to identify victims
    assert {"2.4", "4.2"} <= set(cov.corpus.uncertain)  # too few training examples


def test_a_corrupt_file_fails_alone(sample_run) -> None:  # type: ignore[no-untyped-def]
    cov = sample_run.first
    assert [(Path(f.path).name, f.code) for f in cov.failures] == [(TRUNCATED, "corrupt-document")]
    assert len(cov.documents) == len(SAMPLE_RUN)


def test_second_run_reuses_the_cache(sample_run) -> None:  # type: ignore[no-untyped-def]
    first, second = sample_run.first_stats, sample_run.second_stats
    n = len(SAMPLE_RUN)
    assert (first.cache_hits, first.cache_misses) == (0, n)
    assert (second.cache_hits, second.cache_misses) == (n, 0) and second.extracted == []
    assert [d.model_dump() for d in sample_run.first.documents] == [
        d.model_dump() for d in sample_run.second.documents
    ]


def test_meta_csv_overrides_the_inferred_type(model_ref, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    meta = tmp_path / "meta.csv"
    meta.write_text(
        f"path,title,country,doc_type\n{TIP_BILL},Trafficking bill,BRB,tip_action_plan\n"
    )
    cov = score_corpus([SAMPLE / TIP_BILL], model_ref, meta=read_meta(meta), cache=None, workers=1)
    d = cov.documents[0]
    assert (d.doc_type, d.doc_type_source, d.title, d.country) == (
        "tip_action_plan",
        "meta",
        "Trafficking bill",
        "BRB",
    )
    meta.write_text("path,doc_type\nx.pdf,statute\n")
    with pytest.raises(TipscanError, match="unknown doc_type 'statute'"):
        read_meta(meta)
