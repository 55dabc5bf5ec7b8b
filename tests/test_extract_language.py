"""Language identification on real documents: Romanian and Portuguese are told from their
neighbours, short headings take their document's language, bilingual treaties keep both."""

from __future__ import annotations

import pytest

from service.lang import detect_language

ROMANIAN = (
    "rou/legea-678-2001-trafic-de-persoane.json",
    "rou/codul-penal-legea-286-2009.json",
)
BRAZILIAN = (
    "bra/decreto-1171-1994-codigo-etica-servidor-publico-federal.md",
    "bra/iii-pnetp-metas-lagcrs.txt",
    "bra/codigo-penal-decreto-lei-2848-1940.html",
)


@pytest.mark.parametrize("rel", ROMANIAN)
def test_romanian_law_passages_are_romanian(extracted, rel: str) -> None:  # type: ignore[no-untyped-def]
    doc, passages = extracted(rel)
    assert doc.language == "ro"
    assert len(passages) >= 50
    assert {p.language for p in passages} == {"ro"}


@pytest.mark.parametrize("rel", BRAZILIAN)
def test_brazilian_passages_are_portuguese(extracted, rel: str) -> None:  # type: ignore[no-untyped-def]
    doc, passages = extracted(rel)
    assert doc.language == "pt"
    assert {p.language for p in passages} == {"pt"}


def test_bilingual_treaty_keeps_english_and_dutch(extracted) -> None:  # type: ignore[no-untyped-def]
    _doc, passages = extracted("intl/palermo-protocol-tip.md")
    en = {p.language for p in passages if p.citation.startswith("Article ")}
    nl = {p.language for p in passages if p.citation.startswith("Artikel ")}
    assert en == {"en"} and nl == {"nl"}


@pytest.mark.parametrize(
    ("rel", "heading", "language"),
    [
        # Each once read as another language: pt, ro, pt.
        ("per/ds-033-2005-pcm-reglamento-codigo-etica.pdf", "CONSIDERANDO:", "es"),
        ("brb/integrity-in-public-life-bill-2023.pdf", "3. Permanent Secretaries", "en"),
        ("arg/ley-27046-leyenda-prevencion-trata.md", "ARTÍCULO 6° — Comuníquese", "es"),
    ],
)
def test_short_passages_take_their_documents_language(extracted, rel, heading, language) -> None:  # type: ignore[no-untyped-def]
    doc, passages = extracted(rel)
    found = [p for p in passages if p.text.startswith(heading)]
    assert found
    assert doc.language == language
    assert {p.language for p in found} == {language}
    # On its own, the model is unsure of it and reads another language.
    assert detect_language(found[0].text) != language


def test_own_letters_outweigh_a_documents_neighbouring_language(extracted) -> None:  # type: ignore[no-untyped-def]
    # A Romanian or Portuguese passage quoted in a document read as Italian or
    # Spanish stays Romanian or Portuguese.
    for rel, letters, prior, language in (
        (ROMANIAN[0], "șțăş", "it", "ro"),
        (BRAZILIAN[1], "ãõ", "es", "pt"),
    ):
        _doc, passages = extracted(rel)
        quoted = next(
            p.text[:80] for p in passages if sum(p.text[:80].count(c) for c in letters) >= 2
        )
        assert detect_language(quoted, prior) == language
