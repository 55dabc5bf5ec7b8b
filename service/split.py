"""Document-level train/dev/test splits, frozen to a file.

Passages of one document are alike (same drafting, same words), so a split
by passage would flatter every model. Documents are assigned whole, and
rare labels are spread first so that dev and test hold positives of every
label that occurs in at least three documents.
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
