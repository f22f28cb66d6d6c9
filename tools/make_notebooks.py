"""Write ``notebooks/<page>.ipynb`` for every lesson and executed appendix: what Jupyter,
Colab and Binder open.

    make notebooks      # or: python tools/make_notebooks.py

Each notebook holds its lesson's cells, after one first cell that installs forcemlp where it
is missing (Colab, a bare Jupyter); where forcemlp is installed, that cell does nothing. The
cell installs the release the notebook was made with, the tag ``v<forcemlp.__version__>``,
so a notebook never meets a later, different forcemlp (see the README on cutting a release).
"""
from __future__ import annotations

import re
from pathlib import Path

import jupytext
import nbformat

from forcemlp import __version__

ROOT = Path(__file__).resolve().parents[1]
REPOSITORY = "https://github.com/forcemlp/forcemlp"
RELEASE_TAG = f"v{__version__}"
# What a page needs beyond NumPy and the widgets, found in its code cells.
# fastai stands on PyTorch, so a page that needs it needs the pinned torch as well.
FRAMEWORK_EXTRAS = {
    "torch": r"torch|runner|recipes|model_export|draw_digit|fastai|rosetta",
    "keras": r"keras|tensorflow|tf_lowlevel|rosetta",
    "fastai": r"fastai|rosetta",
}
INSTALL_TEMPLATE = """\
# On Colab or a fresh Jupyter, install forcemlp {version}, the release this notebook
# was made with; where forcemlp is installed, this does nothing.
import importlib.util
import sys

if importlib.util.find_spec("forcemlp") is None:
    extras = "{extras}"
    if "google.colab" in sys.modules:
        extras = "widgets"  # Colab already has PyTorch, TensorFlow and fastai
    release = f"forcemlp[{{extras}}] @ git+{repository}@{tag}"
    get_ipython().run_line_magic("pip", f'install --quiet "{{release}}"')"""


def install_source(code: str) -> str:
    """The first cell of a notebook whose code cells are ``code``: it installs the tagged
    release with the extras that code needs (outside Colab)."""
    extras = ["widgets"] + [
        name for name, used in FRAMEWORK_EXTRAS.items() if re.search(used, code, re.IGNORECASE)
    ]
    return INSTALL_TEMPLATE.format(
        version=__version__, extras=",".join(extras), repository=REPOSITORY, tag=RELEASE_TAG
    )


def lesson_notebook(lesson: Path) -> nbformat.NotebookNode:
    """The lesson as a notebook, with the install cell in front."""
    notebook = jupytext.read(lesson)
    code = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    notebook.cells.insert(0, nbformat.v4.new_code_cell(install_source(code)))
    notebook.metadata.pop("jupytext", None)
    for number, cell in enumerate(notebook.cells):
        cell.id = f"cell-{number}"  # stable ids: a regenerated notebook diffs only where it changed
    return notebook


def notebook_pages() -> list[Path]:
    """Every page the book executes: the lessons, and the appendices in docs/ that run code
    (a MyST notebook names its kernel in its front matter). Their launch buttons open these."""
    appendices = [
        page for page in sorted((ROOT / "docs").glob("*.md"))
        if "\nkernelspec:" in page.read_text().split("\n---", 1)[0]
    ]
    return sorted((ROOT / "lessons").glob("*.md")) + appendices


def main() -> None:
    folder = ROOT / "notebooks"
    folder.mkdir(exist_ok=True)
    for page in notebook_pages():
        nbformat.write(lesson_notebook(page), folder / f"{page.stem}.ipynb")


if __name__ == "__main__":
    main()
