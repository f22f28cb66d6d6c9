"""The whole book, built from clean with ``-W`` on full MNIST, then rebuilt from its caches.

This is the suite's one slow test (minutes): every lesson executes, every figure and glued
number must land in the page, the widget state must survive the cached rebuild (myst-nb
#520), and each committed .ipynb must match its lesson. That a notebook's code (the page's
visible cells) runs top to bottom in a fresh kernel is tests/test_copy_page.py's proof.
"""
from __future__ import annotations

import re

import nbformat
import pytest

from .book import BOOK_ROOT, LESSONS, WIDGET_LESSONS, build_book, lesson_notebook, notebook_pages

pytestmark = pytest.mark.book

WIDGET_STATE = 'application/vnd.jupyter.widget-state+json'
PAGE_LIMIT_BYTES = 1_500_000  # a lesson page with its figures: the book's budget


@pytest.fixture(scope="session")
def cached_rebuild(built_book):
    """A second build from the same caches: nothing executes again, so it must be quick."""
    return build_book(built_book.cache, clean=False)


def lesson_html(site, lesson: str) -> str:
    return (site.html / "lessons" / f"{lesson}.html").read_text()


@pytest.mark.parametrize("lesson", LESSONS)
def test_lesson_page_has_figures_and_glued_numbers(built_book, lesson):
    html = lesson_html(built_book, lesson)
    assert "I-know-nothing" in html and "I-know-everything" in html
    images = re.findall(r'<img[^>]+src="([^"]+)"', html)
    assert images, f"{lesson} shows no figure"
    for source in images:
        if not source.startswith("data:"):
            assert (built_book.html / "lessons" / source).resolve().is_file(), source
    assert "Traceback" not in html and "output traceback" not in html
    assert html.count('class="pasted-text"') + html.count('class="pasted-inline"') >= 1, (
        f"{lesson} glues no number into its prose"
    )
    page_bytes = len(html.encode()) + sum(
        (built_book.html / "lessons" / source).stat().st_size
        for source in set(images) if not source.startswith("data:")
    )
    assert page_bytes <= PAGE_LIMIT_BYTES, f"{lesson}: {page_bytes:,} bytes with its figures"


@pytest.mark.parametrize("lesson", WIDGET_LESSONS)
def test_widget_state_survives_the_cached_rebuild(built_book, cached_rebuild, lesson):
    for site in (built_book, cached_rebuild):
        html = lesson_html(site, lesson)
        assert WIDGET_STATE in html, f"{lesson}: no widget state in {site.html}"
        assert "cdn.jsdelivr.net" not in html and "unpkg.com" not in html
    assert cached_rebuild.seconds <= 60, f"cached rebuild took {cached_rebuild.seconds:.0f} s"


def test_execution_statistics_and_notebook_downloads(built_book):
    statistics = (built_book.html / "docs" / "execution.html").read_text()
    assert "<table" in statistics and all(lesson in statistics for lesson in LESSONS)
    html = lesson_html(built_book, LESSONS[0])
    assert "colab.research.google.com" in html and f"notebooks/{LESSONS[0]}.ipynb" in html


@pytest.mark.parametrize("page", notebook_pages(), ids=lambda page: page.stem)
def test_committed_notebook_matches_its_page(page):
    lesson = page.stem
    committed = nbformat.read(BOOK_ROOT / "notebooks" / f"{lesson}.ipynb", as_version=4)
    fresh = lesson_notebook(page)
    assert [(cell.cell_type, cell.source) for cell in committed.cells] == [
        (cell.cell_type, cell.source) for cell in fresh.cells
    ], f"notebooks/{lesson}.ipynb is stale: run `make notebooks`"
    assert 'find_spec("forcemlp")' in committed.cells[0].source


def test_api_reference_lists_every_module():
    listed = set(re.findall(r"automodule:: forcemlp\.(\w+)", (BOOK_ROOT / "docs" / "api.md").read_text()))
    package = BOOK_ROOT / "src" / "forcemlp"
    modules = {path.stem for path in package.glob("*.py")}
    modules |= {path.parent.name for path in package.glob("*/__init__.py")}  # subpackages
    assert modules - {"__init__", "__main__"} == listed
