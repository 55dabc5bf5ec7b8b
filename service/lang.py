"""Language identification for documents and passages (py3langid, model shipped in the package)."""

from __future__ import annotations

import re
from functools import cache

# Twelve letters, with anything else between them.
_ENOUGH_LETTERS = re.compile(r"(?:[^\W\d_][\W\d_]*){12}")

# The languages of the corpora tipscan reads; restricting the model to them
# keeps short legal passages from being taken for a neighbouring language.
LANGUAGES = ("en", "nl", "es", "fr", "sv", "de", "pt", "it", "ro")


@cache
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    ident.set_languages(list(LANGUAGES))
    return ident


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of ``text``, or None when it is too short to tell."""
    sample = text[:600]
    if _ENOUGH_LETTERS.search(sample) is None:
        return None
    lang, _prob = _identifier().classify(sample)
    return str(lang)
