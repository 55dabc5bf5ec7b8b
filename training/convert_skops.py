"""Convert a ``tipscan-model/1`` folder to ``tipscan-model/2``, keeping its training record.

A scikit-learn model (objects in ``model.skops``) becomes arrays and JSON
(``features.json`` + ``weights.npz``); a spaCy model keeps its pipeline. The
new folder lists the checksum of every file in its meta.json.

Run once per old model, with skops installed for a scikit-learn one (it is not a dependency of tipscan)::

    python training/convert_skops.py models-old/tfidf-context-1.0.0 models/ tfidf-context-1.0.1

The skops file is opened with the exact scikit-learn types such a model holds.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from service.classify import write_model_folder
from service.classify.features import FeatureBuilder
from service.classify.sklearn_model import KEYS, SklearnScorer, _export_head
from service.classify.spacy_model import SpacyScorer
from service.classify.vectorize import Tfidf

# The types a tipscan-model/1 scikit-learn file holds beyond skops' own defaults.
TRUSTED_V1 = {
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
}


def _linear_scorer(old: Path) -> SklearnScorer:
    import skops.io as sio

    path = old / "model.skops"
    untrusted = sio.get_untrusted_types(file=path)
    foreign = sorted(set(untrusted) - TRUSTED_V1)
    if foreign:
        raise SystemExit(f"{path} holds unexpected types: {foreign}")
    state = sio.load(path, trusted=untrusted)
    vectorizers = {n: Tfidf.from_sklearn(v) for n, v in state["vectorizers"].items()}
    features = FeatureBuilder(state["groups"], vectorizers)
    coef = np.zeros((features.width, len(KEYS)))
    intercept = np.zeros(len(KEYS))
    sigmoid = np.vstack([-np.ones(len(KEYS)), np.zeros(len(KEYS))])
    for col, key in enumerate(KEYS):
        est = state["estimators"].get(key)
        if est is not None:
            coef[:, col], intercept[col], sigmoid[0, col], sigmoid[1, col] = _export_head(est)
    return SklearnScorer(features, coef, intercept, sigmoid, dict(state["modes"]))


def main(old: Path, root: Path, name: str) -> None:
    if (old / "model.skops").is_file():
        scorer: Any = _linear_scorer(old)
        how = "scikit-learn objects replaced by their arrays"
    else:  # a spaCy pipeline: the same pipeline, written again into the new folder
        scorer = SpacyScorer.load(old)
        how = "the same spaCy pipeline"
    meta = json.loads((old / "meta.json").read_text(encoding="utf-8"))
    meta.pop("default_reason", None)
    meta["converted_from"] = {
        "name": meta["name"],
        "note": f"the same training run, {how}; its recorded figures were measured before the "
        "lexicon matched on word tokens (`tipscan evaluate` gives today's)",
    }
    meta["name"] = name
    write_model_folder(root / name, scorer, meta, (old / "config.toml").read_text("utf-8"))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3])
