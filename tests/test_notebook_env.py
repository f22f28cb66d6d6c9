"""Every notebook runs where readers open it: what a paired notebook imports is installed by
Binder (binder/requirements.txt) and by the notebook's own install cell (its extras, read from
pyproject.toml), and that cell acts whenever one of those imports is missing.

    pytest tests/test_notebook_env.py     # seconds: reads files, runs nothing

A module counts as installed by an environment when its distribution is one of the
environment's requirements or one they require in turn (read from the installed packages'
metadata, the same versions the constraints pin); Jupyter itself brings IPython.
"""
from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from functools import cache
from pathlib import Path

import nbformat
import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from .book import BOOK_ROOT

NOTEBOOKS = sorted((BOOK_ROOT / "notebooks").glob("*.ipynb"))
BINDER_REQUIREMENTS = BOOK_ROOT / "binder" / "requirements.txt"
JUPYTER_BRINGS = {"ipython", "ipykernel"}  # every Jupyter, Binder's and Colab's included
EXTRAS_LINE = re.compile(r"^\.\[(?P<extras>[\w,]+)\]$", re.MULTILINE)
INSTALL_EXTRAS = re.compile(r'^    extras = "(?P<extras>[\w,]+)"$', re.MULTILINE)


def strip_magics(code: str) -> str:
    return "\n".join(line for line in code.splitlines()
                     if not line.lstrip().startswith(("%", "!")))


def imported_modules(code: str) -> set[str]:
    """Top-level modules ``code`` imports, beyond the standard library (magics left out)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(strip_magics(code))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names)


def module_file(name: str) -> Path | None:
    """The source file of ``forcemlp.<...>`` module ``name`` (None for a class or function)."""
    path = BOOK_ROOT / "src" / Path(*name.split("."))
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def forcemlp_modules(tree: ast.Module, package: str) -> set[str]:
    """The forcemlp modules that the top level of a module (in ``package``) imports."""
    modules: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            modules |= {alias.name for alias in node.names if alias.name.startswith("forcemlp")}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}".rstrip(".")
            if base.startswith("forcemlp"):
                modules |= {base} | {f"{base}.{alias.name}" for alias in node.names}
    return {name for name in modules if module_file(name)}


def import_time_needs(code: str) -> set[str]:
    """Third-party modules that running ``code``'s imports imports: its own, and those of the
    forcemlp modules it imports, followed through the package (frameworks imported inside
    functions are not needed to import, and the extras name them)."""
    tree = ast.parse(strip_magics(code))
    needed = imported_modules(code)
    pending, seen = forcemlp_modules(tree, "forcemlp"), set()
    while pending:
        name = pending.pop()
        parts = name.split(".")
        for depth in range(1, len(parts) + 1):  # importing a.b.c runs a and a.b first
            module = ".".join(parts[:depth])
            if module in seen or module_file(module) is None:
                continue
            seen.add(module)
            path = module_file(module)
            package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
            module_tree = ast.parse(path.read_text())
            top_level = ast.Module(body=[node for node in module_tree.body
                                         if isinstance(node, ast.Import | ast.ImportFrom)],
                                   type_ignores=[])
            needed |= {name for name in imported_modules(ast.unparse(top_level))}
            pending |= forcemlp_modules(module_tree, package) - seen
    return needed - {"forcemlp"}


@cache
def distributions() -> dict[str, list[str]]:
    return importlib.metadata.packages_distributions()


def distribution_of(module: str) -> str:
    providers = distributions().get(module)
    assert providers, f"no installed distribution provides {module!r}"
    return canonicalize_name(providers[0])


@cache
def requirements_of(extras: frozenset[str]) -> frozenset[str]:
    """forcemlp's dependencies with ``extras``, and everything they require in turn."""
    project = tomllib.loads((BOOK_ROOT / "pyproject.toml").read_text())["project"]
    pending = list(project["dependencies"])
    for extra in extras:
        pending += project["optional-dependencies"][extra]
    found: set[str] = set(JUPYTER_BRINGS)
    while pending:
        requirement = Requirement(pending.pop())
        name = canonicalize_name(requirement.name)
        if name in found:
            continue
        found.add(name)
        try:
            required = importlib.metadata.requires(name) or []
        except importlib.metadata.PackageNotFoundError:
            continue  # not installed here, so nothing of it is imported here either
        pending += [line for line in required
                    if "extra ==" not in line and (Requirement(line).marker is None
                                                   or Requirement(line).marker.evaluate())]
    return frozenset(found)


def notebook_code(path: Path) -> tuple[str, str]:
    """The install cell's source, and the rest of the notebook's code."""
    cells = [cell.source for cell in nbformat.read(path, as_version=4).cells
             if cell.cell_type == "code"]
    return cells[0], "\n".join(cells[1:])


def uncovered(code: str, extras: set[str]) -> list[str]:
    needed = import_time_needs(code)
    installed = requirements_of(frozenset(extras))
    return sorted(module for module in needed if distribution_of(module) not in installed)


def test_binder_installs_the_checkout_with_extras():
    extras = EXTRAS_LINE.findall(BINDER_REQUIREMENTS.read_text())
    assert len(extras) == 1, "binder/requirements.txt installs the checkout once, with extras"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.stem)
def test_binder_environment_covers_the_notebooks_imports(notebook):
    extras = set(EXTRAS_LINE.search(BINDER_REQUIREMENTS.read_text())["extras"].split(","))
    _, code = notebook_code(notebook)
    missing = uncovered(code, extras)
    assert not missing, f"{notebook.name} imports {missing}, which Binder does not install"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.stem)
def test_install_cell_extras_cover_the_notebooks_imports(notebook):
    install, code = notebook_code(notebook)
    match = INSTALL_EXTRAS.search(install)
    assert match, f"{notebook.name}: the first cell names no extras"
    missing = uncovered(code, set(match["extras"].split(",")))
    assert not missing, f"{notebook.name} imports {missing}; its install cell does not install"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.stem)
def test_install_cell_acts_when_an_import_is_missing(notebook):
    """The cell installs when forcemlp is there but a framework is not (Binder without an
    extra), so it looks for every framework the notebook imports, not only forcemlp."""
    install, code = notebook_code(notebook)
    looked_for = set(ast.literal_eval(re.search(r"^needed = (\[.*?\])$", install, re.MULTILINE | re.DOTALL)[1]))
    frameworks = {"torch", "torchvision", "keras", "tensorflow", "fastai", "ipywidgets",
                  "anywidget"}
    missing = (imported_modules(code) & frameworks) - looked_for
    assert not missing, f"{notebook.name}: its install cell never looks for {missing}"
    assert 'find_spec("forcemlp") is None' in install
