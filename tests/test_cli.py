"""The command line: help with examples, documented in the README, JSONL contract."""

from __future__ import annotations

import json
import subprocess
import sys

from typer.testing import CliRunner

from service.cli import app
from tests.conftest import ROOT, corpus_file

runner = CliRunner()


def commands() -> list[list[str]]:
    """Every command, as the words that call it: ["extract"], ["annotations", "stats"], ..."""
    out = [[c.name or c.callback.__name__] for c in app.registered_commands]  # type: ignore[union-attr]
    for group in app.registered_groups:
        sub = group.typer_instance
        assert sub is not None and group.name
        out += [[group.name, c.name or c.callback.__name__] for c in sub.registered_commands]  # type: ignore[union-attr]
    return out


def test_every_command_has_help_with_an_example_and_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    top = runner.invoke(app, ["--help"])
    assert top.exit_code == 0 and "Example" in top.output
    for words in commands():
        result = runner.invoke(app, [*words, "--help"])
        assert result.exit_code == 0, words
        assert "Example" in result.output, words
        assert f"tipscan {' '.join(words)}" in readme, words


def test_extract_jsonl_has_the_passage_fields() -> None:
    path = corpus_file("lka/saarc-trafficking-convention-act-2005.pdf")
    proc = subprocess.run(
        [sys.executable, "-m", "service.cli", "extract", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(rows) > 10
    for row in rows:
        for field in ("id", "doc_id", "text", "page_start", "page_end", "citation", "heading"):
            assert field in row
    assert any(r["citation"] == "Section 3" for r in rows)


def test_extract_text_format_on_the_sample_corpus() -> None:
    result = runner.invoke(app, ["extract", str(ROOT / "corpus" / "nld"), "--format", "text"])
    assert result.exit_code == 0
    assert "aanwijzing-mensenhandel.md" in result.output


def test_sample_corpus_manifest_lists_every_file() -> None:
    import csv

    corpus = ROOT / "corpus"
    with (corpus / "MANIFEST.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    listed = {r["path"] for r in rows}
    files = {str(p.relative_to(corpus)) for p in corpus.rglob("*") if p.is_file()}
    assert files - {"MANIFEST.csv"} == listed
    assert all(r["source_repo"] and r["notes"] for r in rows)
    size = sum(p.stat().st_size for p in corpus.rglob("*") if p.is_file())
    assert size < 15 * 2**20
