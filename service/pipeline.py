"""The main job: a folder of a country's documents -> coverage, with evidence.

``score_corpus`` = cover(classify(segment(extract(files)))). Extraction runs in
parallel worker processes, each file in its own bounded child (a bad file
costs that file alone), and is cached by document hash so that a second run
over an unchanged corpus only classifies. Classification runs in this
process, with the model loaded once.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import __version__
from .batch import DEFAULT_MAX_MEMORY, expand_paths, process_file, process_isolated
from .classify import Model
from .cover import cover_corpus, cover_document
from .doctype import DOC_TYPES, infer_doc_type
from .errors import TipscanError
from .extract import DEFAULT_ENGINE, DEFAULT_LIMITS, EngineName, Limits
from .model import Coverage, Document, DocumentCoverage, Failure, Passage, PassageInput

Progress = Callable[[str, int, int], None]  # (what, done, total)


def default_cache_dir() -> Path:
    """``TIPSCAN_CACHE``, else ``$XDG_CACHE_HOME/tipscan``, else ``~/.cache/tipscan``."""
    if os.environ.get("TIPSCAN_CACHE"):
        return Path(os.environ["TIPSCAN_CACHE"])
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]) / "tipscan"
    return Path.home() / ".cache" / "tipscan"


@dataclass
class DocMeta:
    """What a metadata CSV (the corpus manifest's format) says of one document."""

    title: str | None = None
    country: str | None = None
    doc_type: str | None = None


@dataclass
class RunStats:
    cache_hits: int = 0
    cache_misses: int = 0
    extracted: list[str] = field(default_factory=list)


def read_meta(path: Path | str) -> dict[str, DocMeta]:
    """Key (sha256, path or file name) -> metadata, from a CSV with the manifest's columns."""
    out: dict[str, DocMeta] = {}
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames or "doc_type" not in reader.fieldnames:
            raise TipscanError(
                f"{path}: a metadata CSV needs a header with at least 'path' and 'doc_type' "
                "(the columns of the corpus manifest)"
            )
        for number, row in enumerate(reader, 2):
            doc_type = (row.get("doc_type") or "").strip() or None
            if doc_type and doc_type not in DOC_TYPES:
                raise TipscanError(
                    f"{path}:{number}: unknown doc_type {doc_type!r}; one of {', '.join(DOC_TYPES)}"
                )
            meta = DocMeta(
                title=(row.get("title") or "").strip() or None,
                country=(row.get("country") or "").strip() or None,
                doc_type=doc_type,
            )
            for key in (row.get("sha256"), row.get("path")):
                if key and key.strip():
                    out[key.strip()] = meta
            if row.get("path"):
                out.setdefault(Path(row["path"]).name, meta)
    return out


def _lookup(meta: dict[str, DocMeta], path: str, sha: str) -> DocMeta | None:
    if sha in meta:
        return meta[sha]
    for key, value in meta.items():
        if "/" in key and path.endswith(key):
            return value
    return meta.get(Path(path).name)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _cache_file(cache: Path, sha: str, engine: str) -> Path:
    return cache / "extract" / f"{sha}-{engine}-{__version__}.json"


def extract_cached(
    path: str,
    engine: EngineName,
    limits: Limits,
    max_memory: int,
    cache: str | None,
    isolate: bool = True,
) -> dict[str, Any]:
    """Extract and segment one file (in a bounded child), through the cache when given.

    Returns a JSON-able dict: document and passages, or error and code; with
    ``cached`` telling whether the cache answered.
    """
    p = Path(path)
    try:
        sha = _sha256(p)
    except OSError as exc:
        return {
            "path": path,
            "error_code": "source-not-found",
            "error": f"cannot read: {exc.strerror}",
        }
    target = _cache_file(Path(cache), sha, engine) if cache else None
    if target is not None and target.is_file():
        try:
            data = json.loads(target.read_text(encoding="utf-8"))
            return {"path": path, "cached": True, **data}
        except (OSError, json.JSONDecodeError):
            pass  # a damaged cache entry is rebuilt
    if isolate and os.name == "posix":
        outcome = process_isolated(p, engine, limits, max_memory)
        if not outcome.ok:
            return {"path": path, "error_code": outcome.error_code, "error": outcome.error}
        assert outcome.document is not None and outcome.passages is not None
        doc, passages = outcome.document, outcome.passages
    else:
        try:
            doc, passages = process_file(p, engine=engine, limits=limits)
        except TipscanError as exc:
            return {"path": path, "error_code": exc.code, "error": exc.message}
    data = {
        "document": doc.model_dump(mode="json"),
        "passages": [x.model_dump(mode="json") for x in passages],
    }
    if target is not None:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data), encoding="utf-8")
        tmp.replace(target)
    return {"path": path, "cached": False, **data}


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


def score_corpus(
    paths: Iterable[str | Path],
    model: Model,
    *,
    country: str | None = None,
    meta: dict[str, DocMeta] | None = None,
    engine: EngineName = DEFAULT_ENGINE,
    limits: Limits = DEFAULT_LIMITS,
    max_memory: int = DEFAULT_MAX_MEMORY,
    workers: int | None = None,
    cache: Path | None = None,
    progress: Progress | None = None,
    stats: RunStats | None = None,
) -> Coverage:
    """Extract, classify and cover every document under ``paths``; failures are listed, not raised."""
    files = [str(f) for f in expand_paths(paths)]
    meta = meta or {}
    stats = stats if stats is not None else RunStats()
    say = progress or (lambda _what, _done, _total: None)
    results: dict[str, dict[str, Any]] = {}
    n_workers = max(1, min(workers or os.cpu_count() or 1, len(files) or 1))
    cache_arg = str(cache) if cache else None
    say("extract", 0, len(files))
    if n_workers == 1:
        for i, f in enumerate(files, 1):
            results[f] = extract_cached(f, engine, limits, max_memory, cache_arg)
            say("extract", i, len(files))
    else:
        import multiprocessing as mp

        with ProcessPoolExecutor(n_workers, mp_context=mp.get_context("spawn")) as pool:
            futures = {
                pool.submit(extract_cached, f, engine, limits, max_memory, cache_arg): f
                for f in files
            }
            for i, fut in enumerate(as_completed(futures), 1):
                f = futures[fut]
                try:
                    results[f] = fut.result()
                except Exception as exc:  # a worker that died: this file fails, the batch goes on
                    results[f] = {"path": f, "error_code": "internal-error", "error": str(exc)}
                say("extract", i, len(files))

    documents: list[DocumentCoverage] = []
    failures: list[Failure] = []
    say("classify", 0, len(files))
    for i, f in enumerate(files, 1):
        r = results[f]
        if "error" in r:
            failures.append(Failure(path=f, code=r["error_code"], message=r["error"]))
            continue
        if r.get("cached"):
            stats.cache_hits += 1
        else:
            stats.cache_misses += 1
            stats.extracted.append(f)
        doc = Document.model_validate(r["document"])
        passages = [Passage.model_validate(p) for p in r["passages"]]
        given = _lookup(meta, f, doc.id)
        if given and given.title:
            doc = doc.model_copy(update={"title": given.title})
        if given and given.doc_type:
            doc_type, source = given.doc_type, "meta"
        else:
            doc_type, source = infer_doc_type(doc.title, doc.text[:3000]), "inferred"
        preds = model.predict(passage_inputs(doc, passages, doc_type)) if passages else []
        documents.append(
            cover_document(
                doc,
                passages,
                preds,
                model.meta,
                path=f,
                doc_type=doc_type,
                doc_type_source=source,
                country=(given.country if given and given.country else country),
            )
        )
        say("classify", i, len(files))
    return cover_corpus(documents, failures, model.name, model.meta, country=country)
