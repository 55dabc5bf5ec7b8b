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


def normalize_inline(text: str) -> str:
    """NFKC (ligatures, width forms), straight quotes, no control characters, and all
    whitespace (line breaks included) folded to single spaces."""
    if not text.isascii():  # ASCII has nothing for NFKC or the quote table to do
        text = unicodedata.normalize("NFKC", text)
        if _MAPPED.search(text):  # translate looks up every character; most need nothing
            text = text.translate(_QUOTES)
    if _CONTROL.search(text):
        text = _CONTROL.sub("", text)
    return " ".join(text.split())
