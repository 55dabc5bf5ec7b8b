"""Annotations + a training config -> a new model folder (never over an old one).

``tipscan train training/<config>.toml`` runs :func:`train_model`: it reads the
final labels of ``annotations/``, takes the frozen document split named by the
config, fits on train, chooses each label's threshold on dev, scores on test,
runs grouped cross-validation over all documents for a second opinion, and
writes ``models/<name>-<version>/`` with ``meta.json`` and ``MODEL_CARD.md``.
"""

from __future__ import annotations

import platform
import subprocess
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from .annotations import final_labels, load_annotations, snapshot_hash
from .classify import FLAG_RULES, FLAG_THRESHOLD, scorer_class, write_model_folder
from .classify.meta import ModelMeta
from .cover import doc_status
from .errors import ModelError
from .evaluate import best_threshold, flag_metrics, label_metrics
from .labels import FLAGS, LABEL_IDS
from .lexicon import Lexicon, default_lexicon
from .model import PassageInput
from .split import load_split, stratify
from .train_config import TrainingConfig, read_config

Progress = Callable[[str], None]
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def project_path(path: Path | str) -> Path:
    """A path as given when it exists, else relative to the project: configs name
    ``annotations`` and ``training/splits/...`` relative to it, and a server need not
    run from there."""
    p = Path(path)
    if p.exists() or p.is_absolute():
        return p
    return PROJECT_ROOT / p


@dataclass
class Dataset:
    items: list[PassageInput]
    y: np.ndarray  # (n, 18) bool
    flags: np.ndarray  # (n, 2) bool
    docs: list[str]
    languages: list[str]
    doc_types: list[str]

    def take(self, mask: np.ndarray) -> Dataset:
        idx = np.flatnonzero(mask)
        return Dataset(
            [self.items[i] for i in idx],
            self.y[idx],
            self.flags[idx],
            [self.docs[i] for i in idx],
            [self.languages[i] for i in idx],
            [self.doc_types[i] for i in idx],
        )

    def of_docs(self, docs: set[str]) -> Dataset:
        return self.take(np.array([d in docs for d in self.docs], dtype=bool))


def load_dataset(annotations: Path | str) -> Dataset:
    """The final (adjudicated) labels of every annotated passage, with context."""
    finals = final_labels(load_annotations(annotations))
    items, ys, fs, docs, langs, types = [], [], [], [], [], []
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
        langs.append(a.language or "?")
        types.append(a.doc_type)
    return Dataset(
        items, np.array(ys, dtype=bool).reshape(-1, len(LABEL_IDS)),
        np.array(fs, dtype=bool).reshape(-1, len(FLAGS)), docs, langs, types,
    )  # fmt: skip


def split_dataset(ds: Dataset, split_path: Path | str) -> dict[str, Dataset]:
    """train/dev/test by a frozen document split (documents it does not name train)."""
    split = load_split(Path(split_path))
    part = np.array([split.get(d, "train") for d in ds.docs])
    return {p: ds.take(part == p) for p in ("train", "dev", "test")}


def _apply(scores: np.ndarray, thresholds: dict[str, float]) -> np.ndarray:
    return scores >= np.array([thresholds[label] for label in LABEL_IDS])


def _lexicon_flags(lexicon: Lexicon, ds: Dataset) -> np.ndarray:
    hits = lexicon.match_many([p.text for p in ds.items])
    return np.array([[bool(h.flags.get(f)) for f in FLAGS] for h in hits], dtype=bool).reshape(
        -1, len(FLAGS)
    )


def predict_flags(
    lexicon: Lexicon, ds: Dataset, flag_scores: np.ndarray, rules: dict[str, str]
) -> np.ndarray:
    lex = _lexicon_flags(lexicon, ds)
    model = flag_scores >= FLAG_THRESHOLD
    return np.stack(
        [FLAG_RULES[rules[f]](model[:, j], lex[:, j]) for j, f in enumerate(FLAGS)], axis=1
    ).reshape(-1, len(FLAGS))


@dataclass
class Tuning:
    """What out-of-fold scores chose: thresholds, flag rules, the document rule."""

    thresholds: dict[str, float]
    sources: dict[str, str]
    flag_rules: dict[str, str]
    flag_accuracy: dict[str, dict[str, float]]
    doc_rule: dict[str, Any]


def fit_scorer(cfg: TrainingConfig, ds: Dataset) -> Any:
    return scorer_class(cfg.model.kind).train(ds.items, ds.y, ds.flags, cfg.scorer)


def _fit_and_score(
    cfg: TrainingConfig, ds: Dataset, train: np.ndarray, held: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    scorer = fit_scorer(cfg, ds.take(train))
    return scorer.scores(ds.take(held).items)


def out_of_fold(
    cfg: TrainingConfig,
    ds: Dataset,
    fold_of: dict[str, int],
    fraction: float = 1.0,
    seed: int = 13,
) -> tuple[np.ndarray, np.ndarray]:
    """Scores of every passage from a model that never saw its document (fitted on the
    other folds, or on ``fraction`` of their documents). Folds run in parallel, in
    worker processes forked from this one."""
    import multiprocessing as mp
    import os
    from concurrent.futures import ProcessPoolExecutor

    rng = np.random.default_rng(seed)
    jobs = []
    for k in sorted(set(fold_of.values())):
        held = np.array([fold_of[d] == k for d in ds.docs], dtype=bool)
        if held.all() or not held.any():
            continue
        others = sorted({d for d, f in fold_of.items() if f != k})
        if fraction < 1.0:
            keep = set(
                rng.choice(others, size=max(2, round(len(others) * fraction)), replace=False)
            )
            train = np.array([d in keep for d in ds.docs], dtype=bool)
        else:
            train = ~held
        jobs.append((train, held))
    scores = np.zeros(ds.y.shape)
    flag_scores = np.zeros(ds.flags.shape)
    workers = min(len(jobs), os.cpu_count() or 1)
    if workers <= 1 or os.name != "posix":
        results = [_fit_and_score(cfg, ds, t, h) for t, h in jobs]
    else:
        with ProcessPoolExecutor(workers, mp_context=mp.get_context("fork")) as pool:
            results = list(
                pool.map(_fit_and_score, *zip(*[(cfg, ds, t, h) for t, h in jobs], strict=True))
            )
    for (_, held), (s, fs) in zip(jobs, results, strict=True):
        scores[held], flag_scores[held] = s, fs
    return scores, flag_scores


def tune(
    cfg: TrainingConfig, ds: Dataset, scores: np.ndarray, flag_scores: np.ndarray, lexicon: Lexicon
) -> Tuning:
    """Thresholds (best F1 per label), flag rules (best accuracy) and the document rule
    (best covered-cell F1), all chosen on out-of-fold scores."""
    t = cfg.thresholds
    thresholds, sources = {}, {}
    for j, label in enumerate(LABEL_IDS):
        thresholds[label], sources[label] = best_threshold(
            ds.y[:, j], scores[:, j], t.floor, t.fallback, t.min_dev_positives
        )
    lex = _lexicon_flags(lexicon, ds)
    model = flag_scores >= FLAG_THRESHOLD
    rules, accuracy = {}, {}
    for j, flag in enumerate(FLAGS):
        scored = {
            rule: float((apply(model[:, j], lex[:, j]) == ds.flags[:, j]).mean())
            for rule, apply in FLAG_RULES.items()
        }
        rules[flag] = max(scored, key=lambda k: (scored[k], k == "model"))
        accuracy[flag] = scored
    flags = predict_flags(lexicon, ds, flag_scores, rules)
    best: dict[str, Any] | None = None
    for rule in RULES:
        m = document_metrics(ds, scores, flags, thresholds, rule)
        cand = {**rule, "accuracy": m["accuracy"], "f1": m["f1"], "chosen_on": m["documents"]}
        if best is None or (cand["f1"], cand["accuracy"]) > (best["f1"], best["accuracy"]):
            best = cand
    assert best is not None
    return Tuning(thresholds, sources, rules, accuracy, best)


def fit_tuned(cfg: TrainingConfig, ds: Dataset, folds: int, seed: int = 13) -> tuple[Any, Tuning]:
    """Tune on out-of-fold scores of ``ds`` (document folds, stratified), then fit on all of it."""
    fold_of = stratified_folds(ds, folds, seed)
    scores, flag_scores = out_of_fold(cfg, ds, fold_of, seed=seed)
    scorer = fit_scorer(cfg, ds)
    return scorer, tune(cfg, ds, scores, flag_scores, _lexicon_of(cfg))


def stratified_folds(ds: Dataset, k: int, seed: int = 13) -> dict[str, int]:
    labels: dict[str, Counter[str]] = defaultdict(Counter)
    sizes: Counter[str] = Counter()
    for i, d in enumerate(ds.docs):
        sizes[d] += 1
        labels[d].update(x for j, x in enumerate(LABEL_IDS) if ds.y[i, j])
    k = max(2, min(k, len(sizes)))
    out = stratify(
        {d: labels[d] for d in sizes}, dict(sizes), {str(i): 1 / k for i in range(k)}, seed
    )
    return {d: int(p) for d, p in out.items()}


RULES = [
    {"min_passages": n, "factor": f, "uncertain_single": u}
    for n in (1, 2, 3)
    for f in (1.0, 1.25, 1.5, 2.0)
    for u in (False, True)
]


def _rows_by_document(ds: Dataset) -> dict[str, list[int]]:
    rows: dict[str, list[int]] = defaultdict(list)
    for i, d in enumerate(ds.docs):
        rows[d].append(i)
    return rows


def document_decisions(
    ds: Dataset,
    scores: np.ndarray,
    flags: np.ndarray,
    thresholds: dict[str, float],
    rule: dict[str, Any],
) -> dict[str, dict[str, str]]:
    """Per document and label: covered, uncertain or none, by the document rule."""
    out: dict[str, dict[str, str]] = {}
    for d, idx in _rows_by_document(ds).items():
        both = bool(flags[idx, 0].any() and flags[idx, 1].any())
        out[d] = {
            label: doc_status(scores[idx, j].tolist(), thresholds[label], rule, label, both)
            for j, label in enumerate(LABEL_IDS)
        }
    return out


def document_metrics(
    ds: Dataset,
    scores: np.ndarray,
    flags: np.ndarray,
    thresholds: dict[str, float],
    rule: dict[str, Any],
    decisions: dict[str, dict[str, str]] | None = None,
) -> dict[str, Any]:
    """Cell accuracy and covered-cell F1 of document x label decisions against the truth
    (a document covers a label when one of its passages carries it); "uncertain" is not
    "covered"."""
    decisions = decisions or document_decisions(ds, scores, flags, thresholds, rule)
    truth = {
        d: {x for j, x in enumerate(LABEL_IDS) if ds.y[idx, j].any()}
        for d, idx in _rows_by_document(ds).items()
    }
    tp = fp = fn = correct = total = uncertain = 0
    for d, row in decisions.items():
        for label, status in row.items():
            t, p = label in truth[d], status == "covered"
            uncertain += status == "uncertain"
            correct += t == p
            total += 1
            tp += t and p
            fp += p and not t
            fn += t and not p
    return {
        "documents": len(decisions),
        "cells": total,
        "accuracy": correct / total if total else 0.0,
        "f1": 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0,
        "precision": tp / (tp + fp) if tp + fp else 0.0,
        "recall": tp / (tp + fn) if tp + fn else 0.0,
        "uncertain": uncertain,
    }


def _breakdown(ds: Dataset, y_pred: np.ndarray, groups: list[str]) -> dict[str, Any]:
    out = {}
    arr = np.array(groups)
    for g in sorted(set(groups)):
        mask = arr == g
        m = label_metrics(ds.y[mask], y_pred[mask])
        out[g] = {
            "passages": int(mask.sum()),
            "positives": int(ds.y[mask].sum()),
            "micro_f1": m["micro"]["f1"],
            "macro_f1": m["macro_f1"],
        }
    return out


def evaluate_predictions(
    ds: Dataset, y_pred: np.ndarray, flags: np.ndarray, decisions: dict[str, dict[str, str]]
) -> dict[str, Any]:
    """Per label, micro/macro, per language and document type, non-English, flags and
    document coverage (``decisions``), for predictions on held-out documents."""
    out = label_metrics(ds.y, y_pred)
    out["by_language"] = _breakdown(ds, y_pred, ds.languages)
    out["by_doc_type"] = _breakdown(ds, y_pred, ds.doc_types)
    foreign = np.array([lang != "en" for lang in ds.languages], dtype=bool)
    m = label_metrics(ds.y[foreign], y_pred[foreign])
    out["non_english"] = {"passages": int(foreign.sum()), "micro_f1": m["micro"]["f1"],
                          "macro_f1": m["macro_f1"]}  # fmt: skip
    out["flags"] = flag_metrics(ds.flags, flags)
    out["coverage"] = document_metrics(ds, y_pred, flags, {}, {}, decisions)
    return out


def cross_validate(
    cfg: TrainingConfig,
    ds: Dataset,
    folds: int,
    seed: int = 13,
    fraction: float = 1.0,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Grouped cross-validation over documents (stratified folds). Each fold is scored by
    a model fitted on the other folds (or ``fraction`` of their documents, for a
    learning curve); its thresholds, flag rules and document rule are chosen on the
    other folds' out-of-fold scores, never on its own labels."""
    say = progress or (lambda _msg: None)
    outer = stratified_folds(ds, folds, seed)
    say(f"{len(set(outer.values()))} folds over {len(outer)} documents")
    scores, flag_scores = out_of_fold(cfg, ds, outer, fraction, seed)
    lexicon = _lexicon_of(cfg)
    y_pred = np.zeros(ds.y.shape, dtype=bool)
    flags = np.zeros(ds.flags.shape, dtype=bool)
    decisions: dict[str, dict[str, str]] = {}
    for k in sorted(set(outer.values())):
        held = np.array([outer[d] == k for d in ds.docs], dtype=bool)
        rest = ds.take(~held)
        tuning = tune(cfg, rest, scores[~held], flag_scores[~held], lexicon)
        part = ds.take(held)
        f = predict_flags(lexicon, part, flag_scores[held], tuning.flag_rules)
        y_pred[held], flags[held] = _apply(scores[held], tuning.thresholds), f
        decisions.update(
            document_decisions(part, scores[held], f, tuning.thresholds, tuning.doc_rule)
        )
    out = evaluate_predictions(ds, y_pred, flags, decisions)
    out["folds"] = folds
    out["documents"] = len(outer)
    out["fraction"] = fraction
    return out


def _lexicon_of(cfg: TrainingConfig) -> Lexicon:
    """The lexicon a model of this config uses: the shipped concepts at training time."""
    return default_lexicon()


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


def _summary(m: dict[str, Any]) -> dict[str, Any]:
    """The headline figures of a metrics dict (for comparisons and learning curves)."""
    return {
        "micro_f1": m["micro"]["f1"],
        "macro_f1": m["macro_f1"],
        "non_english_micro_f1": m["non_english"]["micro_f1"],
        "flag_accuracy": {k: v["accuracy"] for k, v in m["flags"].items()},
        "coverage_accuracy": m["coverage"]["accuracy"],
        "coverage_f1": m["coverage"]["f1"],
    }


def evaluate_on(scorer: Any, tuning: Tuning, ds: Dataset) -> dict[str, Any]:
    """A fitted, tuned scorer on held-out documents."""
    scores, flag_scores = scorer.scores(ds.items)
    lexicon = getattr(scorer, "lexicon", None) or default_lexicon()
    flags = predict_flags(lexicon, ds, flag_scores, tuning.flag_rules)
    decisions = document_decisions(ds, scores, flags, tuning.thresholds, tuning.doc_rule)
    return evaluate_predictions(ds, _apply(scores, tuning.thresholds), flags, decisions)


def train_model(
    config_path: Path | str,
    models_root: Path,
    version: str | None = None,
    cv: bool = True,
    progress: Progress | None = None,
    compare_default: bool = True,
) -> Path:
    """Train, tune, evaluate and write a new model folder; return it.

    The model is fitted on the split's train and dev documents; its thresholds,
    flag rules and document rule come from out-of-fold scores over those documents
    (grouped, stratified folds); it is scored on the test documents, which nothing
    saw. With ``cv``, grouped cross-validation over every document (all choices
    nested), the other model families of ``[evaluation] compare``, a learning curve
    and the feature ablation are measured too and recorded in the card. With
    ``compare_default``, the folder's current default model is scored on the same
    test documents and the comparison is recorded too (``versus_default``)."""
    say = progress or (lambda _msg: None)
    cfg = read_config(config_path)
    name = f"{cfg.model.name}-{version or cfg.model.version}"
    folder = models_root / name
    if folder.exists():
        raise ModelError(
            f"{folder} exists and models are never overwritten; raise [model] version in "
            f"{config_path} or pass --version"
        )
    annotations = project_path(cfg.data.annotations)
    split_path = project_path(cfg.data.split)
    ds = load_dataset(annotations)
    parts = split_dataset(ds, split_path)
    test = parts["test"]
    fit_docs = set(parts["train"].docs) | set(parts["dev"].docs)
    fit = ds.of_docs(fit_docs)
    for part_name, d in (("train and dev", fit), ("test", test)):
        if not d.items:
            raise ModelError(
                f"the {part_name} part of split {split_path} holds no annotated passage; "
                "make a split of the current annotations with `tipscan annotations split`"
            )
    folds = max(2, cfg.evaluation.cv_folds)
    say(f"{len(fit.items)} passages to fit ({len(fit_docs)} documents), {len(test.items)} to test")
    say(f"fitting with thresholds and rules from {folds}-fold out-of-fold scores")
    scorer, tuning = fit_tuned(cfg, fit, folds)
    test_metrics = evaluate_on(scorer, tuning, test)
    say(
        f"test: micro-F1 {test_metrics['micro']['f1']:.3f}, macro-F1 {test_metrics['macro_f1']:.3f}"
    )

    versus_default = None
    snapshot = snapshot_hash(annotations)
    if compare_default:
        from .promote import compare_with_default

        try:
            versus_default = compare_with_default(
                models_root, name, test, test_metrics, split_path.stem, snapshot
            )
        except ModelError as exc:
            say(f"not compared with the default model: {exc.message}")
        if versus_default:
            d = versus_default["delta"]
            say(
                f"against the default {versus_default['baseline']} on the same test documents: "
                f"macro-F1 {d['macro_f1']:+.3f}, micro-F1 {d['micro_f1']:+.3f}"
            )

    cv_metrics = None
    comparison: dict[str, Any] = {}
    curve: dict[str, Any] = {}
    ablation: dict[str, dict[str, float]] = {}
    if cv:
        say(f"grouped {folds}-fold cross-validation over all {len(set(ds.docs))} documents")
        cv_metrics = cross_validate(cfg, ds, folds, progress=say)
        comparison[name] = _summary(cv_metrics)
        for other in cfg.evaluation.compare:
            other_cfg = read_config(other)
            say(f"the same folds for {other}")
            comparison[f"{other_cfg.model.name} ({other_cfg.model.kind})"] = _summary(
                cross_validate(other_cfg, ds, folds, progress=say)
            )
        for fraction in cfg.evaluation.learning_curve:
            say(f"learning curve: {fraction:.0%} of the training documents")
            curve[f"{fraction:g}"] = _summary(
                cross_validate(cfg, ds, folds, fraction=fraction, progress=say)
            )
        curve["1"] = _summary(cv_metrics)
        for groups in cfg.evaluation.ablation:
            key = "+".join(groups)
            say(f"ablation: {key}")
            m = cross_validate(cfg.with_features(groups), ds, folds, progress=say)
            ablation[key] = {"cv_macro_f1": m["macro_f1"], "cv_micro_f1": m["micro"]["f1"]}

    meta = {
        "name": name,
        "kind": cfg.model.kind,
        "description": cfg.model.description,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "labels": list(LABEL_IDS),
        "flags": list(FLAGS),
        "thresholds": tuning.thresholds,
        "threshold_source": tuning.sources,
        "modes": scorer.modes,
        "flag_rules": tuning.flag_rules,
        "flag_thresholds": dict.fromkeys(FLAGS, FLAG_THRESHOLD),
        "flag_dev_accuracy_by_rule": tuning.flag_accuracy,
        "annotation_snapshot": snapshot,
        "split": {"name": split_path.stem, "path": cfg.data.split},
        "git_commit": _git_commit(),
        "config": cfg.model_dump(mode="json"),
        "sizes": {
            "train": {"passages": len(fit.items), "documents": len(fit_docs)},
            "test": {"passages": len(test.items), "documents": len(set(test.docs))},
        },
        "support": {
            p: {label: int(d.y[:, j].sum()) for j, label in enumerate(LABEL_IDS)}
            for p, d in (("train", fit), ("test", test))
        },
        "test": test_metrics,
        "cv": cv_metrics,
        "comparison": comparison,
        "learning_curve": curve,
        "ablation": ablation,
        "versus_default": versus_default,
        "document_rule": tuning.doc_rule,
        "versions": _versions(),
    }
    write_model_folder(folder, scorer, meta, Path(config_path).read_text(encoding="utf-8"))
    return folder


def tuning_of(meta: ModelMeta) -> Tuning:
    """What a written model's meta.json recorded of its tuning."""
    return Tuning(
        meta.thresholds, meta.threshold_source, dict(meta.flag_rules),
        meta.flag_dev_accuracy_by_rule, meta.document_rule.model_dump(),
    )  # fmt: skip


def evaluate_model(model: Any, annotations: Path | str, split: str) -> dict[str, Any]:
    """Score a loaded model on one part of its own frozen split."""
    parts = split_dataset(load_dataset(annotations), project_path(model.meta.split.path))
    if split not in parts:
        raise ModelError(f"unknown split part {split!r}; use train, dev or test")
    return evaluate_on(model.scorer, tuning_of(model.meta), parts[split])


__all__: Sequence[str] = (
    "evaluate_model", "load_dataset", "read_config", "train_model", "tuning_of",
)  # fmt: skip
