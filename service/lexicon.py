"""The lexicon layer: term lists (data files) matched on word tokens.

It serves the two mention flags directly, gives the trained models one feature
per label (how many supporting terms a passage holds) and explains
predictions (which terms of the passage support each label). Terms live in
``service/data/lexicon/*.toml``; a token ending in ``*`` matches by prefix.
"""

from __future__ import annotations

import re
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


# Words and single punctuation marks: hyphens and apostrophes stand alone, as
# they do in spaCy's blank tokenizer ("co-operation" -> co, -, operation).
_TOKEN = re.compile(r"\w+|[^\w\s]")


class Lexicon:
    """Matches the term lists on lowercased word tokens; one instance is cheap to share.

    Every entry, plain or starred, is indexed by its first token (or, when that
    token is a prefix, by the prefix), and what can start at a given word is
    cached per distinct word, so a passage costs one dictionary lookup per
    token plus the few candidate entries that start there.
    """

    def __init__(self, terms: dict[str, list[str]] | None = None) -> None:
        self.terms = terms if terms is not None else _terms()
        self.entries: list[tuple[str, tuple[str, ...]]] = []
        self._by_first: dict[str, list[int]] = {}
        self._by_prefix: dict[str, list[int]] = {}
        self._word_cache: dict[str, tuple[int, ...]] = {}
        self._last: tuple[tuple[str, ...], list[Hits]] | None = None
        for key, raw in self.terms.items():
            for entry in dict.fromkeys(e.strip().lower() for e in raw if e.strip()):
                tokens = tuple(_star_tokens(entry))
                index = len(self.entries)
                self.entries.append((key, tokens))
                first = tokens[0]
                if first.endswith("*"):
                    self._by_prefix.setdefault(first[:-1], []).append(index)
                else:
                    self._by_first.setdefault(first, []).append(index)

    def _starting_at(self, word: str) -> tuple[int, ...]:
        """Entries whose first token accepts ``word`` (cached per distinct word)."""
        found = self._word_cache.get(word)
        if found is None:
            hits = list(self._by_first.get(word, ()))
            for n in range(1, len(word) + 1):
                hits += self._by_prefix.get(word[:n], ())
            found = tuple(hits)
            if len(self._word_cache) < 500_000:
                self._word_cache[word] = found
        return found

    def match(self, text: str) -> Hits:
        return self.match_many([text])[0]

    def match_many(self, texts: Iterable[str]) -> list[Hits]:
        """Hits for each text. A model asks twice for the same batch (its features, then the
        flags and explanations); the last batch's answer is kept for that."""
        batch = tuple(texts)
        last = self._last
        if last is not None and last[0] == batch:
            return list(last[1])
        out = [self._match_one(t) for t in batch]
        self._last = (batch, out)
        return list(out)

    def _match_one(self, text: str) -> Hits:
        spans = [(m.start(), m.end()) for m in _TOKEN.finditer(text)]
        lowers = [text[a:b].lower() for a, b in spans]
        found: list[tuple[int, int, str]] = []
        starting_at = self._starting_at
        entries = self.entries
        n_tokens = len(lowers)
        for i, word in enumerate(lowers):
            for index in starting_at(word):
                key, tokens = entries[index]
                end = i + len(tokens)
                if end > n_tokens:
                    continue
                if all(
                    lowers[i + k].startswith(t[:-1]) if t.endswith("*") else lowers[i + k] == t
                    for k, t in enumerate(tokens[1:], 1)
                ):
                    found.append((i, end, key))
        if not found:
            return Hits()
        flags: dict[str, list[str]] = {}
        labels: dict[str, list[str]] = {}
        for i, end, key in sorted(set(found)):
            surface = text[spans[i][0] : spans[end - 1][1]]
            (flags if key in _FLAG_SET else labels).setdefault(key, []).append(surface)
        return Hits(flags=flags, labels=labels)

    def features(self, texts: Sequence[str]) -> list[list[float]]:
        """Per text: the count of supporting terms for each flag and label (20 columns)."""
        rows = []
        for hits in self.match_many(texts):
            rows.append(
                [float(len(hits.flags.get(k, ()))) for k in FLAGS]
                + [float(len(hits.labels.get(k, ()))) for k in LABEL_IDS]
            )
        return rows


_FLAG_SET = frozenset(FLAGS)


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


@cache
def default_lexicon() -> Lexicon:
    return Lexicon()
