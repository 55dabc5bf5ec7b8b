"""Passages of real documents: complete, in order, clean of page furniture."""

from __future__ import annotations

import re

import pytest

from service.segment import segment_document
from tests.conftest import corpus_file


def numbers(passages, prefix: str) -> list[str]:  # type: ignore[no-untyped-def]
    """The distinct unit numbers, in order of first appearance, of citations starting with prefix."""
    seen: list[str] = []
    for p in passages:
        m = re.match(re.escape(prefix) + r" ([0-9]+[a-zA-Z]*)(\(|$)", p.citation)
        if m and m.group(1) not in seen:
            seen.append(m.group(1))
    return seen


def test_uncac_articles_1_to_71_in_order_in_both_languages(extracted):  # type: ignore[no-untyped-def]
    _doc, passages = extracted("intl/uncac.md")
    expected = [str(n) for n in range(1, 72)]
    assert numbers(passages, "Article") == expected
    assert numbers(passages, "Artikel") == expected
    # Each article starts a passage of its own, under its chapter.
    art5 = next(p for p in passages if p.citation in ("Article 5", "Article 5(1)"))
    assert art5.heading[-1].startswith("CHAPTER II")
    assert art5.title == "Preventive anti-corruption policies and practices"


def test_uncac_language_is_detected_per_passage(extracted):  # type: ignore[no-untyped-def]
    _doc, passages = extracted("intl/uncac.md")
    en = [p.language for p in passages if p.citation.startswith("Article ")]
    nl = [p.language for p in passages if p.citation.startswith("Artikel ")]
    assert en.count("en") / len(en) > 0.97
    assert nl.count("nl") / len(nl) > 0.97


def test_tvpa_sections_complete_and_in_order(extracted):  # type: ignore[no-untyped-def]
    path = corpus_file("usa/22-usc-ch78-trafficking-victims-protection.md")
    headings = re.findall(r"^#### §\s*(\w+)\.", path.read_text("utf-8"), re.M)
    expected = list(dict.fromkeys(headings))
    _doc, passages = extracted("usa/22-usc-ch78-trafficking-victims-protection.md")
    assert numbers(passages, "§") == expected
    # Subsection headings repeat the section heading in the source: one unit, not many.
    assert sum(1 for p in passages if p.citation == "§ 7103") <= 3


def test_barbados_tip_bill_sections_1_to_30(extracted):  # type: ignore[no-untyped-def]
    _doc, passages = extracted("brb/trafficking-in-persons-prevention-bill-2016.pdf")
    assert numbers(passages, "Section") == [str(n) for n in range(1, 31)]
    s3 = next(p for p in passages if p.citation.startswith("Section 3"))
    assert s3.title == "Offence of trafficking in persons"
    assert s3.text.startswith("3.(1) A person who")
    # The arrangement of sections is not a passage.
    assert not any("Arrangement of Sections" in p.text for p in passages)
    assert not any(p.text.startswith("1. Short title") for p in passages)


def test_barbados_corruption_bill_sections_in_order(extracted):  # type: ignore[no-untyped-def]
    _doc, passages = extracted("brb/prevention-of-corruption-bill-2021.pdf")
    nums = [int(n) for n in numbers(passages, "Section")]
    assert nums == sorted(nums)
    assert nums[0] == 1
    assert len(nums) >= 0.9 * nums[-1]


def test_sri_lanka_saarc_act_sections_and_no_furniture(extracted):  # type: ignore[no-untyped-def]
    doc, passages = extracted("lka/saarc-trafficking-convention-act-2005.pdf")
    assert numbers(passages, "Section") == [str(n) for n in range(1, 15)]
    for p in passages:
        assert not re.search(r"Price\s*:", p.text), p.citation
        lines = [line.strip() for line in p.text.split("\n")]
        assert "Prostitution Act, No. 30 of 2005" not in lines, p.citation
        assert "GOVERNMENT PUBLICATIONS BUREAU" not in p.text.upper(), p.citation
    # Marginal notes are kept out of the body and become the sections' titles.
    s3 = next(p for p in passages if p.citation.startswith("Section 3"))
    assert s3.title == "High Court to try offences under this Act."
    assert "High Court to try" not in s3.text.split("\n")[0][:20]
    assert any("High Court to try" in n for page in doc.pages for n in page.notes)


def test_sri_lanka_anti_corruption_act_sections_in_order(extracted):  # type: ignore[no-untyped-def]
    _doc, passages = extracted("lka/anti-corruption-act-2023.pdf")
    nums = [int(n) for n in numbers(passages, "Section")]
    assert nums[:30] == list(range(1, 31))
    assert nums == sorted(nums)
    header = re.compile(r"Anti-Corruption Act, No\. 9 of 2023\s*\d*$")
    for p in passages:
        assert not any(header.match(line.strip()) for line in p.text.split("\n")), p.citation


def test_peru_constitution_articulos(extracted):  # type: ignore[no-untyped-def]
    _doc, passages = extracted("per/constitucion-politica-del-peru-1993.pdf")
    nums = [int(n) for n in numbers(passages, "Artículo")]
    assert nums[:10] == list(range(1, 11))
    assert nums == sorted(nums)
    assert {p.language for p in passages if p.citation.startswith("Artículo")} == {"es"}


def test_nigeria_structured_json_sections(extracted):  # type: ignore[no-untyped-def]
    _doc, passages = extracted("nga/corrupt-practices-and-other-related-offences-act-2000.json")
    nums = numbers(passages, "Section")
    assert nums[:3] == ["1", "2", "3"]
    s1 = next(p for p in passages if p.citation == "Section 1")
    assert s1.title == "Short title"
    assert s1.text.startswith("This Act may be cited")


def test_dutch_articles_under_paragraph_headings(extracted):  # type: ignore[no-untyped-def]
    _doc, passages = extracted("nld/gedragscode-integriteit-az-2009.md")
    a2 = next(p for p in passages if p.citation.startswith("Artikel 2"))
    assert a2.heading[-1].startswith("§ 2")


def test_long_article_split_at_subparagraphs(extracted):  # type: ignore[no-untyped-def]
    _doc, passages = extracted("intl/uncac.md")
    parts = [p for p in passages if re.match(r"Article 46(\(|$)", p.citation)]
    assert len(parts) > 5
    assert all(len(p.text) <= 2000 for p in parts)
    assert "Article 46(9)" in {p.citation for p in parts}


def test_passage_ids_are_stable_and_offsets_index_the_text(extracted):  # type: ignore[no-untyped-def]
    doc, passages = extracted("lka/saarc-trafficking-convention-act-2005.pdf")
    again = segment_document(doc)
    assert [p.id for p in passages] == [p.id for p in again]
    assert len({p.id for p in passages}) == len(passages)
    for p in passages:
        assert doc.text[p.char_start : p.char_end] == p.text
        assert p.doc_id == doc.id and p.id.startswith(doc.id[:16])


# The Brazilian national plan against trafficking (plain text): six axes ("Eixo 1 - ...")
# of numbered actions (metas), 62 in all, each axis numbering from 1.
BRAZIL_PLAN = "bra/iii-pnetp-metas-lagcrs.txt"
BRAZIL_AXES = {
    "Eixo 1 - Gestão da Política": 12,
    "Eixo 2 - Gestão da Informação": 9,
    "Eixo 3 - Capacitação": 12,
    "Eixo 4 - Responsabilização": 11,
    "Eixo 5 - Assistência à Vítima": 9,
    "Eixo 6 - Prevenção e conscientização pública": 9,
}


def test_plain_text_numbered_actions_keep_their_numbers(extracted):  # type: ignore[no-untyped-def]
    """Each action is a passage of its own, under its axis, cited by its own number."""
    _doc, passages = extracted(BRAZIL_PLAN)
    numbers_by_axis: dict[str, list[int]] = {}
    for p in passages:
        if not p.heading:
            continue  # the plan's title line
        m = re.search(r"(\d+)$", p.citation)
        assert m, p.citation
        assert p.text.startswith(f"{m.group(1)}. "), (p.citation, p.text[:40])
        numbers_by_axis.setdefault(p.heading[-1], []).append(int(m.group(1)))
    assert numbers_by_axis == {axis: list(range(1, n + 1)) for axis, n in BRAZIL_AXES.items()}
    # No action is lost: each line of the source is in a passage.
    source = corpus_file(BRAZIL_PLAN).read_text("utf-8")
    actions = re.findall(r"^\d+\. .+$", source, re.M)
    assert len(actions) == sum(BRAZIL_AXES.values()) == 62
    text = "\n".join(p.text for p in passages)
    assert [a for a in actions if a not in text] == []


@pytest.mark.parametrize(
    "rel",
    [
        "brb/trafficking-in-persons-prevention-bill-2016.pdf",
        "lka/mutual-assistance-criminal-matters-act-2002.pdf",
        "lka/anti-corruption-act-2023.pdf",
        "per/constitucion-politica-del-peru-1993.pdf",
        "brb/integrity-in-public-life-bill-2023.pdf",
    ],
)
def test_passages_are_on_the_pages_they_claim(extracted, rel: str):  # type: ignore[no-untyped-def]
    """A passage's first words are on its first page and its last words on its last page."""
    import pypdfium2 as pdfium

    from service.extract.normalize import normalize_inline

    def squash(s: str) -> str:
        # Labels "(a)", "(iv)", "3." are often drawn apart from their text in
        # the content stream: compare the words only.
        s = re.sub(r"\((?:[a-z]{1,3}|\d{1,3}[a-z]?)\)|\d+", "", normalize_inline(s).lower())
        return re.sub(r"[\W_]+", "", s)

    def on_page(run: str, words: list[str], page: str) -> bool:
        # A table (a form in a schedule) is read row by row, its cells apart in
        # the content stream: there, each of the words is on the page.
        return run in page or (bool(words) and all(w in page for w in words))

    pdf = pdfium.PdfDocument(str(corpus_file(rel)))
    pages = [squash(pdf[i].get_textpage().get_text_range()) for i in range(len(pdf))]
    _doc, passages = extracted(rel)
    checked = 0
    for p in passages[:: max(1, len(passages) // 40)]:
        body = squash(re.sub(r"^(Clause|Section|Article)\s+\w+\s*[:.]?", "", p.text))
        if len(body) < 60:
            continue
        head, tail = body[:30], body[-30:]
        words = [w for w in map(squash, p.text.split()) if len(w) >= 3]
        assert on_page(head, words[:6], pages[p.page_start - 1]), (
            p.citation,
            p.page_start,
            p.text[:80],
        )
        assert on_page(tail, words[-6:], pages[p.page_end - 1]), (
            p.citation,
            p.page_end,
            p.text[-80:],
        )
        checked += 1
    assert checked >= 10
