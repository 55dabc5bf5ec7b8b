"""Every error as RFC 9457 problem details (``application/problem+json``).

Each error has one stable ``type``, ``urn:tipscan:problem:<code>``, and the
status and title the catalogue (service/errors.py) gives its code. Routes
raise catalogue errors (``NotFound``, ``Unauthorized``, ...); errors raised as
plain HTTP exceptions (by FastAPI or Starlette) get the catalogue's code for
their status. Responses never carry a stack trace: an unexpected exception,
or an error whose code is not in the catalogue, is logged and answered with a
generic ``internal-error``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import (
    CATALOGUE,
    BadRequest,
    Conflict,
    ContentTooLarge,
    Forbidden,
    InternalError,
    InvalidRequest,
    MethodNotAllowed,
    NotAcceptable,
    NotFound,
    TipscanError,
    Unauthorized,
    Unavailable,
    UnsupportedMediaType,
    lookup,
)

log = logging.getLogger("tipscan.api")

TYPE_PREFIX = "urn:tipscan:problem:"
MEDIA_TYPE = "application/problem+json"
# Sent with every 401, as HTTP requires.
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="tipscan"'}

# HTTP status -> code, for errors raised as plain HTTP exceptions.
CODE_BY_STATUS: dict[int, str] = {
    cls.status: cls.code
    for cls in (
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
        MethodNotAllowed,
        NotAcceptable,
        Conflict,
        ContentTooLarge,
        UnsupportedMediaType,
        InvalidRequest,
        InternalError,
        Unavailable,
    )
}
_INTERNAL_DETAIL = "an internal error occurred; the server log has the details"


class ProblemDetail(BaseModel):
    """RFC 9457 problem details, as every error response carries them."""

    type: str = Field(examples=["urn:tipscan:problem:not-found"])
    title: str = Field(examples=["Not found"])
    status: int = Field(examples=[404])
    detail: str = Field(examples=["no document with id 3f2a..."])
    instance: str = Field(description="the request path", examples=["/v1/documents/3f2a..."])
    errors: list[dict[str, Any]] | None = Field(
        default=None, description="invalid-request only: each invalid field and why"
    )


class BodyTooLarge(HTTPException):
    """Raised while reading a request body that runs past its limit.

    An HTTP exception, not a catalogue error: FastAPI turns any other exception
    raised while it reads a body into a 400. Its status maps to content-too-large.
    """

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is over the limit of {limit / 2**20:g} MiB")


def problem_response(
    request: Request | None,
    code: str,
    detail: str,
    *,
    headers: Mapping[str, str] | None = None,
    path: str | None = None,
    **extra: Any,
) -> JSONResponse:
    """The problem+json response for ``code``: its status and title from the catalogue."""
    entry = lookup(code)
    headers = {**CHALLENGE, **(headers or {})} if entry.status == 401 else headers
    body = {
        "type": TYPE_PREFIX + code,
        "title": entry.title,
        "status": entry.status,
        "detail": detail,
        "instance": path if path is not None else request.url.path if request else "",
        **{k: v for k, v in extra.items() if v is not None},
    }
    return JSONResponse(body, status_code=entry.status, headers=headers, media_type=MEDIA_TYPE)


def _location(loc: Any) -> str:
    return ".".join(str(x) for x in loc)


def _internal(request: Request, why: str, exc: BaseException) -> JSONResponse:
    log.error("%s on %s %s", why, request.method, request.url.path, exc_info=exc)
    return problem_response(request, InternalError.code, _INTERNAL_DETAIL)


async def _on_tipscan_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, TipscanError)
    if exc.code not in CATALOGUE:
        return _internal(request, f"error code {exc.code!r} is not in the catalogue", exc)
    return problem_response(request, exc.code, exc.message)


async def _on_http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code = CODE_BY_STATUS.get(exc.status_code)
    if code is None:
        return _internal(request, f"HTTP status {exc.status_code} has no catalogue code", exc)
    if exc.status_code == 404 and exc.detail == "Not Found":
        detail = f"no such resource: {request.url.path}; the API is described at /docs"
    elif exc.status_code == 405:
        detail = f"{request.method} is not allowed on {request.url.path}"
    else:
        detail = str(exc.detail)
    return problem_response(request, code, detail, headers=exc.headers)


async def _on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    # The offending input is not echoed back: it may be large, or a secret.
    errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", "")} for e in exc.errors()]
    shown = "; ".join(f"{_location(e['loc'])}: {e['msg']}" for e in errors[:3])
    more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
    return problem_response(
        request,
        InvalidRequest.code,
        f"the request is not valid: {shown}{more}",
        errors=errors,
    )


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    return _internal(request, "unhandled error", exc)


def install_problem_handlers(app: FastAPI) -> None:
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
                ContentTooLarge.code,
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
