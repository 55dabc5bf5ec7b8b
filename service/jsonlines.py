"""One line of a JSON Lines file, parsed to an object or refused with the reason."""

from __future__ import annotations

import json
from typing import Any


def json_object(raw: str) -> dict[str, Any]:
    """The JSON object on ``raw``; ValueError says why the line is not one."""
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc.msg})") from None
    if not isinstance(data, dict):
        raise ValueError(f"expected a JSON object, got {type(data).__name__}")
    return data
