"""Many files, each in its own bounded child, so that one bad file never sinks a batch.

Every file is extracted and segmented in a forked child process with a hard
wall-clock limit and an address-space limit: a hostile PDF that loops, blows
up memory or crashes the parser costs that file alone, with a clear reason.
The child is forked from a process that has imported the stack already, so
it starts in milliseconds; it sends its result back as JSON (never pickle:
the parent trusts nothing a child that parsed a hostile file could send).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import resource
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from .errors import (
    CorruptDocument,
    DocumentTimeout,
    EmptyDocument,
    LimitExceeded,
    SourceNotFound,
    TipscanError,
    UnknownCode,
    UnsupportedFormat,
    error_class,
)
from .extract import (
    DEFAULT_ENGINE,
    DEFAULT_LIMITS,
    DEFAULT_MAX_MEMORY,
    EngineName,
    Limits,
    extract_path,
    sniff_format,
)
from .extract.sniff import SUPPORTED
from .model import Document, Format, Passage
from .segment import segment_document

# Files in a folder that are metadata, not documents.
_SKIP_SUFFIXES = {".csv", ".tsv"}

_TEXTUAL: frozenset[Format] = frozenset({"text", "markdown", "html", "xml", "json"})
# What a file's extension promises. A name that says text may hold any textual format
# (a .txt of Markdown is fine); one that says PDF or DOCX must hold that, or the file
# would be read as something it is not. Other extensions promise nothing.
_PROMISED: dict[str, frozenset[Format]] = {
    ".pdf": frozenset({"pdf"}),
    ".docx": frozenset({"docx"}),
    ".html": frozenset({"html", "xml"}),
    ".htm": frozenset({"html", "xml"}),
    ".xhtml": frozenset({"html", "xml"}),
    ".xml": frozenset({"xml", "html"}),
    ".json": frozenset({"json"}),
    ".txt": _TEXTUAL,
    ".text": _TEXTUAL,
    ".md": _TEXTUAL,
    ".markdown": _TEXTUAL,
}
_FORMAT_NAME: dict[str, str] = {
    "pdf": "a PDF",
    "docx": "a DOCX document",
    "html": "HTML",
    "xml": "XML",
    "json": "JSON",
    "markdown": "Markdown text",
    "text": "plain text",
}
# Enough of a file to tell its format (a zip's listing is read from the file itself).
_SNIFF_BYTES = 256 * 1024


class Extraction(BaseModel):
    """A document and its passages: what extraction gives and the cache keeps."""

    document: Document
    passages: list[Passage]


class ErrorReply(BaseModel):
    """A file's error as a process that read it sends it back (after a ``!``)."""

    code: str
    message: str


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


def sniff_file(path: str | Path) -> Format:
    """The file's format from its bytes, checked against what its extension promises.

    Cheap (reads the head of the file, or a zip's listing), so a batch can turn away
    unusable files before any work. Raises :class:`EmptyDocument` for a file of 0 bytes,
    :class:`UnsupportedFormat` for bytes of no supported kind or bytes that are not what
    the name says (a 1-byte ``.docx``, an HTML page saved as ``.pdf``), and
    :class:`SourceNotFound` when the file cannot be read."""
    p = Path(path)
    try:
        with p.open("rb") as fh:
            head = fh.read(_SNIFF_BYTES)
    except OSError as exc:
        raise SourceNotFound(f"cannot read {p.name}: {exc.strerror or exc}") from None
    if not head:
        raise EmptyDocument("the file is empty (0 bytes)")
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(p) as archive:
                names = archive.namelist()
        except (zipfile.BadZipFile, OSError):
            raise UnsupportedFormat("the file is a damaged zip archive, not a document") from None
        if "word/document.xml" not in names:
            raise UnsupportedFormat(f"the file is a zip archive, not a document; send {SUPPORTED}")
        fmt: Format = "docx"
    else:
        fmt = sniff_format(head)
    promised = _PROMISED.get(p.suffix.lower())
    if promised is not None and fmt not in promised:
        raise UnsupportedFormat(
            f"the file is named {p.suffix.lower()} but its bytes are {_FORMAT_NAME[fmt]}, "
            f"not {_FORMAT_NAME[sorted(promised)[0]] if len(promised) == 1 else 'text'}; "
            "rename it or replace it with the real document"
        )
    return fmt


def process_file(
    path: str | Path, *, engine: EngineName = DEFAULT_ENGINE, limits: Limits = DEFAULT_LIMITS
) -> tuple[Document, list[Passage]]:
    """Check the file's kind against its name, then extract and segment it in this process."""
    sniff_file(path)
    doc = extract_path(path, engine=engine, limits=limits)
    return doc, segment_document(doc)


def _child_payload(path: str, engine: EngineName, limits: Limits, max_memory: int) -> bytes:
    try:
        doc, passages = process_file(path, engine=engine, limits=limits)
        return Extraction(document=doc, passages=passages).model_dump_json().encode()
    except TipscanError as exc:
        error = ErrorReply(code=exc.code, message=exc.message)
    except MemoryError:
        error = ErrorReply(
            code=LimitExceeded.code,
            message=f"extraction needed more than {max_memory // 2**20} MiB of memory",
        )
    except RecursionError:
        error = ErrorReply(
            code=CorruptDocument.code, message="the file's structure is nested too deeply to read"
        )
    except Exception as exc:
        error = ErrorReply(
            code=CorruptDocument.code,
            message=f"the file could not be read ({type(exc).__name__}: {exc})",
        )
    return b"!" + error.model_dump_json().encode()


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
        conn.send_bytes(_child_payload(path, engine, limits, max_memory))
    finally:
        conn.close()


def extract_isolated(path: Path, engine: EngineName, limits: Limits, max_memory: int) -> Extraction:
    """Extract and segment one file in a forked child with a deadline and a memory cap.

    Raises the file's :class:`TipscanError` (timeout, limit, corrupt, ...)."""
    if os.name != "posix":
        doc, passages = process_file(path, engine=engine, limits=limits)
        return Extraction(document=doc, passages=passages)
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
            raise DocumentTimeout(
                f"extraction took longer than {limits.timeout_s:g} s "
                "(raise it with --timeout if the document is genuine)"
            )
    if data is None:
        raise CorruptDocument(
            f"the extractor stopped on this file (exit code {proc.exitcode}); "
            "the file is probably damaged or hostile"
        )
    try:
        if data.startswith(b"!"):
            error = ErrorReply.model_validate_json(data[1:])
            raise rebuild_error(error)
        return Extraction.model_validate_json(data)
    except ValidationError:
        raise CorruptDocument("the extractor sent back an unreadable result") from None


def rebuild_error(error: ErrorReply) -> TipscanError:
    """The child's error as the same class in this process (a code the catalogue does not
    know, which only a compromised child could send, reads as a corrupt document)."""
    try:
        return error_class(error.code)(error.message)
    except UnknownCode:
        return CorruptDocument(error.message)


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
        try:
            if isolate:
                x = extract_isolated(path, engine, limits, max_memory)
                yield Outcome(str(path), document=x.document, passages=x.passages)
            else:
                doc, passages = process_file(path, engine=engine, limits=limits)
                yield Outcome(str(path), document=doc, passages=passages)
        except TipscanError as exc:
            yield Outcome(str(path), error_code=exc.code, error=exc.message)
