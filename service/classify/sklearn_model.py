"""TF-IDF (word and character n-grams, plus context groups) with one linear model per label.

Per label: a logistic regression, its probabilities calibrated (sigmoid, by
cross-validation on the training part) where the label has enough positives;
with fewer it is kept uncalibrated, and with almost none the label falls
back to the lexicon. Each label's mode is recorded in the model's meta and
card, so a thin label is reported as such, never silently left unpredicted.
"""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression

from ..errors import ModelError
from ..labels import FLAGS, LABEL_IDS
from ..lexicon import default_lexicon
from ..model import PassageInput
from .features import FeatureBuilder

FILE = "model.skops"
# Types a tipscan scikit-learn model may contain; anything else in the file is refused.
_TRUSTED_PREFIXES = ("sklearn.", "numpy.", "scipy.", "builtins.", "collections.")


class SklearnScorer:
    kind = "sklearn"

    def __init__(
        self,
        features: FeatureBuilder,
        estimators: dict[str, Any],
        modes: dict[str, str],
    ) -> None:
        self.features = features
        self.estimators = estimators  # label id or flag -> fitted estimator (or None)
        self.modes = modes  # label id or flag -> calibrated | uncalibrated | lexicon

    @classmethod
    def train(
        cls,
        items: Sequence[PassageInput],
        y: np.ndarray,
        flags: np.ndarray,
        config: dict[str, Any],
    ) -> SklearnScorer:
        features = FeatureBuilder(config.get("features", ["text"]))
        x = features.fit_transform(items)
        c = float(config.get("C", 4.0))
        min_calibrated = int(config.get("min_calibrated", 8))
        min_trained = int(config.get("min_trained", 2))
        estimators: dict[str, Any] = {}
        modes: dict[str, str] = {}
        targets = [(label, y[:, i]) for i, label in enumerate(LABEL_IDS)]
        targets += [(flag, flags[:, j]) for j, flag in enumerate(FLAGS)]
        for key, target in targets:
            pos = int(target.sum())
            base = LogisticRegression(
                C=c, class_weight="balanced", max_iter=2000, solver="liblinear"
            )
            if pos >= min_calibrated and len(target) - pos >= min_calibrated:
                est: Any = CalibratedClassifierCV(base, method="sigmoid", cv=3, ensemble=False)
                modes[key] = "calibrated"
            elif pos >= min_trained:
                est = base
                modes[key] = "uncalibrated"
            else:
                estimators[key] = None
                modes[key] = "lexicon"
                continue
            est.fit(x, target.astype(int))
            estimators[key] = est
        return cls(features, estimators, modes)

    def scores(self, items: Sequence[PassageInput]) -> tuple[np.ndarray, np.ndarray]:
        """Probabilities: (n, 18) for the labels and (n, 2) for the flags."""
        if not items:
            return np.zeros((0, len(LABEL_IDS))), np.zeros((0, len(FLAGS)))
        x = self.features.transform(items)
        lex = None
        out = np.zeros((len(items), len(LABEL_IDS) + len(FLAGS)))
        for col, key in enumerate((*LABEL_IDS, *FLAGS)):
            est = self.estimators.get(key)
            if est is not None:
                out[:, col] = est.predict_proba(x)[:, 1]
            else:
                if lex is None:
                    lex = default_lexicon().match_many([p.text for p in items])
                hits = [
                    len(h.labels.get(key, ())) if key in LABEL_IDS else len(h.flags.get(key, ()))
                    for h in lex
                ]
                out[:, col] = [min(1.0, n / 3.0) for n in hits]
        return out[:, : len(LABEL_IDS)], out[:, len(LABEL_IDS) :]

    def save(self, folder: Path) -> None:
        import skops.io as sio

        state = {
            "groups": list(self.features.groups),
            "vectorizers": self.features.vectorizers,
            "estimators": self.estimators,
            "modes": self.modes,
        }
        sio.dump(state, folder / FILE, compression=zipfile.ZIP_DEFLATED, compresslevel=9)

    @classmethod
    def load(cls, folder: Path) -> SklearnScorer:
        import skops.io as sio

        path = folder / FILE
        if not path.is_file():
            raise ModelError(f"{folder}: no {FILE}; the model folder is incomplete")
        untrusted = sio.get_untrusted_types(file=path)
        foreign = [t for t in untrusted if not t.startswith(_TRUSTED_PREFIXES)]
        if foreign:
            raise ModelError(
                f"{path} holds types tipscan does not load ({', '.join(foreign[:5])}); "
                "retrain the model with `tipscan train`"
            )
        state = sio.load(path, trusted=untrusted)
        features = FeatureBuilder(state["groups"], state["vectorizers"])
        return cls(features, state["estimators"], state["modes"])
