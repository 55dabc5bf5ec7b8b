"""Unicode clean-up shared by every format."""

from __future__ import annotations

import re
import unicodedata

_QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u00ad": "",
        "\u200b": "",
        "\u200c": "",
        "\u200d": "",
        "\ufeff": "",
        "\u2010": "-",
        "\u2011": "-",
        "\u2212": "-",
        "\uf0b7": "\u2022",
        "\uf0a7": "\u2022",
    }
)
_MAPPED = re.compile("[" + "".join(chr(c) for c in _QUOTES) + "]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")


def normalize_text(text: str) -> str:
    """NFKC (ligatures, width forms), straight quotes, no control characters.

    Line breaks are kept; runs of spaces become one space.
    """
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    return _SPACES.sub(" ", text)


def normalize_inline(text: str) -> str:
    """As :func:`normalize_text`, then all whitespace folded to single spaces."""
    # The same steps, less the ones the fold makes moot (line ends, space runs).
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
        if _MAPPED.search(text):  # translate looks up every character; most need nothing
            text = text.translate(_QUOTES)
    if _CONTROL.search(text):
        text = _CONTROL.sub("", text)
    return " ".join(text.split())
