"""Document types (those of the corpus manifest), inferred from the title and opening text.

Rules, not a model: there are a few dozen documents to learn from, and a rule
an analyst can read ("a title naming a convention is an international
instrument") is easier to trust and to override (``--meta``) than a
classifier trained on 50 examples. Accuracy against the manifest is measured
by ``tests/test_doctype.py`` and quoted in the README.
"""

from __future__ import annotations

import re

DOC_TYPES = (
    "tip_law",
    "tip_action_plan",
    "anticorruption_law",
    "anticorruption_strategy",
    "code_of_conduct",
    "whistleblower_law",
    "asset_disclosure_law",
    "mla_extradition_law",
    "constitution",
    "international_instrument",
    "report",
    "other",
)

TIP_TYPES = frozenset({"tip_law", "tip_action_plan"})
AC_TYPES = frozenset({"anticorruption_law", "anticorruption_strategy"})


def _rx(*words: str) -> re.Pattern[str]:
    return re.compile("|".join(words), re.IGNORECASE)


_TRAFFICKING = _rx(
    r"traffick", r"mensenhandel", r"trata de (personas|seres)", r"traite des",
    r"människohandel", r"slavery", r"esclavage", r"forced labou?r",
)  # fmt: skip
_CORRUPTION = _rx(
    r"corrupt", r"brib", r"corrupción", r"omkoping", r"korruption", r"integrit", r"lokpal",
)  # fmt: skip
_PLAN = _rx(
    r"action plan", r"\bplan\b", r"strateg", r"fact sheet", r"memorandum", r"aanwijzing",
    r"circulaire", r"arbetet", r"beleid", r"policy", r"handlingsplan", r"task force",
)  # fmt: skip
_LAW = _rx(
    r"\bact\b", r"\bbill\b", r"\blaw\b", r"\bcode\b", r"\bwet\b", r"\bley\b", r"\bloi\b",
    r"u\.s\.c\.", r"chapter", r"ordinance", r"regulations?\b", r"\bdecree",
)  # fmt: skip
# A national statute's title word (not "law": "Criminal Law Convention").
_STATUTE = _rx(r"\bact\b", r"\bbill\b", r"\bwet\b", r"\bley\b", r"\bloi\b", r"u\.s\.c\.")
_INTERNATIONAL = _rx(
    r"\bconvention\b", r"\bprotocol\b", r"\bverdrag\b", r"\bconvenio\b", r"\btreaty\b",
    r"\bconvención\b",
)  # fmt: skip

# Checked in order on the title (then, for the ones marked, on the opening text).
_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("constitution", _rx(r"constitution\b(?! of the)", r"\bgrondwet", r"constituci[oó]n pol[ií]tica")),
    ("whistleblower_law", _rx(r"whistle ?blow", r"klokkenluid", r"disclosure protection")),
    ("code_of_conduct", _rx(r"code of (conduct|ethics)", r"gedragscode", r"integriteitsbeleid",
                            r"c[oó]digo de [eé]tica", r"police regulations", r"code de conduite")),
    ("asset_disclosure_law", _rx(r"integrity in public life", r"conflicts? of interest",
                                 r"conflits? d.int[ée]r[êe]ts", r"asset declaration", r"lokpal",
                                 r"declaration of assets")),
    ("mla_extradition_law", _rx(r"mutual (legal )?assistance", r"\bextradition", r"uitlevering",
                                r"extradici[oó]n", r"entraide")),
)  # fmt: skip


def infer_doc_type(title: str | None, opening: str = "") -> str:
    """One of :data:`DOC_TYPES` from a document's title and first few thousand characters."""
    title = (title or "").strip()
    head = f"{title}\n{opening[:3000]}"
    if _INTERNATIONAL.search(title) and not _STATUTE.search(title):
        return "international_instrument"
    for doc_type, rx in _RULES:
        if rx.search(title):
            return doc_type
    trafficking, corruption = _TRAFFICKING.search(title), _CORRUPTION.search(title)
    if trafficking or corruption:
        plan = bool(_PLAN.search(title)) and not _LAW.search(title)
        if trafficking:
            return "tip_action_plan" if plan else "tip_law"
        return "anticorruption_strategy" if plan else "anticorruption_law"
    # The title says too little: try the rules on the first lines (where a
    # running title or chapter heading sits; further down, an act's preamble
    # cites the constitution or conflicts of interest without being about
    # them), then count the themes of the opening text.
    for doc_type, rx in _RULES:
        if rx.search(opening[:500]):
            return doc_type
    if _INTERNATIONAL.search(head[:600]) and re.search(
        r"states? parties|high contracting", head, re.I
    ):
        return "international_instrument"
    t_hits = len(_TRAFFICKING.findall(head))
    c_hits = len(_CORRUPTION.findall(head))
    if t_hits or c_hits:
        plan = bool(_PLAN.search(head[:800])) and not _LAW.search(title)
        if t_hits >= c_hits:
            return "tip_action_plan" if plan else "tip_law"
        return "anticorruption_strategy" if plan else "anticorruption_law"
    if re.search(r"\breport\b|\brapport\b|\binforme\b", title, re.I):
        return "report"
    return "other"
