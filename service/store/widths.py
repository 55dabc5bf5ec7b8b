"""Text against its column's width, checked before it is written.

PostgreSQL refuses a value longer than its ``VARCHAR(n)`` column (and with it
the whole transaction, as a driver error); SQLite keeps it whole. Checking
first makes both backends answer alike: ``InvalidInput`` naming the column.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import String, Table

from ..errors import InvalidInput


def widths(table: Table) -> dict[str, int]:
    """Each bounded text column of ``table`` and its width (``Text`` has none)."""
    return {
        c.name: c.type.length
        for c in table.c
        if isinstance(c.type, String) and c.type.length is not None
    }


def check_widths(table: Table, rows: Iterable[Mapping[str, Any]]) -> None:
    """InvalidInput for the first value longer than its column."""
    bounded = widths(table)
    for row in rows:
        for name, value in row.items():
            width = bounded.get(name)
            if width is not None and isinstance(value, str) and len(value) > width:
                raise InvalidInput(
                    f"{name} is at most {width} characters, not {len(value)}: {value[:40]!r}…"
                )
