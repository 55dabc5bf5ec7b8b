"""The one catalogue of errors tipscan reports.

Every error has a stable ``code`` (used as the problem type by the API and in
batch reports), a message that says what went wrong and what to do next, and
the CLI prints exactly that message on one line.
"""

from __future__ import annotations


class TipscanError(Exception):
    """Base class: a failure that is the input's fault or the user's to fix."""

    code = "tipscan-error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UnsupportedFormat(TipscanError):
    code = "unsupported-format"


class EmptyDocument(TipscanError):
    code = "empty-document"


class EncryptedDocument(TipscanError):
    code = "encrypted-document"


class CorruptDocument(TipscanError):
    code = "corrupt-document"


class UnsafeDocument(TipscanError):
    """Input built to exhaust resources: archive bombs, entity expansion, absurd pages."""

    code = "unsafe-document"


class LimitExceeded(TipscanError):
    code = "limit-exceeded"


class DocumentTimeout(TipscanError):
    code = "document-timeout"


class SourceNotFound(TipscanError):
    code = "source-not-found"


class InvalidAnnotation(TipscanError):
    """A line of the annotation store that cannot be used; the message names the line."""

    code = "invalid-annotation"


class SplitExists(TipscanError):
    code = "split-exists"


class ModelError(TipscanError):
    """A model that cannot be used: missing, incomplete, or built for other labels or formats."""

    code = "model-error"


class InvalidInput(TipscanError):
    """A malformed input line or request body (the message names the line)."""

    code = "invalid-input"
