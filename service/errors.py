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
