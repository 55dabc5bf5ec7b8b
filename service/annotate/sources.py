"""The file a passage was read from, for the annotator who wants to see it on its page.

A passage of a document the service scored is in the service's file store; a passage
loaded from the project's annotation store names its corpus path, found under the
corpus folder the service was given (``TIPSCAN_CORPUS_DIR``). Either way the bytes
must hash to the passage's document id, so a link never shows another file.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from ..errors import NotFound
from ..store import Store
from .records import AnnotationPassage

MEDIA = {
    ".pdf": "application/pdf",
    ".md": "text/markdown; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".xml": "application/xml",
    ".json": "application/json",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


def link(p: AnnotationPassage) -> str | None:
    """Where the page finds the passage's source (at its page, for a PDF), or None."""
    if not p.source:
        return None
    url = f"/v1/annotation/passages/{p.id}/source"
    return f"{url}#page={p.page}" if p.source.lower().endswith(".pdf") else url


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def source_file(store: Store, p: AnnotationPassage, corpus_dir: Path | None) -> tuple[Path, str]:
    """The file and its media type. Raises NotFound when the service does not hold it."""
    candidates: list[Path] = []
    if store.get_document(p.doc_id) is not None:
        candidates.append(store.files.path(p.doc_id))
    if corpus_dir is not None and p.source and not p.source.startswith("/"):
        root = corpus_dir.resolve()
        path = (root / p.source).resolve()
        if path.is_relative_to(root):
            candidates.append(path)
    for path in candidates:
        if path.is_file() and _sha256(path) == p.doc_id:
            suffix = Path(p.source or "").suffix.lower()
            return path, MEDIA.get(suffix, "application/octet-stream")
    raise NotFound(
        f"the source of passage {p.id!r} is not held by this service"
        + ("" if corpus_dir else " (no corpus folder is configured: TIPSCAN_CORPUS_DIR)")
    )
