"""--country is an ISO alpha-3 code that selects documents by the manifest; several
countries are reported country by country and side by side."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from service.cli import USAGE, app
from service.countries import normalise_country
from service.errors import InvalidInput
from service.labels import LABEL_IDS
from tests.conftest import ROOT

runner = CliRunner()
CORPUS = ROOT / "corpus"
MANIFEST = CORPUS / "MANIFEST.csv"
FOLDERS = ("brb", "nld", "usa")


def manifest_countries() -> dict[str, str]:
    """Manifest path -> country, as the manifest writes it."""
    with MANIFEST.open(encoding="utf-8") as fh:
        return {row["path"]: row["country"] for row in csv.DictReader(fh)}


@dataclass
class Run:
    code: int
    output: str
    out: Path

    def coverage(self) -> dict:
        return json.loads((self.out / "coverage.json").read_text("utf-8"))


def run_score(out: Path, cache: Path, *args: str) -> Run:
    result = runner.invoke(app, ["score", *args, "--out", str(out), "--cache", str(cache)])
    assert "Traceback" not in result.output
    return Run(result.exit_code, result.output, out)


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def several(tmp_path_factory: pytest.TempPathFactory, cache: Path) -> Run:
    """Three countries' folders of the shipped corpus, scored with the manifest."""
    out = tmp_path_factory.mktemp("several")
    return run_score(out, cache, *(str(CORPUS / f) for f in FOLDERS), "--meta", str(MANIFEST))


@pytest.mark.parametrize("value", ["Barbados", "BB", "Barbdos", "052"])
def test_a_country_that_is_not_alpha3_is_a_usage_error_suggesting_brb(
    value: str, tmp_path: Path, cache: Path
) -> None:
    run = run_score(tmp_path / "r", cache, str(CORPUS / "brb"), "--country", value)
    assert run.code == USAGE
    assert "not an ISO 3166-1 alpha-3" in run.output and "BRB (Barbados)" in run.output
    assert not run.out.exists()


def test_country_codes_are_normalised_and_unknown_ones_refused() -> None:
    assert normalise_country("brb") == normalise_country(" BRB ") == "BRB"
    with pytest.raises(InvalidInput, match="not an ISO 3166-1 alpha-3") as caught:
        normalise_country("XYZ")
    assert "did you mean" not in caught.value.message


def test_country_with_meta_selects_that_countrys_documents(tmp_path: Path, cache: Path) -> None:
    run = run_score(tmp_path / "r", cache, str(CORPUS), "--country", "brb", "--meta", str(MANIFEST))
    assert run.code == 0, run.output
    cov = run.coverage()
    barbados = {p for p, c in manifest_countries().items() if c == "brb"}
    scored = {str(Path(d["path"]).relative_to(CORPUS)) for d in cov["documents"]}
    assert scored == barbados and len(barbados) == 2
    assert cov["country"] == "BRB"
    assert cov["countries"] == {}  # one country: its coverage is the corpus's
    assert {d["country"] for d in cov["documents"]} == {"BRB"}
    skipped = len(manifest_countries()) - len(barbados)
    assert f"2 of {2 + skipped} documents kept; {skipped} skipped" in run.output
    assert "aanwijzing-mensenhandel.md" in run.output  # the skipped are named
    assert "Coverage report: BRB (Barbados)" in (run.out / "report.md").read_text("utf-8")


def test_a_file_named_from_another_country_is_warned_of_and_skipped(
    tmp_path: Path, cache: Path
) -> None:
    dutch = CORPUS / "nld" / "aanwijzing-mensenhandel.md"
    run = run_score(
        tmp_path / "r", cache, str(CORPUS / "brb"), str(dutch), "--country", "BRB",
        "--meta", str(MANIFEST),
    )  # fmt: skip
    assert run.code == 0, run.output
    assert f"warning: {dutch} is a NLD document by --meta, not BRB; skipped" in run.output
    assert str(dutch) not in {d["path"] for d in run.coverage()["documents"]}


def test_several_countries_are_covered_one_by_one(several: Run) -> None:
    assert several.code == 0, several.output
    cov = several.coverage()
    expected = {c.upper() for p, c in manifest_countries().items() if p.split("/")[0] in FOLDERS}
    assert set(cov["countries"]) == expected == {"BRB", "NLD", "USA"}
    assert cov["country"] is None
    assert set(cov["corpus"]["labels"]) == set(LABEL_IDS)  # the corpus key stays
    for code, country in cov["countries"].items():
        docs = [d for d in cov["documents"] if d["country"] == code]
        assert sorted(country["documents"]) == sorted(d["path"] for d in docs)
        for label in LABEL_IDS:
            covering = [d["path"] for d in docs if d["labels"][label]["covered"]]
            assert country["labels"][label]["covered"] == bool(covering)
            assert country["labels"][label]["documents"] == covering
        assert set(country["checks"]) == {"tip_mentions_corruption", "ac_mentions_trafficking"}
    # The whole corpus covers what any of its countries covers.
    for label in LABEL_IDS:
        assert cov["corpus"]["labels"][label]["covered"] == any(
            c["labels"][label]["covered"] for c in cov["countries"].values()
        )


def test_several_countries_are_compared_in_the_reports(several: Run) -> None:
    html = (several.out / "report.html").read_text("utf-8")
    assert "id='countries-table'" in html
    assert "coverage report: 3 countries (BRB, NLD, USA)" in html
    assert "report: BRB" not in html
    rows = list(csv.reader((several.out / "compare.csv").read_text("utf-8").splitlines()))
    assert rows[0] == ["label", "slug", "principle", "BRB", "NLD", "USA"]
    cov = several.coverage()
    by_label = {r[0]: r[3:] for r in rows[1:]}
    for label in LABEL_IDS:
        assert by_label[label] == [
            cov["countries"][c]["labels"][label]["status"] for c in ("BRB", "NLD", "USA")
        ]
    md = (several.out / "report.md").read_text("utf-8")
    assert md.startswith("# Coverage report: 3 countries")
    assert "## Countries compared" in md and "| label | BRB | NLD | USA |" in md
