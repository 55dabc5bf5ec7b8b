"""The lexicon layer: term lists (data files) matched with spaCy on a blank pipeline.

It serves the two mention flags directly, gives the trained models one feature
per label (how many supporting terms a passage holds) and explains
predictions (which terms of the passage support each label). Terms live in
``service/data/lexicon/*.toml``; a token ending in ``*`` matches by prefix.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from .labels import FLAGS, LABEL_IDS


@dataclass(frozen=True, slots=True)
class Hits:
    """Matched terms of one passage: per flag and per label, the text as written."""

    flags: dict[str, list[str]] = field(default_factory=dict)
    labels: dict[str, list[str]] = field(default_factory=dict)


def _read(name: str) -> dict[str, Any]:
    text = resources.files("service").joinpath(f"data/lexicon/{name}").read_text("utf-8")
    return tomllib.loads(text)


def _terms() -> dict[str, list[str]]:
    """Key (a flag or a label id) -> its terms, languages pooled."""
    out: dict[str, list[str]] = {}
    flags = _read("flags.toml")
    for flag in FLAGS:
        out[flag] = [t for terms in flags[flag].values() for t in terms]
    labels = _read("labels.toml")
    for label in LABEL_IDS:
        out[label] = list(labels[label]["terms"])
    return out


class Lexicon:
    """Matches the term lists; one instance is cheap to share (the pipeline is blank)."""

    def __init__(self, terms: dict[str, list[str]] | None = None) -> None:
        import spacy
        from spacy.matcher import Matcher, PhraseMatcher

        self.nlp = spacy.blank("xx")
        self.terms = terms if terms is not None else _terms()
        self.phrases = PhraseMatcher(self.nlp.vocab, attr="LOWER")
        self.patterns = Matcher(self.nlp.vocab)
        for key, entries in self.terms.items():
            plain = []
            for entry in dict.fromkeys(e.strip().lower() for e in entries if e.strip()):
                tokens = [t.text for t in self.nlp.make_doc(entry)]
                if any(t.endswith("*") for t in tokens) or entry.endswith("*"):
                    self.patterns.add(key, [[_token_pattern(t) for t in _star_tokens(entry)]])
                else:
                    plain.append(self.nlp.make_doc(entry))
            if plain:
                self.phrases.add(key, plain)

    def match(self, text: str) -> Hits:
        return self.match_many([text])[0]

    def match_many(self, texts: Iterable[str]) -> list[Hits]:
        out = []
        strings = self.nlp.vocab.strings
        for doc in self.nlp.pipe(texts, batch_size=256):
            found: dict[str, list[str]] = {}
            spans = list(self.phrases(doc)) + list(self.patterns(doc))
            for key_id, start, end in spans:
                found.setdefault(strings[key_id], []).append(doc[start:end].text)
            out.append(
                Hits(
                    flags={k: found[k] for k in FLAGS if k in found},
                    labels={k: found[k] for k in LABEL_IDS if k in found},
                )
            )
        return out

    def features(self, texts: Sequence[str]) -> list[list[float]]:
        """Per text: the count of supporting terms for each flag and label (20 columns)."""
        rows = []
        for hits in self.match_many(texts):
            rows.append(
                [float(len(hits.flags.get(k, ()))) for k in FLAGS]
                + [float(len(hits.labels.get(k, ()))) for k in LABEL_IDS]
            )
        return rows


def _star_tokens(entry: str) -> list[str]:
    """Split an entry into tokens the way the blank tokenizer would, keeping a trailing '*'."""
    out = []
    for word in entry.split():
        star = word.endswith("*")
        core = word.rstrip("*")
        parts = core.replace("-", " - ").replace("'", " ' ").split()
        if star and parts:
            parts[-1] += "*"
        out.extend(parts)
    return out


def _token_pattern(token: str) -> dict[str, Any]:
    if token.endswith("*"):
        import re

        return {"LOWER": {"REGEX": "^" + re.escape(token[:-1])}}
    return {"LOWER": token}


@cache
def default_lexicon() -> Lexicon:
    return Lexicon()
