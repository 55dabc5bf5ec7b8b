"""Model folders: plain arrays and JSON, verified before loading, found only where named."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest

from service.classify import (
    DEFAULT_FILE,
    default_model_name,
    load_model,
    models_dir,
    packaged_models,
    record_default,
)
from service.classify.vectorize import Tfidf
from service.errors import ModelError
from service.model import PassageInput
from tests.conftest import corpus_file

ROOT = Path(__file__).resolve().parents[1]


def _copy_default(tmp_path: Path) -> tuple[Path, str]:
    name = default_model_name(packaged_models())
    root = tmp_path / "models"
    shutil.copytree(packaged_models() / name, root / name)
    (root / DEFAULT_FILE).write_text(name + "\n")
    return root, name


def _rewrite_checksums(folder: Path) -> None:
    """What an attacker who can write the folder can do too: make meta.json agree."""
    meta = json.loads((folder / "meta.json").read_text())
    meta["files"] = {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != "meta.json"
    }
    (folder / "meta.json").write_text(json.dumps(meta))


class _Payload:
    """Unpickling this runs code: it creates the file named."""

    def __init__(self, target: Path) -> None:
        self.target = target

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (Path.touch, (self.target,))


def test_a_model_file_holding_code_is_refused_before_it_runs(tmp_path: Path) -> None:
    root, name = _copy_default(tmp_path)
    folder = root / name
    ran = tmp_path / "code-ran"
    with np.load(folder / "weights.npz", allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["coef"] = np.array([_Payload(ran)], dtype=object)  # pickled inside the .npz
    with (folder / "weights.npz").open("wb") as fh:
        np.savez(fh, **arrays)
    _rewrite_checksums(folder)
    with pytest.raises(ModelError, match="not valid"):
        load_model(name, root)
    assert not ran.exists()
    # The same bytes, unpickled the unsafe way, do run code: the payload is real.
    with np.load(folder / "weights.npz", allow_pickle=True) as npz:
        npz["coef"]
    assert ran.exists()


def test_a_changed_or_added_file_is_refused(tmp_path: Path) -> None:
    root, name = _copy_default(tmp_path)
    folder = root / name
    load_model(name, root)
    (folder / "model.skops").write_bytes(b"PK\x03\x04 not a model")  # an old-style file
    with pytest.raises(ModelError, match=r"changed after training.*model\.skops"):
        load_model(name, root)
    (folder / "model.skops").unlink()
    features = json.loads((folder / "features.json").read_text())
    features["vectorizers"][0]["terms"][0] = "tampered"
    (folder / "features.json").write_text(json.dumps(features))
    with pytest.raises(ModelError, match=r"features\.json differ from the checksums"):
        load_model(name, root)


def test_models_are_never_taken_from_the_working_directory(tmp_path: Path) -> None:
    # A folder with its own models/DEFAULT pointing at a model that does not exist:
    # tipscan run there still loads the packaged default.
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / DEFAULT_FILE).write_text("planted\n")
    passage = {"id": "x", "text": "Any public official who facilitates trafficking in persons"}
    env = {k: v for k, v in os.environ.items() if k != "TIPSCAN_MODELS"}
    done = subprocess.run(
        [sys.executable, "-m", "service.cli", "classify", "-"],
        input=json.dumps(passage),
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT)},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["id"] == "x"
    # Named explicitly, that folder is used, and its missing model is reported.
    done = subprocess.run(
        [sys.executable, "-m", "service.cli", "classify", "-", "--models", "models"],
        input=json.dumps(passage),
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT)},
        timeout=120,
    )
    assert done.returncode == 2 and "no model 'planted'" in done.stderr


def test_models_dir_order(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("TIPSCAN_MODELS", raising=False)
    assert models_dir() == packaged_models()
    monkeypatch.setenv("TIPSCAN_MODELS", str(tmp_path / "env"))
    assert models_dir() == tmp_path / "env"
    assert models_dir(tmp_path / "flag") == tmp_path / "flag"


def test_choosing_the_default_leaves_model_folders_unchanged(tmp_path: Path) -> None:
    root, name = _copy_default(tmp_path)
    before = {p: p.read_bytes() for p in (root / name).rglob("*") if p.is_file()}
    reason = record_default(name, root, reason="chosen for a test")
    assert reason == "chosen for a test"
    assert {p: p.read_bytes() for p in (root / name).rglob("*") if p.is_file()} == before
    history = [json.loads(x) for x in (root / "default-history.jsonl").read_text().splitlines()]
    assert history[-1]["name"] == name and history[-1]["reason"] == "chosen for a test"
    assert default_model_name(root) == name
    with pytest.raises(ModelError, match="no model 'nothing'"):
        record_default("nothing", root)


def test_array_tfidf_equals_scikit_learn_on_real_passages() -> None:
    from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

    from service.batch import process_file

    _, passages = process_file(corpus_file("brb/trafficking-in-persons-prevention-bill-2016.pdf"))
    texts = [p.text for p in passages]
    half = len(texts) // 2
    for vectorizer in (
        TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True),
        TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), min_df=2, sublinear_tf=True),
        CountVectorizer(binary=True, token_pattern=r"\S+", lowercase=False),
    ):
        vectorizer.fit(texts[:half])
        ours = Tfidf.from_sklearn(vectorizer)
        # Texts the vocabulary never saw, twice (the second time from the word cache).
        for _ in range(2):
            diff = abs(ours.transform(texts[half:]) - vectorizer.transform(texts[half:]))
            assert diff.max() < 1e-12


def test_the_default_model_loads_from_arrays_and_json_only(model) -> None:  # type: ignore[no-untyped-def]
    files = set(model.meta.files)
    assert {"features.json", "weights.npz", "config.toml", "MODEL_CARD.md"} <= files
    assert not any(f.endswith((".pkl", ".pickle", ".joblib", ".skops")) for f in files)
    preds = model.predict(
        [PassageInput(id="a", text="Any public official who facilitates trafficking in persons")]
    )
    assert preds[0].mentions_trafficking and set(preds[0].scores) == set(model.meta.thresholds)


def test_every_package_is_listed_for_installation() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    found = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for p in (ROOT / "service").rglob("__init__.py")
        if "__pycache__" not in p.parts
    }
    assert found <= listed
    assert config["package-dir"]["tipscan_models"] == "models"
