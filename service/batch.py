"""Many files, each in its own bounded worker, so that one bad file never sinks a batch.

Every file is extracted and segmented in a forked child process with a hard
wall-clock limit and an address-space limit: a hostile PDF that loops, blows
up memory or crashes the parser costs that file alone, with a clear reason.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import resource
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import DocumentTimeout, LimitExceeded, TipscanError
from .extract import DEFAULT_ENGINE, DEFAULT_LIMITS, EngineName, Limits, extract_path
from .model import Document, Passage
from .segment import segment_document

# Files in a folder that are metadata, not documents.
_SKIP_SUFFIXES = {".csv", ".tsv"}


@dataclass
class Outcome:
    """What became of one file: its document and passages, or the error."""

    path: str
    document: Document | None = None
    passages: list[Passage] | None = None
    error_code: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def expand_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Files named, and the files under folders named (sorted; hidden and metadata files skipped)."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(
                f
                for f in sorted(p.rglob("*"))
                if f.is_file()
                and not any(part.startswith(".") for part in f.relative_to(p).parts)
                and f.suffix.lower() not in _SKIP_SUFFIXES
            )
        else:
            out.append(p)
    return out


def process_file(
    path: str | Path, *, engine: EngineName = DEFAULT_ENGINE, limits: Limits = DEFAULT_LIMITS
) -> tuple[Document, list[Passage]]:
    """Extract and segment one file in this process."""
    doc = extract_path(path, engine=engine, limits=limits)
    return doc, segment_document(doc)


def _child(
    conn: Any, path: str, engine: EngineName, limits: Limits, max_memory: int, other: Any = None
) -> None:
    if other is not None:
        # The read end came with the fork; holding it would keep a child whose
        # parent died blocked for ever on a full pipe.
        other.close()
    if max_memory > 0:
        resource.setrlimit(resource.RLIMIT_AS, (max_memory, max_memory))
    try:
        doc, passages = process_file(path, engine=engine, limits=limits)
        payload = {
            "document": doc.model_dump(mode="json"),
            "passages": [p.model_dump(mode="json") for p in passages],
        }
        conn.send_bytes(json.dumps(payload).encode())
    except TipscanError as exc:
        conn.send_bytes(json.dumps({"error_code": exc.code, "error": exc.message}).encode())
    except MemoryError:
        conn.send_bytes(
            json.dumps(
                {
                    "error_code": LimitExceeded.code,
                    "error": f"extraction needed more than {max_memory // 2**20} MiB of memory",
                }
            ).encode()
        )
    except RecursionError:
        conn.send_bytes(
            json.dumps(
                {
                    "error_code": "corrupt-document",
                    "error": "the file's structure is nested too deeply to read",
                }
            ).encode()
        )
    except Exception as exc:
        conn.send_bytes(
            json.dumps(
                {
                    "error_code": "corrupt-document",
                    "error": f"the file could not be read ({type(exc).__name__}: {exc})",
                }
            ).encode()
        )
    finally:
        conn.close()


def process_isolated(path: Path, engine: EngineName, limits: Limits, max_memory: int) -> Outcome:
    """Extract and segment one file in a forked child with a deadline and a memory cap."""
    ctx = mp.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(send, str(path), engine, limits, max_memory, recv))
    proc.start()
    send.close()
    # The child checks the deadline itself; the margin covers start-up and
    # serialisation, and a child stuck inside native code is killed.
    grace = limits.timeout_s + 10.0
    data: bytes | None = None
    try:
        if recv.poll(grace):
            data = recv.recv_bytes()
    except EOFError:
        data = None
    finally:
        recv.close()
    proc.join(1.0)
    if proc.is_alive():
        proc.kill()
        proc.join()
        if data is None:
            return Outcome(
                str(path),
                error_code=DocumentTimeout.code,
                error=f"extraction took longer than {limits.timeout_s:g} s "
                "(raise it with --timeout if the document is genuine)",
            )
    if data is None:
        return Outcome(
            str(path),
            error_code="corrupt-document",
            error=f"the extractor stopped on this file (exit code {proc.exitcode}); "
            "the file is probably damaged or hostile",
        )
    payload = json.loads(data)
    if "error" in payload:
        return Outcome(str(path), error_code=payload["error_code"], error=payload["error"])
    return Outcome(
        str(path),
        document=Document.model_validate(payload["document"]),
        passages=[Passage.model_validate(p) for p in payload["passages"]],
    )


DEFAULT_MAX_MEMORY = 4 * 2**30


def process_files(
    paths: Iterable[str | Path],
    *,
    engine: EngineName = DEFAULT_ENGINE,
    limits: Limits = DEFAULT_LIMITS,
    isolate: bool = True,
    max_memory: int = DEFAULT_MAX_MEMORY,
) -> Iterator[Outcome]:
    """Extract and segment each file, yielding an Outcome per file in order."""
    for path in expand_paths(paths):
        if isolate and os.name == "posix":
            yield process_isolated(path, engine, limits, max_memory)
            continue
        try:
            doc, passages = process_file(path, engine=engine, limits=limits)
            yield Outcome(str(path), document=doc, passages=passages)
        except TipscanError as exc:
            yield Outcome(str(path), error_code=exc.code, error=exc.message)
