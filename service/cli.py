"""The tipscan command line: a thin shell over the pipeline functions.

Exit codes, the same for every command: 0 when every input was processed, 1 when some
inputs failed (the others are still processed and reported), 2 for a usage error (an
unknown option, a path that does not exist, nothing usable to work on, a bad --meta,
--country or --models), reported in one line, never with a traceback.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from . import __version__
from .cli_docs import PlainUsage, examples
from .errors import InvalidInput, ModelError, SettingsError, SourceNotFound, SplitExists
from .extract import DEFAULT_ENGINE, DEFAULT_LIMITS, DEFAULT_MAX_MEMORY, Limits

if TYPE_CHECKING:
    from .store import Store

OK, FAILED, USAGE = 0, 1, 2
# Errors that are the caller's to fix before anything can run: a usage error (exit 2).
USAGE_ERRORS = (InvalidInput, ModelError, SettingsError, SourceNotFound, SplitExists)

EXIT_CODES = (
    "Exit codes:\n\n\b\n"
    "  0  every input was processed\n"
    "  1  some inputs failed; the others were processed and reported\n"
    "  2  usage error: an unknown option, a path that does not exist, nothing\n"
    "     usable to work on, a bad --meta, --country or --models"
)

app = typer.Typer(
    name="tipscan",
    help=(
        "Check laws, plans and codes against the OECD Guiding Principles on Combatting "
        "Corruption related to Trafficking in Persons.\n\n"
        + examples(
            "tipscan score corpus/brb --country BRB --meta corpus/MANIFEST.csv \\",
            "    --out report/",
            title="Example",
        )
    ),
    epilog=EXIT_CODES,
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


class Executor(StrEnum):
    local = "local"
    dask = "dask"


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


def _usage(message: str) -> NoReturn:
    _err(message)
    raise typer.Exit(USAGE)


def _models_dir(models: str | None) -> Path:
    """The models folder; a usage error when the one named does not exist."""
    from .classify import models_dir

    if models is not None and not Path(models).is_dir():
        _usage(f"--models {models}: no such folder")
    return models_dir(models)


def _fail(exc: Exception) -> NoReturn:
    """Report an error in one line; exit 2 when it is the caller's to fix, else 1."""
    _err(getattr(exc, "message", str(exc)))
    raise typer.Exit(USAGE if isinstance(exc, USAGE_ERRORS) else FAILED) from None


def _input_files(paths: list[str]) -> list[Path]:
    """The files named and under the folders named; a usage error when a path does not
    exist or nothing is there (checked before anything is loaded)."""
    missing = [p for p in paths if not Path(p).exists()]
    if missing:
        _usage(
            f"no such file or folder: {', '.join(missing)}"
            + ("; nothing was read" if len(missing) < len(paths) else "")
        )
    from .batch import expand_paths

    files = expand_paths(paths)
    if not files:
        _usage(f"nothing to read: {', '.join(paths)} holds no documents")
    return files


def _usable(files: list[Path], what: str) -> list[Path]:
    """The files whose bytes are a supported format and match their names; when none
    is, each is reported and it is a usage error (no empty report is written)."""
    from .batch import sniff_file
    from .errors import TipscanError

    usable, unusable = [], []
    for f in files:
        try:
            sniff_file(f)
            usable.append(f)
        except TipscanError as exc:
            unusable.append(f"{f}: {exc.message}")
    if not usable:
        for line in unusable:
            _err(line)
        _usage(f"nothing to {what}: none of the {len(files)} file(s) is a usable document")
    return usable


@app.command(
    cls=PlainUsage,
    help=(
        "Extract citable passages (articles, sections, paragraphs) from documents.\n\n"
        "PATH may be PDF, DOCX, HTML, XML, JSON, Markdown or text files, or folders of them; "
        "the format is read from the bytes, and a file whose bytes are not what its name "
        "says (a .pdf that is an HTML page) fails. A file that fails is reported on stderr "
        "and the others still go through; the exit code is 1 if any file failed, 2 if a "
        "path does not exist or no file is usable.\n\n"
        + examples(
            "tipscan extract corpus/brb/ | head -n 3",
            "tipscan extract corpus/nld --format text --engine pdfplumber",
        )
    ),
)
def extract(
    files: Annotated[
        list[str], typer.Argument(metavar="PATH...", help="Files or folders to read.")
    ],
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

    # A usage error when no file is usable; a file turned away here fails again below,
    # in its place, with the same reason.
    _usable(_input_files(files), "extract")
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
        raise typer.Exit(FAILED)


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
    str,
    typer.Option("--store", metavar="PATH", help="Annotation file or folder of *.jsonl files."),
]


def _load_store(store: str) -> list:
    from .annotations import load_annotations
    from .errors import TipscanError

    if not Path(store).exists():
        _usage(f"--store {store}: no such annotation file or folder")
    try:
        return load_annotations(store)
    except TipscanError as exc:
        _fail(exc)


@annotations_app.command(
    "validate",
    cls=PlainUsage,
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
    cls=PlainUsage,
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
    cls=PlainUsage,
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

    from .annotations import compute_agreement, final_labels, render_agreement

    located = _load_store(store)
    agr = compute_agreement(located, second=second)
    if agr.passages == 0:
        _err("no passage has two annotators; nothing to compare")
        raise typer.Exit(FAILED)
    resolution: Counter[str] = Counter(f.how for f in final_labels(located).values())
    text = render_agreement(agr, dict(resolution))
    if out == "-":
        typer.echo(text, nl=False)
    else:
        try:
            Path(out).write_text(text, encoding="utf-8")
        except OSError as exc:
            _usage(f"--out {out}: cannot write ({exc.strerror or exc})")
        typer.echo(
            f"{agr.passages} passages: macro kappa {agr.macro_kappa:.2f}, "
            f"micro-F1 {agr.micro_f1:.2f}; written to {out}"
        )


@annotations_app.command(
    "split",
    cls=PlainUsage,
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
        _fail(exc)
    for part, info in data["summary"].items():
        missing = [k for k, v in info["positives"].items() if v == 0]
        typer.echo(
            f"{part:5} {info['documents']:3} documents {info['passages']:5} passages; "
            f"labels without positives: {', '.join(missing) or 'none'}"
        )


def _annotation_store(db: str | None, data_dir: str | None) -> Store:
    from .cli_api import _store

    return _store(db, data_dir)


DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        metavar="URL",
        help="Store URL (SQLAlchemy), e.g. sqlite:///tipscan.db [env TIPSCAN_DB; default a "
        "SQLite file in the data dir]",
    ),
]
DataDirOption = Annotated[
    str | None,
    typer.Option(
        "--data-dir", metavar="DIR", help="The service's data folder [env TIPSCAN_DATA_DIR]."
    ),
]


@annotations_app.command(
    "load",
    cls=PlainUsage,
    help=(
        "Import the JSONL store into the service's database for annotation: every passage "
        "with its decisions and adjudications, annotators and times as recorded. Loading "
        "again adds nothing that is already there.\n\n"
        "Example:\n\n    tipscan annotations load --store annotations --db sqlite:///tipscan.db"
    ),
)
def annotations_load(
    store: StoreOption = "annotations",
    db: DbOption = None,
    data_dir: DataDirOption = None,
    meta: Annotated[
        list[str] | None,
        typer.Option(
            "--meta",
            metavar="CSV",
            help="Corpus manifest giving each document's country and path (repeatable; "
            "default corpus/MANIFEST.csv where it exists).",
        ),
    ] = None,
) -> None:
    from .annotate.loading import load_jsonl
    from .errors import TipscanError

    if not Path(store).exists():
        _usage(f"--store {store}: no such annotation file or folder")
    manifests = [Path(m) for m in meta] if meta else [Path("corpus/MANIFEST.csv")]
    missing = [str(m) for m in manifests if not m.is_file()]
    if meta and missing:
        _usage(f"--meta {', '.join(missing)}: no such file")
    target = _annotation_store(db, data_dir)
    try:
        got = load_jsonl(target, store, [m for m in manifests if m.is_file()])
    except TipscanError as exc:
        _fail(exc)
    finally:
        target.close()
    typer.echo(
        f"{got.passages} passages ({got.passages_added} new), {got.decisions} decisions "
        f"({got.decisions_added} new), {got.adjudications} adjudications "
        f"({got.adjudications_added} new)"
    )


class InterchangeFormat(StrEnum):
    label_studio = "label-studio"
    prodigy = "prodigy"
    doccano = "doccano"
    tipscan = "tipscan"


FormatOption = Annotated[
    InterchangeFormat,
    typer.Option(
        "--format", help="label-studio (JSON tasks), prodigy, doccano or tipscan (JSONL)."
    ),
]


@annotations_app.command(
    "export",
    cls=PlainUsage,
    help=(
        "Write every decision and adjudication of the service's database as Label Studio "
        "tasks, Prodigy or doccano JSONL, or lines of the annotation store (tipscan).\n\n"
        "Example:\n\n    tipscan annotations export --format label-studio --out tasks.json"
    ),
)
def annotations_export(
    fmt: FormatOption,
    out: Annotated[str, typer.Option("--out", help="File to write ('-': stdout).")] = "-",
    db: DbOption = None,
    data_dir: DataDirOption = None,
    models: ModelsOption = None,
) -> None:
    from .annotate.interchange import export
    from .classify import default_model_name

    target = _annotation_store(db, data_dir)
    try:
        text = export(target, fmt.value, default_model_name(_models_dir(models)))
    finally:
        target.close()
    if out == "-":
        typer.echo(text, nl=False)
        return
    try:
        Path(out).write_text(text, encoding="utf-8")
    except OSError as exc:
        _usage(f"--out {out}: cannot write ({exc.strerror or exc})")
    typer.echo(f"written: {out}", err=True)


@annotations_app.command(
    "import",
    cls=PlainUsage,
    help=(
        "Import decisions from a Label Studio, Prodigy, doccano or tipscan file into the "
        "service's database: all of them, or nothing when a line is malformed (the line is "
        "named).\n\nExample:\n\n    tipscan annotations import tasks.json --format label-studio"
    ),
)
def annotations_import(
    path: Annotated[str, typer.Argument(metavar="FILE", help="The file to import.")],
    fmt: FormatOption,
    db: DbOption = None,
    data_dir: DataDirOption = None,
) -> None:
    from .annotate.interchange import import_file
    from .errors import TipscanError

    if not Path(path).is_file():
        _usage(f"{path}: no such file")
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        _usage(f"{path}: not UTF-8 text")
    target = _annotation_store(db, data_dir)
    try:
        got = import_file(target, text, fmt.value)
    except TipscanError as exc:
        _fail(type(exc)(f"{path}: {exc.message}"))
    finally:
        target.close()
    typer.echo(
        f"{got.decisions} decisions ({got.decisions_added} new), {got.adjudications} "
        f"adjudications ({got.adjudications_added} new) on {got.passages} passages "
        f"({got.passages_added} new)"
    )


# --- classification -----------------------------------------------------------


ModelOption = Annotated[
    str | None,
    typer.Option(
        "--model", metavar="NAME", help="Model name (default: the models folder's DEFAULT)."
    ),
]
ModelsOption = Annotated[
    str | None,
    typer.Option(
        "--models",
        metavar="DIR",
        help="Folder of models [env TIPSCAN_MODELS; default: the models installed with tipscan].",
    ),
]


@app.command(
    cls=PlainUsage,
    help=(
        'Classify passages against the 18 labels. Reads JSON Lines {"id", "text"} with '
        'optional context "title", "doc_type", "heading" (FILE or - for stdin); writes '
        '{"id", "labels", "scores", "mentions_trafficking", "mentions_corruption"} '
        "lines. A malformed line is reported on stderr with its number; the other lines are "
        "still classified and the exit code is 1.\n\n"
        + examples(
            "tipscan extract corpus/brb/ | tipscan classify -",
            "tipscan classify passages.jsonl --explain --model tfidf-context-2.0.0",
        )
    ),
)
def classify(
    file: Annotated[str, typer.Argument(metavar="FILE", help="JSONL file, or - for stdin.")],
    model: ModelOption = None,
    explain: Annotated[
        bool, typer.Option("--explain", help="Add the lexicon terms that support each label.")
    ] = False,
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, help="Passages classified at a time.")
    ] = 256,
    models: ModelsOption = None,
) -> None:
    from .classify import load_model
    from .classify_io import read_passage_lines
    from .errors import TipscanError

    if file != "-" and not Path(file).is_file():
        _usage(f"{file}: no such file (give a JSONL file, or - for stdin)")
    try:
        loaded = load_model(model, _models_dir(models))
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
        raise typer.Exit(FAILED)


@app.command(
    cls=PlainUsage,
    help=(
        "Train a model from annotations/ with a config; writes models/<name>-<version>/ "
        "(never over an existing model) with meta.json and MODEL_CARD.md. The current "
        "default model is scored on the same held-out documents and the comparison is "
        "recorded in the new model's card and meta. With --promote the new model becomes "
        "the default if its held-out macro-F1 is higher; otherwise it says why not.\n\n"
        + examples(
            "tipscan train training/sklearn.toml",
            "tipscan train training/sklearn.toml --version 2.1.0 --no-cv --promote",
        )
    ),
)
def train(
    config: Annotated[str, typer.Argument(metavar="CONFIG", help="Training config (TOML).")],
    version: Annotated[
        str | None, typer.Option("--version", help="Override the config's version.")
    ] = None,
    no_cv: Annotated[bool, typer.Option("--no-cv", help="Skip grouped cross-validation.")] = False,
    promote: Annotated[
        bool,
        typer.Option("--promote", help="Make it the default if better on held-out macro-F1."),
    ] = False,
    models: ModelsOption = None,
) -> None:
    from .classify import read_meta
    from .errors import TipscanError
    from .train import train_model

    root = _models_dir(models)
    try:
        folder = train_model(
            config,
            root,
            version=version,
            cv=not no_cv,
            progress=lambda msg: typer.echo(msg, err=True),
        )
    except TipscanError as exc:
        _fail(exc)
    typer.echo(str(folder))
    if not promote:
        return
    from .promote import promote as promote_model

    try:
        meta = read_meta(folder)
        decision = promote_model(
            folder.name,
            root,
            annotations=meta.config["data"]["annotations"],
            cmp=meta.versus_default,
            by=_who(),
            refuse=False,
        )
    except TipscanError as exc:
        _fail(exc)
    if decision.promoted:
        typer.echo(f"default model: {folder.name} ({decision.reason})")
    else:
        typer.echo(f"not promoted: {decision.reason}")


def _who() -> str:
    """Who runs the command, for the record of a default's choice."""
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


@app.command(
    cls=PlainUsage,
    help=(
        "Per-label precision, recall, F1 and support, micro/macro F1, and the same by language "
        "and by document type, the flags' accuracy and document coverage (cell accuracy, "
        "covered-cell F1), of a model on a part of its frozen document split.\n\n"
        "Example:\n\n    tipscan evaluate --model tfidf-context-1.0.1 --split test"
    ),
)
def evaluate(
    model: ModelOption = None,
    split: Annotated[str, typer.Option("--split", help="train, dev or test.")] = "test",
    store: StoreOption = "annotations",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    models: ModelsOption = None,
) -> None:
    from .classify import load_model
    from .errors import TipscanError
    from .evaluate import format_groups, format_table
    from .train import evaluate_model

    if not Path(store).exists():
        _usage(f"--store {store}: no such annotation file or folder")
    try:
        loaded = load_model(model, _models_dir(models))
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
    cls=PlainUsage,
    help="The models under models/, with test and dev scores.\n\nExample:\n\n    tipscan models list",
)
def models_list(models: ModelsOption = None) -> None:
    from .classify import default_history, default_model_name, list_models
    from .errors import TipscanError

    root = _models_dir(models)
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
    cls=PlainUsage,
    help=(
        "Make NAME the default model. NAME and the current default are scored on the same "
        "held-out documents (the test part of NAME's split); NAME becomes the default only "
        "when its macro-F1 there is higher, unless --override is given with --reason. Each "
        "choice is recorded beside the models (DEFAULT, default-history.jsonl) with who, "
        "when and why; model folders are never changed.\n\n"
        + examples(
            "tipscan models default tfidf-context-2.1.0",
            "tipscan models default tfidf-context-1.0.1 --override \\",
            '    --reason "the 2.x models mislabel the 2025 amendments"',
        )
    ),
)
def models_default(
    name: Annotated[str, typer.Argument(help="Model folder name.")],
    override: Annotated[
        bool,
        typer.Option("--override", help="Make it the default even if not better (needs --reason)."),
    ] = False,
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why, recorded in default-history.jsonl.")
    ] = None,
    by: Annotated[
        str | None, typer.Option("--by", help="Who decides (default: the current user).")
    ] = None,
    store: StoreOption = "annotations",
    models: ModelsOption = None,
) -> None:
    from .errors import TipscanError
    from .promote import promote

    root = _models_dir(models)
    if reason is not None and not override:
        _usage("--reason goes with --override; a better model needs no reason")
    try:
        decision = promote(
            name, root, annotations=store, override=override, reason=reason, by=by or _who()
        )
    except TipscanError as exc:
        _fail(exc)
    typer.echo(f"default model: {name} ({decision.reason})")


# --- scoring a corpus -----------------------------------------------------------


@app.command(
    cls=PlainUsage,
    help=(
        "Score a corpus: extract, classify and cover every document under PATH, and write "
        "coverage.json, coverage.csv, report.md and report.html to --out. Documents run in "
        "parallel; extraction is cached by document hash; a document that fails is listed "
        "in the report with its reason, the others are still scored, and the exit code is "
        "1. With --meta, each document gets its title, type and country from the manifest; "
        "--country then keeps that country's documents only. Documents from several "
        "countries are also reported country by country, side by side (compare.csv). "
        "Each document's outcome is recorded in --out's shards/ folder as it finishes; a run "
        "that was stopped resumes there, scoring only what is left. --executor dask scores "
        "on a Dask cluster (a local one of --workers processes, or --scheduler's); on a "
        "cluster, the documents must be on a filesystem every worker sees at the same path."
        "\n\n"
        + examples(
            "tipscan score corpus/brb --country BRB --meta corpus/MANIFEST.csv \\",
            "    --out brb/",
            "tipscan score corpus/ --meta corpus/MANIFEST.csv --out report/",
            "tipscan score laws/ plans/ --country NLD --out nld/",
            "tipscan score /shared/corpus --out report/ --executor dask \\",
            "    --scheduler tcp://scheduler:8786",
        )
    ),
)
def score(
    paths: Annotated[
        list[str], typer.Argument(metavar="PATH...", help="Files or folders of documents.")
    ],
    out: Annotated[str, typer.Option("--out", metavar="DIR", help="Folder for the reports.")],
    country: Annotated[
        str | None,
        typer.Option(
            "--country",
            metavar="ISO3",
            help="ISO 3166-1 alpha-3 code (BRB, NLD, ...). With --meta, only that country's "
            "documents are scored.",
        ),
    ] = None,
    meta: Annotated[
        str | None,
        typer.Option(
            "--meta",
            metavar="CSV",
            help="CSV in the corpus manifest's format (path, title, country, doc_type, ...).",
        ),
    ] = None,
    model: ModelOption = None,
    engine: Annotated[Engine, typer.Option("--engine", help="PDF engine.")] = Engine(
        DEFAULT_ENGINE
    ),
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            metavar="N",
            help="Worker processes, local or in the local Dask cluster (default: all cores).",
        ),
    ] = None,
    executor: Annotated[
        Executor,
        typer.Option(
            "--executor",
            help="Where documents are scored: the local process pool, or a Dask cluster "
            "(needs tipscan[dask]).",
        ),
    ] = Executor.local,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            metavar="ADDRESS",
            help="With --executor dask: the scheduler of a running cluster "
            "(tcp://HOST:8786); without it, a local cluster is started.",
        ),
    ] = None,
    cache: Annotated[
        str | None,
        typer.Option("--cache", metavar="DIR", help="Cache folder (default: ~/.cache/tipscan)."),
    ] = None,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Do not read or write the cache.")
    ] = False,
    timeout: Annotated[
        float,
        typer.Option("--timeout", metavar="SECONDS", help="Seconds allowed per document."),
    ] = DEFAULT_LIMITS.timeout_s,
    models: ModelsOption = None,
) -> None:
    from dataclasses import replace

    from .classify import find_model
    from .countries import normalise_country
    from .errors import TipscanError
    from .pipeline import ExtractOptions, RunStats, default_cache_dir, read_meta, score_corpus
    from .progress import progress_reporter
    from .report import write_reports
    from .report.countries import countries_phrase
    from .shards import ShardStore

    # Everything the caller typed is checked before any document or model is read.
    try:
        code = normalise_country(country) if country is not None else None
        meta_map = read_meta(meta) if meta else None
    except TipscanError as exc:
        _fail(exc)
    if Path(out).exists() and not Path(out).is_dir():
        _usage(f"--out {out}: is a file; give a folder for the reports")
    _check_executor(executor, scheduler)
    files = _input_files(paths)
    if code and meta_map:
        files = _select_country(files, paths, meta_map, code)
    _usable(files, "score")
    try:
        ref = find_model(model, _models_dir(models))
    except TipscanError as exc:
        _fail(exc)
    shards = ShardStore(Path(out))
    try:
        shards.folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        _usage(f"--out {out}: cannot write ({exc.strerror or exc})")
    stats = RunStats()
    try:
        with progress_reporter() as report:
            coverage = score_corpus(
                files,
                ref,
                country=code,
                meta=meta_map,
                options=ExtractOptions(
                    engine=engine.value, limits=replace(DEFAULT_LIMITS, timeout_s=timeout)
                ),
                workers=workers,
                cache=None if no_cache else Path(cache) if cache else default_cache_dir(),
                progress=report,
                stats=stats,
                executor="dask" if executor is Executor.dask else "local",
                scheduler=scheduler,
                shards=shards,
            )
    except TipscanError as exc:  # the cluster went away, or a model unusable on it
        _fail(exc)
    for failure in coverage.failures:
        _err(f"{failure.path}: {failure.message}")
    if not coverage.documents:
        _usage(
            f"no document could be scored (all {len(coverage.failures)} failed); no report written"
        )
    try:
        written = write_reports(coverage, Path(out))
    except OSError as exc:
        _usage(f"--out {out}: cannot write the reports ({exc.strerror or exc})")
    c = coverage.corpus
    covered = sum(1 for v in c.labels.values() if v.covered)
    resumed = f", {stats.shard_hits} of them from this --out's shards" if stats.shard_hits else ""
    where = (
        f" from {countries_phrase(coverage)}"
        if len(coverage.countries) > 1
        else f" for {coverage.country}"
        if coverage.country
        else ""
    )
    typer.echo(
        f"{len(coverage.documents)} documents scored{where} ({stats.cache_hits} from the "
        f"cache{resumed}), {len(coverage.failures)} failed; {covered} of 18 labels covered; "
        + "; ".join(
            f"{k}: {'n/a' if v.passed is None else 'pass' if v.passed else 'FAIL'}"
            for k, v in c.checks.items()
        )
    )
    typer.echo("written: " + ", ".join(str(p) for p in written))
    if coverage.failures:
        raise typer.Exit(FAILED)


def _check_executor(executor: Executor, scheduler: str | None) -> None:
    """Usage errors of --executor and --scheduler, found before any document is read."""
    if scheduler is not None and executor is not Executor.dask:
        _usage("--scheduler goes with --executor dask")
    if executor is not Executor.dask:
        return
    from .dask_executor import check_scheduler, dask_missing

    missing = dask_missing()
    if missing:
        _usage(missing)
    if scheduler is not None:
        from .errors import TipscanError

        try:
            check_scheduler(scheduler)
        except TipscanError as exc:
            _fail(exc)


def _select_country(files: list[Path], paths: list[str], meta: dict, code: str) -> list[Path]:
    """The files of country ``code`` by the manifest; the others are named and skipped
    (with a warning for each one the caller named as a file)."""
    from .pipeline import select_country

    chosen = select_country(files, meta, code)
    named = {Path(p) for p in paths if Path(p).is_file()}
    from_folders = [(f, c) for f, c in chosen.elsewhere if f not in named]
    for f, theirs in chosen.elsewhere:
        if f in named:
            _err(f"warning: {f} is a {theirs} document by --meta, not {code}; skipped")
    if from_folders:
        by_country: dict[str, list[str]] = {}
        for f, theirs in from_folders:
            by_country.setdefault(theirs, []).append(f.name)
        listing = "; ".join(f"{c}: {', '.join(names)}" for c, names in sorted(by_country.items()))
        _err(
            f"--country {code}: {len(chosen.files)} of {len(files)} documents kept; "
            f"{len(from_folders)} skipped, from other countries by --meta ({listing})"
        )
    if not chosen.files:
        _usage(f"nothing to score: --meta gives no document under {', '.join(paths)} to {code}")
    return chosen.files


@app.command(
    cls=PlainUsage,
    help=(
        "Several countries side by side: principles x countries from coverage.json files, "
        "as compare.html and compare.csv.\n\n"
        "Example:\n\n    tipscan compare brb/coverage.json lka/coverage.json --out compare/"
    ),
)
def compare(
    reports: Annotated[
        list[str],
        typer.Argument(metavar="REPORT...", help="coverage.json files written by score."),
    ],
    out: Annotated[
        str, typer.Option("--out", metavar="DIR", help="Folder for compare.html and compare.csv.")
    ],
) -> None:
    from pydantic import ValidationError

    from .report import load_coverage, render_compare_csv, render_compare_html

    loaded = []
    for r in reports:
        if not Path(r).is_file():
            _usage(f"{r}: no such file; compare takes the coverage.json files score writes")
        try:
            loaded.append(load_coverage(r))
        except (OSError, ValueError, ValidationError) as exc:
            _usage(f"{r}: not a tipscan coverage.json ({type(exc).__name__})")
    folder = Path(out)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "compare.html").write_text(render_compare_html(loaded), encoding="utf-8")
        (folder / "compare.csv").write_text(render_compare_csv(loaded), encoding="utf-8")
    except OSError as exc:
        _usage(f"--out {out}: cannot write ({exc.strerror or exc})")
    typer.echo(f"written: {folder / 'compare.html'}, {folder / 'compare.csv'}")


def _register_service_commands() -> None:
    """``serve`` and ``keys`` live beside the API (service/cli_api.py)."""
    from . import cli_api

    cli_api.register(app)


_register_service_commands()


def main() -> None:
    try:
        app()
    except OSError as exc:  # a file or folder the caller named that cannot be written or read
        _err(f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": "))
        sys.exit(USAGE)


if __name__ == "__main__":
    main()
