"""The tipscan command line: a thin shell over the pipeline functions."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from typing import Annotated, NoReturn

import typer

from . import __version__
from .extract import DEFAULT_ENGINE, DEFAULT_LIMITS, DEFAULT_MAX_MEMORY, Limits

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
    pretty_exceptions_enable=False,
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
    from .batch import process_files
    from .segment import prepare

    prepare()  # once here, not in every extraction child
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


annotations_app = typer.Typer(
    help=(
        "Work with the annotation store (annotations/*.jsonl).\n\n"
        "Example:\n\n    tipscan annotations stats"
    ),
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(annotations_app, name="annotations")

StoreOption = Annotated[
    str, typer.Option("--store", help="Annotation file or folder of *.jsonl files.")
]


def _load_store(store: str) -> list:
    from .annotations import load_annotations
    from .errors import TipscanError

    try:
        return load_annotations(store)
    except TipscanError as exc:
        _fail(exc)


@annotations_app.command(
    "validate",
    help=(
        "Check every line of the store; the first bad line is named with its problem.\n\n"
        "Example:\n\n    tipscan annotations validate --store annotations/"
    ),
)
def annotations_validate(store: StoreOption = "annotations") -> None:
    located = _load_store(store)
    typer.echo(f"{len(located)} annotation lines OK")


@annotations_app.command(
    "stats",
    help=(
        "Passages, documents, positives per label, languages and annotators of the store.\n\n"
        "Example:\n\n    tipscan annotations stats --json"
    ),
)
def annotations_stats(
    store: StoreOption = "annotations",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    from .annotations import compute_stats
    from .labels import BY_ID

    stats = compute_stats(_load_store(store))
    if as_json:
        typer.echo(json.dumps(stats, indent=1))
        return
    typer.echo(
        f"{stats['passages']} passages ({stats['lines']} annotation lines) from "
        f"{stats['documents']} documents; {stats['with_any_label']} passages carry a label"
    )
    typer.echo("\npositives per label (final labels):")
    for label, n in stats["positives"].items():
        short = "" if n >= 30 else "   < 30"
        typer.echo(f"  {label:4} {BY_ID[label].slug:32} {n:5}{short}")
    for name in ("flags", "languages", "doc_types", "annotators", "resolution"):
        typer.echo(f"\n{name.replace('_', ' ')}:")
        for key, n in stats[name].items():
            typer.echo(f"  {key:40} {n:5}")


@annotations_app.command(
    "agreement",
    help=(
        "Cohen's kappa per label and flag, and F1 of one pass against the other, over "
        "doubly-annotated passages; writes the Markdown report.\n\n"
        "Example:\n\n    tipscan annotations agreement --out annotations/AGREEMENT.md"
    ),
)
def annotations_agreement(
    store: StoreOption = "annotations",
    out: Annotated[str, typer.Option("--out", help="Markdown file to write ('-': stdout).")] = (
        "annotations/AGREEMENT.md"
    ),
    second: Annotated[
        list[str] | None,
        typer.Option("--second", help="Annotator id of the second pass (repeatable)."),
    ] = None,
) -> None:
    from collections import Counter
    from pathlib import Path

    from .annotations import compute_agreement, final_labels, render_agreement

    located = _load_store(store)
    agr = compute_agreement(located, second=second)
    if agr.passages == 0:
        _err("no passage has two annotators; nothing to compare")
        raise typer.Exit(1)
    resolution: Counter[str] = Counter(f.how for f in final_labels(located).values())
    text = render_agreement(agr, dict(resolution))
    if out == "-":
        typer.echo(text, nl=False)
    else:
        Path(out).write_text(text, encoding="utf-8")
        typer.echo(
            f"{agr.passages} passages: macro kappa {agr.macro_kappa:.2f}, "
            f"micro-F1 {agr.micro_f1:.2f}; written to {out}"
        )


@annotations_app.command(
    "split",
    help=(
        "Freeze a document-level train/dev/test split (60/20/20) of the annotated documents "
        "into training/splits/NAME.json, stratified by label so that every label found in "
        "enough documents has positives in each part (an existing split is never replaced)."
        "\n\nExample:\n\n    tipscan annotations split --name full-v3"
    ),
)
def annotations_split(
    name: Annotated[str, typer.Option("--name", help="Split name (file stem).")],
    store: StoreOption = "annotations",
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 13,
    folder: Annotated[str, typer.Option("--dir", help="Where splits live.")] = "training/splits",
    legacy: Annotated[
        bool,
        typer.Option(
            "--legacy", help="The seed splits' rarest-label-first method, not stratification."
        ),
    ] = False,
) -> None:
    from pathlib import Path

    from .annotations import final_labels, snapshot_hash
    from .errors import TipscanError
    from .split import make_split, make_stratified_split, write_split

    finals = final_labels(_load_store(store))
    assign = make_split(finals, seed=seed) if legacy else make_stratified_split(finals, seed=seed)
    try:
        data = write_split(
            Path(folder) / f"{name}.json", finals, assign, snapshot_hash(store), seed
        )
    except TipscanError as exc:
        _err(exc.message)
        raise typer.Exit(1) from None
    for part, info in data["summary"].items():
        missing = [k for k, v in info["positives"].items() if v == 0]
        typer.echo(
            f"{part:5} {info['documents']:3} documents {info['passages']:5} passages; "
            f"labels without positives: {', '.join(missing) or 'none'}"
        )


# --- classification -----------------------------------------------------------


ModelOption = Annotated[
    str | None,
    typer.Option("--model", help="Model name (default: the models folder's DEFAULT)."),
]
ModelsOption = Annotated[
    str | None,
    typer.Option(
        "--models",
        help="Folder of models [env TIPSCAN_MODELS; default: the models installed with tipscan].",
    ),
]


def _fail(exc: Exception) -> NoReturn:
    _err(getattr(exc, "message", str(exc)))
    raise typer.Exit(1) from None


@app.command(
    help=(
        'Classify passages against the 18 labels. Reads JSON Lines {"id", "text"} with '
        'optional context "title", "doc_type", "heading" (FILE or - for stdin); writes '
        '{"id", "labels", "scores", "mentions_trafficking", "mentions_corruption"} '
        "lines. A malformed line is reported on stderr with its number; the other lines are "
        "still classified and the exit code is 1.\n\n"
        "Examples:\n\n"
        "    tipscan extract corpus/brb/trafficking-in-persons-prevention-bill-2016.pdf | "
        "tipscan classify -\n\n"
        "    tipscan classify passages.jsonl --explain --model tfidf-context-1.0.1"
    )
)
def classify(
    file: Annotated[str, typer.Argument(help="JSONL file, or - for stdin.")],
    model: ModelOption = None,
    explain: Annotated[
        bool, typer.Option("--explain", help="Add the lexicon terms that support each label.")
    ] = False,
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, help="Passages classified at a time.")
    ] = 256,
    models: ModelsOption = None,
) -> None:
    from .classify import load_model, models_dir
    from .classify_io import read_passage_lines
    from .errors import TipscanError

    try:
        loaded = load_model(model, models_dir(models))
    except TipscanError as exc:
        _fail(exc)
    bad = 0
    try:
        stream = sys.stdin if file == "-" else open(file, encoding="utf-8")  # noqa: SIM115
    except OSError as exc:
        _fail(exc)
    out = sys.stdout
    with stream:
        batch = []
        for item in read_passage_lines(stream, file):
            if isinstance(item, TipscanError):
                _err(item.message)
                bad += 1
                continue
            batch.append(item)
            if len(batch) >= batch_size:
                for pred in loaded.predict(batch, explain=explain):
                    out.write(pred.model_dump_json(exclude_none=True) + "\n")
                batch = []
        for pred in loaded.predict(batch, explain=explain):
            out.write(pred.model_dump_json(exclude_none=True) + "\n")
    out.flush()
    if bad:
        raise typer.Exit(1)


@app.command(
    help=(
        "Train a model from annotations/ with a config; writes models/<name>-<version>/ "
        "(never over an existing model) with meta.json and MODEL_CARD.md.\n\n"
        "Example:\n\n    tipscan train training/sklearn.toml"
    )
)
def train(
    config: Annotated[str, typer.Argument(help="Training config (TOML).")],
    version: Annotated[
        str | None, typer.Option("--version", help="Override the config's version.")
    ] = None,
    no_cv: Annotated[bool, typer.Option("--no-cv", help="Skip grouped cross-validation.")] = False,
    models: ModelsOption = None,
) -> None:
    from .classify import models_dir
    from .errors import TipscanError
    from .train import train_model

    try:
        folder = train_model(
            config,
            models_dir(models),
            version=version,
            cv=not no_cv,
            progress=lambda msg: typer.echo(msg, err=True),
        )
    except TipscanError as exc:
        _fail(exc)
    typer.echo(str(folder))


@app.command(
    help=(
        "Per-label precision, recall, F1 and support, micro/macro F1, and the same by language "
        "and by document type, the flags' accuracy and document coverage (cell accuracy, "
        "covered-cell F1), of a model on a part of its frozen document split.\n\n"
        "Example:\n\n    tipscan evaluate --model tfidf-context-1.0.1 --split test"
    )
)
def evaluate(
    model: ModelOption = None,
    split: Annotated[str, typer.Option("--split", help="train, dev or test.")] = "test",
    store: StoreOption = "annotations",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    models: ModelsOption = None,
) -> None:
    from .classify import load_model, models_dir
    from .errors import TipscanError
    from .evaluate import format_groups, format_table
    from .train import evaluate_model

    try:
        loaded = load_model(model, models_dir(models))
        metrics = evaluate_model(loaded, store, split)
    except TipscanError as exc:
        _fail(exc)
    if as_json:
        typer.echo(json.dumps(metrics, indent=1))
        return
    typer.echo(f"{loaded.name} on {split}:\n")
    typer.echo(format_table(metrics))
    for flag, v in metrics["flags"].items():
        typer.echo(f"{flag}: accuracy {v['accuracy']:.3f} (support {v['support']})")
    typer.echo("\n" + format_groups(metrics))


models_app = typer.Typer(
    help="List models and choose the default.\n\nExample:\n\n    tipscan models list",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(models_app, name="models")


@models_app.command(
    "list",
    help="The models under models/, with test and dev scores.\n\nExample:\n\n    tipscan models list",
)
def models_list(models: ModelsOption = None) -> None:
    from .classify import default_history, default_model_name, list_models, models_dir
    from .errors import TipscanError

    root = models_dir(models)
    try:
        default = default_model_name(root)
    except TipscanError:
        default = None
    for m in list_models(root):
        mark = "*" if m.name == default else " "
        typer.echo(
            f"{mark} {m.name:32} {m.kind:8} test micro-F1 {m.test['micro']['f1']:.3f} "
            f"macro-F1 {m.test['macro_f1']:.3f}; held-out macro-F1 {m.held_out_macro_f1:.3f}"
        )
    history = [h for h in default_history(root) if h["name"] == default]
    if history:
        typer.echo(f"default since {history[-1]['at']}: {history[-1]['reason']}")


@models_app.command(
    "default",
    help=(
        "Make NAME the default model (the one with the best dev macro-F1, normally). The "
        "choice and its reason are recorded beside the models (DEFAULT, "
        "default-history.jsonl); model folders are never changed.\n\n"
        "Example:\n\n    tipscan models default tfidf-context-1.0.1"
    ),
)
def models_default(
    name: Annotated[str, typer.Argument(help="Model folder name.")],
    models: ModelsOption = None,
) -> None:
    from .classify import load_model, models_dir, record_default
    from .errors import TipscanError

    root = models_dir(models)
    try:
        load_model(name, root)
        reason = record_default(name, root)
    except TipscanError as exc:
        _fail(exc)
    typer.echo(f"default model: {name} ({reason})")


# --- scoring a corpus -----------------------------------------------------------


@app.command(
    help=(
        "Score a country's corpus: extract, classify and cover every document under PATHS, "
        "and write coverage.json, coverage.csv, report.md and report.html to --out. "
        "Documents run in parallel; extraction is cached by document hash; a document that "
        "fails is listed in the report with its reason and the others are still scored.\n\n"
        "Examples:\n\n"
        "    tipscan score corpus/ --out report/\n\n"
        "    tipscan score laws/ plans/ --country BRB --meta corpus/MANIFEST.csv --out brb/"
    )
)
def score(
    paths: Annotated[list[str], typer.Argument(help="Files or folders of one corpus.")],
    out: Annotated[str, typer.Option("--out", help="Folder for the reports.")],
    country: Annotated[str | None, typer.Option("--country", help="ISO 3166 alpha-3 code.")] = None,
    meta: Annotated[
        str | None,
        typer.Option(
            "--meta", help="CSV in the corpus manifest's format: path, title, doc_type, ..."
        ),
    ] = None,
    model: ModelOption = None,
    engine: Annotated[Engine, typer.Option("--engine", help="PDF engine.")] = Engine(
        DEFAULT_ENGINE
    ),
    workers: Annotated[
        int | None,
        typer.Option("--workers", min=1, help="Parallel extractions (default: all cores)."),
    ] = None,
    cache: Annotated[
        str | None, typer.Option("--cache", help="Cache folder (default: ~/.cache/tipscan).")
    ] = None,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Do not read or write the cache.")
    ] = False,
    timeout: Annotated[
        float, typer.Option("--timeout", help="Seconds allowed per document.")
    ] = DEFAULT_LIMITS.timeout_s,
    models: ModelsOption = None,
) -> None:
    from dataclasses import replace
    from pathlib import Path

    from .classify import find_model, models_dir
    from .errors import TipscanError
    from .pipeline import ExtractOptions, RunStats, default_cache_dir, read_meta, score_corpus
    from .progress import progress_reporter
    from .report import write_reports

    try:
        ref = find_model(model, models_dir(models))
        meta_map = read_meta(meta) if meta else None
    except TipscanError as exc:
        _fail(exc)
    stats = RunStats()
    with progress_reporter() as report:
        coverage = score_corpus(
            paths,
            ref,
            country=country.upper() if country else None,
            meta=meta_map,
            options=ExtractOptions(
                engine=engine.value, limits=replace(DEFAULT_LIMITS, timeout_s=timeout)
            ),
            workers=workers,
            cache=None if no_cache else Path(cache) if cache else default_cache_dir(),
            progress=report,
            stats=stats,
        )
    written = write_reports(coverage, Path(out))
    for failure in coverage.failures:
        _err(f"{failure.path}: {failure.message}")
    c = coverage.corpus
    covered = sum(1 for v in c.labels.values() if v.covered)
    typer.echo(
        f"{len(coverage.documents)} documents scored ({stats.cache_hits} from the cache), "
        f"{len(coverage.failures)} failed; {covered} of 18 labels covered; "
        + "; ".join(
            f"{k}: {'n/a' if v.passed is None else 'pass' if v.passed else 'FAIL'}"
            for k, v in c.checks.items()
        )
    )
    typer.echo("written: " + ", ".join(str(p) for p in written))
    if coverage.failures and not coverage.documents:
        raise typer.Exit(1)


@app.command(
    help=(
        "Several countries side by side: principles x countries from coverage.json files, "
        "as compare.html and compare.csv.\n\n"
        "Example:\n\n    tipscan compare brb/coverage.json lka/coverage.json --out compare/"
    )
)
def compare(
    reports: Annotated[list[str], typer.Argument(help="coverage.json files written by score.")],
    out: Annotated[str, typer.Option("--out", help="Folder for compare.html and compare.csv.")],
) -> None:
    from pathlib import Path

    from pydantic import ValidationError

    from .report import load_coverage, render_compare_csv, render_compare_html

    loaded = []
    for r in reports:
        try:
            loaded.append(load_coverage(r))
        except (OSError, ValueError, ValidationError) as exc:
            _err(f"{r}: not a tipscan coverage.json ({type(exc).__name__})")
            raise typer.Exit(1) from None
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "compare.html").write_text(render_compare_html(loaded), encoding="utf-8")
    (folder / "compare.csv").write_text(render_compare_csv(loaded), encoding="utf-8")
    typer.echo(f"written: {folder / 'compare.html'}, {folder / 'compare.csv'}")


def _register_service_commands() -> None:
    """``serve`` and ``keys`` live beside the API (service/cli_api.py)."""
    from . import cli_api

    cli_api.register(app)


_register_service_commands()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
