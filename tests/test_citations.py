"""Citations an analyst can paste: in the document's own units and language, inside the
schedule or annex they belong to, unique within a document, without pages where the
source has none, and with character references decoded."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from service.segment import MAX_PASSAGE_CHARS, REPEATED, repeated_citations
from tests.conftest import SAMPLE, SHARED

POC_BILL = "brb/prevention-of-corruption-bill-2021.pdf"
NIGERIA = "nga/corrupt-practices-and-other-related-offences-act-2000.json"
ROMANIA_CODE = "rou/codul-penal-legea-286-2009.json"
ROMANIA_TIP_LAW = "rou/legea-678-2001-trafic-de-persoane.json"
PERU_POLICY = "per/politica-nacional-integridad-lucha-corrupcion-ds-092-2017-pcm.pdf"
ARGENTINA = "arg/ley-26842-trata-de-personas.md"
INDIA_BNS = "ind/bharatiya-nyaya-sanhita-2023.md"
SWEDEN = "swe/lag-1994-260-offentlig-anstallning.json"
ENTITY = re.compile(r"&(#\d+|#x[0-9a-f]+|[a-z]+);", re.I)


def by_citation(passages, citation: str):  # type: ignore[no-untyped-def]
    found = [p for p in passages if p.citation == citation]
    assert len(found) == 1, (citation, [p.citation for p in passages][:40])
    return found[0]


def test_scheduled_uncac_is_cited_in_the_schedule(extracted):  # type: ignore[no-untyped-def]
    """The UNCAC text scheduled to the Barbados bill is no domestic article: its citation
    and its heading path say it is in the Schedule, to section 21."""
    _doc, passages = extracted(POC_BILL)
    art44 = by_citation(passages, "Schedule, Article 44(1)")
    assert art44.text.startswith("Article 44. Extradition")
    assert art44.heading[0] == (
        "SCHEDULE (Section 21) — United Nations Convention against Corruption"
    )
    assert art44.heading[-1].startswith("Chapter IV")
    # Every article of the convention is in the schedule; the bill's own sections are not.
    assert not [p.citation for p in passages if p.citation.startswith("Article")]
    scheduled = [p for p in passages if p.citation.startswith("Schedule, ")]
    assert {p.citation for p in scheduled} >= {f"Schedule, Article {n}" for n in (1, 10, 61, 71)}
    s21 = next(p for p in passages if p.citation == "Section 21")
    assert "set out in the Schedule" in s21.text and not any("SCHEDULE" in h for h in s21.heading)
    # The explanatory memorandum after the schedule is not part of it.
    memo = [p for p in passages if p.heading and p.heading[0] == "EXPLANATORY MEMORANDUM"]
    assert memo and not any(p.citation.startswith("Schedule") for p in memo)
    assert passages.index(memo[0]) > passages.index(scheduled[-1])


def test_nigerian_subsections_numbered_as_set_inline(extracted):  # type: ignore[no-untyped-def]
    """Section 3's subsections are set inline in one block: (11) is cited 3(11), and the
    cross-reference "sections 3 (10) and (11)" inside 3(12) is not taken for one."""
    _doc, passages = extracted(NIGERIA)
    s3 = [p for p in passages if re.match(r"Section 3\(", p.citation)]
    assert [p.citation for p in s3][:15] == [f"Section 3({n})" for n in range(1, 16)]
    eleven = by_citation(passages, "Section 3(11)")
    assert eleven.text.startswith("(11) The members shall hold office for a period of four")
    twelve = by_citation(passages, "Section 3(12)")
    assert "sections 3 (10) and (11) of this Act" in twelve.text
    # Section 10 runs on in the source's object for section 9: it is a section of its own.
    assert "(2) If, in the course of" in by_citation(passages, "Section 9").text
    assert by_citation(passages, "Section 10").text.startswith("General Duties of the Commission")
    assert repeated_citations(passages) == 0
    assert len({p.citation for p in passages}) == len(passages)
    # The definitions, one sentence of "; "-joined terms, are cut at terms, and say so.
    assert max(len(p.text) for p in passages) <= MAX_PASSAGE_CHARS
    definitions = [p for p in passages if p.citation.startswith("Section 2")]
    assert [p.citation for p in definitions][:2] == ["Section 2", "Section 2 (cont.)"]
    assert all(p.text.rstrip().endswith((";", ".")) for p in definitions[:-1])


def test_romanian_articles_in_their_own_numbering(extracted):  # type: ignore[no-untyped-def]
    """ "Articolul 19", not "Section 19"; paragraphs "(1)" of a long article are its own;
    the source's chapter path is the heading."""
    _doc, passages = extracted(ROMANIA_CODE)
    assert all(p.citation.startswith("Articolul ") for p in passages), {
        p.citation for p in passages if not p.citation.startswith("Articolul ")
    }
    art19 = by_citation(passages, "Articolul 19")
    assert "Legitima apărare (1) Este justificată" in art19.text
    assert art19.heading == [
        "Partea GENERALĂ",
        "Titlul II - Infracțiunea",
        "Capitolul II - Cauzele justificative",
    ]
    assert by_citation(passages, "Articolul 193(1)").text.startswith(
        "Lovirea sau alte violențe (1)"
    )
    # "art. 193 alin. (2) din Codul penal" is a reference, not paragraph (2).
    assert not by_citation(passages, "Articolul 193(2)").text.startswith("(2) din Codul")
    _doc, tip_law = extracted(ROMANIA_TIP_LAW)
    assert [p.citation for p in tip_law][:3] == ["Articolul 1", "Articolul 2", "Articolul 3"]
    assert repeated_citations(passages) == repeated_citations(tip_law) == 0


def test_swedish_paragraphs_are_cited_as_swedish_law_does(extracted):  # type: ignore[no-untyped-def]
    _doc, passages = extracted(SWEDEN)
    assert [p.citation for p in passages][:3] == ["1 §", "2 §", "3 §"]


def test_peruvian_policy_is_cited_by_its_own_units(extracted):  # type: ignore[no-untyped-def]
    """The policy annexed to D.S. 092-2017-PCM: once the decree ends, the annex's ejes and
    objetivos are the units, under the policy's title, not the decree's last article."""
    _doc, passages = extracted(PERU_POLICY)
    art1 = next(p for p in passages if p.text.startswith("Artículo 1.- Aprobación de la Política"))
    assert re.fullmatch(r"Artículo 1( \(occurrence 2\))?", art1.citation)
    refrendo = next(p for p in passages if p.text.startswith("Artículo 9.- Refrendo"))
    annex = passages[passages.index(refrendo) + 1 :]
    title = "Anexo — Política Nacional de Integridad y Lucha contra la Corrupción"
    matrix = next(k for k, p in enumerate(annex) if p.citation.startswith("Anexo 1, "))
    assert all(p.heading[0] == title for p in annex[:matrix])  # up to the policy's own Anexo 1
    assert annex[matrix].heading[0] == "Anexo N° 1"
    assert not [p.citation for p in annex if re.match(r"(Artículo|Section) ", p.citation)]
    first = next(p for p in annex if p.citation.startswith("Anexo, Eje 2, Objetivo 2.1, "))
    assert first.citation == "Anexo, Eje 2, Objetivo 2.1, para. 1"
    assert first.heading[1:4] == [
        "VI. OBJETIVOS DE POLÍTICA",
        "II. EJE 2: Identificación y Gestión de Riesgos",
        "Objetivo 2.1: Fortalecer el Mecanismo para la Gestión de Denuncias por Presuntos "
        "Actos de Corrupción",
    ]
    objetivos = {m.group(1) for p in annex if (m := re.search(r"Objetivo (\d\.\d)", p.citation))}
    assert objetivos == {"1.1", "1.2", "1.3", "1.4", "1.5", "2.1", "2.2", "2.3", "2.4"} | {
        "3.1",
        "3.2",
        "3.3",
        "3.4",
    }
    diagnosis = [p for p in annex if p.heading[1:2] == ["IV. DIAGNÓSTICO"]]
    assert diagnosis and all(p.citation.startswith("Anexo, IV, ") for p in diagnosis)
    assert len({p.citation for p in annex}) == len(annex)


TEXT_SOURCES = (
    "usa/wh-fact-sheet-national-action-plan-combat-human-trafficking-2021.md",
    "swe/regeringen-forebygga-bekampa-prostitution-manniskohandel-2024.md",
    "nld/aanwijzing-mensenhandel.md",
    "esp/estrategia-nacional-crimen-organizado-2025.md",
    "bra/codigo-penal-decreto-lei-2848-1940.html",
    "can/conflict-of-interest-act.xml",
    "bra/iii-pnetp-metas-lagcrs.txt",
)


@pytest.mark.parametrize("rel", TEXT_SOURCES)
def test_sources_without_pages_are_not_cited_by_page(extracted, rel: str) -> None:  # type: ignore[no-untyped-def]
    """Markdown, HTML, XML and text have no pages: prose is "para. N", in reading order."""
    doc, passages = extracted(rel)
    assert doc.format != "pdf"
    assert not [p.citation for p in passages if re.search(r"\bp\. \d", p.citation)]
    paras = [int(m.group(1)) for p in passages if (m := re.fullmatch(r"para\. (\d+)", p.citation))]
    assert paras == list(range(1, len(paras) + 1))


def test_paged_sources_keep_the_page_in_prose_citations(extracted):  # type: ignore[no-untyped-def]
    _doc, passages = extracted(POC_BILL)
    memo = [p for p in passages if p.heading and p.heading[0] == "EXPLANATORY MEMORANDUM"]
    assert any(p.citation == f"p. {p.page_start}, para. 1" for p in memo)


def test_character_references_are_decoded(extracted):  # type: ignore[no-untyped-def]
    """The Nigerian act (JSON) carries &ldquo; &rdquo; &rsquo; &mdash;; the Indian code
    (Markdown) &amp;: neither shows in a passage, title or heading."""
    _doc, passages = extracted(NIGERIA)
    for p in passages:
        assert not ENTITY.search(" ".join([p.text, p.title or "", *p.heading])), p.citation
    assert any('called "Standing Orders"' in p.text for p in passages)
    assert any("—" in p.text for p in passages)
    doc, bns = extracted(INDIA_BNS)
    assert not ENTITY.search(doc.text) and not ENTITY.search(doc.title)
    assert any("Joint Secretary & Legislative Counsel" in p.text for p in bns)


def test_ordinal_indicators_are_not_part_of_the_number(extracted):  # type: ignore[no-untyped-def]
    """ "ARTICULO 2º" (read "2o" once the ordinal is normalised) is Artículo 2."""
    _doc, passages = extracted(ARGENTINA)
    cites = [p.citation for p in passages]
    assert "Artículo 2" in cites
    assert not [c for c in cites if re.search(r"\d[oº°]\b", c)]
    # Dutch article numbers with a letter are numbers: "Artikel 38o" stays.
    assert not any(c == "Artikel 38" for c in cites)


def _corpus_documents() -> list[str]:
    base = SHARED if SHARED.is_dir() else SAMPLE
    return sorted(
        str(p.relative_to(base))
        for p in base.rglob("*")
        if p.is_file() and p.name != "MANIFEST.csv" and "scanned" not in p.name
    )


@pytest.mark.slow
def test_no_two_passages_of_a_document_share_a_citation(extracted) -> None:  # type: ignore[no-untyped-def]
    """Over the whole corpus: no citation is given twice, and the last resort of numbering
    occurrences is left to documents that hold two texts numbered alike (the diglot Indian
    constitution, an act whose contents list reads as sections): 444 passages of 8,500,
    where 1,186 of 7,912 passages repeated an earlier citation before schedules, annexes,
    plans and inline subsections were read as such."""
    resorted: Counter[str] = Counter()
    for rel in _corpus_documents():
        _doc, passages = extracted(rel)
        cites = Counter(p.citation for p in passages)
        assert not [c for c, n in cites.items() if n > 1], rel
        resorted[rel] = sum(REPEATED in p.citation for p in passages)
    print("last-resort citations:", sum(resorted.values()), resorted.most_common(8))
    assert resorted[NIGERIA] == resorted[POC_BILL] == 0
    assert sum(resorted.values()) <= 450
