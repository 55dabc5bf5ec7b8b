"""Labels, lexicon, the committed model, the classify contract and training end to end."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from service.classify import load_model
from service.errors import ModelError
from service.labels import FLAGS, LABEL_IDS, LABELS
from service.lexicon import default_lexicon
from service.model import PassageInput
from service.segment import segment_document
from tests.conftest import corpus_file as corpus_path

ROOT = Path(__file__).resolve().parents[1]
GUIDELINES = ROOT.parent / "shared" / "annotation-guidelines.md"


def test_label_ids_are_the_guidelines_ids() -> None:
    assert len(LABELS) == 18 and len(set(LABEL_IDS)) == 18
    if not GUIDELINES.is_file():
        pytest.skip(
            "the annotation guidelines, ../shared/annotation-guidelines.md in the shared "
            "folder beside the checkout, are absent"
        )
    rows = re.findall(r"^\| (\d\.\d) \| `([a-z_]+)` \|", GUIDELINES.read_text(), re.M)
    assert [(i, s) for i, s in rows] == [(x.id, x.slug) for x in LABELS]


def _passages(rel: str):
    from service.extract import extract_path

    doc = extract_path(corpus_path(rel))
    return doc, segment_document(doc)


def test_lexicon_flags_on_real_provisions() -> None:
    lex = default_lexicon()
    _, tip = _passages("brb/trafficking-in-persons-prevention-bill-2016.pdf")
    offence = next(p for p in tip if p.citation and p.citation.startswith("Section 3"))
    assert lex.match(offence.text).flags.get("mentions_trafficking")
    _, poc = _passages("brb/prevention-of-corruption-bill-2021.pdf")
    purpose = next(p for p in poc if p.citation == "Schedule, Article 1")  # UNCAC, in the Schedule
    hits = lex.match(purpose.text)
    assert hits.flags.get("mentions_corruption") and not hits.flags.get("mentions_trafficking")
    # Section 4 is headed "Bribery of persons exercising public functions" but its text
    # describes the act without naming it: the lexicon alone does not see it.
    bribery = next(p for p in poc if p.citation and p.citation.startswith("Section 4"))
    assert not lex.match(bribery.text).flags.get("mentions_corruption")
    assert lex.match(bribery.title or "").flags.get("mentions_corruption")


def test_lexicon_drug_trafficking_is_not_the_trafficking_flag() -> None:
    # UNCAC's preamble speaks of "illicit trafficking in narcotic drugs" only.
    from service.extract import extract_path

    doc = extract_path(corpus_path("intl/palermo-protocol-tip.md"))
    text = doc.text
    assert default_lexicon().match("the illicit trafficking in narcotic drugs").flags == {}
    assert default_lexicon().match(text[:4000]).flags.get("mentions_trafficking")


def test_a_label_passes_at_its_own_threshold(model, extracted) -> None:  # type: ignore[no-untyped-def]
    """Each label has its own threshold, tuned on dev: a passage gets exactly the labels
    whose score reaches that label's threshold, so a high score can fall short where a
    lower one passes."""
    doc, passages = extracted("brb/prevention-of-corruption-bill-2021.pdf")
    items = [
        PassageInput(id=p.id, text=p.text, title=doc.title, doc_type="anticorruption_law",
                     heading=p.heading)
        for p in passages
    ]  # fmt: skip
    preds = model.predict(items)
    bar = model.thresholds
    assert set(bar) == set(LABEL_IDS)
    for pred in preds:
        # Scores are rounded to 4 places: leave the rounding margin either side.
        passed = {x for x in LABEL_IDS if pred.scores[x] >= bar[x] + 1e-4}
        failed = {x for x in LABEL_IDS if pred.scores[x] < bar[x] - 1e-4}
        assert passed <= set(pred.labels) and not failed & set(pred.labels), pred.id
    # A passage labelled x although label y scored higher: the bars differ.
    assert any(
        pred.scores[y] > pred.scores[x] and x in pred.labels and y not in pred.labels
        for pred in preds
        for x in LABEL_IDS
        for y in LABEL_IDS
    )
    # UNCAC Article 30(2), in the bill's schedule, balances officials' immunities (6.1).
    immunities = next(i for i, p in enumerate(passages) if p.citation == "Schedule, Article 30(2)")
    assert "6.1" in preds[immunities].labels


def test_model_predicts_all_scores_and_context_matters(model) -> None:
    doc, passages = _passages("brb/trafficking-in-persons-prevention-bill-2016.pdf")
    items = [
        PassageInput(id=p.id, text=p.text, title=doc.title, doc_type="tip_law", heading=p.heading)
        for p in passages
    ]
    preds = model.predict(items, explain=True)
    assert len(preds) == len(items)
    for pred in preds:
        assert set(pred.scores) == set(LABEL_IDS)
        assert all(0.0 <= s <= 1.0 for s in pred.scores.values())
        assert set(pred.labels) <= set(LABEL_IDS)
    # The offence of trafficking in persons is a trafficking passage.
    offence = next(
        i for i, p in enumerate(passages) if p.citation and p.citation.startswith("Section 3")
    )
    assert preds[offence].mentions_trafficking


def test_load_model_refuses_other_labels_and_formats(model, tmp_path: Path) -> None:
    root = tmp_path / "models"
    shutil.copytree(model.folder, root / "copy")
    meta_path = root / "copy" / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta_path.write_text(json.dumps({**meta, "labels": [*LABEL_IDS[:-1], "7.1"]}))
    with pytest.raises(ModelError, match="other labels"):
        load_model("copy", root)
    meta_path.write_text(json.dumps({**meta, "format": "tipscan-model/0"}))
    with pytest.raises(ModelError, match="format"):
        load_model("copy", root)
    with pytest.raises(ModelError, match="no model 'nothing'"):
        load_model("nothing", root)


def _cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "service.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )


def test_classify_cli_contract_and_bad_lines() -> None:
    _, passages = _passages("nld/aanwijzing-mensenhandel.md")
    good = [json.dumps({"id": p.id, "text": p.text, "heading": p.heading}) for p in passages[:6]]
    lines = [good[0], '{"id": "broken", "text": ', good[1], '{"text": "no id"}', *good[2:], "[]"]
    proc = _cli("classify", "-", "--explain", stdin="\n".join(lines) + "\n")
    assert proc.returncode == 1
    errors = proc.stderr.splitlines()
    assert len(errors) == 3, proc.stderr
    assert "stdin:2:" in errors[0] and "not valid JSON" in errors[0]
    assert "stdin:4:" in errors[1] and "id" in errors[1]
    assert "stdin:9:" in errors[2]
    out = [json.loads(x) for x in proc.stdout.splitlines()]
    assert [o["id"] for o in out] == [p.id for p in passages[:6]]
    for o in out:
        assert set(o) >= {"id", "labels", "scores", "mentions_trafficking", "mentions_corruption"}
        assert len(o["scores"]) == 18 and isinstance(o["mentions_trafficking"], bool)
    assert any(o["mentions_trafficking"] for o in out)  # a Dutch trafficking instruction


def test_evaluate_cli_prints_support() -> None:
    proc = _cli("evaluate", "--split", "test")
    assert proc.returncode == 0, proc.stderr
    assert "support" in proc.stdout and "macro-F1" in proc.stdout
    for label in LABEL_IDS:
        assert re.search(rf"^{re.escape(label)} ", proc.stdout, re.M)


def test_training_end_to_end_on_a_small_store(tmp_path: Path) -> None:
    """A few real documents of the store, a split of them, a model; never overwritten."""
    from service.annotations import final_labels, load_annotations
    from service.split import make_split, write_split
    from service.train import train_model

    located = load_annotations(ROOT / "annotations")
    keep = sorted({x.annotation.doc for x in located})[:8]
    small = tmp_path / "store.jsonl"
    small.write_text(
        "".join(x.annotation.model_dump_json() + "\n" for x in located if x.annotation.doc in keep)
    )
    finals = final_labels(load_annotations(small))
    split = tmp_path / "split.json"
    write_split(split, finals, make_split(finals, seed=3), "test", 3)
    config = tmp_path / "small.toml"
    config.write_text(
        "[model]\nname = 'small'\nversion = '0.0.1'\nkind = 'sklearn'\n"
        f"[data]\nannotations = '{small}'\nsplit = '{split}'\n"
        "[sklearn]\nfeatures = ['text', 'heading', 'lexicon']\n"
    )
    folder = train_model(config, tmp_path / "models", cv=False)
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["labels"] == list(LABEL_IDS) and meta["flags"] == list(FLAGS)
    assert set(meta["thresholds"]) == set(LABEL_IDS)
    assert (folder / "MODEL_CARD.md").read_text().startswith("# Model card: small-0.0.1")
    loaded = load_model("small-0.0.1", tmp_path / "models")
    assert (
        len(loaded.predict([PassageInput(id="x", text="Extradition of fugitive offenders.")])) == 1
    )
    with pytest.raises(ModelError, match="never overwritten"):
        train_model(config, tmp_path / "models", cv=False)
