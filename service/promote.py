"""Compare a model with the current default on the same held-out documents, and promote it.

A model becomes the default only when its macro-F1 on the held-out (``test``)
documents of its split beats the current default's on the very same documents
and annotations, or when an admin overrides that rule with a recorded reason.
Every choice is appended to ``default-history.jsonl`` with who made it, when and
why, next to the numbers it rests on; model folders are never changed.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .classify import DEFAULT_FILE, HISTORY_FILE, Model, load_model
from .errors import Conflict, InvalidInput, ModelError
from .labels import LABEL_IDS
from .split import load_split
from .train import (
    Dataset,
    evaluate_on,
    load_dataset,
    project_path,
    split_dataset,
    tuning_of,
)


class PromotionRefused(Conflict):
    """A model no better than the default on held-out macro-F1, without an override."""


def current_default(root: Path) -> str | None:
    pointer = root / DEFAULT_FILE
    return pointer.read_text(encoding="utf-8").strip() if pointer.is_file() else None


def _scores(m: dict[str, Any]) -> dict[str, Any]:
    """The figures a comparison keeps from full held-out metrics."""
    return {
        "micro_f1": m["micro"]["f1"],
        "macro_f1": m["macro_f1"],
        "per_label": {label: m["per_label"][label]["f1"] for label in LABEL_IDS},
        "by_language": {
            lang: {"passages": v["passages"], "micro_f1": v["micro_f1"], "macro_f1": v["macro_f1"]}
            for lang, v in m["by_language"].items()
        },
    }


def _delta(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def _trained_on(baseline: Model, docs: list[str]) -> list[str]:
    """Those of ``docs`` the baseline's own split put in its train or dev part."""
    path = project_path(baseline.meta.split.path)
    if not path.is_file():
        return []
    split = load_split(path)
    return sorted(d for d in docs if split.get(d, "test") != "test")


def comparison(
    name: str,
    candidate: dict[str, Any],
    baseline: Model,
    held_out: Dataset,
    split_name: str,
    snapshot: str,
) -> dict[str, Any]:
    """Both models' figures on ``held_out``, the deltas and the documents used.

    ``candidate`` is the candidate's full held-out metrics (``evaluate_on``); the
    baseline is scored here on the same passages with its own thresholds and rules.
    """
    base = evaluate_on(baseline.scorer, tuning_of(baseline.meta), held_out)
    new, old = _scores(candidate), _scores(base)
    docs = sorted(set(held_out.docs))
    return {
        "candidate": name,
        "baseline": baseline.name,
        "split": split_name,
        "annotation_snapshot": snapshot,
        "documents": docs,
        "passages": len(held_out.items),
        "baseline_trained_on": _trained_on(baseline, docs),
        "scores": {"candidate": new, "baseline": old},
        "delta": {
            "micro_f1": new["micro_f1"] - old["micro_f1"],
            "macro_f1": new["macro_f1"] - old["macro_f1"],
            "per_label": {
                label: _delta(new["per_label"][label], old["per_label"][label])
                for label in LABEL_IDS
            },
            "by_language": {
                lang: {
                    "micro_f1": v["micro_f1"] - old["by_language"][lang]["micro_f1"],
                    "macro_f1": v["macro_f1"] - old["by_language"][lang]["macro_f1"],
                }
                for lang, v in new["by_language"].items()
                if lang in old["by_language"]
            },
        },
        "better": new["macro_f1"] > old["macro_f1"],
    }


def compare_with_default(
    root: Path,
    name: str,
    test: Dataset,
    test_metrics: dict[str, Any],
    split_name: str,
    snapshot: str,
) -> dict[str, Any] | None:
    """The comparison of a just-trained model with ``root``'s default, or None when
    there is no default to compare with (the first model of a folder)."""
    default = current_default(root)
    if default is None or default == name:
        return None
    baseline = load_model(default, root)
    return comparison(name, test_metrics, baseline, test, split_name, snapshot)


def compare_models(
    name: str, root: Path, annotations: Path | str = "annotations"
) -> dict[str, Any]:
    """``name`` against the current default of ``root``, both scored now on the test
    documents of ``name``'s split with the current annotations."""
    from .annotations import snapshot_hash

    default = current_default(root)
    if default is None:
        raise ModelError(f"no default model in {root} to compare {name!r} with")
    candidate = load_model(name, root)
    baseline = load_model(default, root)
    annotations = project_path(annotations)
    test = held_out_part(candidate, annotations)
    metrics = evaluate_on(candidate.scorer, tuning_of(candidate.meta), test)
    return comparison(
        name, metrics, baseline, test, candidate.meta.split.name, snapshot_hash(annotations)
    )


def held_out_part(model: Model, annotations: Path | str) -> Dataset:
    split_path = project_path(model.meta.split.path)
    if not split_path.is_file():
        raise ModelError(f"model {model.name!r} names split {split_path}, which is not there")
    test = split_dataset(load_dataset(annotations), split_path)["test"]
    if not test.items:
        raise ModelError(f"the test part of {split_path} holds no annotated passage")
    return test


def summary(cmp: dict[str, Any]) -> str:
    """One line: both macro- and micro-F1 on the documents used, and the labels that lost most."""
    new, old = cmp["scores"]["candidate"], cmp["scores"]["baseline"]
    worse = sorted(
        (d, label) for label, d in cmp["delta"]["per_label"].items() if d is not None and d < 0
    )[:3]
    text = (
        f"held-out macro-F1 {new['macro_f1']:.3f} against {old['macro_f1']:.3f} for "
        f"{cmp['baseline']} (micro-F1 {new['micro_f1']:.3f} against {old['micro_f1']:.3f}), "
        f"on the {len(cmp['documents'])} test documents of split {cmp['split']} "
        f"({cmp['passages']} passages)"
    )
    if worse:
        text += "; lower on " + ", ".join(f"{label} ({d:+.2f})" for d, label in worse)
    return text


@dataclass
class Decision:
    name: str
    promoted: bool
    reason: str
    comparison: dict[str, Any] | None
    entry: dict[str, Any] | None = None


def _record(root: Path, entry: dict[str, Any]) -> None:
    with (root / HISTORY_FILE).open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(entry) + "\n")
    tmp = root / f".{DEFAULT_FILE}.{os.getpid()}"
    tmp.write_text(entry["name"] + "\n", encoding="utf-8")
    tmp.replace(root / DEFAULT_FILE)


def promote(
    name: str,
    root: Path,
    *,
    annotations: Path | str = "annotations",
    cmp: dict[str, Any] | None = None,
    override: bool = False,
    reason: str | None = None,
    by: str | None = None,
    refuse: bool = True,
) -> Decision:
    """Make ``name`` the default if it beats the current one on held-out macro-F1.

    ``cmp`` is a comparison already made against the current default (after
    training); otherwise both models are scored now. A model that is not better is
    refused (:class:`PromotionRefused`, or a ``Decision`` saying why with
    ``refuse=False``) unless ``override`` is given with a ``reason``.
    """
    if override and not (reason and reason.strip()):
        raise InvalidInput("an override needs a reason (--reason): say why this model")
    load_model(name, root)  # exists and verifies
    default = current_default(root)
    if default == name:
        return Decision(name, False, f"{name} is already the default", None)
    if default is None:
        cmp, why = None, f"the first default of {root.name}"
    else:
        if cmp is None or cmp.get("baseline") != default:
            cmp = compare_models(name, root, annotations)
        why = summary(cmp)
        if not cmp["better"] and not override:
            message = (
                f"{name} is not better than the default: {why}; to make it the default "
                "anyway, override with a reason"
            )
            if refuse:
                raise PromotionRefused(message)
            return Decision(name, False, message, cmp)
    entry: dict[str, Any] = {
        "name": name,
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "by": by or "unknown",
        "previous": default,
        "override": bool(override and cmp is not None and not cmp["better"]),
        "reason": reason.strip() if reason and reason.strip() else why,
    }
    if cmp is not None:
        entry["comparison"] = {
            "baseline": cmp["baseline"],
            "split": cmp["split"],
            "documents": len(cmp["documents"]),
            "passages": cmp["passages"],
            "macro_f1": cmp["scores"]["candidate"]["macro_f1"],
            "baseline_macro_f1": cmp["scores"]["baseline"]["macro_f1"],
            "micro_f1": cmp["scores"]["candidate"]["micro_f1"],
            "baseline_micro_f1": cmp["scores"]["baseline"]["micro_f1"],
        }
        if not entry["override"]:
            entry["reason"] = f"better: {why}" + (f"; {reason.strip()}" if reason else "")
    _record(root, entry)
    return Decision(name, True, entry["reason"], cmp, entry)
