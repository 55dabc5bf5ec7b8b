"""Help that reads well at 80 columns, and a README command list generated from the CLI."""

from __future__ import annotations

import re

import pytest
import typer
from typer.testing import CliRunner

from service.cli import app
from service.cli_docs import readme_block, render_commands, walk
from tests.conftest import ROOT

runner = CliRunner()
ROOT_COMMAND = typer.main.get_command(app)
COMMANDS = [words for words, _ in walk(ROOT_COMMAND)]


def help_at_80(words: list[str] | tuple[str, ...]) -> str:
    result = runner.invoke(app, [*words, "--help"], env={"COLUMNS": "80"}, terminal_width=80)
    assert result.exit_code == 0, result.output
    return result.output


def test_readme_command_list_is_in_step_with_the_cli() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    assert readme_block(readme) == render_commands(ROOT_COMMAND), (
        "README.md's command list is out of step: run `python -m service.cli_docs`"
    )
    for words, command in walk(ROOT_COMMAND):
        assert f"tipscan {' '.join(words)}" in readme_block(readme)
        for param in command.params:
            if param.param_type_name == "option" and param.name != "help":
                assert max(param.opts, key=len) in readme_block(readme), (words, param.name)
    assert {"serve", "keys"} <= {words[0] for words in COMMANDS}


def test_top_level_help_shows_score_and_the_exit_codes() -> None:
    text = help_at_80([])
    assert "tipscan score corpus/brb --country BRB --meta corpus/MANIFEST.csv" in text
    assert "Exit codes:" in text
    assert re.search(r"^\s+2\s+usage error", text, re.M)


@pytest.mark.parametrize("words", COMMANDS, ids=" ".join)
def test_examples_are_whole_lines_at_80_columns(words: tuple[str, ...]) -> None:
    text = help_at_80(words)
    lines = [line.strip() for line in text.splitlines()]
    command = dict(walk(ROOT_COMMAND))[words]
    examples = [
        line.strip()
        for line in (command.help or "").splitlines()
        if line.strip().startswith(("tipscan ", "KEY=", "TIPSCAN_"))
    ]
    assert examples, words
    for example in examples:
        assert example in lines, (words, example)
    assert all(len(line) <= 80 for line in text.splitlines()), words


@pytest.mark.parametrize("words", COMMANDS, ids=" ".join)
def test_usage_names_arguments_plainly_and_every_option_has_help(
    words: tuple[str, ...],
) -> None:
    usage = help_at_80(words).splitlines()[0]
    assert usage.startswith(f"Usage: tipscan {' '.join(words)} [OPTIONS]")
    assert "{" not in usage and "<" not in usage, usage
    command = dict(walk(ROOT_COMMAND))[words]
    for param in command.params:
        assert (param.help or "").strip(), (words, param.name)
