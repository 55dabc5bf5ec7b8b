"""The one catalogue of errors tipscan reports.

Every error is a ``TipscanError`` subclass with a stable ``code`` (the API's
problem type ``urn:tipscan:problem:<code>``, a failed job's and a batch
report's error code), the HTTP ``status`` the API answers it with, and a short
``title``. The message says what went wrong and what to do next; the CLI
prints exactly that message on one line.

``CATALOGUE`` is built from the classes below, so a code cannot be added
without its status. Code that only needs the code (a failed job, a batch
report) uses the class attribute, e.g. ``InternalError.code``, never a
string literal.
"""

from __future__ import annotations

import logging
from typing import ClassVar, NamedTuple

log = logging.getLogger("tipscan.errors")


class TipscanError(Exception):
    """Base class: a failure that is the input's fault or the user's to fix."""

    code: ClassVar[str] = "tipscan-error"
    status: ClassVar[int] = 400
    title: ClassVar[str] = "Bad request"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


# --- documents and inputs ----------------------------------------------------------


class UnsupportedFormat(TipscanError):
    code, status, title = "unsupported-format", 415, "Unsupported format"


class EmptyDocument(TipscanError):
    code, status, title = "empty-document", 422, "Empty document"


class EncryptedDocument(TipscanError):
    code, status, title = "encrypted-document", 422, "Encrypted document"


class CorruptDocument(TipscanError):
    code, status, title = "corrupt-document", 422, "Corrupt document"


class UnsafeDocument(TipscanError):
    """Input built to exhaust resources: archive bombs, entity expansion, absurd pages."""

    code, status, title = "unsafe-document", 422, "Unsafe document"


class LimitExceeded(TipscanError):
    code, status, title = "limit-exceeded", 413, "Limit exceeded"


class DocumentTimeout(TipscanError):
    code, status, title = "document-timeout", 422, "Document timed out"


class SourceNotFound(TipscanError):
    code, status, title = "source-not-found", 404, "Source not found"


class InvalidAnnotation(TipscanError):
    """A line of the annotation store that cannot be used; the message names the line."""

    code, status, title = "invalid-annotation", 422, "Invalid annotation"


class SplitExists(TipscanError):
    code, status, title = "split-exists", 409, "Split exists"


class ModelError(TipscanError):
    """A model that cannot be used: missing, incomplete, or built for other labels or formats."""

    code, status, title = "model-error", 503, "Model unusable"


class InvalidInput(TipscanError):
    """A malformed input line or request body (the message names the line)."""

    code, status, title = "invalid-input", 422, "Invalid input"


class SettingsError(TipscanError):
    """A flag or ``TIPSCAN_*`` variable that cannot be used: the server is misconfigured."""

    code, status, title = "invalid-settings", 500, "Invalid settings"


# --- the store and its jobs --------------------------------------------------------


class UploadTooLarge(TipscanError):
    code, status, title = "upload-too-large", 413, "Upload too large"


class UnknownDocuments(TipscanError):
    code, status, title = "unknown-document", 422, "Unknown document"


class InvalidStore(TipscanError):
    """A database that holds some of tipscan's tables but not all, and no migration record."""

    code, status, title = "invalid-store", 500, "Invalid store"


class JobInterrupted(TipscanError):
    """The server stopped too many times while processing the document."""

    code, status, title = "job-interrupted", 422, "Job interrupted"


class JobFailed(TipscanError):
    """A failed job with no recorded reason."""

    code, status, title = "job-failed", 422, "Job failed"


class DocumentFailed(TipscanError):
    """The document's results were asked for, but its job failed."""

    code, status, title = "document-failed", 409, "Document failed"


class StillProcessing(TipscanError):
    """Results were asked for while the document (or a corpus member) is being processed."""

    code, status, title = "still-processing", 409, "Still processing"


# --- the HTTP service --------------------------------------------------------------


class BadRequest(TipscanError):
    code, status, title = "bad-request", 400, "Bad request"


class Unauthorized(TipscanError):
    code, status, title = "unauthorized", 401, "Unauthorized"


class Forbidden(TipscanError):
    code, status, title = "forbidden", 403, "Forbidden"


class NotFound(TipscanError):
    code, status, title = "not-found", 404, "Not found"


class MethodNotAllowed(TipscanError):
    code, status, title = "method-not-allowed", 405, "Method not allowed"


class NotAcceptable(TipscanError):
    code, status, title = "not-acceptable", 406, "Not acceptable"


class Conflict(TipscanError):
    code, status, title = "conflict", 409, "Conflict"


class ContentTooLarge(TipscanError):
    code, status, title = "content-too-large", 413, "Content too large"


class TooManyPassages(TipscanError):
    code, status, title = "too-many-passages", 413, "Too many passages"


class UnsupportedMediaType(TipscanError):
    code, status, title = "unsupported-media-type", 415, "Unsupported media type"


class InvalidRequest(TipscanError):
    code, status, title = "invalid-request", 422, "Invalid request"


class InternalError(TipscanError):
    """A bug or an unexpected failure; details go to the log, never to the client."""

    code, status, title = "internal-error", 500, "Internal error"


class Unavailable(TipscanError):
    code, status, title = "unavailable", 503, "Unavailable"


class NotReady(TipscanError):
    """The service cannot work: its store is unreachable or no job worker runs."""

    code, status, title = "not-ready", 503, "Not ready"


# --- the catalogue -----------------------------------------------------------------


class Entry(NamedTuple):
    status: int
    title: str


class UnknownCode(LookupError):
    """A code that is not in the catalogue: a programming error."""


def _classes() -> dict[str, type[TipscanError]]:
    out: dict[str, type[TipscanError]] = {}
    todo: list[type[TipscanError]] = [TipscanError]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__ != __name__:
            continue  # the catalogue is this module; a class elsewhere must reuse a code here
        if not {"code", "status", "title"} <= cls.__dict__.keys():
            raise TypeError(f"{cls.__name__} must declare its own code, status and title")
        if out.setdefault(cls.code, cls) is not cls:
            raise TypeError(f"{cls.__name__}: code {cls.code!r} is declared twice")
    return out


_CLASSES = _classes()
CATALOGUE: dict[str, Entry] = {
    code: Entry(cls.status, cls.title) for code, cls in sorted(_CLASSES.items())
}


def lookup(code: str) -> Entry:
    """The catalogue entry of ``code``; UnknownCode if there is none."""
    try:
        return CATALOGUE[code]
    except KeyError:
        raise UnknownCode(f"error code {code!r} is not in the catalogue") from None


def error_class(code: str) -> type[TipscanError]:
    """The class of ``code`` (to raise again an error that crossed a process boundary)."""
    lookup(code)
    return _CLASSES[code]


def status_for(code: str) -> int:
    """The HTTP status of ``code``; an unknown code is logged and answered as a 500."""
    try:
        return lookup(code).status
    except UnknownCode as exc:
        log.error("%s", exc)
        return InternalError.status
