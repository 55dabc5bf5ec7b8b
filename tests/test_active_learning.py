"""The active-learning benchmark's mechanics, on one small round of each strategy over the
real annotation store and split: uncertainty picks lie nearer the thresholds than random
picks, no passage is picked twice, and the held-out documents are never trained on."""

from __future__ import annotations

import importlib.util
import math
import sys
from collections import Counter
from types import ModuleType

import pytest

from service.split import load_split
from service.train import read_config
from tests.conftest import ROOT

SEED_SIZE, BATCH = 150, 80


def _bench() -> ModuleType:
    path = ROOT / "bench" / "active_learning.py"
    sys.path.insert(0, str(path.parent))  # its table() reads bench/tables.py
    spec = importlib.util.spec_from_file_location("active_learning", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["active_learning"] = module
    spec.loader.exec_module(module)
    return module


al = _bench()
# The shipped config with lexicon and concept counts only, so that a round takes seconds.
CFG = read_config(ROOT / "training" / "sklearn.toml").with_features(["lexicon", "concepts"])


@pytest.fixture(scope="module")
def parts():  # type: ignore[no-untyped-def]
    return al.load_parts(CFG)


@pytest.fixture(scope="module")
def curves(parts):  # type: ignore[no-untyped-def]
    return al.run_seed(CFG, parts, seed=7, seed_size=SEED_SIZE, rounds=1, batch=BATCH)


def test_uncertainty_picks_lie_nearer_the_thresholds_than_random_picks(curves) -> None:  # type: ignore[no-untyped-def]
    unc, rnd = curves["uncertainty"], curves["random"]
    # Both start from the same seed model, so their picks are measured on the same scores.
    assert (unc[0].micro_f1, unc[0].macro_f1) == (rnd[0].micro_f1, rnd[0].macro_f1)
    assert unc[1].picked_distance < rnd[1].picked_distance
    for curve in (unc, rnd):
        assert [r.passages for r in curve] == [SEED_SIZE, SEED_SIZE + BATCH]
        assert all(0.0 <= r.micro_f1 <= 1.0 and 0.0 <= r.macro_f1 <= 1.0 for r in curve)


def test_uncertainty_spreads_its_picks_across_documents(curves, parts) -> None:  # type: ignore[no-untyped-def]
    doc_of = {p.id: d for p, d in zip(parts.pool.items, parts.pool.docs, strict=True)}
    per_doc = Counter(doc_of[pid] for pid in curves["uncertainty"][1].picked)
    assert max(per_doc.values()) <= math.ceil(2 * BATCH / len(set(parts.pool.docs)))
    assert curves["uncertainty"][1].picked_documents == len(per_doc) > 1


def test_no_passage_is_picked_twice_and_none_from_the_seed(curves, parts) -> None:  # type: ignore[no-untyped-def]
    seed = set(curves["uncertainty"][0].picked)
    assert seed == set(curves["random"][0].picked) and len(seed) == SEED_SIZE
    for curve in curves.values():
        picked = curve[1].picked
        assert len(picked) == BATCH == len(set(picked))
        assert not set(picked) & seed


def test_held_out_documents_are_never_trained_on(curves, parts) -> None:  # type: ignore[no-untyped-def]
    split = load_split(ROOT / "training" / "splits" / "full-v3.json")
    held_out = {d for d, part in split.items() if part != "train"}
    assert set(parts.test.docs) and set(parts.test.docs) <= held_out
    assert not set(parts.pool.docs) & held_out
    pool_ids = {p.id for p in parts.pool.items}
    held_ids = {p.id for p in parts.test.items} | {p.id for p in parts.dev.items}
    for curve in curves.values():
        for r in curve:
            assert not set(r.trained_documents) & held_out
            assert set(r.picked) <= pool_ids and not set(r.picked) & held_ids


def test_the_table_has_a_row_per_round(curves) -> None:  # type: ignore[no-untyped-def]
    text = al.table([curves])
    lines = text.splitlines()
    assert lines[0].startswith("| passages | uncertainty micro | uncertainty macro")
    assert [line.split(" | ")[0] for line in lines[2:]] == [
        f"| {SEED_SIZE}",
        f"| {SEED_SIZE + BATCH}",
    ]
