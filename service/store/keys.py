"""API keys: only each key's hash is stored; the key itself is shown once."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from sqlalchemy import insert, select, update

from ..errors import InvalidInput
from .db import Database, as_dict, now
from .schema import ROLES, api_keys


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class Keys:
    def __init__(self, db: Database) -> None:
        self.db = db

    def create_key(self, role: str, name: str | None = None) -> tuple[str, str]:
        """A new key for ``role``: (key id, key)."""
        if role not in ROLES:
            raise InvalidInput(f"unknown role {role!r}; one of {', '.join(ROLES)}")
        key = "tsk_" + secrets.token_urlsafe(32)
        key_id = secrets.token_hex(4)
        with self.db.write() as c:
            c.execute(
                insert(api_keys).values(
                    id=key_id, key_hash=hash_key(key), role=role, name=name, created_at=now()
                )
            )
        return key_id, key

    def find_key(self, key: str) -> dict[str, Any] | None:
        """The live key row for a presented key, if any."""
        with self.db.read() as c:
            row = c.execute(
                select(api_keys).where(
                    api_keys.c.key_hash == hash_key(key), api_keys.c.revoked_at.is_(None)
                )
            ).first()
        return as_dict(row) if row else None

    def list_keys(self) -> list[dict[str, Any]]:
        with self.db.read() as c:
            rows = c.execute(
                select(api_keys.c.id, api_keys.c.role, api_keys.c.name, api_keys.c.created_at,
                       api_keys.c.revoked_at).order_by(api_keys.c.created_at)
            ).all()  # fmt: skip
        return [as_dict(r) for r in rows]

    def revoke_key(self, key_id: str) -> bool:
        with self.db.write() as c:
            done = c.execute(
                update(api_keys)
                .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=now())
            )
        return done.rowcount == 1
