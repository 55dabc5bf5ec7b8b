"""The annotation store: labelled passages as JSON Lines, validated on load.

One line is one annotator's decision on one passage. Nothing is overwritten:
a second annotator's pass and an adjudication are further lines (``source``
``manual`` and ``review``), and :func:`final_labels` resolves them.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .errors import InvalidAnnotation
from .jsonlines import json_object
from .labels import BY_ID, FLAGS, LABEL_IDS

Source = Literal["manual", "review", "import"]
How = Literal["single", "agreed", "adjudicated", "unresolved"]


class Annotation(BaseModel):
    """One annotator's labels for one passage, with the passage's provenance."""

    model_config = ConfigDict(extra="forbid")

    passage_id: str = Field(min_length=1)
    doc_id: str = Field(min_length=1, description="sha256 of the document's bytes")
    doc: str = Field(min_length=1, description="corpus manifest id or file name")
    doc_title: str
    doc_type: str
    language: str | None = None
    page: int = Field(ge=1)
    citation: str
    heading: list[str]
    text: str = Field(min_length=1)
    labels: list[str]
    mentions_trafficking: bool
    mentions_corruption: bool
    annotator: str = Field(min_length=1)
    created_at: datetime
    source: Source
    note: str = ""

    @field_validator("labels")
    @classmethod
    def _known_labels(cls, labels: list[str]) -> list[str]:
        unknown = [x for x in labels if x not in BY_ID]
        if unknown:
            raise ValueError(
                f"unknown label id {', '.join(map(repr, unknown))}; "
                f"label ids are {', '.join(LABEL_IDS)}"
            )
        if len(set(labels)) != len(labels):
            raise ValueError("a label id is repeated")
        return sorted(labels, key=LABEL_IDS.index)


REQUIRED = tuple(name for name, f in Annotation.model_fields.items() if f.is_required())


@dataclass(frozen=True, slots=True)
class Located:
    """An annotation and where it was read from (file and 1-based line)."""

    annotation: Annotation
    path: Path
    line: int

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


def _describe(exc: ValidationError) -> str:
    missing = [".".join(map(str, e["loc"])) for e in exc.errors() if e["type"] == "missing"]
    if missing:
        return f"missing field{'s' if len(missing) > 1 else ''} {', '.join(missing)}"
    parts = []
    for e in exc.errors():
        field = ".".join(map(str, e["loc"])) or "line"
        msg = str(e["msg"]).removeprefix("Value error, ")
        parts.append(f"{field}: {msg}")
    return "; ".join(parts)


def parse_line(raw: str, path: Path, line: int) -> Annotation:
    """One store line, or :class:`InvalidAnnotation` naming the file and line."""
    try:
        data = json_object(raw)
    except ValueError as exc:
        raise InvalidAnnotation(f"{path}:{line}: {exc}") from None
    try:
        return Annotation.model_validate(data)
    except ValidationError as exc:
        raise InvalidAnnotation(f"{path}:{line}: {_describe(exc)}") from None


def store_files(root: Path) -> list[Path]:
    """The store's files: ``root`` itself if a file, else its ``*.jsonl`` files, sorted."""
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise InvalidAnnotation(f"{root}: no such annotation file or folder")
    return sorted(p for p in root.glob("*.jsonl") if p.is_file())


def load_annotations(root: Path | str) -> list[Located]:
    """Every annotation of the store, validated.

    Errors name the line: malformed JSON, missing fields, unknown label ids,
    and the same annotator giving one passage two different label sets.
    """
    root = Path(root)
    out: list[Located] = []
    seen: dict[tuple[str, str, str], Located] = {}
    for path in store_files(root):
        with path.open(encoding="utf-8") as fh:
            for number, raw in enumerate(fh, 1):
                if not raw.strip():
                    continue
                ann = parse_line(raw, path, number)
                here = Located(ann, path, number)
                key = (ann.passage_id, ann.annotator, ann.source)
                first = seen.get(key)
                if first is not None:
                    a = first.annotation
                    if (a.labels, a.mentions_trafficking, a.mentions_corruption) != (
                        ann.labels,
                        ann.mentions_trafficking,
                        ann.mentions_corruption,
                    ):
                        raise InvalidAnnotation(
                            f"{here.where}: passage {ann.passage_id} was already labelled "
                            f"by {ann.annotator} ({ann.source}) at {first.where} with other "
                            "labels; keep one of the two lines"
                        )
                    continue  # an exact repeat adds nothing
                seen[key] = here
                out.append(here)
    return out


def snapshot_hash(root: Path | str) -> str:
    """sha256 over the store's files (names and bytes): which annotations a model saw."""
    h = hashlib.sha256()
    for path in store_files(Path(root)):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()


@dataclass(frozen=True, slots=True)
class Final:
    """The labels a passage finally carries, and how they were reached."""

    annotation: Annotation
    labels: tuple[str, ...]
    mentions_trafficking: bool
    mentions_corruption: bool
    how: How


def final_labels(annotations: Iterable[Located | Annotation]) -> dict[str, Final]:
    """Per passage id: the adjudication if there is one, else the annotators' labels.

    Two or more manual passes that differ, with no review line, are
    ``unresolved`` and keep the first pass's labels.
    """
    by_passage: dict[str, list[Annotation]] = defaultdict(list)
    for item in annotations:
        ann = item.annotation if isinstance(item, Located) else item
        by_passage[ann.passage_id].append(ann)
    out: dict[str, Final] = {}
    for pid, anns in by_passage.items():
        reviews = sorted((a for a in anns if a.source == "review"), key=lambda a: a.created_at)
        manual = sorted((a for a in anns if a.source != "review"), key=lambda a: a.created_at)
        how: How
        if reviews:
            pick, how = reviews[-1], "adjudicated"
        else:
            pick = manual[0]
            keys = {
                (tuple(a.labels), a.mentions_trafficking, a.mentions_corruption) for a in manual
            }
            how = "single" if len(manual) == 1 else ("agreed" if len(keys) == 1 else "unresolved")
        out[pid] = Final(
            pick, tuple(pick.labels), pick.mentions_trafficking, pick.mentions_corruption, how
        )
    return out


# --- statistics ---------------------------------------------------------------


def compute_stats(located: Sequence[Located]) -> dict:
    """Counts for ``tipscan annotations stats``: passages, documents, labels, languages."""
    finals = final_labels(located)
    positives = Counter(label for f in finals.values() for label in f.labels)
    docs = {f.annotation.doc for f in finals.values()}
    languages = Counter(f.annotation.language or "?" for f in finals.values())
    annotators: Counter[str] = Counter()
    for item in located:
        annotators[f"{item.annotation.annotator} ({item.annotation.source})"] += 1
    return {
        "lines": len(located),
        "passages": len(finals),
        "documents": len(docs),
        "with_any_label": sum(1 for f in finals.values() if f.labels),
        "positives": {label: positives.get(label, 0) for label in LABEL_IDS},
        "flags": {
            "mentions_trafficking": sum(f.mentions_trafficking for f in finals.values()),
            "mentions_corruption": sum(f.mentions_corruption for f in finals.values()),
        },
        "languages": dict(languages.most_common()),
        "annotators": dict(sorted(annotators.items())),
        "resolution": dict(Counter(f.how for f in finals.values())),
        "doc_types": dict(Counter(f.annotation.doc_type for f in finals.values()).most_common()),
    }


# --- agreement ----------------------------------------------------------------


def cohen_kappa(a: Sequence[bool], b: Sequence[bool]) -> float | None:
    """Cohen's kappa of two binary codings; None when both never vary (undefined)."""
    n = len(a)
    if n == 0:
        return None
    po = sum(x == y for x, y in zip(a, b, strict=True)) / n
    pa, pb = sum(a) / n, sum(b) / n
    pe = pa * pb + (1 - pa) * (1 - pb)
    if pe >= 1.0:
        return None
    return (po - pe) / (1 - pe)


def _f1(tp: int, fp: int, fn: int) -> float | None:
    if tp + fp + fn == 0:
        return None
    return 2 * tp / (2 * tp + fp + fn)


@dataclass(frozen=True, slots=True)
class Agreement:
    first: str
    second: str
    passages: int
    documents: int
    per_label: dict[str, dict]
    flags: dict[str, dict]
    micro_f1: float | None
    macro_f1: float | None
    macro_kappa: float | None
    exact_match: float


def compute_agreement(located: Sequence[Located], second: Sequence[str] | None = None) -> Agreement:
    """Agreement between two manual annotations of each doubly-annotated passage.

    With ``second`` (annotator ids of the second pass), a passage's annotation
    by one of them is pass 2 and the earliest by anyone else is pass 1;
    without it, the earliest annotation (by ``created_at``) is pass 1 and the
    next by another annotator is pass 2. F1 scores pass 2 against pass 1.
    """
    by_passage: dict[str, list[Annotation]] = defaultdict(list)
    for item in located:
        if item.annotation.source == "manual":
            by_passage[item.annotation.passage_id].append(item.annotation)
    pairs: list[tuple[Annotation, Annotation]] = []
    for anns in by_passage.values():
        anns.sort(key=lambda a: a.created_at)
        if second:
            later = next((x for x in anns if x.annotator in second), None)
            earlier = next((x for x in anns if x.annotator not in second), None)
            if earlier is not None and later is not None:
                pairs.append((earlier, later))
            continue
        other = next((a for a in anns[1:] if a.annotator != anns[0].annotator), None)
        if other is not None:
            pairs.append((anns[0], other))
    firsts = sorted({p[0].annotator for p in pairs})
    seconds = sorted({p[1].annotator for p in pairs})
    per_label: dict[str, dict] = {}
    tps = fps = fns = 0
    for label in LABEL_IDS:
        a = [label in p[0].labels for p in pairs]
        b = [label in p[1].labels for p in pairs]
        tp = sum(x and y for x, y in zip(a, b, strict=True))
        fp = sum(y and not x for x, y in zip(a, b, strict=True))
        fn = sum(x and not y for x, y in zip(a, b, strict=True))
        tps, fps, fns = tps + tp, fps + fp, fns + fn
        per_label[label] = {
            "kappa": cohen_kappa(a, b),
            "f1": _f1(tp, fp, fn),
            "first": sum(a),
            "second": sum(b),
            "both": tp,
        }
    flags = {}
    for flag in FLAGS:
        a = [getattr(p[0], flag) for p in pairs]
        b = [getattr(p[1], flag) for p in pairs]
        flags[flag] = {
            "kappa": cohen_kappa(a, b),
            "first": sum(a),
            "second": sum(b),
            "agree": sum(x == y for x, y in zip(a, b, strict=True)) / len(pairs) if pairs else 0.0,
        }
    f1s = [v["f1"] for v in per_label.values() if v["f1"] is not None]
    kappas = [v["kappa"] for v in per_label.values() if v["kappa"] is not None]
    return Agreement(
        first=", ".join(firsts),
        second=", ".join(seconds),
        passages=len(pairs),
        documents=len({p[0].doc for p in pairs}),
        per_label=per_label,
        flags=flags,
        micro_f1=_f1(tps, fps, fns),
        macro_f1=sum(f1s) / len(f1s) if f1s else None,
        macro_kappa=sum(kappas) / len(kappas) if kappas else None,
        exact_match=(
            sum(set(p[0].labels) == set(p[1].labels) for p in pairs) / len(pairs) if pairs else 0.0
        ),
    )


def _fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.2f}"


def render_agreement(agr: Agreement, resolution: dict[str, int]) -> str:
    """AGREEMENT.md: kappa per label and flag, F1 of one pass against the other."""
    from .labels import BY_ID

    low = [k for k, v in agr.per_label.items() if v["kappa"] is not None and v["kappa"] < 0.6]
    lines = [
        "# Inter-annotator agreement",
        "",
        "Written by `tipscan annotations agreement`; do not edit by hand.",
        "",
        f"- Doubly-annotated passages: **{agr.passages}** from {agr.documents} documents",
        f"- Pass 1 annotators: {agr.first or '-'}; pass 2 annotators: {agr.second or '-'}",
        f"- Macro kappa over labels used by either pass: **{_fmt(agr.macro_kappa)}**",
        f"- Pass 2 against pass 1: micro-F1 **{_fmt(agr.micro_f1)}**, "
        f"macro-F1 **{_fmt(agr.macro_f1)}**",
        f"- Identical label sets: {agr.exact_match:.1%} of passages",
        f"- Labels with kappa below 0.6: {', '.join(low) if low else 'none'}",
        f"- Final labels: {', '.join(f'{k} {v}' for k, v in sorted(resolution.items()))}",
        "",
        "Kappa is Cohen's kappa of the two passes' yes/no decisions for the label over all",
        "doubly-annotated passages; n/a where neither pass ever used the label there.",
        "",
        "| label | slug | kappa | F1 | pass 1 positives | pass 2 positives | both |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, v in agr.per_label.items():
        lines.append(
            f"| {label} | {BY_ID[label].slug} | {_fmt(v['kappa'])} | {_fmt(v['f1'])} | "
            f"{v['first']} | {v['second']} | {v['both']} |"
        )
    lines += [
        "",
        "| flag | kappa | raw agreement | pass 1 yes | pass 2 yes |",
        "|---|---|---|---|---|",
    ]
    for flag, v in agr.flags.items():
        lines.append(
            f"| {flag} | {_fmt(v['kappa'])} | {v['agree']:.1%} | {v['first']} | {v['second']} |"
        )
    return "\n".join(lines) + "\n"
