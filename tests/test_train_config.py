"""Training configs are typed: the shipped ones read, a misspelt key is refused by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.errors import ModelError
from service.train_config import read_config

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", ["sklearn.toml", "spacy.toml"])
def test_the_shipped_configs_read(name: str) -> None:
    cfg = read_config(ROOT / "training" / name)
    assert cfg.model.kind == name.removesuffix(".toml")
    assert cfg.scorer is (cfg.sklearn if cfg.model.kind == "sklearn" else cfg.spacy)
    assert Path(ROOT / cfg.data.split).is_file()


def test_a_misspelt_key_or_unknown_group_is_refused(tmp_path: Path) -> None:
    text = (ROOT / "training" / "sklearn.toml").read_text()
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace("min_calibrated", "min_calibratd"))
    with pytest.raises(ModelError, match=r"sklearn\.min_calibratd: Extra inputs"):
        read_config(bad)
    bad.write_text(
        text.replace(
            'features = ["text", "heading", "lexicon"',
            'features = ["text", "heading", "lexicons"',
            1,
        )
    )
    with pytest.raises(ModelError, match=r"sklearn\.features\.2"):
        read_config(bad)
    with pytest.raises(ModelError, match="no such training config"):
        read_config(tmp_path / "missing.toml")


def test_an_ablation_changes_only_the_features() -> None:
    cfg = read_config(ROOT / "training" / "sklearn.toml")
    sub = cfg.with_features(["text"])
    assert sub.sklearn.features == ["text"] and sub.sklearn.C == cfg.sklearn.C
    assert cfg.sklearn.features != ["text"]
