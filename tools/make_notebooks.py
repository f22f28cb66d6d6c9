"""Write ``notebooks/<page>.ipynb`` for every lesson and executed appendix: what Jupyter,
Colab and Binder open.

    make notebooks      # or: python tools/make_notebooks.py

Each notebook holds the cells its page shows, the ones a reader copies (the book's hidden
``remove-cell`` cells glue numbers into the prose and need myst-nb, which a reader's Jupyter
lacks), after one first cell that installs what the notebook imports where any of it is
missing (Colab, a bare Jupyter, a Binder image without an extra); where everything is there,
that cell does nothing. It installs the release the notebook was made with, the tag
``v<forcemlp.__version__>``, so a notebook never meets a later, different forcemlp (see the
README on cutting a release).
"""
from __future__ import annotations

import re
import textwrap
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
HIDDEN_TAGS = {"remove-cell"}
# What each extra puts on the path: the modules the install cell looks for.
EXTRA_MODULES = {"torch": ("torch", "torchvision"), "keras": ("keras", "tensorflow"),
                 "fastai": ("fastai",), "widgets": ("ipywidgets", "anywidget")}
INSTALL_TEMPLATE = """\
# On Colab or a fresh Jupyter, install forcemlp {version}, the release this notebook
# was made with, and what it needs; where all of it is installed, this does nothing.
import importlib.util
import sys

needed = [
{modules}
]
if importlib.util.find_spec("forcemlp") is None or not all(
        importlib.util.find_spec(name) for name in needed):
    extras = "{extras}"
    if "google.colab" in sys.modules:
        extras = "widgets"  # Colab already has PyTorch, TensorFlow and fastai
    release = f"forcemlp[{{extras}}] @ git+{repository}@{tag}"
    get_ipython().run_line_magic("pip", f'install --quiet "{{release}}"')"""


def needed_extras(code: str) -> list[str]:
    """The extras of forcemlp that ``code`` needs: the widgets, and the frameworks it names
    (directly, or through the forcemlp modules that train with them)."""
    return ["widgets"] + [
        name for name, used in FRAMEWORK_EXTRAS.items() if re.search(used, code, re.IGNORECASE)
    ]


def install_source(code: str) -> str:
    """The first cell of a notebook whose code cells are ``code``: where forcemlp or a module
    of the extras that code needs is missing, it installs the tagged release with those
    extras (outside Colab, which has the frameworks)."""
    extras = needed_extras(code)
    modules = sorted({module for extra in extras for module in EXTRA_MODULES[extra]})
    listed = textwrap.fill(", ".join(f'"{module}"' for module in modules) + ",", width=88,
                           initial_indent="    ", subsequent_indent="    ")  # 88 columns
    return INSTALL_TEMPLATE.format(
        version=__version__, extras=",".join(extras), modules=listed, repository=REPOSITORY,
        tag=RELEASE_TAG,
    )


def shown(cell: nbformat.NotebookNode) -> bool:
    return cell.cell_type != "code" or not HIDDEN_TAGS & set(cell.metadata.get("tags", []))


def lesson_notebook(lesson: Path) -> nbformat.NotebookNode:
    """The lesson as a reader sees it, as a notebook, with the install cell in front."""
    notebook = jupytext.read(lesson)
    notebook.cells = [cell for cell in notebook.cells if shown(cell)]
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
