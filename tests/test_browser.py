"""The built book's explorers in a real browser, with no kernel and no network.

    .venv/bin/pytest -m browser tests/test_browser.py            # builds the book first
    FORCEMLP_SITE=_build/html .venv/bin/pytest -m browser tests/test_browser.py   # a built site

Serves the site on 127.0.0.1, opens each widget lesson in headless Debian Chromium driven by
Playwright, moves every control and checks the picture changes, that no request leaves
127.0.0.1 (outside requests are recorded and blocked) and that nothing fails: no console error,
no page error, no HTTP error (a missing widget font shows up here). Screenshots go to
_build/screenshots/. Chromium comes from apt (installed here if missing), never from
`playwright install`.
"""
from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import pytest

from .book import BOOK_ROOT

pytestmark = pytest.mark.browser

ACTIVATION_PAGE = "lessons/03_activations.html"
OPTIMIZER_PAGE = "lessons/04_gradient_descent.html"
SCREENSHOTS = BOOK_ROOT / "_build" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
WIDGET_FONTS = "/_static/widgets/html-manager/dist/"
RENDER_TIMEOUT_MS = 60_000


def ensure_chromium() -> Path:
    """Debian's chromium, installed with apt-get when missing."""
    if not CHROMIUM.exists():
        if shutil.which("apt-get") is None:
            pytest.fail("chromium is missing and apt-get is not available: install chromium.")
        sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
        environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run([*sudo, "apt-get", "update"], check=True, env=environment)
        subprocess.run([*sudo, "apt-get", "install", "-y", "--no-install-recommends", "chromium"],
                       check=True, env=environment)
    return CHROMIUM


@pytest.fixture(scope="session")
def site(request) -> Path:
    """The built book: FORCEMLP_SITE when set (a site built before), else this session's build."""
    if folder := os.environ.get("FORCEMLP_SITE"):
        return Path(folder).resolve()
    return request.getfixturevalue("built_book").html


@pytest.fixture(scope="session")
def site_url(site: Path) -> Iterator[str]:
    """The site served by Python's http.server on 127.0.0.1, on a free port, in a thread."""
    class QuietHandler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(site))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(ensure_chromium()), args=CHROMIUM_FLAGS, headless=True
        )
        yield chromium
        chromium.close()


@dataclass
class PageLog:
    """Everything a page did that the test must see: outside requests, errors, fonts."""

    outside_requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    widget_fonts: list[str] = field(default_factory=list)


def is_local(url: str) -> bool:
    parsed = urlparse(url)
    return parsed.scheme in ("data", "blob", "about") or parsed.hostname == "127.0.0.1"


def open_page(browser, url: str):
    """A fresh page (a new context: no cache, no cookies) that logs and blocks what it must not do."""
    context = browser.new_context(viewport={"width": 1280, "height": 1400})
    page = context.new_page()
    log = PageLog()

    def route(route) -> None:
        if is_local(route.request.url):
            route.continue_()
        else:
            log.outside_requests.append(route.request.url)
            route.abort()

    def response(response) -> None:
        if response.status >= 400:
            log.errors.append(f"HTTP {response.status}: {response.url}")
        elif WIDGET_FONTS in response.url and not response.url.split("?")[0].endswith(".js"):
            log.widget_fonts.append(response.url)

    page.route("**/*", route)
    page.on("response", response)
    page.on("requestfailed", lambda request: log.errors.append(
        f"request failed: {request.url} ({request.failure})"))
    page.on("console", lambda message: log.errors.append(f"console: {message.text}")
            if message.type == "error" else None)
    page.on("pageerror", lambda error: log.errors.append(f"page error: {error}"))
    page.goto(url, wait_until="load")
    page.wait_for_selector("img.widget-image", state="visible", timeout=RENDER_TIMEOUT_MS)
    return page, log


def visible_pictures(page) -> list[str]:
    """The src of every widget image the reader sees now (Stacks hide the others)."""
    return page.eval_on_selector_all(
        "img.widget-image",
        "images => images.filter(image => image.offsetParent !== null"
        " && image.getBoundingClientRect().width > 0).map(image => image.src)",
    )


def explorer(page):
    """The rendered explorer: the outermost widget box of the page."""
    return page.locator(".widget-vbox").first


class PictureWatch:
    """Moves a control and checks that what the reader sees changed, saving screenshots."""

    def __init__(self, page, name: str):
        self.page, self.name = page, name
        self.before = self.snapshot("start")

    def snapshot(self, label: str) -> tuple[tuple[str, ...], bytes]:
        picture = explorer(self.page).screenshot(path=SCREENSHOTS / f"{self.name}-{label}.png")
        return tuple(visible_pictures(self.page)), picture

    def changed_by(self, label: str, action) -> None:
        action()
        self.page.wait_for_timeout(300)  # a jslink updates in the same tick; let it paint
        after = self.snapshot(label)
        sources_before, pixels_before = self.before
        sources_after, pixels_after = after
        assert sources_after and sources_after != sources_before, f"{label}: same images shown"
        assert pixels_after != pixels_before, f"{label}: the screenshot did not change"
        self.before = after


def press_slider(page, description: str, key: str = "ArrowRight") -> None:
    """Move the visible slider whose label is `description` one stop with the keyboard."""
    slider = page.locator(".widget-slider:visible", has_text=description).first
    handle = slider.locator(".noUi-handle").first
    handle.focus()
    handle.press(key)


def choose(page, description: str, index: int) -> None:
    """Pick option `index` of the dropdown labelled `description`."""
    page.locator(".widget-dropdown", has_text=description).first.locator("select").select_option(
        index=index
    )


def check_clean(log: PageLog) -> None:
    assert log.outside_requests == [], f"requests left 127.0.0.1: {log.outside_requests}"
    assert log.errors == [], "\n".join(log.errors)
    assert log.widget_fonts, "the widget manager's font did not load from the site"


def test_activation_explorer_moves_offline(browser, site_url):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page, log = open_page(browser, site_url + ACTIVATION_PAGE)
    watch = PictureWatch(page, "activations")
    watch.changed_by("sigmoid", lambda: choose(page, "activation", 3))
    watch.changed_by("leaky-relu", lambda: choose(page, "activation", 1))
    watch.changed_by("leaky-slope", lambda: press_slider(page, "slope"))
    watch.changed_by("elu", lambda: choose(page, "activation", 2))
    watch.changed_by("elu-alpha", lambda: press_slider(page, "alpha", "ArrowLeft"))
    page.screenshot(path=SCREENSHOTS / "activations-page.png", full_page=True)
    check_clean(log)


def test_optimizer_explorer_moves_offline(browser, site_url):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page, log = open_page(browser, site_url + OPTIMIZER_PAGE)
    watch = PictureWatch(page, "optimizers")
    watch.changed_by("step", lambda: press_slider(page, "step"))
    watch.changed_by("learning-rate", lambda: press_slider(page, "learning rate"))
    watch.changed_by("momentum", lambda: press_slider(page, "momentum"))
    watch.changed_by("surface", lambda: choose(page, "surface", 1))
    watch.changed_by("diverging", lambda: [press_slider(page, "learning rate") for _ in range(3)])
    page.screenshot(path=SCREENSHOTS / "optimizers-page.png", full_page=True)
    check_clean(log)


def test_a_chosen_framework_tab_follows_the_reader_across_pages_and_reloads(browser, site_url):
    """Synced tabs (group "framework"): a choice on one page shows on the next after a reload.

    sphinx-design 0.8.0's design-tabs.js keeps the choice in localStorage; one browser context
    (one profile) visits the Rosetta page, picks a tab, then opens lesson 8 and reloads it.
    """
    def chosen(page) -> list[str]:
        return page.eval_on_selector_all(
            "input:checked + label.sd-tab-label[data-sync-group='framework']",
            "labels => labels.map(label => label.textContent.trim())",
        )

    context = browser.new_context()
    page = context.new_page()
    page.route("**/*", lambda route: route.continue_() if is_local(route.request.url)
               else route.abort())
    page.goto(site_url + "docs/rosetta.html", wait_until="load")
    assert set(chosen(page)) == {"NumPy"}  # the first tab, before any choice
    page.locator("label.sd-tab-label", has_text="Keras").first.click()
    assert chosen(page) and set(chosen(page)) == {"Keras"}  # every tab set on the page
    page.locator("label.sd-tab-label", has_text="PyTorch").first.click()
    page.goto(site_url + "lessons/08_fastai.html", wait_until="load")
    page.reload(wait_until="load")
    assert chosen(page) == ["PyTorch"]  # not the page's first tab, fastai
    page.goto(site_url + "docs/rosetta.html", wait_until="load")
    assert set(chosen(page)) == {"PyTorch"}
    context.close()
