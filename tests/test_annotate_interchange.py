"""Decisions out to Label Studio, Prodigy, doccano and the JSONL store format, and back in:
round trips on real stored passages, malformed files refused whole, and the CLI."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from service.annotate.interchange import FORMATS, Format, export, import_file
from service.annotate.loading import load_jsonl
from service.annotate.records import Decision, finals
from service.annotations import final_labels, load_annotations
from service.cli import app
from service.errors import InvalidInput
from service.store import Store

ROOT = Path(__file__).resolve().parent.parent
ANNOTATIONS = ROOT / "annotations"
MANIFEST = ROOT / "corpus" / "MANIFEST.csv"
TOOLS: tuple[Format, ...] = ("label-studio", "prodigy", "doccano")
runner = CliRunner()


def _open(folder: Path) -> Store:
    folder.mkdir(parents=True, exist_ok=True)
    return Store.open(f"sqlite:///{folder / 'tipscan.db'}", folder)


def _rows(store: Store) -> tuple[list[dict[str, Any]], ...]:
    ann = store.annotation
    return (
        sorted((d.model_dump() for d in ann.decisions()), key=lambda d: d["id"]),
        sorted((a.model_dump() for a in ann.adjudications()), key=lambda a: a["id"]),
        sorted((p.model_dump() for p in ann.passages().values()), key=lambda p: p["id"]),
    )


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """The blind pass and the adjudications of the store, plus decisions made in queues:
    notes, shown suggestions, queues and sub-second times that the JSONL store has not."""
    store = _open(tmp_path_factory.mktemp("source"))
    load_jsonl(store, ANNOTATIONS / "full-blind.jsonl", [MANIFEST])
    load_jsonl(store, ANNOTATIONS / "full-adjudication.jsonl", [MANIFEST])
    some = sorted(store.annotation.passages())[:40]
    t0 = datetime(2026, 5, 4, 10, 30, 15, 123456, tzinfo=UTC)
    store.annotation.add_decisions(
        Decision(
            id=f"{i:032x}", passage_id=pid, labels=["2.3", "3.4"][: i % 3],
            mentions_trafficking=i % 2 == 0, mentions_corruption=i % 5 == 0,
            annotator=f"key{i % 3}", shown_suggestions=i % 4 != 0,
            queue=("uncertainty", "random", "double", "document")[i % 4],
            note="whistle-blower channel, \"anonymous\"" if i % 2 else "", source="manual",
            at=t0 + timedelta(seconds=i, microseconds=i),
        )
        for i, pid in enumerate(some)
    )  # fmt: skip
    yield store
    store.close()


@pytest.mark.parametrize("fmt", TOOLS)
def test_a_round_trip_keeps_every_decision(fmt: Format, source: Store, tmp_path: Path) -> None:
    text = export(source, fmt)
    target = _open(tmp_path)
    got = import_file(target, text, fmt)
    before = _rows(source)
    assert got.decisions_added == len(before[0]) > 1400
    assert got.adjudications_added == len(before[1]) == 188
    assert _rows(target) == before  # passage, labels, flags, annotator, time, note, queue, ...
    again = import_file(target, text, fmt)
    assert (again.passages_added, again.decisions_added, again.adjudications_added) == (0, 0, 0)
    target.close()


def _break(mutate: Callable[[dict[str, Any]], None]) -> Callable[[str], str]:
    def apply(raw: str) -> str:
        trail = "," if raw.endswith(",") else ""
        obj = json.loads(raw.removesuffix(","))
        mutate(obj)
        return json.dumps(obj) + trail

    return apply


def _set_labels(fmt: Format, labels: list[str]) -> Callable[[dict[str, Any]], None]:
    def mutate(obj: dict[str, Any]) -> None:
        if fmt == "label-studio":
            obj["annotations"][0]["result"][0]["value"]["choices"] = labels
        elif fmt == "prodigy":
            obj["accept"] = labels
        else:
            obj["label"] = labels

    return mutate


def _drop(fmt: Format, key: str) -> Callable[[dict[str, Any]], None]:
    def mutate(obj: dict[str, Any]) -> None:
        where = obj["data"] if fmt == "label-studio" else obj["meta"] if fmt == "prodigy" else obj
        if key == "text" and fmt != "label-studio":
            where = obj
        where.pop(key)

    return mutate


BREAKS: dict[str, Callable[[Format], Callable[[str], str]]] = {
    "bad JSON": lambda fmt: lambda raw: raw[: len(raw) // 2],
    "unknown label id": lambda fmt: _break(_set_labels(fmt, ["2.3", "7.1"])),
    "missing passage text": lambda fmt: _break(_drop(fmt, "text")),
    "missing passage id": lambda fmt: _break(_drop(fmt, "passage_id")),
}
EXPECT = {
    "bad JSON": "not valid JSON",
    "unknown label id": "'7.1'",
    "missing passage text": "passage text",
    "missing passage id": "passage id",
}


@pytest.mark.parametrize("fmt", TOOLS)
@pytest.mark.parametrize("how", list(BREAKS))
def test_a_malformed_line_is_named_and_nothing_is_imported(
    fmt: Format, how: str, source: Store, tmp_path: Path
) -> None:
    lines = export(source, fmt).splitlines()
    n = 37  # a line in the middle of the file (a task line in Label Studio's array)
    lines[n - 1] = BREAKS[how](fmt)(lines[n - 1])
    target = _open(tmp_path)
    empty = target.annotation.counts()
    with pytest.raises(InvalidInput) as err:
        import_file(target, "\n".join(lines) + "\n", fmt)
    assert f"line {n}:" in err.value.message and EXPECT[how] in err.value.message
    assert target.annotation.counts() == empty == dict.fromkeys(empty, 0)
    target.close()


def test_the_tipscan_export_is_the_annotation_store_line_format(
    source: Store, tmp_path: Path
) -> None:
    (tmp_path / "store").mkdir()
    (tmp_path / "store" / "export.jsonl").write_text(export(source, "tipscan"), encoding="utf-8")
    lines = load_annotations(tmp_path / "store")  # the store's own validation
    ann = source.annotation
    assert len(lines) == len(ann.decisions()) + len(ann.adjudications())
    expected = finals(ann.passages(), ann.decisions(), ann.adjudications())
    got = final_labels(lines)
    assert {k: (f.labels, f.how) for k, f in got.items()} == {
        k: (f.labels, f.how) for k, f in expected.items()
    }


# --- the command line ---------------------------------------------------------------


def _loaded(output: str) -> dict[str, tuple[int, int]]:
    found = re.findall(r"(\d+) (passages|decisions|adjudications) \((\d+) new\)", output)
    return {kind: (int(total), int(new)) for total, kind, new in found}


def test_load_twice_gives_the_same_counts_and_the_store_s_final_labels(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'a.db'}"
    args = ["annotations", "load", "--store", str(ANNOTATIONS), "--db", db, "--meta", str(MANIFEST)]
    located = load_annotations(ANNOTATIONS)
    from_jsonl = final_labels(located)
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    store = Store.open(db, tmp_path / "data")
    rows = store.counts()
    second = runner.invoke(app, args)
    assert second.exit_code == 0, second.output
    reviews = sum(x.annotation.source == "review" for x in located)
    assert _loaded(first.output) == {
        "passages": (len(from_jsonl), len(from_jsonl)),
        "decisions": (len(located) - reviews, len(located) - reviews),
        "adjudications": (reviews, reviews),
    }
    assert _loaded(second.output) == {k: (n, 0) for k, (n, _) in _loaded(first.output).items()}
    assert store.counts() == rows
    ann = store.annotation
    from_db = finals(ann.passages(), ann.decisions(), ann.adjudications())
    assert {k: (f.labels, f.mentions_trafficking, f.mentions_corruption, f.how)
            for k, f in from_db.items()} == {
        k: (f.labels, f.mentions_trafficking, f.mentions_corruption, f.how)
        for k, f in from_jsonl.items()
    }  # fmt: skip
    store.close()


@pytest.mark.parametrize("fmt", FORMATS)
def test_export_and_import_from_the_command_line(fmt: Format, tmp_path: Path) -> None:
    src, dst = f"sqlite:///{tmp_path / 'src.db'}", f"sqlite:///{tmp_path / 'dst.db'}"
    adj = str(ANNOTATIONS / "full-adjudication.jsonl")
    assert runner.invoke(app, ["annotations", "load", "--store", adj, "--db", src]).exit_code == 0
    out = tmp_path / f"export-{fmt}"
    r = runner.invoke(
        app, ["annotations", "export", "--format", fmt, "--db", src, "--out", str(out)]
    )
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["annotations", "import", str(out), "--format", fmt, "--db", dst])
    assert r.exit_code == 0, r.output
    assert r.output.startswith("0 decisions (0 new), 188 adjudications (188 new)"), r.output
    lines = out.read_text(encoding="utf-8").splitlines()
    lines[4] = lines[4][:-9]
    bad = tmp_path / "bad"
    bad.write_text("\n".join(lines), encoding="utf-8")
    other = f"sqlite:///{tmp_path / 'other.db'}"
    r = runner.invoke(app, ["annotations", "import", str(bad), "--format", fmt, "--db", other])
    assert r.exit_code == 2 and "line 5:" in r.output, r.output
    store = Store.open(other, tmp_path / "data")
    assert store.annotation.counts()["adjudications"] == 0
    store.close()
