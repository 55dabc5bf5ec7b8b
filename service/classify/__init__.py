"""Classifiers behind one interface, loaded by name from ``models/``.

A model folder ``models/<name>-<version>/`` holds the scorer (scikit-learn
via skops, or a spaCy pipeline), ``meta.json`` (labels, thresholds, scores,
lineage) and ``MODEL_CARD.md``. :class:`Model` turns the scorer's
probabilities into labels with the per-label thresholds of ``meta.json``
and sets the two flags by the rule chosen on the dev split.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ..errors import ModelError
from ..labels import FLAGS, LABEL_IDS
from ..lexicon import default_lexicon
from ..model import PassageInput, Prediction

FORMAT = "tipscan-model/1"
DEFAULT_FILE = "DEFAULT"
FLAG_THRESHOLD = 0.5

# How a flag combines the model's vote and the lexicon's (booleans or numpy arrays).
FLAG_RULES: dict[str, Callable[[Any, Any], Any]] = {
    "model": lambda model, lexicon: model,
    "lexicon": lambda model, lexicon: lexicon,
    "either": lambda model, lexicon: model | lexicon,
    "both": lambda model, lexicon: model & lexicon,
}


class Scorer(Protocol):
    kind: str
    modes: dict[str, str]

    def scores(self, items: Sequence[PassageInput]) -> tuple[np.ndarray, np.ndarray]: ...

    def save(self, folder: Path) -> None: ...


def models_dir() -> Path:
    """``TIPSCAN_MODELS`` if set; else ``models/`` in the working directory, where the
    project's checkout ships its models; else ``models/`` beside the package source."""
    env = os.environ.get("TIPSCAN_MODELS")
    if env:
        return Path(env)
    here = Path.cwd() / "models"
    if (here / DEFAULT_FILE).is_file():
        return here
    return Path(__file__).resolve().parents[2] / "models"


def scorer_class(kind: str) -> Any:
    if kind == "sklearn":
        from .sklearn_model import SklearnScorer

        return SklearnScorer
    if kind == "spacy":
        from .spacy_model import SpacyScorer

        return SpacyScorer
    raise ModelError(f"unknown model kind {kind!r}; tipscan knows 'sklearn' and 'spacy'")


@dataclass
class Model:
    name: str
    folder: Path
    meta: dict[str, Any]
    scorer: Scorer

    @property
    def thresholds(self) -> dict[str, float]:
        return dict(self.meta["thresholds"])

    def predict(self, items: Sequence[PassageInput], explain: bool = False) -> list[Prediction]:
        """Labels, all 18 scores and the two flags for each passage."""
        if not items:
            return []
        label_scores, flag_scores = self.scorer.scores(items)
        hits = default_lexicon().match_many([p.text for p in items])
        rules = self.meta.get("flag_rules", {})
        out = []
        for i, p in enumerate(items):
            scores = {
                label: round(float(label_scores[i, j]), 4) for j, label in enumerate(LABEL_IDS)
            }
            labels = [label for label in LABEL_IDS if scores[label] >= self.thresholds[label]]
            thresholds = self.meta.get("flag_thresholds", {})
            flags = {
                flag: bool(
                    FLAG_RULES[rules.get(flag, "model")](
                        bool(flag_scores[i, j] >= thresholds.get(flag, FLAG_THRESHOLD)),
                        bool(hits[i].flags.get(flag)),
                    )
                )
                for j, flag in enumerate(FLAGS)
            }
            ex = None
            if explain:
                ex = {k: sorted(set(v)) for k, v in {**hits[i].flags, **hits[i].labels}.items()}
            out.append(
                Prediction(
                    id=p.id,
                    labels=labels,
                    scores=scores,
                    mentions_trafficking=flags["mentions_trafficking"],
                    mentions_corruption=flags["mentions_corruption"],
                    explain=ex,
                )
            )
        return out


def list_models(root: Path | None = None) -> list[dict[str, Any]]:
    root = root or models_dir()
    out = []
    for meta_path in sorted(root.glob("*/meta.json")):
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        out.append({"name": meta_path.parent.name, **meta})
    return out


def default_model_name(root: Path | None = None) -> str:
    root = root or models_dir()
    pointer = root / DEFAULT_FILE
    if not pointer.is_file():
        raise ModelError(
            f"no default model: {pointer} is missing; train one with "
            "`tipscan train training/sklearn.toml` or pass --model NAME"
        )
    return pointer.read_text(encoding="utf-8").strip()


def load_model(name: str | None = None, root: Path | None = None) -> Model:
    """Load ``models/<name>`` (the default model when no name is given), checking its format."""
    root = root or models_dir()
    name = name or default_model_name(root)
    folder = root / name
    meta_path = folder / "meta.json"
    if not meta_path.is_file():
        known = ", ".join(m["name"] for m in list_models(root)) or "none"
        raise ModelError(f"no model {name!r} in {root} (models there: {known})")
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    if meta.get("format") != FORMAT:
        raise ModelError(
            f"model {name!r} has format {meta.get('format')!r}, this tipscan reads {FORMAT!r}; "
            "retrain it with `tipscan train` or use a matching tipscan version"
        )
    if list(meta.get("labels", [])) != list(LABEL_IDS) or list(meta.get("flags", [])) != list(
        FLAGS
    ):
        raise ModelError(
            f"model {name!r} was trained for other labels ({', '.join(meta.get('labels', []))}); "
            "retrain it with `tipscan train` on the current annotations"
        )
    missing = [x for x in LABEL_IDS if x not in meta.get("thresholds", {})]
    if missing:
        raise ModelError(f"model {name!r} has no threshold for {', '.join(missing)}; retrain it")
    scorer = scorer_class(meta["kind"]).load(folder)
    return Model(name=name, folder=folder, meta=meta, scorer=scorer)


def record_default(name: str, root: Path | None = None) -> str:
    """Write why ``name`` is the default into its meta.json and card; return the reason.

    The reason compares dev macro-F1 with every other model present, so the
    card says what the choice rests on (or that it goes against the scores).
    """
    from .. import modelcard

    root = root or models_dir()
    metas = {m["name"]: m for m in list_models(root)}
    mine = metas[name]["dev"]["macro_f1"]
    others = {n: m["dev"]["macro_f1"] for n, m in metas.items() if n != name}
    best = max(others.values(), default=None)
    if best is None:
        reason = f"the only model; dev macro-F1 {mine:.3f}"
    elif mine >= best:
        reason = f"best dev macro-F1: {mine:.3f}, against " + ", ".join(
            f"{n} {v:.3f}" for n, v in sorted(others.items())
        )
    else:
        reason = f"chosen by hand although its dev macro-F1 {mine:.3f} is below {best:.3f}"
    for other in metas:
        folder = root / other
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        if other == name:
            meta["default_reason"] = reason
        elif "default_reason" in meta:
            del meta["default_reason"]  # no longer the default
        else:
            continue
        (folder / "meta.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
        (folder / "MODEL_CARD.md").write_text(modelcard.render_card(meta), encoding="utf-8")
    return reason
