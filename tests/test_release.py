"""The version lives in one place, and the notebooks install exactly that release."""
from __future__ import annotations

import importlib.metadata
import json
import re

import forcemlp

from .book import BOOK_ROOT, LESSONS


def test_the_version_is_written_once_and_installed_as_such():
    pyproject = (BOOK_ROOT / "pyproject.toml").read_text()
    assert 'dynamic = ["version"]' in pyproject
    assert 'version = {attr = "forcemlp.__version__"}' in pyproject
    assert re.fullmatch(r"\d+\.\d+\.\d+", forcemlp.__version__)
    assert importlib.metadata.version("forcemlp") == forcemlp.__version__  # make venv reinstalls


def test_every_notebook_installs_the_tagged_release_with_the_frameworks_it_uses():
    release = f'@ git+https://github.com/forcemlp/forcemlp@v{forcemlp.__version__}"'
    needs = {"01_data": "widgets", "05_keras": "widgets,torch,keras",
             "08_fastai": "widgets,torch,fastai"}
    for lesson in LESSONS:
        notebook = json.loads((BOOK_ROOT / "notebooks" / f"{lesson}.ipynb").read_text())
        install_cell = "".join(notebook["cells"][0]["source"])
        assert 'f"forcemlp[{extras}] ' + release in install_cell, lesson
        assert 'extras = "widgets"  # Colab' in install_cell, lesson
        if lesson in needs:
            assert f'extras = "{needs[lesson]}"\n' in install_cell, lesson
        assert max(len(line) for line in install_cell.splitlines()) <= 88
