"""spaCy ``textcat_multilabel`` trained from a blank pipeline.

The context (document title, type, heading path) is written in front of the
passage text, since spaCy's text classifier reads one text.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ModelError
from ..labels import FLAGS, LABEL_IDS
from ..model import PassageInput
from ..train_config import SpacySection

FOLDER = "spacy"
KEYS = (*LABEL_IDS, *FLAGS)


def _text(p: PassageInput) -> str:
    context = " | ".join(x for x in (p.title, p.doc_type, p.heading_text) if x)
    return f"{context}\n{p.text}" if context else p.text


class SpacyScorer:
    kind = "spacy"

    def __init__(self, nlp: Any) -> None:
        self.nlp = nlp
        self.modes = {key: "calibrated-by-training" for key in KEYS}

    @classmethod
    def train(
        cls,
        items: Sequence[PassageInput],
        y: np.ndarray,
        flags: np.ndarray,
        config: SpacySection,
    ) -> SpacyScorer:
        import spacy
        from spacy.training import Example
        from spacy.util import fix_random_seed, minibatch

        seed = config.seed
        fix_random_seed(seed)
        nlp = spacy.blank(config.lang)
        arch = {
            "@architectures": "spacy.TextCatBOW.v3",
            "exclusive_classes": False,
            "ngram_size": config.ngram_size,
            "no_output_layer": False,
            "length": config.length,
        }
        textcat: Any = nlp.add_pipe("textcat_multilabel", config={"model": arch})
        for key in KEYS:
            textcat.add_label(key)
        both = np.hstack([y, flags]).astype(bool)
        examples = [
            Example.from_dict(
                nlp.make_doc(_text(p)), {"cats": dict(zip(KEYS, map(float, row), strict=True))}
            )
            for p, row in zip(items, both, strict=True)
        ]
        optimizer = nlp.initialize(lambda: examples)
        optimizer.learn_rate = config.learn_rate
        rng = random.Random(seed)
        for _epoch in range(config.epochs):
            rng.shuffle(examples)
            for batch in minibatch(examples, size=config.batch_size):
                nlp.update(batch, sgd=optimizer, drop=config.dropout)
        return cls(nlp)

    def scores(self, items: Sequence[PassageInput]) -> tuple[np.ndarray, np.ndarray]:
        out = np.zeros((len(items), len(KEYS)))
        if not items:
            return out[:, : len(LABEL_IDS)], out[:, len(LABEL_IDS) :]
        for i, doc in enumerate(self.nlp.pipe((_text(p) for p in items), batch_size=128)):
            out[i] = [doc.cats.get(key, 0.0) for key in KEYS]
        return out[:, : len(LABEL_IDS)], out[:, len(LABEL_IDS) :]

    def save(self, folder: Path) -> None:
        self.nlp.to_disk(folder / FOLDER)

    @classmethod
    def load(cls, folder: Path) -> SpacyScorer:
        import spacy

        path = folder / FOLDER
        if not path.is_dir():
            raise ModelError(f"{folder}: no {FOLDER}/ pipeline; the model folder is incomplete")
        return cls(spacy.load(path))
