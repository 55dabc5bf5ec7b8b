"""The command line fails loudly and early: one line, the right exit code, no stray report."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from service.batch import expand_paths, sniff_file
from service.cli import FAILED, USAGE, app
from service.errors import UnsupportedFormat
from tests.conftest import ROOT, SAMPLE, TIP_BILL

runner = CliRunner()
HTML_PAGE = "bra/codigo-penal-decreto-lei-2848-1940.html"


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


def score(*args: str, cache: Path) -> tuple[int, str]:
    result = runner.invoke(app, ["score", *args, "--cache", str(cache)])
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def unusable_folder(tmp_path: Path) -> Path:
    """Files a download gone wrong leaves: empty, one byte, a web page saved as a PDF."""
    folder = tmp_path / "downloads"
    folder.mkdir()
    (folder / "act.pdf").write_bytes(b"")
    (folder / "plan.docx").write_bytes(b"x")
    shutil.copy(SAMPLE / HTML_PAGE, folder / "code.pdf")
    return folder


def test_a_path_that_does_not_exist_is_a_usage_error_and_writes_nothing(
    tmp_path: Path, cache: Path
) -> None:
    out = tmp_path / "report"
    code, output = score(str(ROOT / "corpus" / "barbados"), "--out", str(out), cache=cache)
    assert code == USAGE
    assert "no such file or folder" in output and "barbados" in output
    assert not out.exists()


def test_a_folder_of_unusable_files_is_a_usage_error_without_a_report(
    tmp_path: Path, cache: Path
) -> None:
    out = tmp_path / "report"
    code, output = score(str(unusable_folder(tmp_path)), "--out", str(out), cache=cache)
    assert code == USAGE
    assert "nothing to score" in output
    assert "act.pdf: the file is empty" in output
    assert "plan.docx: the file is named .docx but its bytes are plain text" in output
    assert "code.pdf: the file is named .pdf but its bytes are HTML" in output
    assert not out.exists()


def test_extract_of_unusable_files_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["extract", str(unusable_folder(tmp_path))])
    assert result.exit_code == USAGE
    assert "nothing to extract" in result.output


def test_a_one_byte_docx_beside_a_real_bill_fails_by_name_and_the_bill_is_scored(
    tmp_path: Path, cache: Path
) -> None:
    folder = tmp_path / "brb"
    folder.mkdir()
    shutil.copy(SAMPLE / TIP_BILL, folder / "bill.pdf")
    (folder / "plan.docx").write_bytes(b"x")
    out = tmp_path / "report"
    code, output = score(str(folder), "--out", str(out), cache=cache)
    assert code == FAILED
    assert "plan.docx: the file is named .docx but its bytes are plain text" in output
    cov = json.loads((out / "coverage.json").read_text("utf-8"))
    assert [Path(d["path"]).name for d in cov["documents"]] == ["bill.pdf"]
    assert [(Path(f["path"]).name, f["code"]) for f in cov["failures"]] == [
        ("plan.docx", UnsupportedFormat.code)
    ]
    assert "plan.docx" in (out / "report.md").read_text("utf-8")


def test_extract_exits_1_when_some_files_fail(tmp_path: Path) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    shutil.copy(SAMPLE / "nld/aanwijzing-mensenhandel.md", folder)
    shutil.copy(SAMPLE / HTML_PAGE, folder / "code.pdf")
    result = runner.invoke(app, ["extract", str(folder)])
    assert result.exit_code == FAILED
    assert "code.pdf: the file is named .pdf but its bytes are HTML" in result.output
    assert '"citation"' in result.output  # the Dutch instruction's passages


def test_every_shipped_document_matches_its_name_and_text_may_be_named_txt() -> None:
    kinds = {f.name: sniff_file(f) for f in expand_paths([SAMPLE])}
    assert kinds["iii-pnetp-metas-lagcrs.txt"] in {"text", "markdown"}
    assert kinds["trafficking-in-persons-prevention-bill-2016.pdf"] == "pdf"
    assert kinds["codigo-penal-decreto-lei-2848-1940.html"] == "html"


@pytest.mark.parametrize(
    ("meta", "says"),
    [
        ("corpus/MANIFST.csv", "no such metadata file"),
        ("corpus/brb", "is a folder"),
        ("README.md", "needs a header with at least 'path'"),
        (f"corpus/{TIP_BILL}", "not a UTF-8 text file"),
    ],
)
def test_a_bad_meta_is_a_usage_error_without_traceback(
    meta: str, says: str, tmp_path: Path, cache: Path
) -> None:
    out = tmp_path / "report"
    code, output = score(
        str(ROOT / "corpus" / "brb"), "--meta", str(ROOT / meta), "--out", str(out), cache=cache
    )
    assert code == USAGE
    assert says in output
    assert not out.exists()


@pytest.mark.parametrize(
    "words",
    [
        ["classify", "passages-typo.jsonl"],
        ["classify", "-", "--models", "no-such-models"],
        ["classify", "-", "--model", "no-such-model"],
        ["evaluate", "--store", "no-such-store"],
        ["evaluate", "--split", "validation"],
        ["compare", "no-such/coverage.json", "--out", "compare"],
        ["compare", "README.md", "--out", "compare"],
        ["extract", "corpus/barbados.pdf"],
        ["train", "training/no-such.toml"],
        ["models", "list", "--models", "no-such-models"],
        ["models", "default", "no-such-model"],
        ["annotations", "stats", "--store", "no-such-store"],
        ["score", "corpus/brb", "--out", "report", "--engine", "pdfminer"],
        ["score", "corpus/brb", "--out", "report", "--models", "no-such-models"],
        ["score", "corpus/brb", "--out", "report", "--workers", "0"],
        ["score", "corpus/brb", "--out", "README.md"],
        ["score", "corpus/brb", "--out", "report", "--country", "Barbados"],
    ],
)
def test_user_mistakes_are_usage_errors_in_one_line(
    words: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    result = runner.invoke(app, words)
    assert result.exit_code == USAGE, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not (ROOT / "report").exists() and not (ROOT / "compare").exists()
