"""The annotation page in a real browser (Debian's chromium, driven by Playwright) against
the real app served by uvicorn on a free port, with a temporary SQLite store."""

from __future__ import annotations

import asyncio
import re
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

from service.annotate.loading import load_jsonl
from service.annotate.queues import source_link
from service.api import create_app
from service.api.routes_annotate_page import CSP, KEY_OF
from service.classify import Model
from service.labels import LABELS
from service.settings import Settings
from service.store import Store

ROOT = Path(__file__).resolve().parent.parent
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
    """The app on 127.0.0.1 and a port the OS chose, the project's annotation store loaded
    into its database, and one key per role."""
    data = tmp_path_factory.mktemp("annotate-data")
    settings = Settings.load(data_dir=data, workers=1, poll_s=0.2, corpus_dir=ROOT / "corpus")
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
        load_jsonl(store, ROOT / "annotations", [ROOT / "corpus" / "MANIFEST.csv"])
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
    # Generous: the first uncertainty queue scores every passage, on a shared machine.
    context.set_default_timeout(120_000)
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
    config = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["service.api"]
    for name in names:
        assert any(fnmatch(f"static/annotate/{name}", p) for p in patterns), name


# --- against the annotation backend -----------------------------------------------------

PRESSES = (("1", "1.1", "t"), ("a", "3.4", "c"), ("k", "6.1", "t"))


def annotator(served: Served) -> tuple[str, str]:
    """A new annotator key (its id, the key), so that each test has its own queues."""
    record, key = served.store.create_key("annotator")
    return record.id, key


def use_key(tab: Tab, served: Served, key: str, strategy: str = "random", doc: str = "") -> None:
    """Open the page, choose the queue, then type the key and press Enter."""
    open_page(tab, served)
    page = tab.page
    page.select_option("#strategy", strategy)
    if doc:
        page.fill("#document-id", doc)
    page.click("#key-input")
    page.keyboard.type(key)
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


def queue_requests(tab: Tab) -> list[str]:
    return [u for u in tab.urls() if "/v1/annotation/queue" in u]


def assert_key_never_in_a_url(tab: Tab, key: str) -> None:
    """The key went only in headers: no URL the page requested, nor its own, carries it."""
    assert queue_requests(tab)
    assert all(key not in u for u in [*tab.urls(), tab.page.url])
    headers = [r.headers.get("x-api-key") for r in tab.requests if "/v1/annotation/" in r.url]
    assert headers and all(h == key for h in headers)
    assert tab.page.evaluate("Object.values(localStorage)") == []
    assert key in tab.page.evaluate("Object.values(sessionStorage)")


@pytest.mark.parametrize("strategy", ["random", "uncertainty"])
def test_an_annotator_labels_three_passages_with_the_keyboard_only(
    tab: Tab, served: Served, strategy: str
) -> None:
    key_id, key = annotator(served)
    use_key(tab, served, key, strategy)
    page = tab.page
    passage = shown(tab)
    stored = served.store.annotation.passages([passage])[passage]
    assert page.inner_text("#text").strip() == stored.text.strip()
    assert page.inner_text("#doc-title") == stored.doc_title
    assert page.inner_text("#citation") == stored.citation
    # Its neighbours in the document, greyed before and after it; the source when linked.
    before, after = served.store.annotation.neighbours(stored, 2)
    for where, expected in (("#before", before), ("#after", after)):
        texts = page.eval_on_selector_all(f"{where} .ctx p", "ps => ps.map(p => p.textContent)")
        assert texts == [p.text for p in expected]
    link = source_link(stored)
    assert page.is_visible("#source") == (link is not None)
    if link is not None:
        assert (page.get_attribute("#source", "href") or "").endswith(link)
    # The model's scores are on the labels (not blind), with the threshold marked.
    assert page.locator("#labels .label.has-score").count() == len(LABELS)

    pressed: list[tuple[str, list[str], bool, bool]] = []
    for label_key, label, flag in PRESSES:
        page.keyboard.press(label_key)
        page.keyboard.press(flag)
        page.keyboard.press("Enter")
        pressed.append((passage, [label], flag == "t", flag == "c"))
        passage = next_shown(tab, passage)
    all_saved(tab, len(PRESSES))

    decisions = served.store.annotation.decisions(annotator=key_id)
    got = [
        (d.passage_id, d.labels, d.mentions_trafficking, d.mentions_corruption) for d in decisions
    ]
    assert got == pressed
    assert len({p for p, *_ in pressed}) == len(PRESSES)
    assert {d.queue for d in decisions} == {strategy}
    assert all(d.shown_suggestions for d in decisions)
    assert tab.problems == []
    assert_key_never_in_a_url(tab, key)


def test_going_back_appends_a_new_decision(tab: Tab, served: Served) -> None:
    key_id, key = annotator(served)
    use_key(tab, served, key, "random")
    page = tab.page
    first = shown(tab)
    page.keyboard.press("2")
    page.keyboard.press("Enter")
    second = next_shown(tab, first)
    page.keyboard.press("3")
    page.keyboard.press("Enter")
    third = next_shown(tab, second)
    all_saved(tab, 2)

    page.keyboard.press("Backspace")
    assert next_shown(tab, third) == second
    # The decision made is on screen again: 2.1 ticked. Change it to 2.2 and a note.
    assert page.is_checked("#labels .label[data-label='2.1'] input")
    page.keyboard.press("3")
    page.keyboard.press("4")
    page.keyboard.press("n")
    page.keyboard.type("tc 56 typed in the note, not labels")
    page.keyboard.press("Escape")
    page.keyboard.press("Enter")
    assert next_shown(tab, second) == third
    all_saved(tab, 3)

    decisions = served.store.annotation.decisions(annotator=key_id)
    assert [(d.passage_id, d.labels) for d in decisions] == [
        (first, ["1.2"]),
        (second, ["2.1"]),
        (second, ["2.2"]),
    ]
    last = decisions[-1]
    assert last.note == "tc 56 typed in the note, not labels"
    assert not last.mentions_trafficking and not last.mentions_corruption


def test_the_next_passages_are_in_memory_and_more_come_below_three(
    tab: Tab, served: Served
) -> None:
    _, key = annotator(served)
    use_key(tab, served, key, "random")
    page = tab.page
    passage = shown(tab)
    ahead = int(page.get_attribute("body", "data-ahead") or 0)
    assert ahead >= 3
    seen = [passage]
    # Down to three waiting: every next passage is shown from memory, nothing fetched.
    for _ in range(ahead - 3):
        page.keyboard.press("Enter")
        passage = next_shown(tab, passage)
        seen.append(passage)
    assert len(queue_requests(tab)) == 1
    # Fewer than three left: the page asks for more.
    with page.expect_request(lambda r: "/v1/annotation/queue" in r.url):
        page.keyboard.press("Enter")
    passage = next_shown(tab, passage)
    seen.append(passage)
    assert len(set(seen)) == len(seen)
    all_saved(tab, len(seen) - 1)
    assert page.is_hidden("#error")


def test_the_double_queue_is_blind(tab: Tab, served: Served) -> None:
    key_id, key = annotator(served)
    use_key(tab, served, key, "double")
    page = tab.page
    passage = shown(tab)
    assert page.locator("body.blind").count() == 1
    assert page.locator("#labels .label.has-score").count() == 0
    assert all(not page.is_visible(f"#labels .label[data-label='{x.id}'] .score") for x in LABELS)
    others = {d.annotator for d in served.store.annotation.decisions(passage_ids=[passage])}
    assert others and key_id not in others
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    all_saved(tab, 1)
    (decision,) = served.store.annotation.decisions(annotator=key_id)
    assert (decision.passage_id, decision.labels, decision.queue) == (passage, ["5.1"], "double")
    assert decision.shown_suggestions is False


@pytest.mark.parametrize(
    ("who", "strategy", "doc", "words"),
    [
        ("unknown", "random", "", "The API key was refused (the API key is unknown or revoked)"),
        (
            "reader",
            "random",
            "",
            "this needs the annotator role or above; this key has the reader role",
        ),
        (
            "annotator",
            "document",
            "x" * 300,
            "The server did not accept the request: the request is not valid: query.document",
        ),
        ("annotator", "document", "no-such-document", "no annotation passages for document"),
    ],
)
def test_refusals_are_shown_in_words(
    tab: Tab, served: Served, who: str, strategy: str, doc: str, words: str
) -> None:
    key = "tip_not-a-key" if who == "unknown" else served.keys[who]
    use_key(tab, served, key, strategy, doc)
    page = tab.page
    page.wait_for_selector("#error:not([hidden])")
    assert words in page.inner_text("#error")
    assert page.is_hidden("#passage")
    # A refused key opens no queue; a refused queue says so where the passage would be.
    empty = (
        "Enter an annotator key, choose a queue and load it."
        if who == "unknown"
        else "The queue could not be loaded: see the message above."
    )
    assert page.inner_text("#empty") == empty


def test_the_agreement_panel_shows_what_the_api_computes(tab: Tab, served: Served) -> None:
    _, key = annotator(served)
    with httpx.Client(base_url=served.url, headers={"X-API-Key": key}, timeout=120) as client:
        r = client.get("/v1/annotation/agreement")
    assert r.status_code == 200, r.text
    expected = r.json()
    use_key(tab, served, key, "random")
    page = tab.page
    page.wait_for_selector("#agreement-table tbody tr")
    summary = page.inner_text("#agreement-summary")
    assert f"over {expected['n']} decisions" in summary
    if expected["alpha"] is not None:
        assert f"alpha {expected['alpha']:.2f}" in summary
    rows = page.eval_on_selector_all(
        "#agreement-table tbody tr", "rows => rows.map(r => r.innerText.split('\\t'))"
    )
    assert [row[0] for row in rows] == list(expected["per_label"])
    for row, (label, kappa) in zip(rows, expected["per_label"].items(), strict=True):
        shown_kappa = "–" if kappa["kappa"] is None else f"{kappa['kappa']:.2f}"
        assert row[1:] == [shown_kappa, str(kappa["n"])], label


def test_the_document_queue_reads_a_document_in_order_with_its_source(
    tab: Tab, served: Served
) -> None:
    ann = served.store.annotation
    # A document shipped in corpus/, so that its source can be opened.
    linked = sorted(
        (
            p for p in ann.passages().values()
            if source_link(p) is not None and p.source and (ROOT / "corpus" / p.source).is_file()
        ),
        key=lambda p: (p.doc_id, p.position),
    )  # fmt: skip
    doc = linked[0].doc_id
    in_order = ann.document_passages(doc)
    _, key = annotator(served)
    use_key(tab, served, key, "document", doc)
    page = tab.page
    passage = shown(tab)
    assert passage == in_order[0].id
    # The first passage of a document has nothing before it.
    assert page.locator("#before .ctx").count() == 0
    link = source_link(in_order[0])
    assert link is not None and page.is_visible("#source")
    assert (page.get_attribute("#source", "href") or "") == f"{served.url}{link}"
    # Opening it fetches the file with the key in a header and shows what came back.
    with page.context.expect_page() as opened:
        page.click("#source")
    shown_source = opened.value
    shown_source.wait_for_url(re.compile(r"^blob:"), timeout=15_000)
    assert shown_source.url.startswith("blob:")
    assert key not in shown_source.url
    shown_source.close()
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.keyboard.press("Enter")
    assert next_shown(tab, passage) == in_order[1].id
    assert page.inner_text("#before .ctx p") == in_order[0].text
