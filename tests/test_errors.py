"""The error catalogue: every code tipscan reports has one status and title, and the API
answers each with it."""

from __future__ import annotations

import ast
import importlib
import logging
import pkgutil
import re
import warnings
from collections.abc import Iterator
from http import HTTPStatus
from pathlib import Path

import pytest
from fastapi import FastAPI
from starlette.exceptions import HTTPException

import service
from service import errors
from service.api.problems import CODE_BY_STATUS, TYPE_PREFIX, install_problem_handlers
from service.errors import CATALOGUE, TipscanError, UnknownCode, error_class, lookup, status_for

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

PACKAGE = Path(service.__file__).parent
# Names whose string value is an error code, wherever they are assigned or passed.
CODE_NAMES = {"code", "error_code"}
# Calls whose positional argument at this index is an error code.
CODE_ARGS = {"fail_job": 2, "problem_response": 1, "Problem": 1}


def _strings(node: ast.AST | None) -> Iterator[ast.Constant]:
    """String constants a value can be: itself, either side of ``or``, either branch of ``if``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node
    elif isinstance(node, ast.BoolOp):
        for value in node.values:
            yield from _strings(value)
    elif isinstance(node, ast.IfExp):
        yield from _strings(node.body)
        yield from _strings(node.orelse)


def _name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def code_literals(source: str) -> list[tuple[int, str]]:
    """(line, code) for each string literal the source uses as an error code."""
    found: list[ast.Constant] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if _name(target) in CODE_NAMES:
                    found += _strings(node.value)
                elif isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                    found += [
                        c
                        for t, v in zip(target.elts, node.value.elts, strict=False)
                        if _name(t) in CODE_NAMES
                        for c in _strings(v)
                    ]
        elif isinstance(node, ast.Call):
            found += [c for k in node.keywords if k.arg in CODE_NAMES for c in _strings(k.value)]
            index = CODE_ARGS.get(_name(node.func) or "")
            if index is not None and len(node.args) > index:
                found += _strings(node.args[index])
        elif isinstance(node, ast.Dict):
            found += [
                c
                for k, v in zip(node.keys, node.values, strict=True)
                if isinstance(k, ast.Constant) and k.value in CODE_NAMES
                for c in _strings(v)
            ]
    return sorted((c.lineno, c.value) for c in found)


def _sources() -> Iterator[Path]:
    yield from sorted(PACKAGE.rglob("*.py"))


def _modules() -> Iterator[str]:
    for info in pkgutil.walk_packages([str(PACKAGE)], prefix="service."):
        # Alembic's env.py runs migrations when imported; it defines no errors.
        if ".migrations" not in info.name:
            yield info.name


def _subclasses(cls: type[TipscanError]) -> Iterator[type[TipscanError]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_the_scanner_finds_codes_in_every_form_they_take() -> None:
    source = """
class A(TipscanError):
    code = "a-code"
class B(TipscanError):
    code, status, title = "b-code", 400, "B"
x = {"error_code": "c-code", "other": "not-a-code"}
Outcome(path, error_code="d-code", error="e")
Failure(code=job.get("error_code") or "e-code", message="m")
store.fail_job(job_id, worker, "f-code", "message")
Problem(404, "g-code", "detail")
code: str = "h-code" if flag else "i-code"
"""
    assert [c for _, c in code_literals(source)] == [
        "a-code", "b-code", "c-code", "d-code", "e-code", "f-code", "g-code", "h-code", "i-code",
    ]  # fmt: skip


def test_every_code_in_the_catalogue_has_a_status_and_a_title() -> None:
    assert len(CATALOGUE) >= 30
    for code, entry in CATALOGUE.items():
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*", code), code
        assert 400 <= entry.status < 600 and HTTPStatus(entry.status), code
        assert entry.title and entry.title[0].isupper(), code
        assert lookup(code) == entry


def test_every_code_literal_in_the_package_is_in_the_catalogue() -> None:
    missing, seen = [], set()
    for path in _sources():
        for line, code in code_literals(path.read_text("utf-8")):
            seen.add(code)
            if code not in CATALOGUE:
                missing.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {code!r}")
    assert not missing, "codes not in service/errors.py:\n" + "\n".join(missing)
    assert {"unsupported-format", "not-found", "internal-error"} <= seen


def test_every_error_class_in_the_package_is_in_the_catalogue() -> None:
    for name in _modules():
        importlib.import_module(name)
    classes = [c for c in _subclasses(TipscanError) if c.__module__.startswith("service.")]
    assert len(classes) >= len(CATALOGUE) - 1
    for cls in classes:
        assert cls.code in CATALOGUE, f"{cls.__module__}.{cls.__qualname__}: {cls.code!r}"
        if cls.__module__ == errors.__name__:
            assert lookup(cls.code) == (cls.status, cls.title), cls


def test_an_unknown_code_is_a_programming_error(caplog: pytest.LogCaptureFixture) -> None:
    with pytest.raises(UnknownCode, match="no-such-code"):
        lookup("no-such-code")
    with caplog.at_level(logging.ERROR, logger="tipscan.errors"):
        assert status_for("no-such-code") == 500
    assert "no-such-code" in caplog.text
    assert status_for("not-found") == 404


def test_an_error_is_raised_again_as_its_class_from_its_code() -> None:
    for code in CATALOGUE:
        exc = error_class(code)("message")
        assert isinstance(exc, TipscanError) and exc.code == code and exc.message == "message"
    with pytest.raises(UnknownCode):
        error_class("no-such-code")


def test_every_status_of_a_plain_http_error_has_a_code_with_that_status() -> None:
    for status, code in CODE_BY_STATUS.items():
        assert lookup(code).status == status


# --- the API answers with the catalogue -----------------------------------------------


class _Uncatalogued(TipscanError):
    code = "no-such-code"


def _client() -> TestClient:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/raise/{code}")
    def raise_(code: str) -> None:
        cls = error_class(code) if code in CATALOGUE else _Uncatalogued
        raise cls(f"what went wrong with {code}")

    @app.get("/http/{status}")
    def http(status: int) -> None:
        raise HTTPException(status, "plain")

    return TestClient(app, raise_server_exceptions=False)


@pytest.mark.parametrize("code", sorted(CATALOGUE))
def test_the_api_answers_each_code_with_its_catalogue_status(code: str) -> None:
    r = _client().get(f"/raise/{code}")
    status, title = CATALOGUE[code]
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body == {
        "type": TYPE_PREFIX + code,
        "title": title,
        "status": status,
        "detail": f"what went wrong with {code}",
        "instance": f"/raise/{code}",
    }
    assert ("www-authenticate" in r.headers) == (status == 401)


def test_the_api_answers_an_uncatalogued_code_with_a_logged_500(
    caplog: pytest.LogCaptureFixture,
) -> None:
    r = _client().get("/raise/no-such-code")
    assert r.status_code == 500 and r.json()["type"] == TYPE_PREFIX + "internal-error"
    assert "what went wrong" not in r.text
    assert "no-such-code" in caplog.text


def test_the_api_answers_plain_http_errors_with_the_code_for_their_status(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = _client()
    for status, code in CODE_BY_STATUS.items():
        r = client.get(f"/http/{status}")
        assert (r.status_code, r.json()["type"]) == (status, TYPE_PREFIX + code)
    r = client.get("/http/418")
    assert r.status_code == 500 and r.json()["type"] == TYPE_PREFIX + "internal-error"
    assert "418" in caplog.text
