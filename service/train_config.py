"""Training configs (``training/*.toml``) as typed records: a misspelt key is an error."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .classify.features import Group
from .errors import ModelError


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ModelSection(_Section):
    name: str
    version: str
    kind: Literal["sklearn", "spacy"]
    description: str = ""


class DataSection(_Section):
    annotations: str = "annotations"
    split: str


class SklearnSection(_Section):
    """The linear model: feature groups, regularisation, how many positives a label needs
    to be calibrated (else uncalibrated) or trained at all (else scored by the lexicon)."""

    features: list[Group] = Field(default_factory=lambda: list[Group](["text"]))
    C: float = 4.0
    min_docs: int = Field(default=1, ge=1, description="documents a text term must occur in")
    calibrate: bool = True
    min_calibrated: int = 8
    min_trained: int = 2


class SpacySection(_Section):
    lang: str = "xx"
    ngram_size: int = 2
    length: int = 262144
    epochs: int = 12
    batch_size: int = 16
    dropout: float = 0.1
    learn_rate: float = 0.001
    seed: int = 0


class ThresholdSection(_Section):
    floor: float = 0.2
    fallback: float = 0.5
    min_dev_positives: int = 2


class EvaluationSection(_Section):
    cv_folds: int = 5
    ablation: list[list[Group]] = Field(default_factory=list)
    compare: list[str] = Field(
        default_factory=list,
        description="other training configs, cross-validated on the same folds",
    )
    learning_curve: list[float] = Field(
        default_factory=list, description="shares of the training documents to learn from"
    )


class TrainingConfig(_Section):
    model: ModelSection
    data: DataSection
    sklearn: SklearnSection = Field(default_factory=SklearnSection)
    spacy: SpacySection = Field(default_factory=SpacySection)
    thresholds: ThresholdSection = Field(default_factory=ThresholdSection)
    evaluation: EvaluationSection = Field(default_factory=EvaluationSection)

    @property
    def scorer(self) -> SklearnSection | SpacySection:
        """The section of the model's kind."""
        return self.sklearn if self.model.kind == "sklearn" else self.spacy

    def with_features(self, groups: list[Group]) -> TrainingConfig:
        """The same config with other feature groups (for an ablation)."""
        return self.model_copy(
            update={"sklearn": self.sklearn.model_copy(update={"features": list(groups)})}
        )


def read_config(path: Path | str) -> TrainingConfig:
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"{path}: no such training config") from None
    except tomllib.TOMLDecodeError as exc:
        raise ModelError(f"{path}: not valid TOML ({exc})") from None
    try:
        return TrainingConfig.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"])
        raise ModelError(f"{path}: {where}: {first['msg']}") from None
