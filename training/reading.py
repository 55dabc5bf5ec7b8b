"""Reading passes: passages out to a reader, decisions back into the store format.

A reader (a person, or one reading process as ``annotations/README.md``
describes) gets a batch of documents and nothing else: the guidelines, each
passage's document title, heading path, citation and text, in document order.
Decisions come back one JSON object per line on stdin and are stamped with the
reader's id and the time they were recorded.

    python training/reading.py dump --manifest M.csv --root DIR --out WORK/passages.jsonl
    python training/reading.py show WORK/batches/b1.jsonl --start 0 --count 40
    python training/reading.py record WORK/batches/b1.jsonl --annotator ID --out FILE.jsonl
    python training/reading.py next WORK/batches/b1.jsonl --out FILE.jsonl
    python training/reading.py disagreements --store DIR --second ID --out WORK/adj.jsonl

An adjudication batch carries each passage's ``decisions`` (annotator, labels,
flags, note), which ``show`` prints; ``record --source review`` stores the
adjudicator's decision as a ``review`` line and insists on a reason.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import sys
from pathlib import Path

from service.batch import process_file
from service.labels import LABEL_IDS
from service.lang import detect_language

STORE_FIELDS = (
    "passage_id",
    "doc_id",
    "doc",
    "doc_title",
    "doc_type",
    "language",
    "page",
    "citation",
    "heading",
    "text",
)


def dump(manifest: Path, root: Path, out: Path, only: set[str] | None) -> None:
    """Every passage of every manifest document, in document order."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with manifest.open(encoding="utf-8") as fh, out.open("w", encoding="utf-8") as sink:
        for row in csv.DictReader(fh):
            if only and row["id"] not in only:
                continue
            doc, passages = process_file(root / row["path"])
            for seq, p in enumerate(passages):
                line = {
                    "passage_id": p.id,
                    "doc_id": doc.id,
                    "doc": row["id"],
                    "doc_title": row["title"],
                    "doc_type": row["doc_type"],
                    "language": p.language or detect_language(p.text),
                    "page": p.page_start,
                    "citation": p.citation,
                    "heading": [*p.heading, *([p.title] if p.title else [])],
                    "text": p.text,
                    "seq": seq,
                }
                sink.write(json.dumps(line, ensure_ascii=False) + "\n")
            print(f"{row['id']}: {len(passages)} passages", file=sys.stderr)


def read_jsonl(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def show(batch: Path, start: int, count: int) -> None:
    """Passages start..start+count of a batch, numbered, with their context."""
    rows = read_jsonl(batch)
    last_doc = None
    for i in range(start, min(start + count, len(rows))):
        r = rows[i]
        if r["doc"] != last_doc:
            print(f"\n=== DOCUMENT {r['doc']}: {r['doc_title']} ({r['doc_type']}) ===")
            last_doc = r["doc"]
        heading = " / ".join(r["heading"])
        print(f"\n[{i}] {r['citation']} | p. {r['page']} | {r['language']} | {heading}")
        print(r["text"])
        for d in r.get("decisions", []):
            note = f" (note: {d['note']})" if d.get("note") else ""
            print(
                f"  -> {d['annotator']}: labels {d['labels']}, trafficking {d['t']}, "
                f"corruption {d['c']}{note}"
            )
    print(f"\n(batch has {len(rows)} passages; shown {start}..{min(start + count, len(rows)) - 1})")


def record(batch: Path, annotator: str, out: Path, source: str = "manual") -> None:
    """Decisions from stdin, keyed by batch index ``i``, appended in store format.

    ``review`` decisions (adjudications) need a note giving the reason."""
    rows = read_jsonl(batch)
    done = {r["passage_id"] for r in read_jsonl(out)}
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    written, problems = 0, []
    lines = []
    for n, raw in enumerate(sys.stdin, 1):
        if not raw.strip():
            continue
        try:
            d = json.loads(raw)
            row = rows[int(d["i"])]
            labels = [str(x) for x in d.get("labels", [])]
            bad = [x for x in labels if x not in LABEL_IDS]
            if bad:
                raise ValueError(f"unknown label ids {bad}")
            t, c = d["t"], d["c"]
            if not isinstance(t, bool) or not isinstance(c, bool):
                raise ValueError("t and c must be true or false")
            if source == "review" and not str(d.get("note", "")).strip():
                raise ValueError("an adjudication needs a note with its reason")
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            problems.append(f"line {n}: {exc}")
            continue
        if row["passage_id"] in done:
            continue
        line = {k: row[k] for k in STORE_FIELDS}
        line.update(
            labels=sorted(set(labels), key=LABEL_IDS.index),
            mentions_trafficking=t,
            mentions_corruption=c,
            annotator=annotator,
            created_at=now,
            source=source,
        )
        if d.get("note"):
            line["note"] = str(d["note"])
        lines.append(json.dumps(line, ensure_ascii=False))
        done.add(row["passage_id"])
        written += 1
    if problems:
        print("\n".join(problems), file=sys.stderr)
        print(
            "nothing recorded: fix the lines above and send the whole chunk again", file=sys.stderr
        )
        sys.exit(1)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("a", encoding="utf-8") as fh:
        for line in lines:
            fh.write(line + "\n")
    print(f"recorded {written}; {len(done)} of {len(rows)} done")


def next_index(batch: Path, out: Path) -> None:
    rows = read_jsonl(batch)
    done = {r["passage_id"] for r in read_jsonl(out)}
    todo = [i for i, r in enumerate(rows) if r["passage_id"] not in done]
    print(f"{len(done)} of {len(rows)} done; next undone index: {todo[0] if todo else 'none'}")
    if todo and len(todo) < 30:
        print("undone:", todo)


def disagreements(store: Path, second: set[str], out: Path) -> None:
    """An adjudication batch: every passage where a ``second`` reader and the first
    reader differ in a label or a flag, in store order, with both decisions."""
    from service.annotations import load_annotations

    first: dict[str, dict] = {}
    pairs: list[tuple[dict, dict]] = []
    lines = [x.annotation.model_dump() for x in load_annotations(store)]
    for a in lines:
        if a["source"] == "manual" and a["annotator"] not in second:
            first.setdefault(a["passage_id"], a)
    for b in lines:
        a = first.get(b["passage_id"])
        if b["source"] == "manual" and b["annotator"] in second and a is not None:
            pairs.append((a, b))

    def key(x: dict) -> tuple:
        return set(x["labels"]), x["mentions_trafficking"], x["mentions_corruption"]

    batch = []
    for a, b in pairs:
        if key(a) != key(b):
            row = {k: a[k] for k in STORE_FIELDS}
            row["decisions"] = [
                {"annotator": x["annotator"], "labels": x["labels"], "t": x["mentions_trafficking"],
                 "c": x["mentions_corruption"], "note": x.get("note")}
                for x in (a, b)
            ]  # fmt: skip
            batch.append(row)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in batch), "utf-8")
    print(f"{len(pairs)} passages read twice, {len(batch)} to adjudicate")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("dump")
    d.add_argument("--manifest", type=Path, required=True)
    d.add_argument("--root", type=Path, required=True)
    d.add_argument("--out", type=Path, required=True)
    d.add_argument("--only", default="")
    s = sub.add_parser("show")
    s.add_argument("batch", type=Path)
    s.add_argument("--start", type=int, default=0)
    s.add_argument("--count", type=int, default=40)
    r = sub.add_parser("record")
    r.add_argument("batch", type=Path)
    r.add_argument("--annotator", required=True)
    r.add_argument("--out", type=Path, required=True)
    r.add_argument("--source", choices=("manual", "review"), default="manual")
    n = sub.add_parser("next")
    n.add_argument("batch", type=Path)
    n.add_argument("--out", type=Path, required=True)
    g = sub.add_parser("disagreements")
    g.add_argument("--store", type=Path, required=True)
    g.add_argument("--second", action="append", required=True, help="a blind reader's id")
    g.add_argument("--out", type=Path, required=True)
    a = ap.parse_args()
    if a.cmd == "dump":
        dump(a.manifest, a.root, a.out, set(filter(None, a.only.split(","))) or None)
    elif a.cmd == "show":
        show(a.batch, a.start, a.count)
    elif a.cmd == "disagreements":
        disagreements(a.store, set(a.second), a.out)
    elif a.cmd == "record":
        record(a.batch, a.annotator, a.out, a.source)
    else:
        next_index(a.batch, a.out)


if __name__ == "__main__":
    main()
