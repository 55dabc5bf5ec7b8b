"""A retrained model against the default on the same held-out documents: compared label by
label, promoted only when better on held-out macro-F1, or by a recorded override.

The candidate is a real model trained from the annotation store with a small config
(lexicon and concept counts only, two folds, no cross-validation), so it trains in
seconds; the baseline is a copy of the shipped default. Nothing here writes to the
shipped models/ folder.
"""

from __future__ import annotations

import json
import shutil
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from service.classify import DEFAULT_FILE, HISTORY_FILE, default_model_name, load_model, read_meta
from service.cli import app as cli
from service.errors import InvalidInput
from service.promote import PromotionRefused, promote
from service.split import load_split
from service.train import evaluate_model, train_model
from tests.conftest import ROOT
from tests.databases import BACKENDS, fresh_database

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

runner = CliRunner()
SPLIT = ROOT / "training" / "splits" / "full-v3.json"
SHIPPED = ROOT / "models"


def small_config(folder: Path, version: str) -> Path:
    """A real sklearn config over the real store and split, small enough to train in seconds."""
    path = folder / "small.toml"
    path.write_text(
        f"""[model]
name = "small-lexicon"
version = "{version}"
kind = "sklearn"
description = "Lexicon and concept counts only: a model that trains in seconds."

[data]
annotations = "{ROOT / "annotations"}"
split = "{SPLIT}"

[sklearn]
features = ["lexicon", "concepts"]
calibrate = false
C = 1.0

[evaluation]
cv_folds = 2
""",
        encoding="utf-8",
    )
    return path


@dataclass
class Trained:
    root: Path  # the shipped default (the folder's DEFAULT) and the small model
    default: str
    small: str
    config: Path


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    root = tmp_path_factory.mktemp("models")
    default = default_model_name(SHIPPED)
    shutil.copytree(SHIPPED / default, root / default)
    (root / DEFAULT_FILE).write_text(default + "\n")
    config = small_config(tmp_path_factory.mktemp("training"), "0.1.0")
    folder = train_model(config, root, cv=False)
    return Trained(root, default, folder.name, config)


def models_copy(trained: Trained, tmp_path: Path) -> Path:
    """A folder of its own for a test that changes the default."""
    root = tmp_path / "models"
    shutil.copytree(trained.root, root)
    return root


def history(root: Path) -> list[dict[str, Any]]:
    path = root / HISTORY_FILE
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


def test_training_scores_the_default_on_the_same_held_out_documents(trained: Trained) -> None:
    meta = read_meta(trained.root / trained.small)
    cmp = meta.versus_default
    assert cmp is not None and cmp["baseline"] == trained.default
    test_docs = sorted(d for d, part in load_split(SPLIT).items() if part == "test")
    assert cmp["documents"] == test_docs and cmp["split"] == "full-v3"
    assert cmp["passages"] == meta.sizes["test"].passages
    # The baseline's figures are what evaluating the default on that split gives.
    baseline = evaluate_model(
        load_model(trained.default, trained.root), ROOT / "annotations", "test"
    )
    old = cmp["scores"]["baseline"]
    assert old["macro_f1"] == pytest.approx(baseline["macro_f1"])
    assert old["micro_f1"] == pytest.approx(baseline["micro"]["f1"])
    new = cmp["scores"]["candidate"]
    assert new["macro_f1"] == pytest.approx(meta.test["macro_f1"])
    for label, f1 in new["per_label"].items():
        assert f1 == meta.test["per_label"][label]["f1"]
        if f1 is not None:
            assert cmp["delta"]["per_label"][label] == pytest.approx(f1 - old["per_label"][label])
    assert set(new["by_language"]) == set(meta.test["by_language"]) >= {"en"}
    assert cmp["delta"]["macro_f1"] == pytest.approx(new["macro_f1"] - old["macro_f1"])
    # Lexicon counts alone read passages worse than the shipped model.
    assert cmp["better"] is False and cmp["delta"]["macro_f1"] < 0


def test_the_comparison_is_in_the_model_card(trained: Trained) -> None:
    meta = read_meta(trained.root / trained.small)
    card = (trained.root / trained.small / "MODEL_CARD.md").read_text()
    cmp = meta.versus_default
    assert cmp is not None
    assert (
        f"## Against the default model ({trained.default}) on the same held-out documents" in card
    )
    assert "**not better** on held-out macro-F1" in card
    for doc in cmp["documents"]:
        assert doc in card
    new, old = cmp["scores"]["candidate"], cmp["scores"]["baseline"]
    assert (
        f"| macro-F1 | {new['macro_f1']:.2f} | {old['macro_f1']:.2f} | "
        f"{cmp['delta']['macro_f1']:+.2f} |" in card
    )
    assert "### Per label F1 (same held-out documents)" in card
    assert "### Per language (same held-out documents)" in card


def test_a_worse_model_is_refused_and_the_refusal_names_the_numbers(
    trained: Trained, tmp_path: Path
) -> None:
    root = models_copy(trained, tmp_path)
    before = history(root)
    cmp = read_meta(root / trained.small).versus_default
    assert cmp is not None
    new = f"{cmp['scores']['candidate']['macro_f1']:.3f}"
    old = f"{cmp['scores']['baseline']['macro_f1']:.3f}"
    with pytest.raises(PromotionRefused) as refused:
        promote(trained.small, root, annotations=ROOT / "annotations", by="tester")
    assert f"held-out macro-F1 {new} against {old} for {trained.default}" in refused.value.message
    assert "10 test documents of split full-v3" in refused.value.message
    result = runner.invoke(cli, ["models", "default", trained.small, "--models", str(root)])
    assert result.exit_code == 1, result.output
    assert new in result.output and old in result.output and "not better" in result.output
    assert default_model_name(root) == trained.default and history(root) == before


def test_an_override_needs_a_reason_and_is_recorded_with_it(
    trained: Trained, tmp_path: Path
) -> None:
    root = models_copy(trained, tmp_path)
    with pytest.raises(InvalidInput, match="needs a reason"):
        promote(trained.small, root, override=True, reason="  ")
    words = ["models", "default", trained.small, "--models", str(root), "--override"]
    assert runner.invoke(cli, words).exit_code == 2
    assert default_model_name(root) == trained.default
    why = "lexicon-only scores for a comparison with the full model"
    result = runner.invoke(cli, [*words, "--reason", why, "--by", "admin-ana"])
    assert result.exit_code == 0, result.output
    assert default_model_name(root) == trained.small
    entry = history(root)[-1]
    assert entry["name"] == trained.small and entry["previous"] == trained.default
    assert entry["override"] is True and entry["reason"] == why and entry["by"] == "admin-ana"
    assert entry["at"] and entry["comparison"]["baseline"] == trained.default
    assert entry["comparison"]["macro_f1"] < entry["comparison"]["baseline_macro_f1"]
    # Back to the better model: no override or reason needed, and the record says why.
    decision = promote(trained.default, root, annotations=ROOT / "annotations", by="tester")
    assert decision.promoted and decision.reason.startswith("better: held-out macro-F1")
    assert default_model_name(root) == trained.default
    assert history(root)[-1]["override"] is False


def test_train_promote_keeps_the_default_when_the_new_model_is_worse(
    trained: Trained, tmp_path: Path
) -> None:
    root = models_copy(trained, tmp_path)
    config = small_config(tmp_path, "0.2.0")
    result = runner.invoke(
        cli, ["train", str(config), "--no-cv", "--promote", "--models", str(root)]
    )
    assert result.exit_code == 0, result.output
    assert "not promoted: small-lexicon-0.2.0 is not better than the default" in result.output
    assert default_model_name(root) == trained.default
    assert (root / "small-lexicon-0.2.0" / "MODEL_CARD.md").is_file()


# --- the API -----------------------------------------------------------------------


@dataclass
class Api:
    client: TestClient
    app: Any
    root: Path
    keys: dict[str, str]

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}


@pytest.fixture(scope="module", params=BACKENDS)
def api(
    request: pytest.FixtureRequest,
    trained: Trained,
    model: Any,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Api]:
    """The app on its own copy of the trained models, its keys in a store on each backend."""
    from service.api import create_app
    from service.settings import Settings

    root = tmp_path_factory.mktemp(f"api-models-{request.param}")
    shutil.rmtree(root)
    shutil.copytree(trained.root, root)
    data = tmp_path_factory.mktemp(f"api-data-{request.param}")
    with fresh_database(request.param, data) as url:
        settings = Settings.load(data_dir=data, db_url=url, models_dir=root)
        application = create_app(settings, model=model)
        with TestClient(application) as client:
            application.state.training_dir = trained.config.parent
            store = application.state.store
            keys = {role: store.create_key(role)[1] for role in ("reader", "annotator", "admin")}
            yield Api(client, application, root, keys)


def test_training_through_the_api_needs_the_admin_role(api: Api, trained: Trained) -> None:
    body = {"config": "small", "version": "0.3.0"}
    for role, status in (("reader", 403), ("annotator", 403)):
        r = api.client.post("/v1/models", json=body, headers=api.auth(role))
        assert r.status_code == status, r.text
    assert api.client.post("/v1/models", json=body).status_code == 401
    missing = api.client.post("/v1/models", json={"config": "nothing"}, headers=api.auth("admin"))
    assert missing.status_code == 404 and "small" in missing.json()["detail"]
    exists = api.client.post(
        "/v1/models", json={"config": "small", "version": "0.1.0"}, headers=api.auth("admin")
    )
    assert exists.status_code == 409, exists.text
    assert not (api.root / "small-lexicon-0.3.0").exists()
    paths = api.client.get("/openapi.json").json()["paths"]
    assert {"/v1/models", "/v1/models/{ref}", "/v1/models/{name}/promote"} <= set(paths)


def test_a_model_trained_through_the_api_is_listed_and_promoted_by_the_rule(
    api: Api, trained: Trained
) -> None:
    r = api.client.post(
        "/v1/models", json={"config": "small", "version": "0.3.0"}, headers=api.auth("admin")
    )
    assert r.status_code == 202, r.text
    run = r.json()
    assert run["state"] in ("queued", "running", "done") and run["links"]["self"]
    api.app.state.training_runs.join(run["id"], timeout=600)
    done = api.client.get(run["links"]["self"], headers=api.auth("reader")).json()
    assert done["state"] == "done", done
    assert done["model"] == "small-lexicon-0.3.0" and done["progress"]["steps"] >= 3
    assert any("against the default" in m for m in done["progress"]["messages"])

    listed = api.client.get("/v1/models", headers=api.auth("reader")).json()
    by_name = {m["name"]: m for m in listed}
    assert [m["name"] for m in listed if m["default"]] == [trained.default]
    new = by_name["small-lexicon-0.3.0"]
    assert new["versus_default"]["baseline"] == trained.default
    assert new["versus_default"]["better"] is False

    promote_url = "/v1/models/small-lexicon-0.3.0/promote"
    assert api.client.post(promote_url, json={}, headers=api.auth("annotator")).status_code == 403
    refused = api.client.post(promote_url, json={}, headers=api.auth("admin"))
    assert refused.status_code == 409, refused.text
    assert refused.json()["type"] == "urn:tipscan:problem:conflict"
    assert f"{new['versus_default']['macro_f1']:.3f}" in refused.json()["detail"]
    no_reason = api.client.post(promote_url, json={"override": True}, headers=api.auth("admin"))
    assert no_reason.status_code == 422
    assert default_model_name(api.root) == trained.default

    why = "to compare reports of the lexicon model with the full one"
    done_promotion = api.client.post(
        promote_url, json={"override": True, "reason": why}, headers=api.auth("admin")
    )
    assert done_promotion.status_code == 200, done_promotion.text
    out = done_promotion.json()
    assert out["promoted"] and out["override"] and out["reason"] == why
    assert default_model_name(api.root) == "small-lexicon-0.3.0"
    entry = history(api.root)[-1]
    assert entry["reason"] == why and entry["override"] is True and entry["by"]
    listed = api.client.get("/v1/models", headers=api.auth("reader")).json()
    assert [m["name"] for m in listed if m["default"]] == ["small-lexicon-0.3.0"]
