"""Reading the classify contract's JSON Lines, one bad line never sinking the rest."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from pydantic import ValidationError

from .errors import InvalidInput
from .jsonlines import json_object
from .model import PassageInput


def parse_passage_line(raw: str, where: str) -> PassageInput:
    try:
        data = json_object(raw)
    except ValueError as exc:
        raise InvalidInput(f'{where}: {exc} (need "id" and "text"); line skipped') from None
    try:
        return PassageInput.model_validate(data)
    except ValidationError as exc:
        fields = ", ".join(".".join(map(str, e["loc"])) or "line" for e in exc.errors())
        raise InvalidInput(
            f'{where}: bad or missing {fields} (need "id" and "text"); line skipped'
        ) from None


def read_passage_lines(lines: Iterable[str], name: str) -> Iterator[PassageInput | InvalidInput]:
    """Each non-blank line parsed, or the error naming it (``name:line``)."""
    for number, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        try:
            yield parse_passage_line(raw, f"{name if name != '-' else 'stdin'}:{number}")
        except InvalidInput as exc:
            yield exc
