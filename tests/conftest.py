"""Shared fixtures: real MNIST from ../shared/data when FORCEMLP_DATA is not set."""
from __future__ import annotations

import os
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

    from .test_browser import CHROMIUM_FLAGS, ensure_chromium

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(ensure_chromium()), args=CHROMIUM_FLAGS, headless=True
        )
        yield chromium
        chromium.close()
