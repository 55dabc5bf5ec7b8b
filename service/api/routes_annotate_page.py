"""The annotation page, ``GET /annotate``: one HTML page with its script and stylesheet.

The page needs no key to load; the annotator enters one in the page, which keeps it in
``sessionStorage`` and sends it as ``X-API-Key`` to the ``/v1/annotation`` routes. The
label list (key, id, slug, definition) is rendered here from ``service/labels.py``, so
the page shows it before any key is entered. The page's own Content-Security-Policy
allows scripts, styles and requests from this origin only: no inline script, no CDN.
"""

from __future__ import annotations

from functools import cache
from html import escape
from importlib import resources
from string import Template

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from ..errors import NotFound
from ..labels import LABELS, Label

router = APIRouter(tags=["annotation"], include_in_schema=False)

# One key per label, in the order of the guidelines: the digits, then the home row.
# The flags take t and c, the note n, help ?; none of them is a label key.
LABEL_KEYS: tuple[str, ...] = (*"1234567890", *"asdfghjk")
FLAG_KEYS: dict[str, str] = {"t": "mentions_trafficking", "c": "mentions_corruption"}
KEY_OF: dict[str, str] = {label.id: key for label, key in zip(LABELS, LABEL_KEYS, strict=True)}

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}
_MEDIA = {
    "annotate.js": "text/javascript",
    "annotate.css": "text/css",
    "icon.svg": "image/svg+xml",
}


def _asset(name: str) -> str:
    return resources.files("service.api").joinpath("static", "annotate", name).read_text("utf-8")


def _label_item(label: Label) -> str:
    key = escape(KEY_OF[label.id])
    return (
        f'<li class="label" data-label="{escape(label.id)}" data-key="{key}">'
        f'<label><input type="checkbox" value="{escape(label.id)}" tabindex="-1">'
        f"<kbd>{key}</kbd>"
        f'<span class="label-id">{escape(label.id)}</span>'
        f'<span class="label-slug">{escape(label.slug)}</span>'
        '<span class="score" aria-hidden="true"><span class="bar"><span class="fill"></span>'
        '<span class="threshold"></span></span><span class="value"></span></span>'
        f'<span class="definition">{escape(label.description)}</span></label></li>'
    )


def _help_row(key: str, what: str) -> str:
    return f"<tr><td><kbd>{escape(key)}</kbd></td><td>{escape(what)}</td></tr>"


@cache
def page() -> str:
    """The page's HTML: the static template with the labels and the key table filled in."""
    rows = [_help_row(KEY_OF[label.id], f"{label.id} {label.slug}") for label in LABELS]
    return Template(_asset("annotate.html")).substitute(
        labels="\n".join(_label_item(label) for label in LABELS),
        label_keys="\n".join(rows),
        label_count=len(LABELS),
    )


@router.get("/annotate", response_class=HTMLResponse)
def annotate_page() -> HTMLResponse:
    return HTMLResponse(page(), headers=HEADERS)


@router.get("/annotate/{name}")
def annotate_asset(name: str) -> Response:
    if name not in _MEDIA:
        raise NotFound(f"the annotation page has no file {name!r}")
    return Response(_asset(name), media_type=_MEDIA[name], headers=HEADERS)
