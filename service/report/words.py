"""The words every report format uses for a status, so that they agree."""

from __future__ import annotations

from ..model import CorpusLabel, LabelCoverage

STATUS_WORD = {"covered": "covered", "partial": "partial", "gap": "GAP", "uncertain": "uncertain"}
LOW = "covered (low confidence)"


def low_confidence(label: LabelCoverage | CorpusLabel) -> bool:
    """Covered, on the word of a model that saw too few training examples of the label."""
    if isinstance(label, CorpusLabel):
        return label.covered and label.trust == "thin"
    return label.covered and label.confidence == "low"


def label_word(label: LabelCoverage | CorpusLabel) -> str:
    """ "covered", "covered (low confidence)", "GAP", "uncertain" or "none"."""
    if low_confidence(label):
        return LOW
    return STATUS_WORD.get(label.status, label.status)


def check_word(value: bool | None) -> str:
    return "n/a" if value is None else ("PASS" if value else "FAIL")
