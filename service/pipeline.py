"""One document, then a corpus: file -> Document -> passages -> predictions -> coverage.

:func:`score_document` is the one path a document takes, for the CLI's batch,
the API's jobs and everything else: extract and segment it (in a bounded
child, through the extraction cache), resolve its title and type, classify
its passages and compute its coverage. :func:`score_corpus` runs it over many
files in a warm pool (:mod:`.workpool`) or on a Dask cluster
(:mod:`.dask_executor`) and keeps each document's coverage in a result cache
keyed by the document's hash, the model and what the caller said of the
document, so a second run over an unchanged corpus reads results instead of
computing them (and loads no model); a run with an output folder also records
each outcome there as it arrives (:mod:`.shards`), so a stopped run resumes.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError

from . import __version__
from .atomic import write_atomic
from .batch import Extraction, expand_paths, extract_isolated, process_file, sniff_file
from .classify import Model, ModelRef
from .countries import manifest_country
from .cover import cover_corpus, cover_document
from .doctype import DOC_TYPES, infer_doc_type
from .errors import InvalidInput, SourceNotFound, TipscanError
from .evidence import QuoteFinder
from .extract import DEFAULT_ENGINE, DEFAULT_LIMITS, DEFAULT_MAX_MEMORY, EngineName, Limits
from .model import (
    Coverage,
    Document,
    DocumentCoverage,
    Failure,
    Passage,
    PassageInput,
    Prediction,
)
from .shards import ShardStore
from .workpool import Task, run_tasks

Progress = Callable[[str, int, int], None]  # (what, done, total)
# Passages classified at a time (and between two progress reports of a document).
CHUNK = 256
# Bumped when what the cache keeps for the same inputs changes: the extraction
# (text, passages, citations, titles) and the scored result (coverage, evidence).
EXTRACT_FORMAT = 2
RESULT_FORMAT = 6


def default_cache_dir() -> Path:
    """``TIPSCAN_CACHE``, else ``$XDG_CACHE_HOME/tipscan``, else ``~/.cache/tipscan``."""
    if os.environ.get("TIPSCAN_CACHE"):
        return Path(os.environ["TIPSCAN_CACHE"])
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]) / "tipscan"
    return Path.home() / ".cache" / "tipscan"


class DocumentHints(BaseModel):
    """What the caller knows of a document (a metadata CSV, an upload's fields)."""

    title: str | None = None
    doc_type: str | None = None
    country: str | None = None
    origin: Literal["meta", "given"] = Field(
        default="meta", description="how reports name a type the caller gave"
    )


class ScoredDocument(BaseModel):
    """Everything one document's run produced."""

    document: Document
    passages: list[Passage]
    predictions: list[Prediction]
    coverage: DocumentCoverage
    cached: bool = False


@dataclass(frozen=True)
class ExtractOptions:
    engine: EngineName = DEFAULT_ENGINE
    limits: Limits = DEFAULT_LIMITS
    max_memory: int = DEFAULT_MAX_MEMORY
    isolate: bool = True


@dataclass
class RunStats:
    cache_hits: int = 0
    cache_misses: int = 0
    shard_hits: int = 0  # of the cache hits, those read from the run's shards
    extracted: list[str] = field(default_factory=list)


def read_meta(path: Path | str) -> dict[str, DocumentHints]:
    """Key (sha256, path or file name) -> hints, from a CSV with the manifest's columns.

    Raises :class:`InvalidInput` naming the file (and line) when it cannot be used: missing,
    not UTF-8 text, not a CSV, without the columns that say which document a row is."""
    out: dict[str, DocumentHints] = {}
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            fields = set(reader.fieldnames or ())
            if "doc_type" not in fields or not fields & {"path", "sha256"}:
                found = ", ".join(sorted(fields)) or "none"
                raise InvalidInput(
                    f"{path}: a metadata CSV needs a header with at least 'path' (or "
                    f"'sha256') and 'doc_type', the columns of the corpus manifest; "
                    f"columns found: {found}"
                )
            for number, row in enumerate(reader, 2):
                hints = _meta_hints(path, number, row)
                for key in (row.get("sha256"), row.get("path")):
                    if key and key.strip():
                        out[key.strip()] = hints
                if (row.get("path") or "").strip():
                    out.setdefault(Path(row["path"].strip()).name, hints)
    except FileNotFoundError:
        raise InvalidInput(f"{path}: no such metadata file") from None
    except IsADirectoryError:
        raise InvalidInput(f"{path}: is a folder, not a metadata CSV file") from None
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot read the metadata file ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise InvalidInput(f"{path}: not a UTF-8 text file; a metadata CSV is expected") from None
    except csv.Error as exc:
        raise InvalidInput(f"{path}: not a readable CSV file ({exc})") from None
    return out


def _meta_hints(path: Path | str, number: int, row: dict[str, str | None]) -> DocumentHints:
    doc_type = (row.get("doc_type") or "").strip() or None
    if doc_type and doc_type not in DOC_TYPES:
        raise InvalidInput(
            f"{path}:{number}: unknown doc_type {doc_type!r}; one of {', '.join(DOC_TYPES)}"
        )
    return DocumentHints(
        title=(row.get("title") or "").strip() or None,
        country=manifest_country(row.get("country")),
        doc_type=doc_type,
    )


def lookup_hints(meta: dict[str, DocumentHints], path: str, sha: str) -> DocumentHints:
    if sha in meta:
        return meta[sha]
    posix = Path(path).as_posix()
    for key, value in meta.items():
        if "/" in key and (posix == key or posix.endswith("/" + key)):
            return value
    return meta.get(Path(path).name) or DocumentHints()


@dataclass
class CountrySelection:
    """Which files of a run are the chosen country's, by the metadata."""

    files: list[Path]
    elsewhere: list[tuple[Path, str]] = field(default_factory=list)  # (file, its country)


def select_country(
    files: Sequence[Path], meta: dict[str, DocumentHints], country: str
) -> CountrySelection:
    """The files whose metadata gives ``country`` or no country at all (they are taken
    to be the country's); the others, with the country the metadata gives them."""
    chosen = CountrySelection(files=[])
    for f in files:
        try:
            sha = file_sha256(f)
        except TipscanError:
            chosen.files.append(f)  # its failure is reported where it is scored
            continue
        theirs = lookup_hints(meta, str(f), sha).country
        if theirs is None or theirs.upper() == country.upper():
            chosen.files.append(f)
        else:
            chosen.elsewhere.append((f, theirs))
    return chosen


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    try:
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    except OSError as exc:
        raise SourceNotFound(f"cannot read: {exc.strerror}") from None
    return h.hexdigest()


def extract_document(
    path: Path, options: ExtractOptions, cache: Path | None = None, sha: str | None = None
) -> tuple[Extraction, bool]:
    """The document and passages of one file, and whether the cache gave them.

    Raises the file's :class:`TipscanError`."""
    target = None
    if cache is not None:
        sha = sha or file_sha256(path)
        target = cache / "extract" / f"{sha}-{options.engine}-{__version__}-{EXTRACT_FORMAT}.json"
        if target.is_file():
            try:
                return Extraction.model_validate_json(target.read_bytes()), True
            except (OSError, ValidationError):
                pass  # a damaged cache entry is rebuilt
    if options.isolate:
        extraction = extract_isolated(path, options.engine, options.limits, options.max_memory)
    else:
        doc, passages = process_file(path, engine=options.engine, limits=options.limits)
        extraction = Extraction(document=doc, passages=passages)
    if target is not None:
        write_atomic(target, extraction.model_dump_json())
    return extraction, False


def passage_inputs(doc: Document, passages: Sequence[Passage], doc_type: str) -> list[PassageInput]:
    """The classifier's view of each passage: text, the document's title and type, headings."""
    return [
        PassageInput(
            id=p.id,
            text=p.text,
            title=doc.title,
            doc_type=doc_type,
            heading=[*p.heading, *([p.title] if p.title else [])],
        )
        for p in passages
    ]


def classify_document(
    extraction: Extraction,
    model: Model,
    *,
    hints: DocumentHints,
    name: str,
    progress: Callable[[int, int], None] | None = None,
) -> ScoredDocument:
    """Title and type resolved (hints win), passages classified, coverage computed.

    ``name`` is the document's path or upload name: reports cite it, and it is
    the title when the document gave none but its (possibly stored) file name.
    ``progress`` hears (pages classified, pages) as the passages go through."""
    doc, passages = extraction.document, extraction.passages
    source = Path(name).name
    title = hints.title or (source if doc.title == doc.source else doc.title)
    doc = doc.model_copy(update={"title": title, "source": source})
    type_source: Literal["meta", "given", "inferred"]
    if hints.doc_type:
        doc_type, type_source = hints.doc_type, hints.origin
    else:
        doc_type, type_source = infer_doc_type(doc.title, doc.text[:3000]), "inferred"
    inputs = passage_inputs(doc, passages, doc_type)
    predictions: list[Prediction] = []
    for start in range(0, len(inputs), CHUNK):
        predictions += model.predict(inputs[start : start + CHUNK])
        if progress is not None:
            done = passages[min(start + CHUNK, len(passages)) - 1].page_end
            progress(min(done, doc.page_count), doc.page_count)
    coverage = cover_document(
        doc,
        passages,
        predictions,
        model.meta,
        path=name,
        doc_type=doc_type,
        doc_type_source=type_source,
        country=hints.country,
        quotes=QuoteFinder(model.predict, {i.id: i for i in inputs}),
    )
    return ScoredDocument(
        document=doc, passages=passages, predictions=predictions, coverage=coverage
    )


def score_document(
    path: Path,
    model: Model,
    *,
    hints: DocumentHints | None = None,
    name: str | None = None,
    options: ExtractOptions = ExtractOptions(),
    cache: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ScoredDocument:
    """One document, file to coverage; ``name`` is how reports cite it (default: the path).

    Raises the file's :class:`TipscanError` when it cannot be read."""
    extraction, cached = extract_document(path, options, cache)
    scored = classify_document(
        extraction, model, hints=hints or DocumentHints(), name=name or str(path), progress=progress
    )
    scored.cached = cached
    return scored


def result_key(
    sha: str, options: ExtractOptions, model: str, hints: DocumentHints, name: str
) -> str:
    """The result cache's key: everything a document's coverage depends on."""
    parts = [sha, options.engine, __version__, EXTRACT_FORMAT, RESULT_FORMAT, model]
    parts += [hints.model_dump_json(), name]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


Executor = Literal["local", "dask"]


def score_corpus(
    paths: Iterable[str | Path],
    model: ModelRef,
    *,
    country: str | None = None,
    meta: dict[str, DocumentHints] | None = None,
    options: ExtractOptions = ExtractOptions(),
    workers: int | None = None,
    cache: Path | None = None,
    progress: Progress | None = None,
    stats: RunStats | None = None,
    executor: Executor = "local",
    scheduler: str | None = None,
    shards: ShardStore | None = None,
) -> Coverage:
    """Score every document under ``paths``; failures are listed, not raised.

    ``executor`` runs the documents left to score in the local warm pool or on a
    Dask cluster (``scheduler``'s, or a LocalCluster of ``workers`` processes);
    both give the same coverage. With ``shards`` (the run's record in its output
    folder, see :mod:`.shards`), each document is first looked up there, then in the
    result cache, and each outcome is recorded as it arrives, whichever the
    executor: recording costs one small file per document, and so a run that was
    stopped resumes where it was, with the local pool as with a cluster."""
    files = [str(f) for f in expand_paths(paths)]
    meta = meta or {}
    stats = stats if stats is not None else RunStats()
    say = progress or (lambda _what, _done, _total: None)
    results: dict[str, DocumentCoverage | Failure] = {}
    todo: list[Task] = []
    for f in files:
        try:
            sniff_file(f)  # a file that is not what its name says is never read as text
            sha = file_sha256(Path(f))
        except TipscanError as exc:
            results[f] = Failure(path=f, code=exc.code, message=exc.message)
            continue
        hints = lookup_hints(meta, f, sha)
        if country and not hints.country:
            hints = hints.model_copy(update={"country": country})
        key = result_key(sha, options, model.name, hints, f)
        if shards is not None and (recorded := shards.read(sha, key)) is not None:
            results[f] = recorded
            stats.cache_hits += 1
            stats.shard_hits += 1
        elif cache is not None and (hit := _read_result(cache, key)) is not None:
            results[f] = hit
            stats.cache_hits += 1
            if shards is not None:
                shards.write(sha, key, hit)
        else:
            todo.append(Task(path=f, sha=sha, hints=hints, result_key=key))
    if todo:
        # Largest files first: a long document started last would leave the other
        # workers idle at the end of the run (file size stands in for its work).
        todo.sort(key=lambda t: os.path.getsize(t.path), reverse=True)
        started = lambda: say("score", len(results), len(files))  # noqa: E731
        for task, outcome in _run(
            todo, model, options, cache, workers, started, executor, scheduler
        ):
            results[task.path] = outcome
            if shards is not None and task.result_key:
                shards.write(task.sha, task.result_key, outcome)
            if isinstance(outcome, DocumentCoverage):
                stats.cache_misses += 1
                stats.extracted.append(task.path)
            say("score", len(results), len(files))
    else:
        say("score", len(results), len(files))
    documents = [r for f in files if isinstance(r := results[f], DocumentCoverage)]
    failures = [r for f in files if isinstance(r := results[f], Failure)]
    return cover_corpus(documents, failures, model.name, model.meta, country=country)


def _run(
    tasks: list[Task],
    model: ModelRef,
    options: ExtractOptions,
    cache: Path | None,
    workers: int | None,
    started: Callable[[], None],
    executor: Executor,
    scheduler: str | None,
) -> Iterator[tuple[Task, DocumentCoverage | Failure]]:
    """The tasks' outcomes as they finish, from the executor chosen."""
    if executor == "dask":
        from .dask_executor import run_tasks_dask

        return run_tasks_dask(tasks, model, options, cache, workers, started, scheduler=scheduler)
    return run_tasks(tasks, model, options, cache, workers, started)


def _read_result(cache: Path, key: str) -> DocumentCoverage | None:
    target = result_path(cache, key)
    if not target.is_file():
        return None
    try:
        return DocumentCoverage.model_validate_json(target.read_bytes())
    except (OSError, ValidationError):
        return None


def result_path(cache: Path, key: str) -> Path:
    return cache / "results" / f"{key}.json"


def write_result(cache: Path, key: str, coverage: DocumentCoverage) -> None:
    write_atomic(result_path(cache, key), coverage.model_dump_json(by_alias=True))
