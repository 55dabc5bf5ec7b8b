"""Decisions in and out of other annotation tools: Label Studio, Prodigy, doccano, and the
project's own JSONL store format.

- ``label-studio``: a JSON array of tasks, one a line: ``data`` (the passage), ``predictions``
  (the model's suggestions: ``choices`` above threshold, every score in ``scores``) and
  ``annotations`` (the decisions: a ``choices`` result over the 18 label ids, one over the
  two flags).
- ``prodigy``: JSON Lines, one decision a line: ``text``, ``meta`` (the passage),
  ``accept`` (the chosen label ids), ``answer``, ``_annotator_id``, ``_timestamp``.
- ``doccano``: JSON Lines, one decision a line: ``text``, ``label`` (the chosen label ids),
  and the passage's and decision's fields beside them.
- ``tipscan``: the lines of ``annotations/*.jsonl``. That format has no queue, country or
  ``shown_suggestions``: imported lines are blind decisions of queue ``import``.

Every exported decision carries a ``tipscan`` object (its id, queue, ``shown_suggestions``,
source, note and exact time, and whether it is an adjudication), so that exporting and
importing into an empty store gives back every decision as it was. Import is all or
nothing: the first malformed line (bad JSON, an unknown label id, no passage id or text)
is reported with its line number and nothing is imported.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, get_args

from pydantic import ValidationError

from ..annotations import parse_line
from ..errors import InvalidInput
from ..labels import FLAGS, LABEL_IDS
from ..store import Store
from .loading import Loaded, position_of
from .records import (
    Adjudication,
    AnnotationPassage,
    Decision,
    as_line,
    check_labels,
    passage_of,
    row_of,
    stable_id,
)

Format = Literal["label-studio", "prodigy", "doccano", "tipscan"]
FORMATS: tuple[Format, ...] = get_args(Format)
MEDIA_TYPES: dict[Format, str] = {
    "label-studio": "application/json",
    "prodigy": "application/x-ndjson",
    "doccano": "application/x-ndjson",
    "tipscan": "application/x-ndjson",
}
SUFFIX: dict[Format, str] = {
    "label-studio": ".json", "prodigy": ".jsonl", "doccano": ".jsonl", "tipscan": ".jsonl",
}  # fmt: skip
_PASSAGE_FIELDS = tuple(AnnotationPassage.model_fields)

Row = Decision | Adjudication


@dataclass(frozen=True)
class Entry:
    """One decision or adjudication with the passage it is about."""

    passage: AnnotationPassage
    row: Row


# --- export -------------------------------------------------------------------------


def entries(store: Store) -> list[Entry]:
    """Every decision and adjudication of the store, by document, position and time."""
    ann = store.annotation
    rows: list[Row] = [*ann.decisions(), *ann.adjudications()]
    passages = ann.passages(sorted({r.passage_id for r in rows}))
    out = [Entry(passages[r.passage_id], r) for r in rows]
    out.sort(key=lambda e: (e.passage.doc_id, e.passage.position, e.passage.id, e.row.at))
    return out


def _meta(row: Row) -> dict[str, Any]:
    if isinstance(row, Adjudication):
        return {"id": row.id, "kind": "adjudication", "at": row.at.isoformat(), "note": row.reason}
    return {
        "id": row.id, "kind": "decision", "at": row.at.isoformat(), "note": row.note,
        "queue": row.queue, "shown_suggestions": row.shown_suggestions, "source": row.source,
    }  # fmt: skip


def _passage_data(p: AnnotationPassage) -> dict[str, Any]:
    data = p.model_dump()
    data["passage_id"] = data.pop("id")
    return data


def _flags(row: Row) -> list[str]:
    return [f for f in FLAGS if getattr(row, f)]


def export(store: Store, fmt: Format, model: str | None = None) -> str:
    """The store's decisions and adjudications as a file of ``fmt``; Label Studio tasks
    carry ``model``'s suggestions as predictions where the store has them."""
    got = entries(store)
    if fmt == "label-studio":
        return _label_studio(store, got, model)
    lines = []
    for e in got:
        if fmt == "tipscan":
            lines.append(as_line(e.passage, e.row).model_dump_json())
        elif fmt == "prodigy":
            lines.append(json.dumps(_prodigy(e), ensure_ascii=False))
        else:
            lines.append(json.dumps(_doccano(e), ensure_ascii=False))
    return "".join(line + "\n" for line in lines)


def _prodigy(e: Entry) -> dict[str, Any]:
    return {
        "text": e.passage.text,
        "meta": {k: v for k, v in _passage_data(e.passage).items() if k != "text"},
        "accept": e.row.labels,
        "mentions_trafficking": e.row.mentions_trafficking,
        "mentions_corruption": e.row.mentions_corruption,
        "answer": "accept",
        "_annotator_id": e.row.annotator,
        "_timestamp": int(e.row.at.timestamp()),
        "tipscan": _meta(e.row),
    }


def _doccano(e: Entry) -> dict[str, Any]:
    return {
        "text": e.passage.text,
        "label": e.row.labels,
        **_passage_data(e.passage),
        "mentions_trafficking": e.row.mentions_trafficking,
        "mentions_corruption": e.row.mentions_corruption,
        "annotator": e.row.annotator,
        "tipscan": _meta(e.row),
    }


def _choices(name: str, values: list[str]) -> dict[str, Any]:
    return {"from_name": name, "to_name": "text", "type": "choices", "value": {"choices": values}}


def _label_studio(store: Store, got: list[Entry], model: str | None) -> str:
    by_passage: dict[str, list[Entry]] = {}
    for e in got:
        by_passage.setdefault(e.passage.id, []).append(e)
    scores = store.annotation.suggestions(model, list(by_passage)) if model else {}
    tasks = []
    for n, (pid, group) in enumerate(by_passage.items(), 1):
        passage = group[0].passage
        predictions = []
        if pid in scores:
            s = scores[pid]
            predictions.append({
                "model_version": model,
                "score": max(s.values()),
                "scores": s,
                "result": [_choices("labels", sorted(s, key=LABEL_IDS.index))],
            })  # fmt: skip
        tasks.append({
            "id": n,
            "data": {"text": passage.text, **_passage_data(passage)},
            "predictions": predictions,
            "annotations": [
                {
                    "id": i,
                    "completed_by": e.row.annotator,
                    "created_at": e.row.at.isoformat(),
                    "result": [_choices("labels", e.row.labels), _choices("flags", _flags(e.row))],
                    "tipscan": _meta(e.row),
                }
                for i, e in enumerate(group, 1)
            ],
        })  # fmt: skip
    return "[\n" + ",\n".join(json.dumps(t, ensure_ascii=False) for t in tasks) + "\n]\n"


# --- import -------------------------------------------------------------------------


class Bad(ValueError):
    """A malformed item; the importer adds the line number."""


def _need(obj: dict[str, Any], key: str, what: str) -> Any:
    value = obj.get(key)
    if value is None or value == "":
        raise Bad(f"missing {what} ({key!r})")
    return value


def _labels(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        raise Bad(f"labels must be a list of label ids, not {value!r}")
    try:
        return check_labels(value)
    except ValueError as exc:
        raise Bad(str(exc)) from None


def _time(value: Any) -> datetime:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str):
        try:
            when = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise Bad(f"not a time: {value!r}") from None
        return when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC)
    raise Bad("missing the decision's time")


def _why(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())


def _passage(data: dict[str, Any], line: int) -> AnnotationPassage:
    if not isinstance(data, dict):
        raise Bad("the passage is not a JSON object")
    pid = _need(data, "passage_id", "passage id")
    text = _need(data, "text", "passage text")
    doc_id = data.get("doc_id") or str(pid).rsplit("-", 2)[0]
    fields = {k: data[k] for k in _PASSAGE_FIELDS if k in data and data[k] is not None}
    fields.update(id=str(pid), text=text, doc_id=doc_id)
    fields.setdefault("doc", doc_id)
    fields.setdefault("doc_title", "")
    fields.setdefault("doc_type", "other")
    fields.setdefault("page", 1)
    fields.setdefault("citation", "")
    fields.setdefault("heading", [])
    fields.setdefault("position", position_of(str(pid), line))
    try:
        return AnnotationPassage.model_validate(fields)
    except ValidationError as exc:
        raise Bad(_why(exc)) from None


def _row(
    passage: AnnotationPassage, labels: list[str], flags: dict[str, Any], annotator: Any,
    at: datetime, meta: Any, fmt: Format,
) -> Row:  # fmt: skip
    meta = meta if isinstance(meta, dict) else {}
    if not isinstance(annotator, str) or not annotator:
        raise Bad("missing the annotator")
    when = _time(meta["at"]) if "at" in meta else at
    for f in FLAGS:
        if not isinstance(flags.get(f, False), bool):
            raise Bad(f"{f} must be true or false")
    common = {
        "passage_id": passage.id, "labels": labels, "annotator": annotator, "at": when,
        **{f: bool(flags.get(f, False)) for f in FLAGS},
    }  # fmt: skip
    ident = str(meta.get("id") or stable_id(passage.id, annotator, when.isoformat(), *labels))
    note = str(meta.get("note") or "")
    try:
        if meta.get("kind") == "adjudication":
            return Adjudication.model_validate({**common, "id": ident, "reason": note})
        return Decision.model_validate({
            **common, "id": ident, "note": note, "queue": str(meta.get("queue") or fmt),
            "shown_suggestions": bool(meta.get("shown_suggestions", True)),
            "source": meta.get("source", "import"),
        })  # fmt: skip
    except ValidationError as exc:
        raise Bad(_why(exc)) from None


def _json_lines(text: str) -> Iterator[tuple[int, Any]]:
    for n, raw in enumerate(text.splitlines(), 1):
        if raw.strip():
            try:
                yield n, json.loads(raw)
            except json.JSONDecodeError as exc:
                raise InvalidInput(f"line {n}: not valid JSON ({exc.msg})") from None


def _tasks(text: str) -> Iterator[tuple[int, Any]]:
    """The items of a JSON array, each with the line it starts on."""
    decoder = json.JSONDecoder()
    start = len(text) - len(text.lstrip())
    if not text.startswith("[", start):
        raise InvalidInput("line 1: a Label Studio export is a JSON array of tasks")
    pos = start + 1
    while True:
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        line = text.count("\n", 0, pos) + 1
        if pos >= len(text):
            raise InvalidInput(f"line {line}: the array of tasks is not closed")
        if text[pos] == "]":
            return
        try:
            item, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise InvalidInput(
                f"line {line}: the task is not valid JSON ({exc.msg} at line {exc.lineno}, "
                f"column {exc.colno})"
            ) from None
        yield line, item
        pos = end


def _choice_values(result: Any, name: str) -> list[str]:
    if not isinstance(result, list):
        raise Bad("an annotation's result must be a list")
    out: list[str] = []
    for r in result:
        if isinstance(r, dict) and r.get("from_name") == name:
            out += (r.get("value") or {}).get("choices") or []
    return out


def parse(text: str, fmt: Format) -> list[Entry]:
    """Every decision of a file of ``fmt``; InvalidInput naming the first bad line."""
    out: list[Entry] = []
    items = _tasks(text) if fmt == "label-studio" else _json_lines(text)
    for line, obj in items:
        try:
            if not isinstance(obj, dict):
                raise Bad("not a JSON object")
            out += _parse_item(obj, line, fmt)
        except Bad as exc:
            raise InvalidInput(f"line {line}: {exc}") from None
    return out


def _parse_item(obj: dict[str, Any], line: int, fmt: Format) -> list[Entry]:
    if fmt == "tipscan":
        from pathlib import Path

        try:
            ann = parse_line(json.dumps(obj), Path("import"), line)
        except Exception as exc:
            raise Bad(str(getattr(exc, "message", exc)).split(": ", 1)[-1]) from None
        return [Entry(passage_of(ann, position_of(ann.passage_id, line), None, ann.doc),
                      row_of(ann, queue="import"))]  # fmt: skip
    if fmt == "label-studio":
        passage = _passage(obj.get("data") or {}, line)
        annotations = obj.get("annotations") or []
        if not isinstance(annotations, list):
            raise Bad("annotations must be a list")
        got = []
        for a in annotations:
            if not isinstance(a, dict):
                raise Bad("an annotation is not a JSON object")
            result = a.get("result", [])
            flags = {f: f in _choice_values(result, "flags") for f in FLAGS}
            labels = _labels(_choice_values(result, "labels"))
            at = _time(a.get("created_at"))
            who = a.get("completed_by")
            got.append(Entry(passage, _row(passage, labels, flags, who, at, a.get("tipscan"), fmt)))
        return got
    if fmt == "prodigy":
        if obj.get("answer", "accept") != "accept":
            return []
        meta: dict[str, Any] = obj["meta"] if isinstance(obj.get("meta"), dict) else {}
        passage = _passage({**meta, "text": obj.get("text")}, line)
        labels = _labels(obj.get("accept", []))
        at = _time(obj.get("_timestamp"))
        return [Entry(passage, _row(passage, labels, obj, obj.get("_annotator_id"), at,
                                    obj.get("tipscan"), fmt))]  # fmt: skip
    passage = _passage(obj, line)
    labels = _labels(obj.get("label", []))
    extra: dict[str, Any] = obj["tipscan"] if isinstance(obj.get("tipscan"), dict) else {}
    at = _time(extra.get("at") or obj.get("created_at"))
    return [Entry(passage, _row(passage, labels, obj, obj.get("annotator"), at, extra, fmt))]


def import_file(store: Store, text: str, fmt: Format) -> Loaded:
    """Import a file of ``fmt`` into the store, all or nothing; rows already there are skipped."""
    got = parse(text, fmt)
    passages = {e.passage.id: e.passage for e in got}
    decided = [e.row for e in got if isinstance(e.row, Decision)]
    adjudicated = [e.row for e in got if isinstance(e.row, Adjudication)]
    added = store.annotation.add_all(passages.values(), decided, adjudicated)
    return Loaded(len(passages), len(decided), len(adjudicated), *added)
