"""API keys: ``Authorization: Bearer KEY`` or ``X-API-Key: KEY``, checked against their hashes.

Roles are ranked: a reader reads; an annotator also uploads, groups and
deletes documents; an admin also manages keys.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from ..errors import Forbidden, Unauthorized
from ..store import ROLES, Role
from .deps import StoreDep

RANK = {role: i for i, role in enumerate(ROLES)}

_bearer = HTTPBearer(auto_error=False, description="Authorization: Bearer KEY")
_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="X-API-Key: KEY")


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's public id and its role."""

    key_id: str
    role: Role


def require(role: Role) -> Callable[..., Principal]:
    """A dependency admitting keys of ``role`` or above."""

    def check(
        store: StoreDep,
        bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
        header: Annotated[str | None, Depends(_header)],
    ) -> Principal:
        key = (bearer.credentials if bearer else None) or header
        if not key:
            raise Unauthorized(
                "this needs an API key, sent as 'Authorization: Bearer KEY' or 'X-API-Key: KEY' "
                "(an admin creates one with `tipscan keys create`)"
            )
        found = store.find_key(key.strip())
        if found is None:
            raise Unauthorized("the API key is unknown or revoked")
        if RANK[found.role] < RANK[role]:
            raise Forbidden(
                f"this needs the {role} role or above; this key has the {found.role} role",
            )
        return Principal(found.id, found.role)

    return check


Reader = Annotated[Principal, Depends(require("reader"))]
Annotator = Annotated[Principal, Depends(require("annotator"))]
Admin = Annotated[Principal, Depends(require("admin"))]
