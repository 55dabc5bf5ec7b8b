"""Document-level splits and folds, frozen to a file.

Passages of one document are alike (same drafting, same words), so a split
by passage would flatter every model. Documents are assigned whole.
:func:`stratify` spreads them by iterative stratification (Sechidis, Tsoumakas
and Vlahavas, 2011) over the labels they hold: the rarest label first, each
of its documents to the part that still wants most of that label, so that
every label found in enough documents has positives in every part.
:func:`make_split` (the ``seed-v1``/``seed-v2`` splits) is kept for comparison.
"""

from __future__ import annotations

import json
import random
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from .annotations import Final
from .errors import SplitExists
from .labels import LABEL_IDS

Part = Literal["train", "dev", "test"]
PARTS: tuple[Part, ...] = ("train", "dev", "test")
TARGET = {"train": 0.65, "dev": 0.15, "test": 0.20}


def make_split(finals: dict[str, Final], seed: int = 13) -> dict[str, Part]:
    """Assign every annotated document to train, dev or test."""
    passages: Counter[str] = Counter()
    docs_with: dict[str, set[str]] = defaultdict(set)
    for f in finals.values():
        doc = f.annotation.doc
        passages[doc] += 1
        for label in f.labels:
            docs_with[label].add(doc)
    rng = random.Random(seed)
    assign: dict[str, Part] = {}
    size: Counter[str] = Counter()
    total = sum(passages.values()) or 1

    def put(doc: str, part: Part) -> None:
        assign[doc] = part
        size[part] += passages[doc]

    # Rarest labels first: a label in 3+ documents gets one in test and one in
    # dev (the smallest free ones, so that held-out parts stay small); a label
    # in 2 documents gets one in test.
    for label in sorted(LABEL_IDS, key=lambda x: (len(docs_with[x]), x)):
        docs = sorted(docs_with[label], key=lambda d: (passages[d], d))
        if len(docs) < 2:
            continue
        wanted: list[Part] = ["test", "dev"] if len(docs) >= 3 else ["test"]
        for part in wanted:
            if any(assign.get(d) == part for d in docs):
                continue
            free = [d for d in docs if d not in assign]
            # keep at least one document with the label for training
            if len(free) <= 1 and not any(assign.get(d) == "train" for d in docs):
                break
            if free and size[part] / total < TARGET[part] + 0.05:
                put(free[0], part)
    rest = sorted(d for d in passages if d not in assign)
    rng.shuffle(rest)
    for doc in rest:
        need = {p: TARGET[p] - size[p] / total for p in PARTS}
        put(doc, max(PARTS, key=lambda p: (need[p], p == "train")))
    return assign


def stratify(
    doc_labels: dict[str, Counter[str]],
    sizes: dict[str, int],
    shares: dict[str, float],
    seed: int = 13,
) -> dict[str, str]:
    """Assign each document to a part (fold or split part) by iterative stratification.

    ``doc_labels`` holds each document's positive passages per label, ``sizes`` its
    passages, ``shares`` each part's wanted share. A label's positives, not its
    documents, are what is spread, and documents without labels fill the parts
    that are short of passages."""
    rng = random.Random(seed)
    parts = list(shares)
    total = sum(sizes.values()) or 1
    want_size = {p: shares[p] * total for p in parts}
    want: dict[str, dict[str, float]] = {
        p: {x: shares[p] * sum(c[x] for c in doc_labels.values()) for x in LABEL_IDS} for p in parts
    }
    left = sorted(sizes)
    rng.shuffle(left)
    assign: dict[str, str] = {}
    while left:
        remaining = {x: sum(doc_labels[d][x] for d in left) for x in LABEL_IDS}
        active = [x for x in LABEL_IDS if remaining[x] > 0]
        if not active:
            for d in sorted(left, key=lambda d: -sizes[d]):
                part = max(parts, key=lambda p: (want_size[p], rng.random()))
                assign[d] = part
                want_size[part] -= sizes[d]
            break
        label = min(active, key=lambda x: (remaining[x], x))
        holders = sorted(
            (d for d in left if doc_labels[d][label] > 0), key=lambda d: -doc_labels[d][label]
        )
        for d in holders:
            part = max(parts, key=lambda p: (want[p][label], want_size[p], rng.random()))
            assign[d] = part
            want_size[part] -= sizes[d]
            for x in LABEL_IDS:
                want[part][x] -= doc_labels[d][x]
            left.remove(d)
    return assign


def doc_label_counts(finals: dict[str, Final]) -> tuple[dict[str, Counter[str]], dict[str, int]]:
    """Per document: positive passages per label, and passages."""
    labels: dict[str, Counter[str]] = defaultdict(Counter)
    sizes: Counter[str] = Counter()
    for f in finals.values():
        doc = f.annotation.doc
        sizes[doc] += 1
        labels[doc].update(f.labels)
    return {d: labels[d] for d in sizes}, dict(sizes)


def make_stratified_split(finals: dict[str, Final], seed: int = 13) -> dict[str, Part]:
    """train / dev / test (60/20/20 of passages and of each label's positives)."""
    labels, sizes = doc_label_counts(finals)
    out = stratify(labels, sizes, {"train": 0.6, "dev": 0.2, "test": 0.2}, seed)
    return {d: p for d, p in out.items()}  # type: ignore[misc]


def make_folds(finals: dict[str, Final], k: int, seed: int = 13) -> dict[str, int]:
    """Document -> fold (0..k-1), stratified by label."""
    labels, sizes = doc_label_counts(finals)
    out = stratify(labels, sizes, {str(i): 1 / k for i in range(k)}, seed)
    return {d: int(p) for d, p in out.items()}


def summarise(finals: dict[str, Final], assign: dict[str, Part]) -> dict:
    out: dict[str, dict] = {}
    for part in PARTS:
        fs = [f for f in finals.values() if assign.get(f.annotation.doc) == part]
        pos = Counter(label for f in fs for label in f.labels)
        out[part] = {
            "documents": sum(1 for d in assign.values() if d == part),
            "passages": len(fs),
            "positives": {label: pos.get(label, 0) for label in LABEL_IDS},
        }
    return out


def write_split(
    path: Path, finals: dict[str, Final], assign: dict[str, Part], snapshot: str, seed: int
) -> dict:
    """Write a new split file; an existing one is never replaced (a split is frozen)."""
    if path.exists():
        raise SplitExists(
            f"{path} exists and splits are frozen; choose a new --name to make another split"
        )
    data = {
        "name": path.stem,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "seed": seed,
        "annotation_snapshot": snapshot,
        "documents": dict(sorted(assign.items())),
        "summary": summarise(finals, assign),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return data


def load_split(path: Path) -> dict[str, Part]:
    """Document -> part, from a frozen split file."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return dict(data["documents"])
