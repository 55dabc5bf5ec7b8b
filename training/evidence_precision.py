"""How often the report's evidence supports its label, on documents the model never saw.

For every held-out document of a split (default: the split's ``test`` documents), the
annotated passages are classified and covered exactly as ``tipscan score`` does, and
each piece of evidence the report shows (the first two of every covered label) is
checked against the passage's final human labels. Prints the precision overall, of
the evidence offered as citable, per label and per language.

    python training/evidence_precision.py [--split training/splits/full-v3.json] [--part test]
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

from service.annotations import final_labels, load_annotations
from service.classify import load_model
from service.cover import cover_document
from service.evidence import QuoteFinder
from service.labels import LABEL_IDS
from service.model import Document, Page, Passage, PassageInput

SHOWN = 2


def _offsets(passage_id: str) -> tuple[int, int]:
    _, start, end = passage_id.rsplit("-", 2)
    return int(start), int(end)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", default="training/splits/full-v3.json")
    ap.add_argument("--part", default="test", help="which documents of the split (test, dev)")
    ap.add_argument("--annotations", default="annotations")
    ap.add_argument("--model", default=None)
    ap.add_argument("--show", type=int, default=0, help="print this many wrong quotes")
    args = ap.parse_args()

    split = json.loads(Path(args.split).read_text(encoding="utf-8"))["documents"]
    final = final_labels(load_annotations(args.annotations))
    by_doc: dict[str, list] = defaultdict(list)
    for f in final.values():
        if split.get(f.annotation.doc) == args.part:
            by_doc[f.annotation.doc].append(f)
    model = load_model(args.model)
    hits: dict[str, list[bool]] = defaultdict(list)
    by_lang: dict[str, list[bool]] = defaultdict(list)
    wrong = []
    strong: list[bool] = []
    for name, rows in sorted(by_doc.items()):
        rows.sort(key=lambda f: _offsets(f.annotation.passage_id))
        first = rows[0].annotation
        passages = [
            Passage(
                id=f.annotation.passage_id, doc_id=f.annotation.doc_id, text=f.annotation.text,
                page_start=f.annotation.page, page_end=f.annotation.page,
                char_start=_offsets(f.annotation.passage_id)[0],
                char_end=_offsets(f.annotation.passage_id)[1],
                citation=f.annotation.citation, heading=f.annotation.heading,
                language=f.annotation.language,
            )
            for f in rows
        ]  # fmt: skip
        pages = max(p.page_end for p in passages)
        doc = Document(
            id=first.doc_id, title=first.doc_title, source=name,
            format="pdf" if pages > 1 else "text", language=first.language, page_count=pages,
            text="", pages=[Page(number=1, char_start=0, char_end=0)], blocks=[],
        )  # fmt: skip
        inputs = [
            PassageInput(id=p.id, text=p.text, title=doc.title, doc_type=first.doc_type,
                         heading=p.heading)
            for p in passages
        ]  # fmt: skip
        predictions = model.predict(inputs)

        cov = cover_document(
            doc, passages, predictions, model.meta, path=name, doc_type=first.doc_type,
            doc_type_source="meta", quotes=QuoteFinder(model.predict, {i.id: i for i in inputs}),
        )  # fmt: skip
        gold = {f.annotation.passage_id: set(f.labels) for f in rows}
        for label in LABEL_IDS:
            lc = cov.labels[label]
            if not lc.covered:
                continue
            for e in lc.evidence[:SHOWN]:
                ok = label in gold[e.passage_id]
                if e.citable:
                    strong.append(ok)
                hits[label].append(ok)
                by_lang[e.language or "?"].append(ok)
                if not ok:
                    wrong.append((name, label, e.citation, e.text))
    every = [x for v in hits.values() for x in v]
    print(f"{args.part} documents: {len(by_doc)}; evidence shown: {len(every)}; "
          f"supports its label: {sum(every)} ({sum(every) / max(len(every), 1):.1%})")  # fmt: skip
    print(f"citable evidence: {len(strong)}; supports its label: {sum(strong)} "
          f"({sum(strong) / max(len(strong), 1):.1%})")  # fmt: skip
    for label in LABEL_IDS:
        if hits[label]:
            print(f"  {label}: {sum(hits[label])}/{len(hits[label])}")
    for lang, v in sorted(by_lang.items()):
        print(f"  [{lang}] {sum(v)}/{len(v)}")
    for name, label, citation, text in wrong[: args.show]:
        print(f"- {name} {label} {citation}: {text[:160]}")


if __name__ == "__main__":
    main()
