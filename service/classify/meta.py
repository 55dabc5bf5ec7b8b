"""``meta.json`` of a model folder, as a typed record.

Training writes it, loading validates it, and coverage, reports and the API
read it through these fields, so a field is defined once, here.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

FORMAT: Literal["tipscan-model/2"] = "tipscan-model/2"
FlagRule = Literal["model", "lexicon", "either", "both"]


class SplitRef(BaseModel):
    name: str
    path: str


class PartSize(BaseModel):
    passages: int
    documents: int


class DocumentRule(BaseModel):
    """How a document's passage scores become a covered label (chosen at training)."""

    model_config = ConfigDict(extra="allow")

    min_passages: int = 1
    factor: float = 1.0
    accuracy: float | None = None
    f1: float | None = None
    chosen_on: int = 0
    note: str | None = None


class ModelMeta(BaseModel):
    """Everything a model folder says about itself, besides the scorer's own files."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["tipscan-model/2"] = FORMAT
    name: str
    kind: Literal["sklearn", "spacy"]
    description: str = ""
    created_at: str
    labels: list[str]
    flags: list[str]
    thresholds: dict[str, float]
    threshold_source: dict[str, str]
    modes: dict[str, str]
    flag_rules: dict[str, FlagRule]
    flag_thresholds: dict[str, float]
    flag_dev_accuracy_by_rule: dict[str, dict[str, float]] = Field(default_factory=dict)
    annotation_snapshot: str
    split: SplitRef
    git_commit: str | None = None
    config: dict[str, Any]
    sizes: dict[str, PartSize]
    support: dict[str, dict[str, int]]
    dev: dict[str, Any] | None = None
    test: dict[str, Any]
    cv: dict[str, Any] | None = None
    comparison: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="model families on the same grouped folds"
    )
    learning_curve: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="share of training documents -> cross-validated figures"
    )
    ablation: dict[str, dict[str, float]] = Field(default_factory=dict)
    versus_default: dict[str, Any] | None = Field(
        default=None,
        description="the default model when this one was trained, scored on the same test "
        "documents: both models' figures, the deltas and the documents",
    )
    document_rule: DocumentRule = Field(default_factory=DocumentRule)
    versions: dict[str, str] = Field(default_factory=dict)
    converted_from: dict[str, str] | None = None
    files: dict[str, str] = Field(
        default_factory=dict,
        description="every other file of the folder -> its sha256, checked before loading",
    )

    @property
    def held_out_macro_f1(self) -> float:
        """Macro-F1 on documents the model never saw: cross-validated, else the test split."""
        return float((self.cv or self.test)["macro_f1"])

    @property
    def version(self) -> str | None:
        return (self.config.get("model") or {}).get("version")
