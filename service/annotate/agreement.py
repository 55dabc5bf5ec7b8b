"""Agreement between annotators, on blind decisions only (``shown_suggestions`` false).

Each annotator's latest blind decision on a passage counts. Every passage read
blind by two or more annotators gives one item per pair of them.

- Cohen's kappa per label per annotator pair (``pairs``), and per label over the
  items of all pairs pooled (``per_label``; with two annotators, their kappa), from
  ``service.annotations.cohen_kappa``; None where neither annotator used the label.
- Krippendorff's alpha overall (``alpha``): nominal, over the 18 binary labels: every
  (passage, label) is one unit, each annotator's value is 1 if the label is in their
  set and 0 if not; an annotator who did not read the passage leaves the unit missing.
  None when fewer than two annotators read a passage, or no value varies.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import combinations

import krippendorff
import numpy as np

from ..annotations import cohen_kappa
from ..labels import LABEL_IDS
from .records import Decision


@dataclass(frozen=True)
class LabelKappa:
    kappa: float | None
    n: int


@dataclass(frozen=True)
class PairAgreement:
    first: str
    second: str
    n: int
    per_label: dict[str, float | None]


@dataclass(frozen=True)
class AgreementReport:
    per_label: dict[str, LabelKappa]
    pairs: dict[str, PairAgreement]
    alpha: float | None
    n: int  # passages read blind by two or more annotators


def blind_sets(decisions: Iterable[Decision]) -> dict[str, dict[str, frozenset[str]]]:
    """passage -> annotator -> label set, from each annotator's latest blind decision."""
    out: dict[str, dict[str, frozenset[str]]] = defaultdict(dict)
    for d in sorted(decisions, key=lambda d: d.at):
        if not d.shown_suggestions:
            out[d.passage_id][d.annotator] = frozenset(d.labels)
    return {pid: sets for pid, sets in out.items() if len(sets) >= 2}


def compute(decisions: Iterable[Decision]) -> AgreementReport:
    shared = blind_sets(decisions)
    items: dict[tuple[str, str], list[tuple[frozenset[str], frozenset[str]]]] = defaultdict(list)
    for pid in sorted(shared):
        sets = shared[pid]
        for a, b in combinations(sorted(sets), 2):
            items[(a, b)].append((sets[a], sets[b]))
    pooled = [pair for pairs in items.values() for pair in pairs]
    per_label = {
        label: LabelKappa(
            cohen_kappa([label in a for a, _ in pooled], [label in b for _, b in pooled]),
            len(pooled),
        )
        for label in LABEL_IDS
    }
    pairs = {
        f"{a}|{b}": PairAgreement(
            a,
            b,
            len(got),
            {
                label: cohen_kappa([label in x for x, _ in got], [label in y for _, y in got])
                for label in LABEL_IDS
            },
        )
        for (a, b), got in sorted(items.items())
    }
    return AgreementReport(per_label, pairs, alpha(shared), len(shared))


def reliability_data(shared: dict[str, dict[str, frozenset[str]]]) -> np.ndarray:
    """Annotators x (passage, label) units: 1.0, 0.0, or NaN where the annotator did not read."""
    annotators = sorted({a for sets in shared.values() for a in sets})
    row = {a: i for i, a in enumerate(annotators)}
    data = np.full((len(annotators), len(shared) * len(LABEL_IDS)), np.nan)
    for j, pid in enumerate(sorted(shared)):
        for a, labels in shared[pid].items():
            for k, label in enumerate(LABEL_IDS):
                data[row[a], j * len(LABEL_IDS) + k] = float(label in labels)
    return data


def alpha(shared: dict[str, dict[str, frozenset[str]]]) -> float | None:
    if not shared:
        return None
    data = reliability_data(shared)
    if len(np.unique(data[~np.isnan(data)])) < 2:
        return None
    value = float(krippendorff.alpha(reliability_data=data, level_of_measurement="nominal"))
    return None if np.isnan(value) else value
