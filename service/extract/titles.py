"""A document's title, from the document itself.

The title an act gives itself ("This Act may be cited as ...") comes first;
then a title the file carries (PDF metadata, a Markdown title) where it is a
title and not a file name, a template name or a heading such as "SECTIONS";
then the first heading that names an instrument (an act, a decree, a plan, a
code, a constitution); then the first heading-like line that is not page
furniture.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .normalize import normalize_inline

# "This Act may be cited as the X Act, 2016." / "... may be called the X Act, 2013."
_CITED_AS = re.compile(r"\bmay be (?:cited as|called)(?: the)?\s+[\"'“‘]?", re.IGNORECASE)
# Where the cited title stops: a full stop ending the sentence (not "No."), a
# semicolon, a closing quote, a clause that goes on.
_CITED_END = re.compile(
    r"(?<!\bNo)(?<!\bno)\.(?:\s|$)|;|[\"'”’]|,? and (?:shall|comes?|will)\b|,? which\b"
)
_INSTRUMENT = (
    r"Act|Bill|Law|Code|Sanhita|Regulations?|Order|Rules|Decree|Ordinance|Constitution|Convention"
)
# The cited title ends with the instrument's word, and its number or year if any.
_CITED_TITLE = re.compile(
    rf"^(?P<title>.{{2,200}}\b(?:{_INSTRUMENT})\b(?:\s*\([^)]*\))?"
    r"(?:,?\s*(?:No\.?\s*\d+\s+of\s+)?\d{4})?)",
    re.IGNORECASE,
)

# A heading naming an instrument, in the corpus languages.
_NAMES_INSTRUMENT = re.compile(
    r"\b(act|bill|code|sanhita|constitution|convention|decree|law|ordinance|plan|policy|protocol"
    r"|regulations?|rules|strategy|treaty|"
    r"ley|decreto|reglamento|c[óo]digo|constituci[óo]n|pol[íi]tica|estrategia|plano?|"
    r"lei|constitui[çc][ãa]o|estrat[ée]gia|"
    r"loi|d[ée]cret|r[èe]glement|constitution|"
    r"wet|besluit|regeling|verdrag|grondwet|"
    r"lag|f[öo]rordning|"
    r"lege|legea|codul|hot[ăa]r[âa]re|ordonan[țţt][ăa]|constitu[țţt]ia)\b",
    re.IGNORECASE,
)

# Headings that are parts of a document, not its title.
_GENERIC = frozenset(
    (
        "arrangement of sections", "sections", "contents", "table of contents", "index",
        "preamble", "preambulo", "preámbulo", "interpretation", "definitions", "schedule",
        "first schedule", "part i", "chapter i", "introduction", "foreword", "preface",
        "summary", "abstract", "sumario", "índice", "indice", "inhoud", "inhoudsopgave",
        "considerando", "considerandos", "por cuanto", "arrangement of clauses", "clauses",
        "memorandum", "explanatory memorandum", "objects and reasons",
        "statement of objects and reasons",
    )
)  # fmt: skip
_FILE_NAME = re.compile(
    r"\.(?:indd|docx?|pdf|qxd|qxp|rtf|odt|txt|md|html?|xml|json|wpd|p65|pm\d)\s*$"
    r"|^(?:microsoft\s+word|untitled|document\d*|adobe|layout\s*\d*)\b",
    re.IGNORECASE,
)
_LETTERS = re.compile(r"[^\W\d_]")
_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
_MARKUP = re.compile(r"^[\s>#*_|\-=]+|[\s*_|\\]+$")
# A letter of the Latin-1 supplement standing for a letter of another script
# (text in a legacy Devanagari font read as Latin-1): "£ÉÉ®iÉ BÉEÉ".
_MOJIBAKE = re.compile(r"[\u00a1-\u00bf\u00c0-\u00de]")


def tidy_title(title: str) -> str:
    """The title without escapes, markup and letter-spacing: "P R E A M B U L O" -> "PREAMBULO"."""
    title = _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), title)
    title = normalize_inline(_MARKUP.sub("", normalize_inline(title)))
    words = title.split(" ")
    singles = sum(len(w) == 1 and w.isalpha() for w in words)
    if len(words) >= 4 and singles >= 0.7 * len(words):
        # Letter-spaced text; words were set two spaces apart, now one.
        title = "".join(words)
    return title


def is_title(title: str | None) -> bool:
    """Whether ``title`` can stand as a document's title (see the module's rules)."""
    if not title:
        return False
    title = tidy_title(title)
    letters = len(_LETTERS.findall(title))
    if letters < 4 or _FILE_NAME.search(title):
        return False
    if " " not in title and (
        "_" in title or sum(c.isdigit() for c in title) >= 4 or re.search(r"\w[/.]\w", title)
    ):
        return False  # a file name without its extension, or a legacy font's code: "vlk/kkj.k"
    if title.lower().strip(" .:") in _GENERIC:
        return False
    visible = len(title.replace(" ", ""))
    alnum = letters + sum(c.isdigit() for c in title)
    if alnum < 0.7 * visible or re.search(r"[—–=_~]{2,}|[=|]", title):
        return False  # an OCR'd banner or a rule: "REGISTE D Noe RED No,———= M - 302"
    if len(_MOJIBAKE.findall(title)) > 0.2 * letters:
        return False
    words = title.split()
    short = sum(len(w.strip(".,;:")) <= 1 for w in words)
    return not (len(words) >= 3 and short > 0.4 * len(words))


def cited_title(text: str) -> str | None:
    """The short title an act gives itself: "This Act may be cited as the X Act, 2016"."""
    for m in _CITED_AS.finditer(text[:80_000]):
        rest = text[m.end() : m.end() + 260]
        end = _CITED_END.search(rest)
        rest = rest[: end.start()] if end else rest
        found = _CITED_TITLE.match(" ".join(rest.split()))
        if found and found.group("title")[:1].isupper() and is_title(found.group("title")):
            return found.group("title").strip(" ,")
    return None


def _heading_like(line: str) -> bool:
    words = line.split()
    return 1 <= len(words) <= 25 and not re.search(r"[.;:,]\W?$", line) and len(line) <= 250


def heading_title(
    lines: Iterable[str], *, most: int = 40, instrument_only: bool = False
) -> str | None:
    """The first heading naming an instrument among the first ``most`` lines, else
    (unless ``instrument_only``) the first heading-like line that can stand as a title."""
    fallback: str | None = None
    for n, line in enumerate(lines):
        if n >= most:
            break
        line = tidy_title(line)
        if not _heading_like(line) or not is_title(line):
            continue
        if _NAMES_INSTRUMENT.search(line):
            return line
        if fallback is None and len(line.split()) >= 2:
            fallback = line
    return None if instrument_only else fallback


_LONG_TITLE = re.compile(r"^An Act (?:to|for|relating to)\b.{10,}", re.IGNORECASE)


def long_title(lines: Iterable[str], *, most: int = 40) -> str | None:
    """An act's long title, "An Act to ...", among its first ``most`` lines."""
    for n, line in enumerate(lines):
        if n >= most:
            break
        line = tidy_title(line)
        if _LONG_TITLE.match(line):
            return line[:300]
    return None


def _continued(title: str, lines: list[str]) -> str:
    """A title cut at a Markdown line break ("... Combat\\"), whole from the line that holds it."""
    for line in lines[:10]:
        line = tidy_title(line)
        if line.startswith(title) and _heading_like(line):
            return line
    return title


def choose_title(
    text: str, lines: Iterable[str], carried: str | None, source: str, *, carried_first: bool
) -> str:
    """The document's title from its text, its first lines and the title its file carries.

    ``carried_first``: a title the format itself marks (a Markdown or XML
    title) wins when it can stand as one; PDF metadata, often a template's or
    a file's name, comes after the act's own short title.
    """
    lines = list(lines)
    if carried and carried.rstrip().endswith("\\"):
        carried = _continued(tidy_title(carried), lines)
    carried = tidy_title(carried) if carried and is_title(carried) else None
    if carried_first and carried:
        return carried
    return (
        cited_title(text)
        or carried
        or heading_title(lines, instrument_only=True)
        or long_title(lines)
        or heading_title(lines)
        or source
    )
