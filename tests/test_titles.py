"""Document titles come from the document: short and long titles, headings naming the
instrument; never a file name, a metadata artefact, a banner or a bare heading word."""

from __future__ import annotations

import csv

import pytest

from service.extract import extract_document
from service.extract.titles import is_title, tidy_title
from tests.conftest import SAMPLE, SHARED, corpus_file


def _title(rel: str) -> str:
    path = corpus_file(rel)
    return extract_document(path.read_bytes(), path.name).title


def test_gazette_issue_pdf_is_not_titled_by_its_indesign_file() -> None:
    # The PDF's metadata title is "Normas_Legales_20170914.indd".
    rel = "per/politica-nacional-integridad-lucha-corrupcion-ds-092-2017-pcm.pdf"
    path = corpus_file(rel)
    doc = extract_document(path.read_bytes(), path.name)
    assert doc.title == "LEY No 30658"  # the first norm of the issue, as printed
    assert doc.title in doc.text


def test_short_title_of_an_act_wins_over_a_heading() -> None:
    assert _title("lka/penal-code-amendment-act-2006.pdf") == (
        "Penal Code (Amendment) Act, No. 16 of 2006"
    )
    assert _title("ind/lokpal-and-lokayuktas-act-2013.md") == "Lokpal and Lokayuktas Act, 2013"
    assert _title("ind/bharatiya-nyaya-sanhita-2023.md") == "Bharatiya Nyaya Sanhita, 2023"


@pytest.mark.ocr
def test_ocred_gazette_is_titled_by_its_short_title() -> None:
    assert _title("lka/passport-exit-permit-amendment-1980-scanned.pdf") == (
        "Passport (Regulation) and Exit Permit (Amendment) Act, No. 1 of 1980"
    )


def test_letter_spaced_preamble_gives_way_to_the_constitutions_heading() -> None:
    assert tidy_title("P R E A M B U L O") == "PREAMBULO"
    assert not is_title("P R E A M B U L O")
    assert _title("per/constitucion-politica-del-peru-1993.pdf") == "CONSTITUCION POLITICA DEL PERU"


def test_heading_words_and_file_names_give_way_to_the_instrument() -> None:
    # The Markdown titles were "Interpretation", a legacy font's code, and the file name.
    assert _title("can/rcmp-regulations-2014-code-of-conduct.md") == (
        "Royal Canadian Mounted Police Regulations, 2014"
    )
    assert _title("ind/constitution-of-india-2024.md") == "THE CONSTITUTION OF INDIA"
    assert _title("bra/decreto-1171-1994-codigo-etica-servidor-publico-federal.md") == (
        "DECRETO No 1.171, DE 22 DE JUNHO DE 1994"
    )


@pytest.mark.parametrize(
    "artefact",
    [
        "Normas_Legales_20170914.indd",
        "Microsoft Word - Bill 2016 final.doc",
        "TIP_BILL_2016_FINAL",
        "REGISTE D Noe RED No,———= M - 302",
        "SECTIONS",
        "ARRANGEMENT OF SECTIONS",
        "Contents",
        "£ÉÉ®iÉ BÉEÉ oÉÆÉÊ ́ÉvÉÉxÉ",
        "vlk/kkj.k",
    ],
)
def test_artefacts_are_not_titles(artefact: str) -> None:
    assert not is_title(artefact)


def test_escapes_and_markup_are_tidied() -> None:
    # The escaped apostrophe is decoded, then straightened as all text is.
    assert tidy_title("FACT SHEET: President\\u2019s Task Force\\") == (
        "FACT SHEET: President's Task Force"
    )
    assert tidy_title("> Royal Canadian Mounted Police Regulations, 2014") == (
        "Royal Canadian Mounted Police Regulations, 2014"
    )


def _manifest_rows() -> list[str]:
    rows: list[str] = []
    for base in (SHARED, SAMPLE):
        manifest = base / "MANIFEST.csv"
        if manifest.exists():
            with manifest.open(encoding="utf-8") as f:
                rows += [r["path"] for r in csv.DictReader(f) if r["path"] not in rows]
    return rows


@pytest.mark.parametrize("rel", _manifest_rows())
def test_every_corpus_title_can_stand_as_a_title(rel: str) -> None:
    path = corpus_file(rel)
    if path.suffix == ".pdf" and "scanned" in path.name:
        pytest.skip("OCR output varies with the tesseract version")
    title = extract_document(path.read_bytes(), path.name).title
    assert title != path.name
    assert is_title(title), title
