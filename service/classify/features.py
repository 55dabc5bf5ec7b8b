"""Features for the linear classifier: the passage and its context, kept apart.

A passage is read in its document: the title and type of the document and
the heading path above the passage are separate feature groups, beside the
passage's own words (word and character n-grams) and the lexicon's counts.
Which groups a model uses is set by its training config, so that what each
adds can be measured. Vectorizers are fitted with scikit-learn and kept as
:class:`~.vectorize.Tfidf` arrays.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, get_args

import numpy as np
from scipy import sparse

from ..lexicon import default_lexicon
from ..model import PassageInput
from .vectorize import Tfidf

Group = Literal["text", "title", "heading", "doc_type", "lexicon"]
GROUPS: tuple[str, ...] = get_args(Group)
LEXICON_WIDTH = 20  # the two flags and the 18 labels


def _vectorizers(groups: Sequence[str]) -> dict[str, Any]:
    from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

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
    """Fits (with scikit-learn) and applies (from arrays) the feature groups."""

    def __init__(self, groups: Sequence[str], vectorizers: dict[str, Tfidf] | None = None) -> None:
        unknown = set(groups) - set(GROUPS)
        if unknown:
            raise ValueError(f"unknown feature groups {sorted(unknown)}; known: {GROUPS}")
        if not groups:
            raise ValueError("a model needs at least one feature group")
        self.groups = tuple(groups)
        self.vectorizers: dict[str, Tfidf] = vectorizers or {}

    @property
    def width(self) -> int:
        lexicon = LEXICON_WIDTH if "lexicon" in self.groups else 0
        return sum(v.width for v in self.vectorizers.values()) + lexicon

    def fit_transform(self, items: Sequence[PassageInput]) -> sparse.csr_matrix:
        self.vectorizers = {}
        for name, v in _vectorizers(self.groups).items():
            v.fit(_column(items, name))
            self.vectorizers[name] = Tfidf.from_sklearn(v)
        return self.transform(items)

    def transform(self, items: Sequence[PassageInput]) -> sparse.csr_matrix:
        blocks = [v.transform(_column(items, n)) for n, v in self.vectorizers.items()]
        if "lexicon" in self.groups:
            counts = np.array(default_lexicon().features([p.text for p in items]), dtype=np.float64)
            blocks.append(sparse.csr_matrix(np.log1p(counts.reshape(len(items), LEXICON_WIDTH))))
        return sparse.hstack(blocks, format="csr")
