"""Shared fixtures: real MNIST from ../shared/data when FORCEMLP_DATA is not set; the built
book; and the browser harness's fixtures (tests/browser_harness.py holds its helpers)."""
from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"

if "FORCEMLP_DATA" not in os.environ and (SHARED_DATA / "mnist").is_dir():
    os.environ["FORCEMLP_DATA"] = str(SHARED_DATA)


@pytest.fixture(scope="session")
def mnist_splits():
    """The seed's splits of full MNIST: 60,000 train, 2,000 validation, 8,000 test."""
    from forcemlp.data import load_splits

    return load_splits()


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    from forcemlp.data import locate

    return locate("mnist", download=False)


@pytest.fixture(scope="session")
def built_book():
    """The whole book, built once per session from clean (used by the book and browser tests)."""
    from .book import TEST_BUILD, build_book

    return build_book(TEST_BUILD / "cache", clean=True)


@pytest.fixture(scope="session")
def browser():
    """Debian's headless Chromium, one for the session (the browser tests' harness)."""
    from playwright.sync_api import sync_playwright

    from .browser_harness import CHROMIUM_FLAGS, ensure_chromium

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(ensure_chromium()), args=CHROMIUM_FLAGS, headless=True
        )
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def js(browser) -> Iterator:
    """The package's ES modules, served on 127.0.0.1, runnable from Python (a JsRunner)."""
    from forcemlp.widgets.bundle import JS_FOLDER

    from .browser_harness import HARNESS_PAGE, JS_PREFIX, JsRunner, open_page, serve

    with serve({JS_PREFIX: JS_FOLDER}) as root:
        page, log = open_page(browser, root + HARNESS_PAGE)
        yield JsRunner(page, root + JS_PREFIX)
        log.check_clean()


@pytest.fixture(scope="session")
def site(request) -> Path:
    """The built book: FORCEMLP_SITE when set (a site built before), else this session's build."""
    if folder := os.environ.get("FORCEMLP_SITE"):
        return Path(folder).resolve()
    return request.getfixturevalue("built_book").html


@pytest.fixture(scope="session")
def site_url(site: Path) -> Iterator[str]:
    """The book's root URL, served under a sub-path."""
    from .browser_harness import SITE_PREFIX, serve

    with serve({SITE_PREFIX: site}) as root:
        yield root + SITE_PREFIX


@pytest.fixture(scope="session")
def widget_pages(tmp_path_factory) -> Iterator:
    """``show(name, widgets)`` -> URL of a static page of those widgets, under a sub-path,
    served with the repository's _static/ (no book build needed)."""
    from .book import BOOK_ROOT
    from .browser_harness import SITE_PREFIX, require_widget_javascript, serve, static_widget_page

    require_widget_javascript()
    folder = tmp_path_factory.mktemp("widget-pages")
    (folder / "_static").symlink_to(BOOK_ROOT / "_static", target_is_directory=True)
    with serve({SITE_PREFIX: folder}) as root:
        def show(name: str, widgets) -> str:
            (folder / f"{name}.html").write_text(static_widget_page(widgets, name))
            return f"{root}{SITE_PREFIX}{name}.html"
        yield show
