"""Country codes: ISO 3166-1 alpha-3, checked with pycountry, with a suggestion when wrong."""

from __future__ import annotations

import difflib

import pycountry

from .errors import InvalidInput


def _by_alpha3(code: str) -> object | None:
    return pycountry.countries.get(alpha_3=code.upper())


def country_name(code: str) -> str | None:
    """The country's short name (``BRB`` -> ``Barbados``), or None for a code that is not ISO."""
    country = _by_alpha3(code) if len(code) == 3 else None
    return getattr(country, "name", None)


def suggest_country(value: str) -> str | None:
    """The alpha-3 code someone probably meant by ``value`` (a name, an alpha-2 or numeric
    code, a misspelt name), or None."""
    value = value.strip()
    if not value:
        return None
    try:
        return str(pycountry.countries.lookup(value).alpha_3)
    except LookupError:
        pass
    names = {str(c.name).lower(): str(c.alpha_3) for c in pycountry.countries}
    for c in pycountry.countries:
        for attr in ("official_name", "common_name"):
            if hasattr(c, attr):
                names[str(getattr(c, attr)).lower()] = str(c.alpha_3)
    close = difflib.get_close_matches(value.lower(), names, n=1, cutoff=0.75)
    if close:
        return names[close[0]]
    try:
        found = pycountry.countries.search_fuzzy(value)
    except LookupError:
        return None
    # The fuzzy search also matches subdivision names; trust it only on a name it contains.
    best = found[0]
    return str(best.alpha_3) if value.lower() in str(best.name).lower() else None


def normalise_country(value: str) -> str:
    """``value`` as an upper-case ISO 3166-1 alpha-3 code (``brb`` -> ``BRB``).

    Raises :class:`InvalidInput` naming the value and, where one is found, the code
    that was probably meant (``Barbados`` or ``BB`` -> ``BRB``)."""
    code = value.strip().upper()
    if len(code) == 3 and code.isalpha() and _by_alpha3(code) is not None:
        return code
    message = f"--country {value!r} is not an ISO 3166-1 alpha-3 country code"
    guess = suggest_country(value)
    if guess:
        message += f"; did you mean {guess} ({country_name(guess)})?"
    else:
        message += " (three letters, e.g. BRB for Barbados, NLD for the Netherlands)"
    raise InvalidInput(message)


def manifest_country(value: str | None) -> str | None:
    """A manifest's country as reports name it: an ISO alpha-3 code upper-cased (the
    manifest writes ``brb``), any other value (``intl``) kept as written."""
    if value is None or not value.strip():
        return None
    code = value.strip()
    return code.upper() if len(code) == 3 and _by_alpha3(code) is not None else code
