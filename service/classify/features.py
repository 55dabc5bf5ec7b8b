"""Features for the scikit-learn classifier: the passage and its context, kept apart.

A passage is read in its document: the title and type of the document and
the heading path above the passage are separate feature groups, beside the
passage's own words (word and character n-grams) and the lexicon's counts.
Which groups a model uses is set by its training config, so that what each
adds can be measured.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

from ..lexicon import default_lexicon
from ..model import PassageInput

GROUPS = ("text", "title", "heading", "doc_type", "lexicon")


def _vectorizers(groups: Sequence[str]) -> dict[str, Any]:
    v: dict[str, Any] = {}
    if "text" in groups:
        v["text_word"] = TfidfVectorizer(
            ngram_range=(1, 2), min_df=2, max_df=0.9, sublinear_tf=True, max_features=40000
        )
        v["text_char"] = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(3, 5), min_df=3, sublinear_tf=True, max_features=40000
        )
    if "title" in groups:
        v["title"] = TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True)
    if "heading" in groups:
        v["heading"] = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    if "doc_type" in groups:
        v["doc_type"] = CountVectorizer(binary=True, token_pattern=r"\S+", lowercase=False)
    return v


def _column(items: Sequence[PassageInput], name: str) -> list[str]:
    if name in ("text_word", "text_char"):
        return [p.text for p in items]
    if name == "title":
        return [p.title or "" for p in items]
    if name == "heading":
        return [p.heading_text for p in items]
    if name == "doc_type":
        return [f"type={p.doc_type or 'unknown'}" for p in items]
    raise KeyError(name)


class FeatureBuilder:
    """Fits and applies the feature groups; its state is plain scikit-learn objects."""

    def __init__(self, groups: Sequence[str], state: dict[str, Any] | None = None) -> None:
        unknown = set(groups) - set(GROUPS)
        if unknown:
            raise ValueError(f"unknown feature groups {sorted(unknown)}; known: {GROUPS}")
        self.groups = tuple(groups)
        self.vectorizers = state if state is not None else _vectorizers(self.groups)

    def fit_transform(self, items: Sequence[PassageInput]) -> sparse.csr_matrix:
        blocks = [v.fit_transform(_column(items, n)) for n, v in self.vectorizers.items()]
        for v in self.vectorizers.values():
            # Only for introspection, and large: every term cut by min_df/max_features.
            if hasattr(v, "stop_words_"):
                v.stop_words_ = None
        return self._stack(blocks, items)

    def transform(self, items: Sequence[PassageInput]) -> sparse.csr_matrix:
        blocks = [v.transform(_column(items, n)) for n, v in self.vectorizers.items()]
        return self._stack(blocks, items)

    def _stack(self, blocks: list[Any], items: Sequence[PassageInput]) -> sparse.csr_matrix:
        if "lexicon" in self.groups:
            counts = default_lexicon().features([p.text for p in items])
            lex = np.array([[math.log1p(c) for c in row] for row in counts], dtype=np.float64)
            blocks.append(sparse.csr_matrix(lex))
        if not blocks:
            raise ValueError("a model needs at least one feature group")
        return sparse.hstack(blocks, format="csr")
