"""How passages enter the annotation store: from the JSONL store and from scored documents.

``load_jsonl`` imports every passage of ``annotations/*.jsonl`` with its
decisions and adjudications, annotator ids and times as recorded; ids are
derived from what each line records, so loading twice adds nothing.
``sync_results`` adds the passages of every document the service has scored,
with the scores of its result as suggestions. ``ensure_suggestions`` scores
the passages that have none with the model the service runs.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..annotations import load_annotations
from ..classify import Model
from ..labels import LABEL_IDS
from ..model import PassageInput
from ..store import Store
from .records import Adjudication, AnnotationPassage, Decision, passage_of, row_of

_SUGGEST_BATCH = 2000


@dataclass(frozen=True)
class Loaded:
    """Rows a load added, and the rows of each kind its input holds."""

    passages: int
    decisions: int
    adjudications: int
    passages_added: int
    decisions_added: int
    adjudications_added: int


def manifest_index(manifests: Iterable[Path]) -> dict[str, tuple[str | None, str]]:
    """sha256 -> (country, path) from corpus MANIFEST.csv files; the first listing wins."""
    out: dict[str, tuple[str | None, str]] = {}
    for path in manifests:
        with path.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                sha = (row.get("sha256") or "").strip()
                if sha and sha not in out:
                    country = (row.get("country") or "").strip().upper() or None
                    out[sha] = (country, (row.get("path") or "").strip())
    return out


def position_of(passage_id: str, fallback: int) -> int:
    """The passage's first character (ids end ``-<start>-<end>``), else ``fallback``."""
    parts = passage_id.rsplit("-", 2)
    if len(parts) == 3 and parts[1].isdigit():
        return int(parts[1])
    return fallback


def load_jsonl(store: Store, root: Path | str, manifests: Sequence[Path] = ()) -> Loaded:
    """Import the JSONL store at ``root`` (file or folder): its passages, decisions and
    adjudications. Decisions keep their annotator, time and note; their queue is the
    file they were read from."""
    located = load_annotations(root)
    index = manifest_index(manifests)
    passages: dict[str, AnnotationPassage] = {}
    rows = []
    for n, item in enumerate(located):
        line = item.annotation
        if line.passage_id not in passages:
            country, path = index.get(line.doc_id, (None, None))
            passages[line.passage_id] = passage_of(
                line, position_of(line.passage_id, n), country, path or line.doc
            )
        rows.append(row_of(line, queue=item.path.stem))
    decisions = [r for r in rows if isinstance(r, Decision)]
    adjudications = [r for r in rows if isinstance(r, Adjudication)]
    added = store.annotation.add_all(passages.values(), decisions, adjudications)
    return Loaded(len(passages), len(decisions), len(adjudications), *added)


def sync_results(store: Store) -> int:
    """Add the passages of every scored document not yet here; the number of passages added."""
    have = store.annotation.documents()
    added = 0
    offset = 0
    while True:
        docs, total = store.list_documents(limit=200, offset=offset, status="done")
        for doc in docs:
            if doc.id in have:
                continue
            result = store.get_result(doc.id)
            if result is None:
                continue
            rows = [
                AnnotationPassage(
                    id=lp.passage.id,
                    doc_id=doc.id,
                    doc=doc.filename,
                    doc_title=doc.title or doc.doc_title or doc.filename,
                    doc_type=doc.doc_type or doc.inferred_doc_type or "other",
                    language=lp.passage.language or doc.language,
                    page=max(lp.passage.page_start, 1),
                    citation=lp.passage.citation,
                    heading=[
                        *lp.passage.heading,
                        *([lp.passage.title] if lp.passage.title else []),
                    ],
                    text=lp.passage.text,
                    position=lp.passage.char_start,
                    country=doc.country,
                    source=f"/v1/documents/{doc.id}",
                )
                for lp in result.passages
                if lp.passage.text.strip()
            ]
            added += store.annotation.add_passages(rows)
            store.annotation.add_suggestions(
                {lp.passage.id: lp.prediction.scores for lp in result.passages
                 if lp.passage.text.strip()},
                result.model,
            )  # fmt: skip
        offset += len(docs)
        if not docs or offset >= total:
            return added


def model_input(p: AnnotationPassage) -> PassageInput:
    """The classifier's view of a passage, as training builds it."""
    return PassageInput(
        id=p.id, text=p.text, title=p.doc_title, doc_type=p.doc_type, heading=p.heading
    )


def ensure_suggestions(
    store: Store, model: Model, passages: Sequence[AnnotationPassage]
) -> dict[str, dict[str, float]]:
    """``model``'s scores of each passage: stored ones, and the missing ones computed and stored."""
    ids = [p.id for p in passages]
    have = store.annotation.suggestions(model.name, ids)
    todo = [p for p in passages if len(have.get(p.id, {})) < len(LABEL_IDS)]
    for i in range(0, len(todo), _SUGGEST_BATCH):
        batch = todo[i : i + _SUGGEST_BATCH]
        scores, _flags = model.scorer.scores([model_input(p) for p in batch])
        fresh = {
            p.id: {label: round(float(s), 4) for label, s in zip(LABEL_IDS, row, strict=True)}
            for p, row in zip(batch, scores.tolist(), strict=True)
        }
        store.annotation.add_suggestions(fresh, model.name)
        have.update(fresh)
    return {i: have[i] for i in ids if i in have}
