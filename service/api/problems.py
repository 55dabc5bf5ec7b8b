"""Every error as RFC 9457 problem details (``application/problem+json``).

Each error class has one stable ``type``, ``urn:tipscan:problem:<code>``,
where ``<code>`` is the TipscanError code (``unsupported-format``) or one of
the API's own (``not-found``, ``unauthorized``). Responses never carry a
stack trace: an unexpected exception is logged and answered with a generic
``internal-error``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import TipscanError

log = logging.getLogger("tipscan.api")

TYPE_PREFIX = "urn:tipscan:problem:"
MEDIA_TYPE = "application/problem+json"

# TipscanError codes -> HTTP status (400 for any code not listed).
STATUS_BY_CODE: dict[str, int] = {
    "unsupported-format": 415,
    "empty-document": 422,
    "encrypted-document": 422,
    "corrupt-document": 422,
    "unsafe-document": 422,
    "limit-exceeded": 413,
    "upload-too-large": 413,
    "document-timeout": 422,
    "source-not-found": 404,
    "invalid-input": 422,
    "unknown-document": 422,
    "model-error": 503,
}

# HTTP status -> code, for errors raised as plain HTTP exceptions.
CODE_BY_STATUS: dict[int, str] = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    409: "conflict",
    413: "content-too-large",
    415: "unsupported-media-type",
    422: "invalid-request",
    500: "internal-error",
    503: "unavailable",
}


class ProblemDetail(BaseModel):
    """RFC 9457 problem details, as every error response carries them."""

    type: str = Field(examples=["urn:tipscan:problem:not-found"])
    title: str = Field(examples=["Not Found"])
    status: int = Field(examples=[404])
    detail: str = Field(examples=["no document with id 3f2a..."])
    instance: str = Field(description="the request path", examples=["/v1/documents/3f2a..."])
    errors: list[dict[str, Any]] | None = Field(
        default=None, description="invalid-request only: each invalid field and why"
    )


class Problem(Exception):
    """An error a route reports: status, stable code, and what to do about it."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = dict(headers or {})
        self.extra = extra


class BodyTooLarge(HTTPException):
    """Raised while reading a request body that runs past its limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is over the limit of {limit / 2**20:g} MiB")


def problem_response(
    request: Request | None,
    status: int,
    code: str,
    detail: str,
    *,
    headers: Mapping[str, str] | None = None,
    path: str | None = None,
    **extra: Any,
) -> JSONResponse:
    try:
        title = HTTPStatus(status).phrase
    except ValueError:
        title = "Error"
    body = {
        "type": TYPE_PREFIX + code,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": path if path is not None else request.url.path if request else "",
        **{k: v for k, v in extra.items() if v is not None},
    }
    return JSONResponse(body, status_code=status, headers=headers, media_type=MEDIA_TYPE)


def _location(loc: Any) -> str:
    return ".".join(str(x) for x in loc)


async def _on_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Problem)
    return problem_response(
        request, exc.status, exc.code, exc.detail, headers=exc.headers, **exc.extra
    )


async def _on_tipscan_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, TipscanError)
    return problem_response(request, STATUS_BY_CODE.get(exc.code, 400), exc.code, exc.message)


async def _on_http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code = CODE_BY_STATUS.get(exc.status_code, f"http-{exc.status_code}")
    if exc.status_code == 404 and exc.detail == "Not Found":
        detail = f"no such resource: {request.url.path}; the API is described at /docs"
    elif exc.status_code == 405:
        detail = f"{request.method} is not allowed on {request.url.path}"
    else:
        detail = str(exc.detail)
    return problem_response(request, exc.status_code, code, detail, headers=exc.headers)


async def _on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    # The offending input is not echoed back: it may be large, or a secret.
    errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", "")} for e in exc.errors()]
    shown = "; ".join(f"{_location(e['loc'])}: {e['msg']}" for e in errors[:3])
    more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
    return problem_response(
        request, 422, "invalid-request", f"the request is not valid: {shown}{more}", errors=errors
    )


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(
        request, 500, "internal-error", "an internal error occurred; the server log has the details"
    )


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(Problem, _on_problem)
    app.add_exception_handler(TipscanError, _on_tipscan_error)
    app.add_exception_handler(HTTPException, _on_http_exception)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(Exception, _on_unexpected)


# Documented on every route: what an error looks like.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": {"model": ProblemDetail, "content": {MEDIA_TYPE: {}}, "description": "A problem"},
}


class BodyLimit:
    """Refuse request bodies over a limit: at once by Content-Length, else while reading."""

    def __init__(self, app: ASGIApp, limit_for: Any) -> None:
        self.app = app
        self.limit_for = limit_for  # (method, path) -> bytes allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit: int = self.limit_for(scope["method"], scope["path"])
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            response = problem_response(
                None,
                413,
                "content-too-large",
                f"the request body is over the limit of {limit / 2**20:g} MiB",
                path=scope["path"],
                headers={"Connection": "close"},
            )
            await response(scope, receive, send)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, limited, send)
