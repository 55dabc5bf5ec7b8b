"""The HTTP API: routes through TestClient, and the real server (``tipscan serve``) as a
subprocess, killed mid-job and restarted on the same store."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from fastapi import FastAPI
from typer.testing import CliRunner

from service.api import create_app
from service.classify import Model
from service.errors import SettingsError
from service.labels import LABEL_IDS
from service.settings import Settings
from service.store import MAX_ATTEMPTS, Store
from tests.conftest import SHARED, corpus_file
from tests.databases import BACKENDS, fresh_database

with warnings.catch_warnings():
    # Recent Starlette prefers httpx2 for its TestClient; httpx is what the project declares.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

TIP_BILL = "brb/trafficking-in-persons-prevention-bill-2016.pdf"
SCANNED = "lka/passport-exit-permit-amendment-1980-scanned.pdf"
AC_BILL = "brb/prevention-of-corruption-bill-2021.pdf"
PROBLEM = "application/problem+json"
T = TypeVar("T")


@dataclass
class Api:
    client: TestClient
    app: FastAPI
    store: Store
    keys: dict[str, str]
    settings: Settings
    # Uploads processed once per app (``tip_doc``), by name.
    processed: dict[str, Any] = field(default_factory=dict)

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}


@contextmanager
def _serve(backend: str, model: Model, folder: Path) -> Iterator[Api]:
    """The app with its job workers on a fresh store database on ``backend``."""
    with fresh_database(backend, folder) as url:
        settings = Settings.load(
            data_dir=folder, db_url=url, max_upload_mb=1.0, workers=2, poll_s=0.2
        )
        app = create_app(settings, model=model)
        with TestClient(app) as client:
            store: Store = app.state.store
            keys = {role: store.create_key(role)[1] for role in ("reader", "annotator", "admin")}
            yield Api(client, app, store, keys, settings)


@pytest.fixture(scope="module")
def apis(model: Model, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], Api]]:
    """The app on a backend, started when a test first asks for it and kept for the module."""
    with ExitStack() as stack:
        made: dict[str, Api] = {}

        def get(backend: str) -> Api:
            if backend not in made:
                folder = tmp_path_factory.mktemp(f"api-{backend}")
                made[backend] = stack.enter_context(_serve(backend, model, folder))
            return made[backend]

        yield get


@pytest.fixture
def api(request: pytest.FixtureRequest, apis: Callable[[str], Api]) -> Api:
    """The app on SQLite; on both backends for the tests marked ``ON_BOTH``."""
    return apis(getattr(request, "param", "sqlite"))


# The cases that touch the store (uploads, jobs, documents, corpora, keys) run on SQLite and
# on PostgreSQL; pure request validation runs on SQLite alone.
ON_BOTH = pytest.mark.parametrize("api", BACKENDS, indirect=True)


def upload(
    api: Api, data: bytes, name: str = "doc.pdf", role: str = "annotator", **fields: str
) -> httpx.Response:
    return api.client.post(
        "/v1/documents",
        files={"file": (name, data, "application/pdf")},
        data=fields,
        headers=api.auth(role),
    )


def wait_for_job(get: Callable[[str], httpx.Response], job_id: str, deadline_s: float = 120) -> Any:
    """Poll a job until it is done or failed (or the deadline passes)."""
    end = time.monotonic() + deadline_s
    while True:
        job = get(f"/v1/jobs/{job_id}").json()
        if job["state"] in ("done", "failed") or time.monotonic() > end:
            return job
        time.sleep(0.05)


def assert_problem(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM), r.headers
    body = r.json()
    assert body["type"] == f"urn:tipscan:problem:{code}", body
    assert body["status"] == status and body["title"] and body["detail"] and body["instance"]
    assert "Traceback" not in r.text
    return body


@pytest.fixture
def tip_doc(api: Api) -> dict[str, Any]:
    """The Barbados trafficking bill, uploaded and processed (once per app)."""
    if TIP_BILL not in api.processed:
        r = upload(api, corpus_file(TIP_BILL).read_bytes(), Path(TIP_BILL).name, country="BRB")
        assert r.status_code == 202, r.text
        body = r.json()
        get = lambda u: api.client.get(u, headers=api.auth("reader"))  # noqa: E731
        job = wait_for_job(get, body["job"]["id"])
        assert job["state"] == "done", job
        api.processed[TIP_BILL] = {**body, "job": job}
    return dict(api.processed[TIP_BILL])


# --- health and docs ------------------------------------------------------------


def test_health_checks_need_no_key_and_name_the_model(api: Api, model: Model) -> None:
    assert api.client.get("/healthz").json() == {"status": "ok"}
    ready = api.client.get("/readyz").json()
    assert ready["status"] == "ready" and ready["store"] == "ok"
    assert ready["model"]["name"] == model.name and "version" in ready["model"]
    assert ready["workers"] == 2


def test_openapi_documents_the_v1_routes(api: Api) -> None:
    spec = api.client.get("/openapi.json").json()
    for path in (
        "/v1/documents",
        "/v1/documents/{doc_id}",
        "/v1/documents/{doc_id}/passages",
        "/v1/documents/{doc_id}/coverage",
        "/v1/corpora",
        "/v1/corpora/{corpus_id}/report",
        "/v1/classify",
        "/v1/jobs/{job_id}",
    ):
        assert path in spec["paths"], path
    upload_body = spec["paths"]["/v1/documents"]["post"]["requestBody"]["content"]
    assert "file" in upload_body["multipart/form-data"]["schema"]["properties"]
    assert api.client.get("/docs").status_code == 200


# --- documents, jobs, passages, coverage ----------------------------------------


@ON_BOTH
def test_upload_answers_202_with_document_job_and_location(api: Api, tip_doc: Any) -> None:
    data = corpus_file(TIP_BILL).read_bytes()
    doc = tip_doc["document"]
    assert doc["id"] == hashlib.sha256(data).hexdigest()
    assert doc["filename"] == Path(TIP_BILL).name and doc["format"] == "pdf"
    assert doc["country"] == "BRB"
    job = tip_doc["job"]
    assert job["progress"] == {"pages_done": 26, "pages_total": 26}
    assert job["attempts"] == 1 and job["error"] is None

    got = api.client.get(f"/v1/documents/{doc['id']}", headers=api.auth("reader")).json()
    assert got["status"] == "done" and got["pages"] == 26 and got["passages"] > 20
    assert got["doc_type"] == "tip_law" and got["doc_type_source"] == "inferred"
    assert "Trafficking" in got["title"]
    listed = api.client.get("/v1/documents?country=brb", headers=api.auth("reader")).json()
    assert doc["id"] in [d["id"] for d in listed["items"]]


@ON_BOTH
def test_a_duplicate_upload_is_recognised(api: Api, tip_doc: Any) -> None:
    before = api.store.counts()
    r = upload(api, corpus_file(TIP_BILL).read_bytes(), "renamed.pdf")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["duplicate"] is True
    assert body["document"]["id"] == tip_doc["document"]["id"]
    assert body["job"]["id"] == tip_doc["job"]["id"]
    assert r.headers["location"] == f"/v1/jobs/{tip_doc['job']['id']}"
    assert api.store.counts() == before


@ON_BOTH
def test_passages_are_paged_and_filtered_by_label(api: Api, tip_doc: Any) -> None:
    url = f"/v1/documents/{tip_doc['document']['id']}/passages"
    page = api.client.get(f"{url}?limit=5", headers=api.auth("reader")).json()
    assert len(page["items"]) == 5 and page["total"] > 20
    first = page["items"][0]
    assert first["passage"]["citation"] and first["passage"]["page_start"] >= 1
    assert set(first["prediction"]["scores"]) == set(LABEL_IDS)
    second = api.client.get(f"{url}?limit=5&offset=5", headers=api.auth("reader")).json()
    assert second["items"][0]["passage"]["id"] != first["passage"]["id"]

    counts = {}
    for label in LABEL_IDS:
        got = api.client.get(f"{url}?label={label}&limit=500", headers=api.auth("reader")).json()
        assert all(label in x["prediction"]["labels"] for x in got["items"])
        counts[label] = got["total"]
    assert any(counts.values())
    flagged = api.client.get(f"{url}?mentions=trafficking", headers=api.auth("reader")).json()
    assert flagged["total"] > 0
    assert_problem(
        api.client.get(f"{url}?label=L99", headers=api.auth("reader")), 422, "invalid-request"
    )


@ON_BOTH
def test_coverage_is_the_document_coverage(api: Api, tip_doc: Any) -> None:
    r = api.client.get(
        f"/v1/documents/{tip_doc['document']['id']}/coverage", headers=api.auth("reader")
    )
    assert r.status_code == 200
    cov = r.json()
    assert set(cov["labels"]) == set(LABEL_IDS)
    assert cov["mentions_trafficking"] is True and cov["pages"] == 26
    assert cov["doc_type"] == "tip_law" and cov["country"] == "BRB"
    for label in cov["labels"].values():
        for e in label["evidence"]:
            assert e["page"] >= 1 and e["text"]


@ON_BOTH
def test_corpus_report_as_json_html_csv_and_markdown(api: Api, tip_doc: Any) -> None:
    r = upload(api, corpus_file(AC_BILL).read_bytes(), Path(AC_BILL).name, country="BRB")
    assert r.status_code == 202
    get = lambda u: api.client.get(u, headers=api.auth("reader"))  # noqa: E731
    assert wait_for_job(get, r.json()["job"]["id"])["state"] == "done"
    ids = [tip_doc["document"]["id"], r.json()["document"]["id"]]

    made = api.client.post(
        "/v1/corpora",
        json={"name": "Barbados", "country": "brb", "document_ids": ids},
        headers=api.auth("annotator"),
    )
    assert made.status_code == 201, made.text
    corpus = made.json()
    assert corpus["country"] == "BRB" and corpus["document_ids"] == ids
    assert made.headers["location"] == f"/v1/corpora/{corpus['id']}"
    url = f"/v1/corpora/{corpus['id']}/report"

    as_json = get(url)
    assert as_json.headers["content-type"].startswith("application/json")
    report = as_json.json()
    assert len(report["documents"]) == 2 and report["country"] == "BRB"
    assert set(report["corpus"]["labels"]) == set(LABEL_IDS)
    checks = report["corpus"]["checks"]
    assert checks["tip_mentions_corruption"]["pass"] is not None
    assert checks["ac_mentions_trafficking"]["applicable"] == [Path(AC_BILL).name]

    html = api.client.get(url, headers={**api.auth("reader"), "Accept": "text/html"})
    assert html.headers["content-type"].startswith("text/html") and "<table" in html.text
    csv = get(f"{url}?format=csv")
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines()[0].startswith("path,title,doc_type")
    assert len(csv.text.splitlines()) == 1 + 2 * len(LABEL_IDS)
    assert get(f"{url}?format=md").text.startswith("# Coverage report: BRB")
    accept_csv = api.client.get(url, headers={**api.auth("reader"), "Accept": "text/csv"})
    assert accept_csv.headers["content-type"].startswith("text/csv")
    assert_problem(
        api.client.get(url, headers={**api.auth("reader"), "Accept": "image/png"}),
        406,
        "not-acceptable",
    )
    assert corpus["id"] in [c["id"] for c in get("/v1/corpora").json()["items"]]


def test_classify_is_the_jsonl_contract_as_json(api: Api, model: Model) -> None:
    passages = [
        {"id": "a", "text": "A public officer who accepts a bribe to facilitate trafficking "
         "in persons commits an offence.", "doc_type": "tip_law", "heading": ["Part II"]},
        {"id": "b", "text": "This Act may be cited as the Example Act.", "title": "Example Act"},
    ]  # fmt: skip
    r = api.client.post("/v1/classify", json={"passages": passages}, headers=api.auth("reader"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["model"] == model.name
    assert [p["id"] for p in body["predictions"]] == ["a", "b"]
    for p in body["predictions"]:
        assert set(p["scores"]) == set(LABEL_IDS)
        assert set(p["labels"]) <= set(LABEL_IDS)
        assert isinstance(p["mentions_trafficking"], bool) and "explain" not in p
    assert body["predictions"][0]["mentions_trafficking"] is True
    explained = api.client.post(
        "/v1/classify?explain=true", json={"passages": passages[:1]}, headers=api.auth("reader")
    ).json()
    assert "explain" in explained["predictions"][0]


# --- bad input: each a problem, the store unchanged -----------------------------


def test_bad_classify_bodies_are_problems(api: Api) -> None:
    before = api.store.counts()
    h = api.auth("reader")
    bodies: list[Any] = [{"passages": [{"id": "a"}]}, {"passages": "text"}, {"items": []}, [1, 2]]
    for body in bodies:
        assert_problem(
            api.client.post("/v1/classify", json=body, headers=h), 422, "invalid-request"
        )
    raw = api.client.post(
        "/v1/classify", content=b'{"passages": [', headers={**h, "content-type": "application/json"}
    )
    assert_problem(raw, 422, "invalid-request")
    too_many = {"passages": [{"id": str(i), "text": "text"} for i in range(257)]}
    body = assert_problem(
        api.client.post("/v1/classify", json=too_many, headers=h), 413, "too-many-passages"
    )
    assert "256" in body["detail"]
    assert api.store.counts() == before


NO_KEY_ROUTES = [
    ("GET", "/v1/documents"),
    ("POST", "/v1/documents"),
    ("GET", "/v1/documents/abc"),
    ("DELETE", "/v1/documents/abc"),
    ("GET", "/v1/documents/abc/passages"),
    ("GET", "/v1/documents/abc/coverage"),
    ("GET", "/v1/jobs/abc"),
    ("GET", "/v1/corpora"),
    ("POST", "/v1/corpora"),
    ("GET", "/v1/corpora/abc/report"),
    ("POST", "/v1/classify"),
    ("GET", "/v1/keys"),
]


def test_every_route_but_health_needs_a_key(api: Api) -> None:
    before = api.store.counts()
    for method, path in NO_KEY_ROUTES:
        r = api.client.request(method, path)
        assert_problem(r, 401, "unauthorized")
        assert r.headers["www-authenticate"].startswith("Bearer")
    wrong = {"Authorization": "Bearer tsk_not-a-key"}
    assert_problem(api.client.get("/v1/documents", headers=wrong), 401, "unauthorized")
    ok = api.client.get("/v1/documents", headers={"X-API-Key": api.keys["reader"]})
    assert ok.status_code == 200
    assert api.store.counts() == before


@ON_BOTH
def test_a_reader_cannot_upload_or_delete(api: Api, tip_doc: Any) -> None:
    before = api.store.counts()
    r = upload(api, corpus_file(AC_BILL).read_bytes(), role="reader")
    assert_problem(r, 403, "forbidden")
    doc_id = tip_doc["document"]["id"]
    assert_problem(
        api.client.delete(f"/v1/documents/{doc_id}", headers=api.auth("reader")), 403, "forbidden"
    )
    made = api.client.post("/v1/corpora", json={"name": "x"}, headers=api.auth("reader"))
    assert_problem(made, 403, "forbidden")
    keys = api.client.get("/v1/keys", headers=api.auth("annotator"))
    assert_problem(keys, 403, "forbidden")
    assert api.store.counts() == before


def _multipart(data: bytes, name: str = "big.pdf") -> tuple[bytes, str]:
    boundary = "tipscanboundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode()
    return head + data + f"\r\n--{boundary}--\r\n".encode(), boundary


def test_an_oversized_upload_is_refused_with_413(api: Api) -> None:
    before = api.store.counts()
    limit = api.settings.max_upload_bytes
    # Past the file limit, within the body limit: refused while storing.
    over = b"%PDF-1.4\n" + os.urandom(limit)
    assert_problem(upload(api, over), 413, "upload-too-large")
    # Far past it: refused from Content-Length, before the body is read.
    far = b"%PDF-1.4\n" + os.urandom(3 * limit)
    assert_problem(upload(api, far), 413, "content-too-large")
    # Far past it, without a Content-Length (chunked): refused while reading.
    body, boundary = _multipart(far)
    chunked = api.client.post(
        "/v1/documents",
        content=iter([body[i : i + 65536] for i in range(0, len(body), 65536)]),
        headers={
            **api.auth("annotator"),
            "content-type": f"multipart/form-data; boundary={boundary}",
        },
    )
    assert_problem(chunked, 413, "content-too-large")
    assert api.store.counts() == before
    assert not list(api.store.files.staging.iterdir())


def _png() -> bytes:
    return b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + os.urandom(2000)


@pytest.mark.parametrize(
    "data",
    [_png(), b"\x7fELF\x02\x01\x01" + bytes(range(256)) * 8, bytes(range(256)) * 16],
    ids=["png", "executable", "binary"],
)
def test_an_image_or_binary_renamed_pdf_is_refused_with_415(api: Api, data: bytes) -> None:
    before = api.store.counts()
    body = assert_problem(upload(api, data, "law.pdf"), 415, "unsupported-format")
    assert "not a document" in body["detail"] or "binary" in body["detail"]
    assert api.store.counts() == before
    assert not list(api.store.files.staging.iterdir())


def _encrypted(tmp: Path) -> bytes:
    import pikepdf

    out = tmp / "encrypted.pdf"
    with pikepdf.open(corpus_file(TIP_BILL)) as pdf:
        pdf.save(out, encryption=pikepdf.Encryption(user="secret", owner="owner"))
    return out.read_bytes()


def _truncated(_tmp: Path) -> bytes:
    data = corpus_file(AC_BILL).read_bytes()
    return data[: len(data) // 3]


@ON_BOTH
@pytest.mark.parametrize(
    ("make", "code"),
    [(_encrypted, "encrypted-document"), (_truncated, "corrupt-document")],
    ids=["encrypted", "truncated"],
)
def test_an_encrypted_or_corrupt_pdf_fails_its_job_with_the_reason(
    api: Api, tmp_path: Path, make: Callable[[Path], bytes], code: str
) -> None:
    before = api.store.counts()
    r = upload(api, make(tmp_path), "bad.pdf")
    assert r.status_code == 202, r.text
    doc_id = r.json()["document"]["id"]
    get = lambda u: api.client.get(u, headers=api.auth("reader"))  # noqa: E731
    job = wait_for_job(get, r.json()["job"]["id"])
    assert job["state"] == "failed" and job["error"]["code"] == code, job
    assert job["error"]["message"] and "Traceback" not in job["error"]["message"]
    assert get(f"/v1/documents/{doc_id}").json()["status"] == "failed"
    problem = assert_problem(get(f"/v1/documents/{doc_id}/coverage"), 409, "document-failed")
    assert code in problem["detail"]
    assert_problem(get(f"/v1/documents/{doc_id}/passages"), 409, "document-failed")
    after = api.store.counts()
    grew = {k: after[k] - before[k] for k in after if after[k] != before[k]}
    assert grew == {"documents": 1, "jobs": 1, "files": 1}


@ON_BOTH
def test_unknown_ids_are_404(api: Api) -> None:
    before = api.store.counts()
    h = api.auth("admin")
    for path in (
        "/v1/documents/0000",
        "/v1/documents/0000/passages",
        "/v1/documents/0000/coverage",
        "/v1/jobs/0000",
        "/v1/corpora/0000",
        "/v1/corpora/0000/report",
        "/v1/no-such-route",
    ):
        assert_problem(api.client.get(path, headers=h), 404, "not-found")
    assert_problem(api.client.delete("/v1/documents/0000", headers=h), 404, "not-found")
    made = api.client.post("/v1/corpora", json={"name": "x", "document_ids": ["0000"]}, headers=h)
    assert_problem(made, 422, "unknown-document")
    assert api.store.counts() == before


def test_bad_queries_and_forms_are_problems(api: Api) -> None:
    before = api.store.counts()
    h = api.auth("annotator")
    assert_problem(api.client.get("/v1/documents?limit=0", headers=h), 422, "invalid-request")
    no_file = api.client.post("/v1/documents", data={"country": "BRB"}, headers=h)
    assert_problem(no_file, 415, "unsupported-media-type")
    no_file = api.client.post("/v1/documents", files={"other": ("x.pdf", b"%PDF-")}, headers=h)
    assert_problem(no_file, 422, "invalid-request")
    pdf = corpus_file(AC_BILL).read_bytes()
    assert_problem(upload(api, pdf, country="Barbados"), 422, "invalid-request")
    assert_problem(upload(api, pdf, doc_type="novel"), 422, "invalid-request")
    assert_problem(upload(api, b""), 422, "empty-document")
    assert_problem(api.client.put("/v1/documents", headers=h), 405, "method-not-allowed")
    assert api.store.counts() == before


def test_an_unexpected_error_is_a_generic_500(
    api: Api, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def boom(_job_id: str) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(api.store, "get_job", boom)
    client = TestClient(api.app, raise_server_exceptions=False)
    r = client.get("/v1/jobs/x", headers=api.auth("reader"))
    body = assert_problem(r, 500, "internal-error")
    assert "secret" not in r.text and "RuntimeError" not in body["detail"]
    assert "secret internals" in caplog.text


@ON_BOTH
def test_keys_are_managed_by_admins_and_revocable(api: Api) -> None:
    made = api.client.post(
        "/v1/keys", json={"role": "reader", "name": "t"}, headers=api.auth("admin")
    )
    assert made.status_code == 201, made.text
    new = made.json()
    assert new["key"].startswith("tsk_") and new["role"] == "reader"
    assert api.client.get("/v1/documents", headers={"X-API-Key": new["key"]}).status_code == 200
    listed = api.client.get("/v1/keys", headers=api.auth("admin")).json()
    assert all("key" not in k or k["key"] is None for k in listed)
    gone = api.client.delete(f"/v1/keys/{new['id']}", headers=api.auth("admin"))
    assert gone.status_code == 204
    again = api.client.get("/v1/documents", headers={"X-API-Key": new["key"]})
    assert_problem(again, 401, "unauthorized")


@ON_BOTH
def test_an_annotator_deletes_a_document_and_its_file(api: Api) -> None:
    data = b"Section 1. Short title.\nThis Act may be cited as the Deletion Test Act.\n"
    r = upload(api, data, "delete-me.txt")
    assert r.status_code == 202
    doc_id = r.json()["document"]["id"]
    get = lambda u: api.client.get(u, headers=api.auth("reader"))  # noqa: E731
    wait_for_job(get, r.json()["job"]["id"])
    assert api.store.files.path(doc_id).exists()
    gone = api.client.delete(f"/v1/documents/{doc_id}", headers=api.auth("annotator"))
    assert gone.status_code == 204
    assert not api.store.files.path(doc_id).exists()
    assert_problem(get(f"/v1/documents/{doc_id}"), 404, "not-found")


@ON_BOTH
def test_a_file_name_is_data_never_a_path(api: Api) -> None:
    data = b"Section 1. This Act may be cited as the Path Test Act.\n"
    r = upload(api, data, "../../outside.txt")
    assert r.status_code == 202, r.text
    doc = r.json()["document"]
    assert doc["filename"] == "outside.txt"
    stored = api.store.files.path(doc["id"])
    assert stored.read_bytes() == data and stored.name == doc["id"]
    assert not (api.settings.data_dir.parent / "outside.txt").exists()
    get = lambda u: api.client.get(u, headers=api.auth("reader"))  # noqa: E731
    assert wait_for_job(get, r.json()["job"]["id"])["state"] == "done"


def test_the_page_limit_fails_the_job_with_the_reason(
    model: Model, db_url: str, tmp_path: Path
) -> None:
    settings = Settings.load(data_dir=tmp_path, db_url=db_url, max_pages=5, workers=1, poll_s=0.2)
    with TestClient(create_app(settings, model=model)) as client:
        key = client.app.state.store.create_key("annotator")[1]  # type: ignore[attr-defined]
        h = {"X-API-Key": key}
        r = client.post(
            "/v1/documents",
            files={"file": ("tip.pdf", corpus_file(TIP_BILL).read_bytes())},
            headers=h,
        )
        assert r.status_code == 202
        job = wait_for_job(lambda u: client.get(u, headers=h), r.json()["job"]["id"])
        assert job["state"] == "failed" and job["error"]["code"] == "limit-exceeded"
        assert "26 pages" in job["error"]["message"]


def test_readyz_is_a_503_problem_when_the_store_is_unreachable(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    def down() -> None:
        raise OSError("database is gone")

    monkeypatch.setattr(api.store, "ping", down)
    body = assert_problem(api.client.get("/readyz"), 503, "not-ready")
    assert "gone" not in body["detail"]


# --- the store and settings ------------------------------------------------------


def row(value: T | None) -> T:
    assert value is not None
    return value


def test_a_job_is_claimed_once_and_recovered_after_a_crash(db_url: str, tmp_path: Path) -> None:
    store = Store.open(db_url, tmp_path)
    try:
        staged = store.files.stage(io.BytesIO(b"Some text of a law."), 1000)
        added = store.add_document(
            staged, filename="a.txt", fmt="text", country=None, doc_type=None, title=None,
            created_by=None,
        )  # fmt: skip
        job_id = added.job.id
        assert row(store.claim_job("w1")).id == job_id
        assert store.claim_job("w2") is None
        for attempt in range(1, MAX_ATTEMPTS + 1):
            # The server died while the job ran: on start it is queued again...
            assert row(store.get_job(job_id)).attempts == attempt
            queued, failed = store.recover_jobs()
            if attempt < MAX_ATTEMPTS:
                assert (queued, failed) == (1, 0)
                assert row(store.get_job(job_id)).state == "queued"
                assert row(store.claim_job("w3")).id == job_id
        # ... until it has been interrupted too often, and fails with the reason.
        job = row(store.get_job(job_id))
        assert (job.state, job.error_code) == ("failed", "job-interrupted")
        assert row(store.get_document(added.document.id)).status == "failed"
    finally:
        store.close()


def test_settings_come_from_flags_then_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {"TIPSCAN_DATA_DIR": str(tmp_path), "TIPSCAN_MAX_UPLOAD_MB": "5", "TIPSCAN_WORKERS": "3"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    s = Settings.load()
    assert s.data_dir == tmp_path and s.db_url == f"sqlite:///{tmp_path / 'tipscan.db'}"
    assert s.max_upload_bytes == 5 * 2**20 and s.workers == 3
    monkeypatch.setenv("TIPSCAN_DB", "sqlite:///x.db")
    monkeypatch.setenv("TIPSCAN_MODELS", str(tmp_path / "m"))
    s = Settings.load(workers=1, db_url=None)
    assert s.db_url == "sqlite:///x.db" and s.workers == 1 and s.models_dir == tmp_path / "m"


def test_a_bad_setting_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIPSCAN_WORKERS", "many")
    with pytest.raises(SettingsError, match="TIPSCAN_WORKERS"):
        Settings.load()


def test_keys_create_prints_the_key_alone(db_url: str, tmp_path: Path) -> None:
    from service.cli import app

    result = CliRunner().invoke(
        app,
        ["keys", "create", "--role", "annotator", "--data-dir", str(tmp_path), "--db", db_url],
    )
    assert result.exit_code == 0, result.output
    key = result.stdout.strip()
    assert key.startswith("tsk_") and "\n" not in key
    store = Store.open(db_url, tmp_path)
    try:
        assert row(store.find_key(key)).role == "annotator"
    finally:
        store.close()


# --- the real server --------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tipscan() -> list[str]:
    script = Path(sys.executable).with_name("tipscan")
    if script.exists():
        return [str(script)]
    found = shutil.which("tipscan")
    return [found] if found else [sys.executable, "-m", "service.cli"]


class Server:
    """``tipscan serve`` on a free loopback port, on one data dir (and so one store)."""

    def __init__(self, data_dir: Path, db_url: str) -> None:
        self.data_dir = data_dir
        self.db_url = db_url
        self.env = {**os.environ, "TIPSCAN_DATA_DIR": str(data_dir), "TIPSCAN_DB": db_url}
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = data_dir / "server.log"
        self.client: httpx.Client | None = None
        self.key = ""
        self.port = 0

    def cli(self, *args: str) -> str:
        out = subprocess.run(
            [*_tipscan(), *args], env=self.env, capture_output=True, text=True, check=True
        )
        return out.stdout

    def get(self, url: str) -> httpx.Response:
        """GET with the server's key, on its current client (a restart makes a new one)."""
        assert self.client is not None
        return self.client.get(url, headers=_headers(self))

    def start(self, workers: int = 1) -> None:
        self.port = port = _free_port()
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [*_tipscan(), "serve", "--port", str(port), "--workers", str(workers)],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
        end = time.monotonic() + 120
        while time.monotonic() < end:
            assert self.proc.poll() is None, self.log.read_text()
            try:
                if self.client.get("/readyz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError("the server did not become ready:\n" + self.log.read_text())

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


@contextmanager
def serving(folder: Path, url: str, **env: str) -> Iterator[Server]:
    """``tipscan serve`` on ``folder`` and the store at ``url`` (with ``env`` added), an
    annotator key made for it; stopped on the way out."""
    srv = Server(folder, url)
    srv.env.update(env)
    srv.key = srv.cli("keys", "create", "--role", "annotator").strip()
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module", params=BACKENDS)
def server(
    request: pytest.FixtureRequest, model: Model, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """``tipscan serve`` on a fresh store database, on each backend (``TIPSCAN_DB``)."""
    folder = tmp_path_factory.mktemp(f"server-{request.param}")
    with fresh_database(request.param, folder) as url, serving(folder, url) as srv:
        yield srv


def _headers(srv: Server) -> dict[str, str]:
    return {"Authorization": f"Bearer {srv.key}"}


def _upload(srv: Server, rel: str) -> dict[str, Any]:
    assert srv.client is not None
    path = corpus_file(rel)
    with path.open("rb") as fh:
        r = srv.client.post("/v1/documents", files={"file": (path.name, fh)}, headers=_headers(srv))
    assert r.status_code == 202, r.text
    assert r.headers["location"] == f"/v1/jobs/{r.json()['job']['id']}"
    return dict(r.json())


def test_the_real_server_uploads_processes_and_covers_a_pdf(server: Server) -> None:
    body = _upload(server, TIP_BILL)
    job = wait_for_job(server.get, body["job"]["id"])
    assert job["state"] == "done", job
    assert job["progress"]["pages_done"] == job["progress"]["pages_total"] == 26
    cov = server.get(f"/v1/documents/{body['document']['id']}/coverage").json()
    assert cov["mentions_trafficking"] is True and set(cov["labels"]) == set(LABEL_IDS)
    assert server.client is not None
    assert_problem(server.client.get("/v1/documents"), 401, "unauthorized")


def _assert_no_process_left(port: int) -> None:
    """No child of a killed server (an extraction under way) outlives it (Linux)."""
    proc = Path("/proc")
    if not proc.is_dir():
        return
    mark = f"--port\x00{port}\x00".encode()
    end = time.monotonic() + 30
    while True:
        left = []
        for entry in proc.iterdir():
            try:
                if entry.name.isdigit() and mark in (entry / "cmdline").read_bytes():
                    left.append(entry.name)
            except OSError:
                continue
        if not left or time.monotonic() > end:
            break
        time.sleep(0.05)
    assert not left, f"processes of the killed server still run: {left}"


def _wait_for_a_running_job(srv: Server, job_ids: list[str], deadline_s: float = 60) -> str | None:
    """Poll the jobs' states until one is ``running``; None if they all ended first."""
    assert srv.client is not None
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        states = {
            j: srv.client.get(f"/v1/jobs/{j}", headers=_headers(srv)).json()["state"]
            for j in job_ids
        }
        running = next((j for j, state in states.items() if state == "running"), None)
        if running is not None or all(s in ("done", "failed") for s in states.values()):
            return running
        time.sleep(0.01)  # the poll interval: leave the server's one worker the CPU
    raise AssertionError(f"no job ran within {deadline_s} s:\n" + srv.log.read_text())


def kill_mid_job_and_restart(server: Server, job_ids: list[str]) -> list[str]:
    """kill -9 the server while one of the jobs runs (no process of it may outlive it),
    then start it again on the same store and files; the jobs it was running. Tried
    again if the job seen running ended before the kill."""
    interrupted: list[str] = []
    while not interrupted:
        running = _wait_for_a_running_job(server, job_ids)
        assert running is not None, "every job ended before one was seen running"
        port = server.port
        server.stop(signal.SIGKILL)
        _assert_no_process_left(port)
        store = Store(server.db_url, server.data_dir)
        try:
            interrupted = [j for j in job_ids if row(store.get_job(j)).state == "running"]
        finally:
            store.close()
        server.start()
    return interrupted


def test_a_job_interrupted_by_a_kill_completes_after_restart(server: Server) -> None:
    """kill -9 while a job runs; the restarted server (same store and files) finishes it."""
    # Two documents queue two jobs on the one worker: if the first ends between the poll
    # that saw it running and the kill, the second runs after the restart.
    names = ["lka/anti-corruption-act-2023.pdf", "brb/integrity-in-public-life-bill-2023.pdf"]
    if not all((SHARED / x).exists() for x in names):
        names = [AC_BILL, "lka/saarc-trafficking-convention-act-2005.pdf"]  # in corpus/
    uploaded = [_upload(server, rel) for rel in names]
    job_ids = [u["job"]["id"] for u in uploaded]
    interrupted = kill_mid_job_and_restart(server, job_ids)
    assert len(interrupted) == 1  # one worker: the job it was running when killed

    for job_id in job_ids:
        job = wait_for_job(server.get, job_id, deadline_s=60)
        assert job["state"] == "done", job
        if job_id in interrupted:
            assert job["attempts"] >= 2
    for u in uploaded:
        cov = server.get(f"/v1/documents/{u['document']['id']}/coverage")
        assert cov.status_code == 200 and set(cov.json()["labels"]) == set(LABEL_IDS)
    assert json.loads(server.get("/readyz").text)["queued"] == 0


@pytest.mark.ocr
def test_a_server_joining_a_shared_store_leaves_the_running_jobs_to_their_server(
    tmp_path: Path,
) -> None:
    """Two servers on one PostgreSQL store and one data folder: the second starts while
    the first runs a job; every job is then done once (one attempt each)."""
    # The scanned act takes its worker seconds of OCR: long enough for the second server
    # to start, and to take up the jobs it thinks left, while the first still runs it.
    names = [SCANNED, AC_BILL, "lka/saarc-trafficking-convention-act-2005.pdf"]
    with fresh_database("postgresql", tmp_path) as url:
        first, second = Server(tmp_path, url), Server(tmp_path, url)
        second.log = tmp_path / "second.log"
        first.key = first.cli("keys", "create", "--role", "annotator").strip()
        second.key = first.key
        first.start()
        try:
            uploaded = [_upload(first, rel) for rel in names]
            job_ids = [u["job"]["id"] for u in uploaded]
            running = _wait_for_a_running_job(first, job_ids)
            assert running == job_ids[0], "the scanned act ended before it was seen running"
            second.start()  # it takes up "left" jobs as it starts: not this one
            try:
                jobs_seen = [wait_for_job(second.get, j, deadline_s=120) for j in job_ids]
            finally:
                second.stop()
        finally:
            first.stop()
    assert [(j["state"], j["attempts"]) for j in jobs_seen] == [("done", 1)] * len(names)
