"""The tipscan command line: a thin shell over the pipeline functions."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from typing import Annotated

import typer

from . import __version__
from .batch import DEFAULT_MAX_MEMORY, process_files
from .extract import DEFAULT_ENGINE, DEFAULT_LIMITS, Limits

app = typer.Typer(
    name="tipscan",
    help=(
        "Check laws, plans and codes against the OECD Guiding Principles on Combatting "
        "Corruption related to Trafficking in Persons.\n\n"
        "Example:\n\n    tipscan extract corpus/ --format text"
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)


class OutputFormat(StrEnum):
    jsonl = "jsonl"
    text = "text"


class Engine(StrEnum):
    pdfium = "pdfium"
    pdfplumber = "pdfplumber"


def _version(value: bool) -> None:
    if value:
        typer.echo(f"tipscan {__version__}")
        raise typer.Exit()


@app.callback()
def main_callback(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """tipscan command line."""


def _err(message: str) -> None:
    typer.echo(f"tipscan: {message}", err=True)


@app.command(
    help=(
        "Extract citable passages (articles, sections, paragraphs) from documents.\n\n"
        "FILES may be PDF, DOCX, HTML, XML, JSON, Markdown or text files, or folders of them; "
        "the format is read from the bytes. A file that fails is reported on stderr and the "
        "others still go through; the exit code is 1 if any file failed.\n\n"
        "Examples:\n\n"
        "    tipscan extract corpus/brb/trafficking-in-persons-prevention-bill-2016.pdf\n\n"
        "    tipscan extract corpus/ --format text --engine pdfplumber"
    )
)
def extract(
    files: Annotated[list[str], typer.Argument(help="Files or folders to read.")],
    fmt: Annotated[
        OutputFormat,
        typer.Option("--format", help="jsonl: one passage per line; text: for reading."),
    ] = OutputFormat.jsonl,
    engine: Annotated[Engine, typer.Option(help="PDF engine.")] = Engine(DEFAULT_ENGINE),
    max_pages: Annotated[
        int, typer.Option(help="Refuse documents with more pages.")
    ] = DEFAULT_LIMITS.max_pages,
    max_bytes: Annotated[int, typer.Option(help="Refuse larger files.")] = DEFAULT_LIMITS.max_bytes,
    timeout: Annotated[
        float, typer.Option(help="Seconds allowed per document.")
    ] = DEFAULT_LIMITS.timeout_s,
    max_memory_mb: Annotated[
        int, typer.Option(help="Memory allowed per document, in MiB.")
    ] = DEFAULT_MAX_MEMORY // 2**20,
) -> None:
    limits = Limits(max_pages=max_pages, max_bytes=max_bytes, timeout_s=timeout)
    failed = 0
    out = sys.stdout
    for outcome in process_files(
        files, engine=engine.value, limits=limits, max_memory=max_memory_mb * 2**20
    ):
        if not outcome.ok:
            failed += 1
            _err(f"{outcome.path}: {outcome.error}")
            continue
        doc, passages = outcome.document, outcome.passages or []
        assert doc is not None
        for warning in doc.warnings:
            _err(f"{outcome.path}: warning: {warning}")
        if fmt is OutputFormat.jsonl:
            for p in passages:
                out.write(json.dumps(p.model_dump(mode="json"), ensure_ascii=False) + "\n")
        else:
            out.write(
                f"== {outcome.path} | {doc.title} | {doc.format}, {doc.page_count} page(s), "
                f"{len(passages)} passages ==\n\n"
            )
            for p in passages:
                where = f"p. {p.page_start}" + (
                    f"-{p.page_end}" if p.page_end != p.page_start else ""
                )
                head = " > ".join(p.heading)
                title = f" {p.title}" if p.title else ""
                out.write(
                    f"[{p.citation}]{title} ({where}{'; ' + head if head else ''})\n{p.text}\n\n"
                )
        out.flush()
    if failed:
        raise typer.Exit(1)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
