"""One path for a document: the CLI's batch and the API's jobs give the same coverage."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from service.api import create_app
from service.classify import Model
from service.cli import app as cli
from service.pipeline import DocumentHints, ExtractOptions, score_document
from service.settings import Settings
from tests.conftest import corpus_file

DOCS = (
    "brb/trafficking-in-persons-prevention-bill-2016.pdf",
    "nld/aanwijzing-mensenhandel.md",
    "usa/wh-fact-sheet-national-action-plan-combat-human-trafficking-2021.md",
)


def _without_times(report: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in report.items() if k != "created_at"}


def _api_report(model: Model, folder: Path, data: Path) -> dict[str, Any]:
    settings = Settings.load(data_dir=data, workers=2, poll_s=0.2)
    with TestClient(create_app(settings, model=model)) as client:
        key = client.app.state.store.create_key("annotator")[1]  # type: ignore[attr-defined]
        auth = {"Authorization": f"Bearer {key}"}
        ids, jobs = [], []
        for f in sorted(folder.iterdir()):
            r = client.post(
                "/v1/documents",
                files={"file": (f.name, f.read_bytes(), "application/octet-stream")},
                data={"country": "BRB"},
                headers=auth,
            )
            assert r.status_code == 202, r.text
            ids.append(r.json()["document"]["id"])
            jobs.append(r.json()["job"]["id"])
        end = time.monotonic() + 120
        for job in jobs:
            while (state := client.get(f"/v1/jobs/{job}", headers=auth).json()["state"]) not in (
                "done",
                "failed",
            ) and time.monotonic() < end:
                time.sleep(0.05)
            assert state == "done"
        r = client.post(
            "/v1/corpora", json={"name": "t", "country": "BRB", "document_ids": ids}, headers=auth
        )
        assert r.status_code == 201, r.text
        report = client.get(f"/v1/corpora/{r.json()['id']}/report?format=json", headers=auth)
        html = client.get(f"/v1/corpora/{r.json()['id']}/report?format=html", headers=auth)
        assert str(folder) not in html.text and str(Path.cwd()) not in html.text
        return json.loads(report.text)


def test_cli_and_api_give_the_same_coverage(
    model: Model, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for rel in DOCS:
        shutil.copy(corpus_file(rel), folder / Path(rel).name)
    monkeypatch.chdir(folder)
    out = tmp_path / "out"
    names = sorted(p.name for p in folder.iterdir())
    done = CliRunner().invoke(
        cli,
        ["score", *names, "--country", "BRB", "--out", str(out), "--no-cache", "--workers", "2"],
    )
    assert done.exit_code == 0, done.output
    from_cli = json.loads((out / "coverage.json").read_text())
    from_api = _api_report(model, folder, tmp_path / "api")
    assert [d["path"] for d in from_cli["documents"]] == names
    assert _without_times(from_api) == _without_times(from_cli)


def test_score_document_is_the_one_path(model: Model) -> None:
    path = corpus_file(DOCS[0])
    given = score_document(
        path, model, hints=DocumentHints(title="TIP Bill", doc_type="tip_law", country="BRB")
    )
    assert given.document.title == "TIP Bill" and given.coverage.doc_type_source == "meta"
    assert given.coverage.country == "BRB" and given.coverage.path == str(path)
    assert len(given.predictions) == len(given.passages) == given.coverage.passages
    # In process or in a bounded child, the same document comes out.
    inline = score_document(path, model, options=ExtractOptions(isolate=False), name="x.pdf")
    assert inline.passages == given.passages
    assert inline.coverage.path == "x.pdf" and inline.coverage.doc_type_source == "inferred"
