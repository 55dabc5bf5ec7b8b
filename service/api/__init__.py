"""The HTTP API (FastAPI): routes in small modules over the store, the jobs and the pipeline."""

from .app import create_app

__all__ = ["create_app"]
