"""TF-IDF (word and character n-grams, plus context groups) with one linear model per label.

Per label: a logistic regression, its probabilities calibrated (sigmoid, by
cross-validation on the training part) where the label has enough positives;
with fewer it is kept uncalibrated, and with almost none the label falls
back to the lexicon. Each label's mode is recorded in the model's meta and
card, so a thin label is reported as such, never silently left unpredicted.

Training uses scikit-learn; what is kept is plain data: ``features.json``
(feature groups, vectorizer parameters and terms) and ``weights.npz`` (idf
vectors, one weight column, intercept and sigmoid per label and flag), read
with ``allow_pickle=False``. Loading runs no code from the files, and scoring
all 20 outputs is one sparse-dense product.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from ..errors import ModelError
from ..labels import FLAGS, LABEL_IDS
from ..lexicon import Concept, Lexicon
from ..model import PassageInput
from ..train_config import SklearnSection
from .features import FeatureBuilder, Group
from .vectorize import Tfidf, TfidfParams

FEATURES_FILE = "features.json"
WEIGHTS_FILE = "weights.npz"
KEYS = (*LABEL_IDS, *FLAGS)
Mode = Literal["calibrated", "uncalibrated", "lexicon"]


class StoredVectorizer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    params: TfidfParams
    terms: list[str]


class StoredFeatures(BaseModel):
    """``features.json``: everything but the numbers."""

    model_config = ConfigDict(extra="forbid")

    groups: list[Group]
    vectorizers: list[StoredVectorizer]
    keys: list[str]
    modes: dict[str, Mode]
    lexicon: dict[str, Concept] | None = Field(
        default=None, description="the concepts the model was trained with"
    )


def _export_head(est: Any) -> tuple[np.ndarray, float, float, float]:
    """(coef, intercept, sigmoid a, sigmoid b) of a fitted logistic regression or its
    sigmoid calibration; an uncalibrated one gets a = -1, b = 0 (a plain logistic)."""
    from sklearn.calibration import CalibratedClassifierCV

    if isinstance(est, CalibratedClassifierCV):
        if len(est.calibrated_classifiers_) != 1 or est.method != "sigmoid":
            raise ModelError("only a single sigmoid calibration (ensemble=False) can be stored")
        inner = est.calibrated_classifiers_[0]
        cal = inner.calibrators[0]
        lr = inner.estimator
        return lr.coef_.ravel(), float(lr.intercept_[0]), float(cal.a_), float(cal.b_)
    return est.coef_.ravel(), float(est.intercept_[0]), -1.0, 0.0


class SklearnScorer:
    kind = "sklearn"

    def __init__(
        self,
        features: FeatureBuilder,
        coef: np.ndarray,
        intercept: np.ndarray,
        sigmoid: np.ndarray,
        modes: dict[str, str],
    ) -> None:
        self.features = features
        self.coef = coef  # (n_features, 20): one column per label, then per flag
        self.intercept = intercept  # (20,)
        self.sigmoid = sigmoid  # (2, 20): p = 1 / (1 + exp(a * z + b)) of the decision z
        self.modes = modes  # label id or flag -> calibrated | uncalibrated | lexicon

    @property
    def lexicon(self) -> Lexicon:
        return self.features.lexicon

    @classmethod
    def train(
        cls,
        items: Sequence[PassageInput],
        y: np.ndarray,
        flags: np.ndarray,
        config: SklearnSection,
    ) -> SklearnScorer:
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.linear_model import LogisticRegression

        features = FeatureBuilder(config.features, min_docs=config.min_docs)
        x = features.fit_transform(items)
        c = config.C
        min_calibrated = config.min_calibrated
        min_trained = config.min_trained
        coef = np.zeros((x.shape[1], len(KEYS)))
        intercept = np.zeros(len(KEYS))
        sigmoid = np.vstack([-np.ones(len(KEYS)), np.zeros(len(KEYS))])
        modes: dict[str, str] = {}
        targets = [y[:, i] for i in range(len(LABEL_IDS))]
        targets += [flags[:, j] for j in range(len(FLAGS))]
        for col, (key, target) in enumerate(zip(KEYS, targets, strict=True)):
            pos = int(target.sum())
            base = LogisticRegression(
                C=c, class_weight="balanced", max_iter=2000, solver="liblinear"
            )
            if config.calibrate and pos >= min_calibrated and len(target) - pos >= min_calibrated:
                est: Any = CalibratedClassifierCV(base, method="sigmoid", cv=3, ensemble=False)
                modes[key] = "calibrated"
            elif pos >= min_trained:
                est = base
                modes[key] = "uncalibrated"
            else:
                modes[key] = "lexicon"
                continue
            est.fit(x, target.astype(int))
            coef[:, col], intercept[col], sigmoid[0, col], sigmoid[1, col] = _export_head(est)
        return cls(features, coef, intercept, sigmoid, modes)

    def scores(self, items: Sequence[PassageInput]) -> tuple[np.ndarray, np.ndarray]:
        """Probabilities: (n, 18) for the labels and (n, 2) for the flags."""
        if not items:
            return np.zeros((0, len(LABEL_IDS))), np.zeros((0, len(FLAGS)))
        x = self.features.transform(items)
        z = np.asarray(x @ self.coef) + self.intercept
        out = 1.0 / (1.0 + np.exp(np.clip(self.sigmoid[0] * z + self.sigmoid[1], -500, 500)))
        lexical = [col for col, key in enumerate(KEYS) if self.modes.get(key) == "lexicon"]
        if lexical:
            hits = self.lexicon.match_many([p.text for p in items])
            for col in lexical:
                key = KEYS[col]
                found = [h.labels if key in LABEL_IDS else h.flags for h in hits]
                out[:, col] = [min(1.0, len(f.get(key, ())) / 3.0) for f in found]
        return out[:, : len(LABEL_IDS)], out[:, len(LABEL_IDS) :]

    def save(self, folder: Path) -> None:
        stored = StoredFeatures(
            groups=list(self.features.groups),  # type: ignore[arg-type]
            vectorizers=[
                StoredVectorizer(name=name, params=v.params, terms=v.terms)
                for name, v in self.features.vectorizers.items()
            ],
            keys=list(KEYS),
            modes=self.modes,  # type: ignore[arg-type]
            lexicon=self.features.lexicon.concepts,
        )
        (folder / FEATURES_FILE).write_text(
            json.dumps(stored.model_dump(mode="json", by_alias=True), ensure_ascii=False),
            encoding="utf-8",
        )
        arrays: dict[str, Any] = {
            f"idf:{name}": v.idf
            for name, v in self.features.vectorizers.items()
            if v.idf is not None
        }
        with (folder / WEIGHTS_FILE).open("wb") as fh:
            np.savez_compressed(
                fh, coef=self.coef, intercept=self.intercept, sigmoid=self.sigmoid, **arrays
            )

    @classmethod
    def load(cls, folder: Path) -> SklearnScorer:
        try:
            stored = StoredFeatures.model_validate_json((folder / FEATURES_FILE).read_bytes())
            with np.load(folder / WEIGHTS_FILE, allow_pickle=False) as npz:
                arrays: dict[str, Any] = {k: npz[k] for k in npz.files}
        except FileNotFoundError as exc:
            raise ModelError(
                f"{folder}: no {Path(exc.filename).name}; the model is incomplete"
            ) from None
        except ValueError as exc:  # pydantic's ValidationError, or an object array refused
            raise ModelError(f"{folder}: the model files are not valid ({exc})") from None
        if stored.keys != list(KEYS):
            raise ModelError(f"{folder}: the model scores other labels than this tipscan's")
        vectorizers = {}
        for v in stored.vectorizers:
            vectorizers[v.name] = Tfidf(v.params, v.terms, arrays.get(f"idf:{v.name}"))
        lexicon = Lexicon(stored.lexicon) if stored.lexicon is not None else None
        features = FeatureBuilder(stored.groups, vectorizers, lexicon)
        coef, intercept, sigmoid = arrays["coef"], arrays["intercept"], arrays["sigmoid"]
        if coef.shape != (features.width, len(KEYS)) or intercept.shape != (len(KEYS),):
            raise ModelError(f"{folder}: weights do not fit the features; the model is damaged")
        return cls(features, coef, intercept, sigmoid, dict(stored.modes))
