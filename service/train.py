"""Annotations + a training config -> a new model folder (never over an old one).

``tipscan train training/<config>.toml`` runs :func:`train_model`: it reads the
final labels of ``annotations/``, takes the frozen document split named by the
config, fits on train, chooses each label's threshold on dev, scores on test,
runs grouped cross-validation over all documents for a second opinion, and
writes ``models/<name>-<version>/`` with ``meta.json`` and ``MODEL_CARD.md``.
"""

from __future__ import annotations

import json
import platform
import subprocess
import tomllib
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from .annotations import final_labels, load_annotations, snapshot_hash
from .classify import FLAG_RULES, FLAG_THRESHOLD, scorer_class, write_model_folder
from .errors import ModelError
from .evaluate import best_threshold, flag_metrics, label_metrics
from .labels import FLAGS, LABEL_IDS
from .lexicon import default_lexicon
from .model import PassageInput
from .split import load_split

Progress = Callable[[str], None]


@dataclass
class Dataset:
    items: list[PassageInput]
    y: np.ndarray  # (n, 18) bool
    flags: np.ndarray  # (n, 2) bool
    docs: list[str]

    def take(self, mask: np.ndarray) -> Dataset:
        idx = np.flatnonzero(mask)
        return Dataset(
            [self.items[i] for i in idx], self.y[idx], self.flags[idx], [self.docs[i] for i in idx]
        )


def load_dataset(annotations: Path | str) -> Dataset:
    """The final (adjudicated) labels of every annotated passage, with context."""
    finals = final_labels(load_annotations(annotations))
    items, ys, fs, docs = [], [], [], []
    for pid in sorted(finals):
        f = finals[pid]
        a = f.annotation
        items.append(
            PassageInput(
                id=pid, text=a.text, title=a.doc_title, doc_type=a.doc_type, heading=a.heading
            )
        )
        ys.append([label in f.labels for label in LABEL_IDS])
        fs.append([f.mentions_trafficking, f.mentions_corruption])
        docs.append(a.doc)
    return Dataset(items, np.array(ys, dtype=bool), np.array(fs, dtype=bool), docs)


def split_dataset(ds: Dataset, split_path: Path | str) -> dict[str, Dataset]:
    """train/dev/test by a frozen document split (documents it does not name train)."""
    split = load_split(Path(split_path))
    part = np.array([split.get(d, "train") for d in ds.docs])
    return {p: ds.take(part == p) for p in ("train", "dev", "test")}


def read_config(path: Path | str) -> dict[str, Any]:
    path = Path(path)
    try:
        cfg = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"{path}: no such training config") from None
    except tomllib.TOMLDecodeError as exc:
        raise ModelError(f"{path}: not valid TOML ({exc})") from None
    for key in ("model", "data"):
        if key not in cfg:
            raise ModelError(f"{path}: missing [{key}] table")
    for key in ("name", "version", "kind"):
        if key not in cfg["model"]:
            raise ModelError(f"{path}: [model] needs {key!r}")
    return cfg


def _thresholds(cfg: dict[str, Any], y: np.ndarray, scores: np.ndarray) -> tuple[dict, dict]:
    t = cfg.get("thresholds", {})
    floor, fallback = float(t.get("floor", 0.2)), float(t.get("fallback", 0.5))
    min_pos = int(t.get("min_dev_positives", 2))
    values, sources = {}, {}
    for j, label in enumerate(LABEL_IDS):
        values[label], sources[label] = best_threshold(
            y[:, j], scores[:, j], floor, fallback, min_pos
        )
    return values, sources


def _apply(scores: np.ndarray, thresholds: dict[str, float]) -> np.ndarray:
    return scores >= np.array([thresholds[label] for label in LABEL_IDS])


def _flag_votes(ds: Dataset, flag_scores: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per flag: what the model says and what the lexicon says, for every passage."""
    hits = default_lexicon().match_many([p.text for p in ds.items])
    return [
        (flag_scores[:, j] >= FLAG_THRESHOLD, np.array([bool(h.flags.get(flag)) for h in hits]))
        for j, flag in enumerate(FLAGS)
    ]


def _flag_rules(ds: Dataset, flag_scores: np.ndarray) -> tuple[dict, dict]:
    """Per flag: the rule (model, lexicon, either, both) with the best dev accuracy."""
    rules, accuracy = {}, {}
    for j, (flag, (model, lex)) in enumerate(zip(FLAGS, _flag_votes(ds, flag_scores), strict=True)):
        scored = {
            rule: float((apply(model, lex) == ds.flags[:, j]).mean())
            for rule, apply in FLAG_RULES.items()
        }
        rules[flag] = max(scored, key=lambda k: (scored[k], k == "model"))
        accuracy[flag] = scored
    return rules, accuracy


def _predict_flags(ds: Dataset, flag_scores: np.ndarray, rules: dict[str, str]) -> np.ndarray:
    votes = _flag_votes(ds, flag_scores)
    return np.stack(
        [
            FLAG_RULES[rules[flag]](model, lex)
            for flag, (model, lex) in zip(FLAGS, votes, strict=True)
        ],
        axis=1,
    )


@dataclass
class Tuned:
    """A scorer fitted on train, with what dev chose for it."""

    scorer: Any
    thresholds: dict[str, float]
    sources: dict[str, str]
    rules: dict[str, str]
    flag_accuracy: dict[str, dict[str, float]]


def fit_and_tune(cfg: dict[str, Any], train: Dataset, dev: Dataset) -> Tuned:
    kind = cfg["model"]["kind"]
    scorer = scorer_class(kind).train(train.items, train.y, train.flags, cfg.get(kind, {}))
    dev_scores, dev_flag_scores = scorer.scores(dev.items)
    thresholds, sources = _thresholds(cfg, dev.y, dev_scores)
    rules, flag_acc = _flag_rules(dev, dev_flag_scores)
    return Tuned(scorer, thresholds, sources, rules, flag_acc)


def evaluate_scorer(
    scorer: Any, ds: Dataset, thresholds: dict[str, float], rules: dict[str, str]
) -> dict[str, Any]:
    """Label and flag metrics of a scorer on one dataset, with given thresholds and rules."""
    scores, flag_scores = scorer.scores(ds.items)
    out = label_metrics(ds.y, _apply(scores, thresholds))
    out["flags"] = flag_metrics(ds.flags, _predict_flags(ds, flag_scores, rules))
    return out


def grouped_cv(
    cfg: dict[str, Any], ds: Dataset, folds: int, seed: int = 0
) -> tuple[dict[str, Any], np.ndarray, dict[str, dict[str, float]]]:
    """Cross-validation by document: each fold's thresholds are tuned on a part of its
    own training documents, never on the fold it is scored on.

    Returns the metrics, the out-of-fold scores, and per document the thresholds
    of the fold that scored it."""
    docs = sorted(set(ds.docs))
    rng = np.random.default_rng(seed)
    order = list(rng.permutation(docs))
    fold_of = {d: i % folds for i, d in enumerate(order)}
    doc_arr = np.array(ds.docs)
    y_pred = np.zeros_like(ds.y)
    f_pred = np.zeros_like(ds.flags)
    oof = np.zeros(ds.y.shape)
    doc_thresholds: dict[str, dict[str, float]] = {}
    for k in range(folds):
        held = np.array([fold_of[d] == k for d in ds.docs])
        train_docs = [d for d in order if fold_of[d] != k]
        tune_docs = set(train_docs[::5])  # one training document in five tunes thresholds
        tune = np.isin(doc_arr, list(tune_docs)) & ~held
        fit = ~held & ~tune
        tuned = fit_and_tune(cfg, ds.take(fit), ds.take(tune))
        part = ds.take(held)
        scores, flag_scores = tuned.scorer.scores(part.items)
        y_pred[held] = _apply(scores, tuned.thresholds)
        f_pred[held] = _predict_flags(part, flag_scores, tuned.rules)
        oof[held] = scores
        doc_thresholds.update({d: tuned.thresholds for d in docs if fold_of[d] == k})
    out = label_metrics(ds.y, y_pred)
    out["flags"] = flag_metrics(ds.flags, f_pred)
    out["folds"] = folds
    out["documents"] = len(docs)
    return out, oof, doc_thresholds


RULES = [{"min_passages": k, "factor": f} for k in (1, 2, 3) for f in (1.0, 1.25, 1.5, 2.0, 3.0)]


def complete_documents(annotations: Path | str) -> set[str]:
    """Documents annotated in full (``documents.csv`` beside the store says which)."""
    import csv

    root = Path(annotations)
    table = (root if root.is_dir() else root.parent) / "documents.csv"
    if not table.is_file():
        return set()
    with table.open(newline="", encoding="utf-8") as fh:
        return {r["doc"] for r in csv.DictReader(fh) if r.get("complete") == "yes"}


def choose_document_rule(
    ds: Dataset, oof: np.ndarray, doc_thresholds: dict[str, dict[str, float]], complete: set[str]
) -> dict[str, Any]:
    """The document-level rule with the best accuracy on the completely annotated documents.

    Scores are out-of-fold (each document scored by a model that never saw it),
    and the truth is the guidelines' rule: a document covers a label when one
    of its passages carries it.
    """
    from .cover import doc_covers

    docs = sorted(d for d in set(ds.docs) if d in complete)
    if not docs:
        return {"min_passages": 1, "factor": 1.0, "chosen_on": 0, "note": "no complete documents"}
    best: dict[str, Any] | None = None
    for rule in RULES:
        tp = fp = fn = correct = total = 0
        for d in docs:
            idx = [i for i, x in enumerate(ds.docs) if x == d]
            for j, label in enumerate(LABEL_IDS):
                truth = bool(ds.y[idx, j].any())
                pred = doc_covers(oof[idx, j].tolist(), doc_thresholds[d][label], rule)
                correct += truth == pred
                total += 1
                tp += truth and pred
                fp += pred and not truth
                fn += truth and not pred
        acc = correct / total
        f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0
        cand = {**rule, "accuracy": acc, "f1": f1, "chosen_on": len(docs),
                "documents": docs, "decisions": total}  # fmt: skip
        if best is None or (f1, acc) > (best["f1"], best["accuracy"]):
            best = cand
    assert best is not None
    return best


def _git_commit() -> str | None:
    try:
        return subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for pkg in ("tipscan", "scikit-learn", "spacy", "numpy", "scipy"):
        with suppress(PackageNotFoundError):
            out[pkg] = version(pkg)
    return out


def train_model(
    config_path: Path | str,
    models_root: Path,
    version: str | None = None,
    cv: bool = True,
    progress: Progress | None = None,
) -> Path:
    """Train, tune, evaluate and write a new model folder; return it."""
    say = progress or (lambda _msg: None)
    cfg = read_config(config_path)
    name = f"{cfg['model']['name']}-{version or cfg['model']['version']}"
    folder = models_root / name
    if folder.exists():
        raise ModelError(
            f"{folder} exists and models are never overwritten; raise [model] version in "
            f"{config_path} or pass --version"
        )
    annotations = cfg["data"].get("annotations", "annotations")
    split_path = Path(cfg["data"]["split"])
    ds = load_dataset(annotations)
    parts = split_dataset(ds, split_path)
    train, dev, test = parts["train"], parts["dev"], parts["test"]
    say(f"{len(train.items)} train, {len(dev.items)} dev, {len(test.items)} test passages")
    for part_name, d in (("train", train), ("dev", dev), ("test", test)):
        if not d.items:
            raise ModelError(
                f"the {part_name} part of split {split_path} holds no annotated passage; "
                "make a split of the current annotations with `tipscan annotations split`"
            )

    say("fitting on train, tuning thresholds on dev")
    tuned = fit_and_tune(cfg, train, dev)
    scorer, thresholds, rules = tuned.scorer, tuned.thresholds, tuned.rules
    dev_metrics = evaluate_scorer(scorer, dev, thresholds, rules)
    test_metrics = evaluate_scorer(scorer, test, thresholds, rules)
    say(f"dev macro-F1 {dev_metrics['macro_f1']:.3f}; test macro-F1 {test_metrics['macro_f1']:.3f}")

    ablation = {}
    for groups in cfg.get("evaluation", {}).get("ablation", []):
        key = "+".join(groups)
        say(f"ablation: {key}")
        sub = json.loads(json.dumps(cfg))
        sub.setdefault(cfg["model"]["kind"], {})["features"] = list(groups)
        t = fit_and_tune(sub, train, dev)
        m = evaluate_scorer(t.scorer, dev, t.thresholds, t.rules)
        ablation[key] = {"dev_macro_f1": m["macro_f1"], "dev_micro_f1": m["micro"]["f1"]}

    cv_metrics = None
    doc_rule: dict[str, Any] = {"min_passages": 1, "factor": 1.0, "note": "no cross-validation run"}
    folds = int(cfg.get("evaluation", {}).get("cv_folds", 0))
    if cv and folds >= 2:
        say(f"grouped {folds}-fold cross-validation over all documents")
        cv_metrics, oof, doc_thr = grouped_cv(cfg, ds, folds)
        doc_rule = choose_document_rule(ds, oof, doc_thr, complete_documents(annotations))
        say(
            f"document rule: {doc_rule['min_passages']} passage(s) at {doc_rule['factor']}x the "
            f"threshold (accuracy {doc_rule.get('accuracy', 0):.3f} on "
            f"{doc_rule.get('chosen_on', 0)} complete documents)"
        )

    support = {
        p: {label: int(d.y[:, j].sum()) for j, label in enumerate(LABEL_IDS)}
        for p, d in (("train", train), ("dev", dev), ("test", test))
    }
    meta = {
        "name": name,
        "kind": cfg["model"]["kind"],
        "description": cfg["model"].get("description", ""),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "labels": list(LABEL_IDS),
        "flags": list(FLAGS),
        "thresholds": thresholds,
        "threshold_source": tuned.sources,
        "modes": scorer.modes,
        "flag_rules": rules,
        "flag_thresholds": dict.fromkeys(FLAGS, FLAG_THRESHOLD),
        "flag_dev_accuracy_by_rule": tuned.flag_accuracy,
        "annotation_snapshot": snapshot_hash(annotations),
        "split": {"name": split_path.stem, "path": str(split_path)},
        "git_commit": _git_commit(),
        "config": cfg,
        "sizes": {
            "train": {"passages": len(train.items), "documents": len(set(train.docs))},
            "dev": {"passages": len(dev.items), "documents": len(set(dev.docs))},
            "test": {"passages": len(test.items), "documents": len(set(test.docs))},
        },
        "support": support,
        "dev": dev_metrics,
        "test": test_metrics,
        "cv": cv_metrics,
        "ablation": ablation,
        "document_rule": doc_rule,
        "versions": _versions(),
    }
    write_model_folder(folder, scorer, meta, Path(config_path).read_text(encoding="utf-8"))
    return folder


def evaluate_model(model: Any, annotations: Path | str, split: str) -> dict[str, Any]:
    """Score a loaded model on one part of its own frozen split."""
    parts = split_dataset(load_dataset(annotations), model.meta.split.path)
    if split not in parts:
        raise ModelError(f"unknown split part {split!r}; use train, dev or test")
    return evaluate_scorer(model.scorer, parts[split], model.thresholds, model.meta.flag_rules)


__all__: Sequence[str] = ("evaluate_model", "load_dataset", "read_config", "train_model")
