"""The annotation page in a real browser (Debian's chromium, driven by Playwright) against
the real app served by uvicorn on a free port, with a temporary SQLite store."""

from __future__ import annotations

import asyncio
import shutil
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from service.api import create_app
from service.api.routes_annotate_page import CSP, KEY_OF
from service.classify import Model
from service.labels import LABELS
from service.settings import Settings
from service.store import Store

sync_api = pytest.importorskip(
    "playwright.sync_api",
    reason="playwright is not installed (pip install -e '.[dev]'); the page cannot be driven",
)
CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="chromium is not installed (apt-get install chromium); the page cannot be opened",
)


class _Server(uvicorn.Server):
    """uvicorn, telling the test when the app has started (store open, model loaded)."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = threading.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self.ready.set()


@dataclass
class Served:
    url: str
    store: Store
    keys: dict[str, str]
    settings: Settings


@pytest.fixture(scope="module")
def served(model: Model, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The app on 127.0.0.1 and a port the OS chose, with one key per role."""
    data = tmp_path_factory.mktemp("annotate-data")
    settings = Settings.load(data_dir=data, workers=1, poll_s=0.2)
    app = create_app(settings, model=model)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = _Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=lambda: asyncio.run(server.serve([sock])), daemon=True)
    thread.start()
    try:
        assert server.ready.wait(120), "the app did not start"
        store: Store = app.state.store
        keys = {role: store.create_key(role)[1] for role in ("reader", "annotator", "admin")}
        yield Served(f"http://127.0.0.1:{port}", store, keys, settings)
    finally:
        server.should_exit = True
        thread.join(60)
        sock.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


@dataclass
class Tab:
    """One page in a fresh browser context (its own sessionStorage), and what it did."""

    page: Any
    requests: list[Any] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def urls(self) -> list[str]:
        return [r.url for r in self.requests]


@pytest.fixture
def tab(browser: Any) -> Iterator[Tab]:
    context = browser.new_context()
    page = context.new_page()
    opened = Tab(page)
    page.on("request", lambda request: opened.requests.append(request))
    page.on("pageerror", lambda exc: opened.problems.append(f"page error: {exc}"))
    page.on(
        "console",
        lambda msg: opened.problems.append(f"console: {msg.text}") if msg.type == "error" else None,
    )
    try:
        yield opened
    finally:
        context.close()


def open_page(tab: Tab, served: Served) -> Any:
    response = tab.page.goto(f"{served.url}/annotate")
    assert response is not None and response.status == 200
    return response


# --- the page before any key ------------------------------------------------------------


def test_page_opens_without_a_key_under_its_own_policy(tab: Tab, served: Served) -> None:
    response = open_page(tab, served)
    assert response.headers["content-security-policy"] == CSP
    assert "'unsafe-inline'" not in CSP and "http" not in CSP
    page = tab.page
    # The script ran (it fills the key status) and nothing broke or was blocked by the CSP.
    assert page.inner_text("#key-status") == "no key entered"
    assert page.get_attribute("body", "data-state") == "no-key"
    assert tab.problems == []
    # Every request stayed on this server: no CDN, no external font.
    assert tab.urls() and all(u.startswith(served.url + "/") for u in tab.urls())

    # The 18 labels in the guidelines' order, each with its key, id, slug and definition.
    rows = page.eval_on_selector_all(
        "#labels .label",
        """els => els.map(li => ({id: li.dataset.label, key: li.querySelector('kbd').innerText,
              slug: li.querySelector('.label-slug').innerText,
              definition: li.querySelector('.definition').innerText}))""",
    )
    assert [r["id"] for r in rows] == [label.id for label in LABELS]
    assert [r["key"] for r in rows] == [KEY_OF[label.id] for label in LABELS]
    assert len({r["key"] for r in rows}) == len(LABELS)
    assert [r["slug"] for r in rows] == [label.slug for label in LABELS]
    assert all(r["definition"].strip() for r in rows)


def test_help_overlay_lists_every_key_and_closes_with_escape(tab: Tab, served: Served) -> None:
    open_page(tab, served)
    page = tab.page
    assert page.is_hidden("#help")
    page.keyboard.press("?")
    assert page.is_visible("#help")
    help_text = page.inner_text("#help")
    for label in LABELS:
        assert f"{KEY_OF[label.id]}\n{label.id} {label.slug}" in help_text or (
            f"{KEY_OF[label.id]}\t{label.id} {label.slug}" in help_text
        ), label.id
    for what in ("mentions trafficking", "mentions corruption", "Enter", "Backspace", "Esc"):
        assert what in help_text
    page.keyboard.press("Escape")
    assert page.is_hidden("#help")


def test_assets_are_served_and_unknown_ones_are_problems(served: Served) -> None:
    with httpx.Client(base_url=served.url) as client:
        for name, media in (("annotate.js", "text/javascript"), ("annotate.css", "text/css")):
            r = client.get(f"/annotate/{name}")
            assert r.status_code == 200 and r.headers["content-type"].startswith(media)
            assert r.headers["x-content-type-options"] == "nosniff"
        assert "sessionStorage" in client.get("/annotate/annotate.js").text
        missing = client.get("/annotate/secrets.txt")
        assert missing.status_code == 404
        assert missing.headers["content-type"].startswith("application/problem+json")


def test_assets_ship_with_the_package() -> None:
    """The page's files are package data: each matches a pattern of pyproject's list."""
    import tomllib
    from fnmatch import fnmatch
    from importlib import resources

    folder = resources.files("service.api").joinpath("static", "annotate")
    names = sorted(p.name for p in folder.iterdir())
    assert {"annotate.html", "annotate.js", "annotate.css", "icon.svg"} <= set(names)
    root = Path(__file__).resolve().parent.parent
    config = tomllib.loads((root / "pyproject.toml").read_text("utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["service.api"]
    for name in names:
        assert any(fnmatch(f"static/annotate/{name}", p) for p in patterns), name


# --- against the annotation backend -----------------------------------------------------

PRESSES = (("1", "1.1", "t"), ("a", "3.4", "c"), ("k", "6.1", "t"))


def use_key(tab: Tab, served: Served, role: str, strategy: str = "random") -> None:
    """Choose the queue, then type the key and press Enter, as an annotator would."""
    page = tab.page
    page.select_option("#strategy", strategy)
    page.click("#key-input")
    page.keyboard.type(served.keys[role])
    page.keyboard.press("Enter")


def shown(tab: Tab) -> str:
    """The id of the passage on screen, once one is."""
    tab.page.wait_for_selector("body[data-state=passage]", state="attached")
    passage = tab.page.get_attribute("body", "data-passage")
    assert passage
    return passage


def next_shown(tab: Tab, before: str) -> str:
    tab.page.wait_for_selector(
        f"body[data-state=passage]:not([data-passage='{before}'])", state="attached"
    )
    return shown(tab)


def all_saved(tab: Tab, count: int) -> None:
    tab.page.wait_for_selector(f"body[data-saved='{count}'][data-pending='0']", state="attached")


def assert_key_never_in_a_url(tab: Tab, served: Served) -> None:
    urls = tab.urls()
    assert any("/v1/annotation/queue" in u for u in urls)
    for key in served.keys.values():
        assert all(key not in u for u in urls)
    assert tab.page.evaluate("Object.keys(localStorage)") == []
