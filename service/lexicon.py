"""The lexicon layer: concepts, each a list of terms in every supported language.

A concept (``extradition``, ``bribery``, ``immunity``, ...) supports one or more
keys: label ids or the two mention flags. The lexicon serves the flags directly,
gives the trained models one count per concept (the same feature whatever the
language) and one per key, and explains predictions (which words of the passage
support each label). Concepts live in ``service/data/lexicon/concepts.toml``; a
token ending in ``*`` matches by prefix, and a concept's ``not`` phrases cancel
its matches inside them.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

from pydantic import BaseModel, ConfigDict, Field

from .labels import FLAGS, LABEL_IDS

KEYS = (*FLAGS, *LABEL_IDS)
LANGUAGES = ("en", "nl", "es", "pt", "fr", "sv", "ro", "de", "it")


class Concept(BaseModel):
    """One concept of ``concepts.toml``: what it supports, its terms by language."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    keys: list[str]
    terms: dict[str, list[str]] = Field(default_factory=dict)
    negatives: list[str] = Field(default_factory=list, alias="not")


@dataclass(frozen=True, slots=True)
class Hits:
    """Matched terms of one passage: per flag, per label and per concept, as written."""

    flags: dict[str, list[str]] = field(default_factory=dict)
    labels: dict[str, list[str]] = field(default_factory=dict)
    concepts: dict[str, int] = field(default_factory=dict)


def read_concepts(text: str) -> dict[str, Concept]:
    """Concepts from the TOML text of ``concepts.toml`` (validated)."""
    out = {}
    for name, table in tomllib.loads(text).items():
        terms = {k: v for k, v in table.items() if k in LANGUAGES}
        rest = {k: v for k, v in table.items() if k not in LANGUAGES}
        concept = Concept.model_validate({**rest, "terms": terms})
        unknown = set(concept.keys) - set(KEYS)
        if unknown:
            raise ValueError(f"concept {name!r}: unknown keys {sorted(unknown)}")
        out[name] = concept
    return out


def _default_text() -> str:
    return resources.files("service").joinpath("data/lexicon/concepts.toml").read_text("utf-8")


# Words and single punctuation marks: hyphens and apostrophes stand alone
# ("co-operation" -> co, -, operation; "d'extradition" -> d, ', extradition).
_TOKEN = re.compile(r"\w+|[^\w\s]")


class Lexicon:
    """Matches the concepts' terms on lowercased word tokens; cheap to share.

    Every entry, plain or starred, is indexed by its first token (or, when that
    token is a prefix, by the prefix), and what can start at a given word is
    cached per distinct word, so a passage costs one dictionary lookup per
    token plus the few candidate entries that start there.
    """

    def __init__(
        self, concepts: dict[str, Concept] | None = None, source: str | None = None
    ) -> None:
        if concepts is None:
            source = _default_text()
            concepts = read_concepts(source)
        self.concepts = concepts
        self.names = list(concepts)
        self.fingerprint = hashlib.sha256((source or repr(concepts)).encode()).hexdigest()
        # (concept index, tokens, negative?)
        self.entries: list[tuple[int, tuple[str, ...], bool]] = []
        self._by_first: dict[str, list[int]] = {}
        self._by_prefix: dict[str, list[int]] = {}
        self._word_cache: dict[str, tuple[int, ...]] = {}
        self._last: tuple[tuple[str, ...], list[Hits]] | None = None
        self._keys_of = [tuple(c.keys) for c in concepts.values()]
        for ci, concept in enumerate(concepts.values()):
            terms = [t for ts in concept.terms.values() for t in ts]
            for negative, group in ((False, terms), (True, concept.negatives)):
                for entry in dict.fromkeys(e.strip().lower() for e in group if e.strip()):
                    self._add(ci, tuple(_star_tokens(entry)), negative)

    def _add(self, concept: int, tokens: tuple[str, ...], negative: bool) -> None:
        index = len(self.entries)
        self.entries.append((concept, tokens, negative))
        first = tokens[0]
        if first.endswith("*"):
            self._by_prefix.setdefault(first[:-1], []).append(index)
        else:
            self._by_first.setdefault(first, []).append(index)

    @property
    def width(self) -> int:
        """Features per passage: one count per key, then one per concept."""
        return len(KEYS) + len(self.names)

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
        found: list[tuple[int, int, int]] = []
        cancelled: list[tuple[int, int, int]] = []
        starting_at = self._starting_at
        entries = self.entries
        n_tokens = len(lowers)
        for i, word in enumerate(lowers):
            for index in starting_at(word):
                concept, tokens, negative = entries[index]
                end = i + len(tokens)
                if end > n_tokens:
                    continue
                if all(
                    lowers[i + k].startswith(t[:-1]) if t.endswith("*") else lowers[i + k] == t
                    for k, t in enumerate(tokens[1:], 1)
                ):
                    (cancelled if negative else found).append((i, end, concept))
        if not found:
            return Hits()
        flags: dict[str, list[str]] = {}
        labels: dict[str, list[str]] = {}
        concepts: dict[str, int] = {}
        for i, end, concept in sorted(set(found)):
            if any(c == concept and a <= i and end <= b for a, b, c in cancelled):
                continue
            surface = text[spans[i][0] : spans[end - 1][1]]
            name = self.names[concept]
            concepts[name] = concepts.get(name, 0) + 1
            for key in self._keys_of[concept]:
                (flags if key in _FLAG_SET else labels).setdefault(key, []).append(surface)
        return Hits(flags=flags, labels=labels, concepts=concepts)

    def features(self, texts: Sequence[str]) -> list[list[float]]:
        """Per text: the count of supporting terms per key, then per concept."""
        rows = []
        for hits in self.match_many(texts):
            rows.append(
                [float(len(hits.flags.get(k, ()))) for k in FLAGS]
                + [float(len(hits.labels.get(k, ()))) for k in LABEL_IDS]
                + [float(hits.concepts.get(n, 0)) for n in self.names]
            )
        return rows


_FLAG_SET = frozenset(FLAGS)


def _star_tokens(entry: str) -> list[str]:
    """Split an entry into word tokens as :data:`_TOKEN` would, keeping a trailing '*'."""
    out = []
    for word in entry.split():
        star = word.endswith("*")
        core = word.rstrip("*")
        parts = _TOKEN.findall(core)
        if star and parts:
            parts[-1] += "*"
        out.extend(parts)
    return out


@cache
def default_lexicon() -> Lexicon:
    return Lexicon()
