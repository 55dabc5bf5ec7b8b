"""CLI commands of the HTTP service (serve, keys); filled in with the API."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the service's commands to the main CLI."""
