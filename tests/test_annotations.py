"""The annotation store: the loader's errors name the line; the committed store and its split hold."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from service.annotations import (
    compute_agreement,
    compute_stats,
    final_labels,
    load_annotations,
)
from service.errors import InvalidAnnotation
from service.labels import LABEL_IDS
from service.split import load_split, make_split

ROOT = Path(__file__).resolve().parents[1]
STORE = ROOT / "annotations"
SPLIT = ROOT / "training" / "splits" / "full-v3.json"
BLIND = ("llm-blind-1", "llm-blind-2", "llm-blind-3", "llm-blind-4", "llm-blind-5")


@pytest.fixture(scope="module")
def located():
    return load_annotations(STORE)


@pytest.fixture(scope="module")
def good_line() -> dict:
    """A real line of the store: an annotated passage of a real document."""
    first = next(STORE.glob("*.jsonl")).read_text(encoding="utf-8").splitlines()[0]
    return json.loads(first)


def _store(tmp_path: Path, *records: dict | str) -> Path:
    path = tmp_path / "bad.jsonl"
    path.write_text(
        "\n".join(r if isinstance(r, str) else json.dumps(r) for r in records) + "\n",
        encoding="utf-8",
    )
    return path


def _rejects(path: Path, line: int, *words: str) -> str:
    with pytest.raises(InvalidAnnotation) as info:
        load_annotations(path)
    msg = info.value.message
    assert f"{path}:{line}:" in msg, msg
    for w in words:
        assert w in msg, msg
    return msg


def test_good_line_loads(tmp_path: Path, good_line: dict) -> None:
    located = load_annotations(_store(tmp_path, good_line))
    assert len(located) == 1 and located[0].line == 1


def test_malformed_json_names_the_line(tmp_path: Path, good_line: dict) -> None:
    path = _store(tmp_path, good_line, '{"passage_id": "x", "labels": [', good_line)
    _rejects(path, 2, "not valid JSON")


def test_not_an_object(tmp_path: Path, good_line: dict) -> None:
    _rejects(_store(tmp_path, good_line, "[1, 2]"), 2, "expected a JSON object")


def test_missing_fields_are_named(tmp_path: Path, good_line: dict) -> None:
    bad = {k: v for k, v in good_line.items() if k not in ("labels", "annotator")}
    _rejects(
        _store(tmp_path, good_line, good_line | {"passage_id": "p2"}, bad),
        3,
        "missing fields",
        "labels",
        "annotator",
    )


def test_unknown_label_id(tmp_path: Path, good_line: dict) -> None:
    bad = good_line | {"passage_id": "p2", "labels": ["1.1", "7.3"]}
    msg = _rejects(_store(tmp_path, good_line, bad), 2, "unknown label id", "'7.3'")
    assert "1.1, 1.2" in msg  # the valid ids are listed


def test_label_slug_is_not_an_id(tmp_path: Path, good_line: dict) -> None:
    bad = good_line | {"passage_id": "p2", "labels": ["immunity"]}
    _rejects(_store(tmp_path, good_line, bad), 2, "unknown label id", "'immunity'")


def test_wrong_types(tmp_path: Path, good_line: dict) -> None:
    bad = good_line | {"mentions_corruption": "maybe"}
    _rejects(_store(tmp_path, bad), 1, "mentions_corruption")
    bad = good_line | {"source": "guess"}
    _rejects(_store(tmp_path, bad), 1, "source")


def test_unexpected_field(tmp_path: Path, good_line: dict) -> None:
    _rejects(_store(tmp_path, good_line | {"lables": []}), 1, "lables")


def test_conflicting_duplicate_by_one_annotator(tmp_path: Path, good_line: dict) -> None:
    other = [x for x in LABEL_IDS if x not in good_line["labels"]][:1]
    path = _store(tmp_path, good_line, good_line | {"labels": other})
    msg = _rejects(path, 2, good_line["passage_id"], good_line["annotator"])
    assert f"{path}:1" in msg  # names the first line too


def test_exact_duplicate_and_second_annotator_are_fine(tmp_path: Path, good_line: dict) -> None:
    second = good_line | {"annotator": "someone-else", "labels": []}
    located = load_annotations(_store(tmp_path, good_line, good_line, second))
    assert len(located) == 2


def test_review_line_decides(tmp_path: Path, good_line: dict) -> None:
    a = good_line | {"labels": ["1.2"], "annotator": "a", "created_at": "2026-01-01T00:00:00Z"}
    b = good_line | {"labels": ["2.3"], "annotator": "b", "created_at": "2026-01-02T00:00:00Z"}
    finals = final_labels(load_annotations(_store(tmp_path, a, b)))
    assert finals[good_line["passage_id"]].how == "unresolved"
    r = a | {"labels": ["1.2", "2.3"], "annotator": "adj", "source": "review",
             "created_at": "2026-01-03T00:00:00Z"}  # fmt: skip
    finals = final_labels(load_annotations(_store(tmp_path, a, b, r)))
    f = finals[good_line["passage_id"]]
    assert (f.how, f.labels) == ("adjudicated", ("1.2", "2.3"))


# --- the committed store ------------------------------------------------------


def test_store_size_and_spread(located) -> None:
    stats = compute_stats(located)
    assert stats["passages"] >= 7000
    assert stats["documents"] >= 58
    assert {"en", "nl", "es", "fr", "pt", "sv"} <= set(stats["languages"])
    assert stats["resolution"].get("unresolved", 0) == 0


def test_store_has_a_blind_second_pass(located) -> None:
    agr = compute_agreement(located, second=BLIND)
    assert agr.passages >= 1200
    second, first = set(agr.second.split(", ")), set(agr.first.split(", "))
    assert second <= set(BLIND) and not first & set(BLIND)


def test_every_passage_has_one_first_reading(located) -> None:
    first = Counter(
        x.annotation.passage_id
        for x in located
        if x.annotation.source == "manual" and x.annotation.annotator not in BLIND
    )
    assert first and set(first.values()) == {1}


def test_frozen_split_keeps_documents_whole(located) -> None:
    split = load_split(SPLIT)
    finals = final_labels(located)
    parts_of: dict[str, set[str]] = {}
    for f in finals.values():
        parts_of.setdefault(f.annotation.doc, set()).add(split.get(f.annotation.doc, "?"))
    assert all(len(p) == 1 for p in parts_of.values())
    assert "?" not in set().union(*parts_of.values()), "an annotated document has no part"
    assert set(split.values()) == {"train", "dev", "test"}


def test_make_split_is_document_level_and_spreads_rare_labels(located) -> None:
    finals = final_labels(located)
    assign = make_split(finals, seed=1)
    docs_with: dict[str, set[str]] = {}
    for f in finals.values():
        for label in f.labels:
            docs_with.setdefault(label, set()).add(f.annotation.doc)
    for label, docs in docs_with.items():
        if len(docs) >= 3:
            parts = {assign[d] for d in docs}
            assert {"train", "test"} <= parts, label
