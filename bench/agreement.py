"""Engine agreement: do pdfium and pdfplumber give tipscan the same passages?

For every text PDF of the corpus (the scanned one needs OCR and is skipped), the
document is extracted and segmented with both engines. Passage texts are normalised
(NFKC, all whitespace runs -> one space, stripped) and the two ordered lists are aligned
with difflib.SequenceMatcher (autojunk off). A passage agrees when it lies in a matching
block, i.e. the same normalised text at the same place in the order.

    share(doc)  = identical / max(passages_pdfium, passages_pdfplumber)
    overall     = sum(identical) / sum(max(passages_pdfium, passages_pdfplumber))

Matched pairs whose citations differ are counted separately. Unmatched passages are
paired up inside each 'replace' opcode and classified:

- boundary:   one text contains the other (a passage was cut at a different place)
- whitespace: equal once all spaces are removed (a space inserted or lost inside a line)
- chars:      anything else; the character-level diff is shown
- only_one:   a passage with no counterpart in the other engine's list

    python bench/agreement.py [--show 4]
"""

from __future__ import annotations

import argparse
import difflib
import json
import time
import unicodedata
from collections import Counter
from pathlib import Path

from tables import fmt_table

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
CORPUS = BENCH.parent.parent / "shared" / "corpus"
SCANNED = "lka/passport-exit-permit-amendment-1980-scanned.pdf"
ENGINES = ("pdfium", "pdfplumber")
TARGET = 0.97


def norm(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).split())


def char_diff(a: str, b: str, limit: int = 6, ctx: int = 12) -> list[str]:
    """The first few character-level edits from a to b, with a little context."""
    ops = []
    sm = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag == "equal":
            continue
        left = a[max(0, i1 - ctx) : i1]
        ops.append(f"{tag}@{i1} …{left}[{a[i1:i2]!r}→{b[j1:j2]!r}]{a[i2 : i2 + ctx]}…")
        if len(ops) >= limit:
            ops.append("…")
            break
    return ops


def classify(a: str, b: str) -> str:
    if a in b or b in a:
        return "boundary"
    if a.replace(" ", "") == b.replace(" ", ""):
        return "whitespace"
    return "chars"


def compare(path: Path) -> dict:
    from service.extract import extract_path
    from service.segment import segment_document

    out: dict = {"file": path.relative_to(CORPUS).as_posix()}
    passages = {}
    for engine in ENGINES:
        t = time.perf_counter()
        doc = extract_path(path, engine=engine)
        ps = segment_document(doc)
        passages[engine] = ps
        out[engine] = {
            "passages": len(ps),
            "pages": doc.page_count,
            "chars": len(doc.text),
            "seconds": round(time.perf_counter() - t, 2),
            "warnings": doc.warnings,
        }
    pa, pb = passages["pdfium"], passages["pdfplumber"]
    a, b = [norm(p.text) for p in pa], [norm(p.text) for p in pb]
    sm = difflib.SequenceMatcher(None, a, b, autojunk=False)
    identical = 0
    citation_mismatch = []
    for blk in sm.get_matching_blocks():
        identical += blk.size
        for k in range(blk.size):
            ca, cb = pa[blk.a + k].citation, pb[blk.b + k].citation
            if ca != cb:
                citation_mismatch.append({"pdfium": ca, "pdfplumber": cb})
    diffs = []
    kinds: Counter[str] = Counter()
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag == "equal":
            continue
        n = max(i2 - i1, j2 - j1)
        for k in range(n):
            x = pa[i1 + k] if i1 + k < i2 else None
            y = pb[j1 + k] if j1 + k < j2 else None
            kind = classify(a[i1 + k], b[j1 + k]) if x and y else "only_one"
            kinds[kind] += 1
            diffs.append(
                {
                    "kind": kind,
                    "pdfium": _side(x, a[i1 + k] if x else ""),
                    "pdfplumber": _side(y, b[j1 + k] if y else ""),
                    "char_diff": char_diff(a[i1 + k], b[j1 + k]) if x and y else [],
                }
            )
    denom = max(len(a), len(b))
    chars_same = sum(len(a[blk.a + k]) for blk in sm.get_matching_blocks() for k in range(blk.size))
    out.update(
        {
            "identical": identical,
            "denominator": denom,
            "share": identical / denom if denom else 1.0,
            "chars_identical": chars_same,
            "chars_max": max(sum(map(len, a)), sum(map(len, b))),
            "citation_mismatch_in_matched": citation_mismatch,
            "diff_kinds": dict(kinds),
            "diffs": diffs,
        }
    )
    return out


def _side(p, text: str) -> dict | None:
    if p is None:
        return None
    return {
        "citation": p.citation,
        "page": p.page_start,
        "text": text[:400],
        "length": len(text),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--show", type=int, default=4, help="differing pairs printed per document")
    ap.add_argument("--out", type=Path, default=RESULTS / "agreement.json")
    args = ap.parse_args()

    files = sorted(p for p in CORPUS.glob("*/*.pdf") if p.relative_to(CORPUS).as_posix() != SCANNED)
    docs = []
    for path in files:
        docs.append(compare(path))
        d = docs[-1]
        print(f"  {d['file']}: {d['identical']}/{d['denominator']}", flush=True)

    rows = []
    for d in docs:
        kinds = ", ".join(f"{k} {v}" for k, v in sorted(d["diff_kinds"].items())) or "-"
        rows.append(
            [
                d["file"],
                str(d["pdfium"]["pages"]),
                str(d["pdfium"]["passages"]),
                str(d["pdfplumber"]["passages"]),
                str(d["identical"]),
                f"{100 * d['share']:.1f}%",
                str(len(d["citation_mismatch_in_matched"])),
                kinds,
            ]
        )
    identical = sum(d["identical"] for d in docs)
    denom = sum(d["denominator"] for d in docs)
    overall = identical / denom if denom else 1.0
    chars_share = sum(d["chars_identical"] for d in docs) / max(
        1, sum(d["chars_max"] for d in docs)
    )
    rows.append(
        [
            f"**overall ({len(docs)} PDFs)**",
            str(sum(d["pdfium"]["pages"] for d in docs)),
            str(sum(d["pdfium"]["passages"] for d in docs)),
            str(sum(d["pdfplumber"]["passages"] for d in docs)),
            str(identical),
            f"**{100 * overall:.2f}%**",
            str(sum(len(d["citation_mismatch_in_matched"]) for d in docs)),
            "",
        ]
    )
    print()
    print("## Engine agreement (pdfium vs pdfplumber, normalised passage text)")
    print()
    print(f"Skipped: {SCANNED} (scanned, no text layer; OCR is engine-independent).")
    print()
    print(
        fmt_table(
            [
                "document",
                "pages",
                "passages pdfium",
                "passages pdfplumber",
                "identical",
                "share",
                "citation differs (matched)",
                "unmatched kinds",
            ],
            rows,
        )
    )
    print()
    print(
        "overall share = sum(identical) / sum(max(passages_pdfium, passages_pdfplumber)) "
        f"= {identical}/{denom} = {100 * overall:.2f}% "
        f"-> target >= {100 * TARGET:.0f}%: {'MET' if overall >= TARGET else 'NOT MET'}"
    )
    print(
        f"character-weighted share (identical passage chars / max total chars): "
        f"{100 * chars_share:.2f}%"
    )
    print()

    for d in docs:
        if d["share"] >= 1.0 and not d["citation_mismatch_in_matched"]:
            continue
        print(f"### {d['file']} ({100 * d['share']:.1f}%)")
        print()
        for cm in d["citation_mismatch_in_matched"][: args.show]:
            print(
                f"- same text, citation differs: pdfium {cm['pdfium']!r} / "
                f"pdfplumber {cm['pdfplumber']!r}"
            )
        for diff in d["diffs"][: args.show]:
            x, y = diff["pdfium"], diff["pdfplumber"]
            print(f"- **{diff['kind']}**")
            for name, side in (("pdfium", x), ("pdfplumber", y)):
                if side is None:
                    print(f"  - {name}: (no counterpart)")
                else:
                    print(
                        f"  - {name} [{side['citation']}, p.{side['page']}, "
                        f"{side['length']} ch]: {side['text'][:150]!r}"
                    )
            if diff["char_diff"]:
                print(f"  - char diff: {' | '.join(diff['char_diff'])}")
        if len(d["diffs"]) > args.show:
            print(f"- … {len(d['diffs']) - args.show} more in the JSON")
        print()

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "formula": "sum(identical) / sum(max(passages_pdfium, passages_pdfplumber))",
                "normalisation": "NFKC, whitespace runs collapsed to one space, stripped",
                "skipped": [SCANNED],
                "overall_share": overall,
                "identical": identical,
                "denominator": denom,
                "char_weighted_share": chars_share,
                "target": TARGET,
                "met": overall >= TARGET,
                "documents": docs,
            },
            indent=2,
            ensure_ascii=False,
        )
    )
    print(f"JSON written to {args.out}")


if __name__ == "__main__":
    main()
