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

from ..lexicon import Lexicon, default_lexicon
from ..model import PassageInput
from .vectorize import Tfidf

Group = Literal["text", "title", "heading", "doc_type", "lexicon", "concepts", "themes"]
GROUPS: tuple[str, ...] = get_args(Group)
LEXICON_WIDTH = 20  # "lexicon": supporting terms per flag and label; "concepts": per concept
# "themes": each concept together with a trafficking term, and with a corruption term, in
# the same passage (the labels that join the two themes, 2.1, 2.4, 4.2, need that).


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


def _in_documents(x: sparse.csr_matrix, docs: Sequence[str], at_least: int) -> list[int]:
    """Columns of ``x`` with a non-zero in passages of ``at_least`` distinct documents."""
    index = {d: i for i, d in enumerate(dict.fromkeys(docs))}
    rows = np.array([index[d] for d in docs])
    membership = sparse.csr_matrix(
        (np.ones(len(docs)), (rows, np.arange(len(docs)))), shape=(len(index), len(docs))
    )
    present = (membership @ (x != 0).astype(np.float64)) > 0
    counts = np.asarray(present.sum(axis=0)).ravel()
    return [int(i) for i in np.flatnonzero(counts >= at_least)]


class FeatureBuilder:
    """Fits (with scikit-learn) and applies (from arrays) the feature groups."""

    def __init__(
        self,
        groups: Sequence[str],
        vectorizers: dict[str, Tfidf] | None = None,
        lexicon: Lexicon | None = None,
        min_docs: int = 1,
    ) -> None:
        unknown = set(groups) - set(GROUPS)
        if unknown:
            raise ValueError(f"unknown feature groups {sorted(unknown)}; known: {GROUPS}")
        if not groups:
            raise ValueError("a model needs at least one feature group")
        self.groups = tuple(groups)
        self.vectorizers: dict[str, Tfidf] = vectorizers or {}
        # The term lists a model was trained with travel with it (features.json).
        self.lexicon = lexicon or default_lexicon()
        # A passage's own words are kept only when they occur in this many documents: a
        # word of one document's drafting teaches nothing about the next document.
        self.min_docs = min_docs

    @property
    def width(self) -> int:
        lexicon = LEXICON_WIDTH if "lexicon" in self.groups else 0
        concepts = len(self.lexicon.names) if "concepts" in self.groups else 0
        themes = 2 * len(self.lexicon.names) if "themes" in self.groups else 0
        return sum(v.width for v in self.vectorizers.values()) + lexicon + concepts + themes

    def fit_transform(self, items: Sequence[PassageInput]) -> sparse.csr_matrix:
        self.vectorizers = {}
        docs = [p.title or "" for p in items]  # the document a passage comes from
        for name, v in _vectorizers(self.groups).items():
            x = v.fit_transform(_column(items, name))
            tfidf = Tfidf.from_sklearn(v)
            if self.min_docs > 1 and name.startswith("text_"):
                tfidf = tfidf.subset(_in_documents(x, docs, self.min_docs))
            self.vectorizers[name] = tfidf
        return self.transform(items)

    def transform(self, items: Sequence[PassageInput]) -> sparse.csr_matrix:
        blocks = [v.transform(_column(items, n)) for n, v in self.vectorizers.items()]
        if {"lexicon", "concepts", "themes"} & set(self.groups):
            counts = np.array(self.lexicon.features([p.text for p in items]), dtype=np.float64)
            counts = np.log1p(counts.reshape(len(items), self.lexicon.width))
            if "lexicon" in self.groups:
                blocks.append(sparse.csr_matrix(counts[:, :LEXICON_WIDTH]))
            if "concepts" in self.groups:
                blocks.append(sparse.csr_matrix(counts[:, LEXICON_WIDTH:]))
            if "themes" in self.groups:
                present = counts[:, LEXICON_WIDTH:] > 0
                trafficking = counts[:, :1] > 0  # the flags come first
                corruption = counts[:, 1:2] > 0
                both = np.hstack([present & trafficking, present & corruption])
                blocks.append(sparse.csr_matrix(both.astype(np.float64)))
        return sparse.hstack(blocks, format="csr")
