"""API keys, for admins (``tipscan keys create`` does the same from the shell)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from ..errors import NotFound
from .auth import Admin
from .deps import StoreDep
from .problems import PROBLEM_RESPONSES
from .schemas import KeyIn, KeyOut

router = APIRouter(prefix="/v1/keys", tags=["keys"], responses=PROBLEM_RESPONSES)


@router.post("", status_code=201, summary="Create a key (the answer is the only place it is shown)")
def create_key(body: KeyIn, _who: Admin, store: StoreDep) -> KeyOut:
    record, key = store.create_key(body.role, body.name)
    return KeyOut.model_validate(record, from_attributes=True).model_copy(update={"key": key})


@router.get("", summary="The keys (ids and roles; never the keys)")
def list_keys(_who: Admin, store: StoreDep) -> list[KeyOut]:
    return [KeyOut.model_validate(k, from_attributes=True) for k in store.list_keys()]


@router.delete("/{key_id}", status_code=204, summary="Revoke a key")
def revoke_key(key_id: str, _who: Admin, store: StoreDep) -> Response:
    if not store.revoke_key(key_id):
        raise NotFound(f"no live key with id {key_id}")
    return Response(status_code=204)
