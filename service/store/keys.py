"""API keys: only each key's hash is stored; the key itself is shown once."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import insert, select, update

from ..errors import InvalidInput
from .db import Database, now
from .records import KeyRecord
from .schema import ROLES, api_keys
from .widths import check_widths

# What a key's record shows: everything but its hash.
_LISTED = tuple(c for c in api_keys.c if c.name != "key_hash")


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class Keys:
    def __init__(self, db: Database) -> None:
        self.db = db

    def create_key(self, role: str, name: str | None = None) -> tuple[KeyRecord, str]:
        """A new key for ``role``: (its record, the key)."""
        if role not in ROLES:
            raise InvalidInput(f"unknown role {role!r}; one of {', '.join(ROLES)}")
        check_widths(api_keys, [{"name": name}])
        key = "tsk_" + secrets.token_urlsafe(32)
        key_id = secrets.token_hex(4)
        with self.db.write() as c:
            c.execute(
                insert(api_keys).values(
                    id=key_id, key_hash=hash_key(key), role=role, name=name, created_at=now()
                )
            )
            row = c.execute(select(*_LISTED).where(api_keys.c.id == key_id)).one()
        return KeyRecord.model_validate(row._mapping), key

    def find_key(self, key: str) -> KeyRecord | None:
        """The live key for a presented key, if any."""
        with self.db.read() as c:
            row = c.execute(
                select(*_LISTED).where(
                    api_keys.c.key_hash == hash_key(key), api_keys.c.revoked_at.is_(None)
                )
            ).first()
        return KeyRecord.model_validate(row._mapping) if row else None

    def list_keys(self) -> list[KeyRecord]:
        with self.db.read() as c:
            rows = c.execute(select(*_LISTED).order_by(api_keys.c.created_at)).all()
        return [KeyRecord.model_validate(r._mapping) for r in rows]

    def revoke_key(self, key_id: str) -> bool:
        with self.db.write() as c:
            done = c.execute(
                update(api_keys)
                .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=now())
            )
        return done.rowcount == 1
