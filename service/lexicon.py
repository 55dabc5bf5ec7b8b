"""The lexicon layer: term lists (data files) matched on spaCy's blank-pipeline tokens.

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
        from spacy.matcher import PhraseMatcher

        self.nlp = spacy.blank("xx")
        self.terms = terms if terms is not None else _terms()
        self.phrases = PhraseMatcher(self.nlp.vocab, attr="LOWER")
        # Entries with a prefix token ("traffick*") are matched here rather than
        # with spaCy's Matcher: a REGEX predicate per token and pattern is slow,
        # while a prefix lookup per distinct word, cached, is not.
        self.starred: list[tuple[str, list[str]]] = []
        self._by_first: dict[str, list[int]] = {}
        self._by_prefix: dict[str, list[int]] = {}
        self._word_cache: dict[str, list[int]] = {}
        self._last: tuple[tuple[str, ...], list[Hits]] | None = None
        for key, entries in self.terms.items():
            plain = []
            for entry in dict.fromkeys(e.strip().lower() for e in entries if e.strip()):
                if "*" in entry:
                    tokens = _star_tokens(entry)
                    index = len(self.starred)
                    self.starred.append((key, tokens))
                    first = tokens[0]
                    if first.endswith("*"):
                        self._by_prefix.setdefault(first[:-1], []).append(index)
                    else:
                        self._by_first.setdefault(first, []).append(index)
                else:
                    plain.append(self.nlp.make_doc(entry))
            if plain:
                self.phrases.add(key, plain)

    def _starting_at(self, word: str) -> list[int]:
        """Starred entries whose first token accepts ``word`` (cached per distinct word)."""
        found = self._word_cache.get(word)
        if found is None:
            found = list(self._by_first.get(word, ()))
            for n in range(1, len(word) + 1):
                found += self._by_prefix.get(word[:n], ())
            if len(self._word_cache) < 500_000:
                self._word_cache[word] = found
        return found

    def _starred_matches(self, lowers: list[str]) -> list[tuple[str, int, int]]:
        out = []
        for i, word in enumerate(lowers):
            for index in self._starting_at(word):
                key, tokens = self.starred[index]
                end = i + len(tokens)
                if end > len(lowers):
                    continue
                if all(
                    lowers[i + k].startswith(t[:-1]) if t.endswith("*") else lowers[i + k] == t
                    for k, t in enumerate(tokens[1:], 1)
                ):
                    out.append((key, i, end))
        return out

    def match(self, text: str) -> Hits:
        return self.match_many([text])[0]

    def match_many(self, texts: Iterable[str]) -> list[Hits]:
        """Hits for each text. A model asks twice for the same batch (its features, then the
        flags and explanations); the last batch's answer is kept for that."""
        batch = tuple(texts)
        last = self._last
        if last is not None and last[0] == batch:
            return list(last[1])
        out = self._match(batch)
        self._last = (batch, out)
        return list(out)

    def _match(self, texts: Sequence[str]) -> list[Hits]:
        out = []
        strings = self.nlp.vocab.strings
        for doc in self.nlp.pipe(texts, batch_size=256):
            spans = {(strings[key_id], start, end) for key_id, start, end in self.phrases(doc)}
            spans.update(self._starred_matches([t.lower_ for t in doc]))
            found: dict[str, list[str]] = {}
            for key, start, end in sorted(spans, key=lambda x: (x[1], x[2], x[0])):
                found.setdefault(key, []).append(doc[start:end].text)
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


@cache
def default_lexicon() -> Lexicon:
    return Lexicon()
