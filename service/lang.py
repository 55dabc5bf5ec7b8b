"""Language identification for documents and passages (py3langid, model shipped in the package)."""

from __future__ import annotations

import re
from functools import cache

# Twelve letters, with anything else between them.
_ENOUGH_LETTERS = re.compile(r"(?:[^\W\d_][\W\d_]*){12}")

# The languages of the corpora tipscan reads; restricting the model to them
# keeps short legal passages from being taken for a neighbouring language.
LANGUAGES = ("en", "nl", "es", "fr", "sv", "de", "pt", "it", "ro")

# Below this probability a passage's own reading gives way to its document's
# language: headings and short items ("(c) Tripura Sector", "CONSIDERANDO:")
# are too short for the model, and what they are is what the document is.
_CONFIDENT = 0.8

# Letters one Romance language writes and its neighbours do not: Romanian
# comma- (and cedilla-) below s and t and a-breve; Portuguese a- and o-tilde.
_ROMANIAN = re.compile("[șşțţăȘŞȚŢĂ]")
_PORTUGUESE = re.compile("[ãõÃÕ]")
_ROMANCE = frozenset({"es", "fr", "it", "pt", "ro"})

# Characters of a document read to tell its language.
DOCUMENT_SAMPLE = 5000


@cache
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    ident.set_languages(list(LANGUAGES))
    return ident


def _by_letters(sample: str, lang: str) -> str | None:
    """Romanian or Portuguese where the model said another Romance language
    and the text writes that language's own letters (two or more)."""
    if lang not in _ROMANCE:
        return None
    if lang != "ro" and len(_ROMANIAN.findall(sample)) >= 2:
        return "ro"
    if lang != "pt" and len(_PORTUGUESE.findall(sample)) >= 2:
        return "pt"
    return None


def detect_language(text: str, prior: str | None = None, *, sample: int = 600) -> str | None:
    """ISO 639-1 code of ``text``, or None when it is too short to tell.

    ``prior``, the language of the document the text comes from, wins where
    the model is unsure of the text on its own.
    """
    head = text[:sample]
    if _ENOUGH_LETTERS.search(head) is None:
        return None
    lang, prob = _identifier().classify(head)
    lang = str(lang)
    lettered = _by_letters(head, lang)
    if lettered is not None:
        return lettered
    if prior in LANGUAGES and lang != prior and prob < _CONFIDENT:
        return prior
    return lang


def document_language(text: str) -> str | None:
    """The language of a document, from a longer sample than a passage's."""
    return detect_language(text, sample=DOCUMENT_SAMPLE)
