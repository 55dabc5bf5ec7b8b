"""Active learning, measured: does choosing passages by uncertainty beat choosing at random?

Simulated on the annotation store, with no new annotation: the "decision" on a picked
passage is its stored final label set. Documents keep the parts of the frozen split
(``training/splits/full-v3.json``):

- train documents are the pool: a seed of S passages is drawn from them at random, then
  each of R rounds adds K more passages picked from the rest of the pool by a strategy;
- dev documents choose each label's threshold after every retraining (best F1 on their
  scores, as ``tipscan train`` chooses thresholds on held-out scores; the same floor,
  fallback and minimum of positives), and are never trained on;
- test documents are scored after every round (micro- and macro-F1 of the passage
  labels) and are never trained on nor used to choose anything.

Strategies, from the same seed:

- ``uncertainty``: a passage's distance to the decision is min over labels of
  |score - threshold| under the model of the previous round; the nearest passages are
  taken, at most ceil(2K / documents in the pool) from one document, so that one long
  document cannot fill a round (the cap is lifted only if the pool runs short);
- ``random``: K passages drawn at random from the rest of the pool.

Each retraining uses the config's features and model (``training/sklearn.toml``), with
no cross-validation. The figures are the median over the seeds run.

    python bench/active_learning.py [--seeds 13 14 15] [--seed-size 300] [--rounds 4]
        [--batch 300] [--config training/sklearn.toml] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))

from service.evaluate import best_threshold, label_metrics  # noqa: E402
from service.labels import LABEL_IDS  # noqa: E402
from service.train import (  # noqa: E402
    Dataset,
    fit_scorer,
    load_dataset,
    project_path,
    read_config,
    split_dataset,
)
from service.train_config import TrainingConfig  # noqa: E402

STRATEGIES = ("uncertainty", "random")


@dataclass
class Round:
    """One point of a learning curve: the model trained on ``passages`` labelled passages."""

    strategy: str
    round: int
    passages: int
    micro_f1: float
    macro_f1: float
    picked: list[str] = field(default_factory=list)  # ids this round added (round 0: the seed)
    picked_distance: float | None = None  # their mean distance to the thresholds, before
    picked_documents: int = 0
    picked_positives: int = 0  # label assignments among the picks
    trained_documents: list[str] = field(default_factory=list)


@dataclass
class Parts:
    pool: Dataset
    dev: Dataset
    test: Dataset


def load_parts(cfg: TrainingConfig) -> Parts:
    parts = split_dataset(
        load_dataset(project_path(cfg.data.annotations)), project_path(cfg.data.split)
    )
    return Parts(parts["train"], parts["dev"], parts["test"])


def tune_thresholds(cfg: TrainingConfig, y: np.ndarray, scores: np.ndarray) -> np.ndarray:
    t = cfg.thresholds
    return np.array(
        [best_threshold(y[:, j], scores[:, j], t.floor, t.fallback, t.min_dev_positives)[0]
         for j in range(len(LABEL_IDS))]
    )  # fmt: skip


def distance(scores: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Per passage: how near its nearest label is to that label's threshold."""
    return np.abs(scores - thresholds).min(axis=1)


def pick_uncertain(dist: np.ndarray, docs: list[str], candidates: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` candidates nearest a threshold, at most ceil(2k / documents) per document."""
    order = candidates[np.argsort(dist[candidates], kind="stable")]
    cap = math.ceil(2 * k / max(1, len({docs[i] for i in candidates})))
    taken: list[int] = []
    per_doc: Counter[str] = Counter()
    for i in order:
        if len(taken) == k:
            break
        if per_doc[docs[i]] < cap:
            taken.append(int(i))
            per_doc[docs[i]] += 1
    if len(taken) < k:  # the pool ran short of documents: fill by distance alone
        chosen = set(taken)
        taken += [int(i) for i in order if i not in chosen][: k - len(taken)]
    return np.array(taken, dtype=int)


def pick_random(candidates: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    return rng.choice(candidates, size=min(k, len(candidates)), replace=False)


def _fit_and_score(
    cfg: TrainingConfig, parts: Parts, labelled: np.ndarray
) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Fit on the labelled pool passages; thresholds from dev; (pool scores, thresholds,
    test micro-F1, test macro-F1)."""
    train = parts.pool.take(labelled)
    scorer = fit_scorer(cfg, train)
    thresholds = tune_thresholds(cfg, parts.dev.y, scorer.scores(parts.dev.items)[0])
    m = label_metrics(parts.test.y, scorer.scores(parts.test.items)[0] >= thresholds)
    return scorer.scores(parts.pool.items)[0], thresholds, m["micro"]["f1"], m["macro_f1"]


def run_curve(
    cfg: TrainingConfig,
    parts: Parts,
    strategy: str,
    seed_idx: np.ndarray,
    rounds: int,
    batch: int,
    rng: np.random.Generator,
    start: tuple[np.ndarray, np.ndarray, float, float] | None = None,
) -> list[Round]:
    """The learning curve of one strategy from one seed set (``start``: the seed model's
    pool scores, thresholds and test figures, when already computed)."""
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; one of {STRATEGIES}")
    labelled = np.zeros(len(parts.pool.items), dtype=bool)
    labelled[seed_idx] = True
    pool_scores, thresholds, micro, macro = start or _fit_and_score(cfg, parts, labelled)
    docs = parts.pool.docs

    def trained_docs() -> list[str]:
        return sorted({docs[i] for i in np.flatnonzero(labelled)})

    seed_ids = [parts.pool.items[i].id for i in seed_idx]
    out = [Round(strategy, 0, int(labelled.sum()), micro, macro, picked=seed_ids,
                 trained_documents=trained_docs())]  # fmt: skip
    for r in range(1, rounds + 1):
        candidates = np.flatnonzero(~labelled)
        if not len(candidates):
            break
        dist = distance(pool_scores, thresholds)
        if strategy == "uncertainty":
            picked = pick_uncertain(dist, docs, candidates, batch)
        else:
            picked = pick_random(candidates, batch, rng)
        assert not labelled[picked].any(), "a passage was picked twice"
        labelled[picked] = True
        pool_scores, thresholds, micro, macro = _fit_and_score(cfg, parts, labelled)
        out.append(
            Round(
                strategy, r, int(labelled.sum()), micro, macro,
                picked=[parts.pool.items[i].id for i in picked],
                picked_distance=float(dist[picked].mean()),
                picked_documents=len({docs[i] for i in picked}),
                picked_positives=int(parts.pool.y[picked].sum()),
                trained_documents=trained_docs(),
            )
        )  # fmt: skip
    return out


def run_seed(
    cfg: TrainingConfig, parts: Parts, seed: int, seed_size: int, rounds: int, batch: int
) -> dict[str, list[Round]]:
    """Both strategies from the same random seed set (the seed model is fitted once)."""
    rng = np.random.default_rng(seed)
    seed_idx = rng.choice(len(parts.pool.items), size=seed_size, replace=False)
    labelled = np.zeros(len(parts.pool.items), dtype=bool)
    labelled[seed_idx] = True
    start = _fit_and_score(cfg, parts, labelled)
    return {
        s: run_curve(cfg, parts, s, seed_idx, rounds, batch, np.random.default_rng(seed + 1), start)
        for s in STRATEGIES
    }


def _median(xs: list[float | None]) -> float | None:
    vals = [x for x in xs if x is not None]
    return statistics.median(vals) if vals else None


def table(runs: list[dict[str, list[Round]]]) -> str:
    from tables import fmt_table

    def f(x: float | None) -> str:
        return "-" if x is None else f"{x:.3f}"

    rows = []
    for r in range(len(runs[0][STRATEGIES[0]])):
        row = [str(runs[0][STRATEGIES[0]][r].passages)]
        for s in STRATEGIES:
            pts = [run[s][r] for run in runs if r < len(run[s])]
            row += [
                f(_median([p.micro_f1 for p in pts])),
                f(_median([p.macro_f1 for p in pts])),
                f(_median([p.picked_distance for p in pts])),
                f"{_median([float(p.picked_positives) for p in pts]):.0f}" if r else "-",
            ]
        rows.append(row)
    headers = ["passages"]
    for s in STRATEGIES:
        headers += [f"{s} micro", f"{s} macro", f"{s} pick distance", f"{s} pick positives"]
    return fmt_table(headers, rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", default="training/sklearn.toml")
    ap.add_argument("--seeds", type=int, nargs="+", default=[13, 14, 15])
    ap.add_argument("--seed-size", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--batch", type=int, default=300)
    ap.add_argument("--json", type=Path, help="write every round of every seed here")
    args = ap.parse_args()
    cfg = read_config(project_path(args.config))
    parts = load_parts(cfg)
    print(
        f"pool: {len(parts.pool.items)} passages of {len(set(parts.pool.docs))} train documents; "
        f"thresholds on {len(parts.dev.items)} dev passages; scored on {len(parts.test.items)} "
        f"passages of {len(set(parts.test.docs))} test documents; features "
        f"{'+'.join(cfg.sklearn.features)}; seeds {args.seeds}",
        flush=True,
    )
    runs = []
    t0 = time.monotonic()
    for seed in args.seeds:
        runs.append(run_seed(cfg, parts, seed, args.seed_size, args.rounds, args.batch))
        last = {s: runs[-1][s][-1] for s in STRATEGIES}
        print(
            f"seed {seed} done at {time.monotonic() - t0:.0f}s: "
            + "; ".join(f"{s} macro {r.macro_f1:.3f}" for s, r in last.items()),
            flush=True,
        )
    print(f"\nmedian over {len(runs)} seed(s):\n")
    print(table(runs))
    if args.json:
        args.json.write_text(
            json.dumps([{s: [asdict(r) for r in run[s]] for s in STRATEGIES} for run in runs])
        )


if __name__ == "__main__":
    main()
