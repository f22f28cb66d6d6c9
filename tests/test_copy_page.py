"""Copy the page, run the page: a reader who pastes the code cells a page shows into a fresh
kernel gets a program that runs and computes every number the prose quotes.

    pytest tests/test_copy_page.py -k static     # the static check only: seconds
    pytest tests/test_copy_page.py               # builds the book once, then runs each page

For every lesson and every appendix that runs code, the visible cells (not tagged
``remove-cell`` / ``remove-input``) run top to bottom in a fresh kernel whose environment names
only the data (``FORCEMLP_DATA``) and a run cache (``FORCEMLP_RUN_CACHE``, the book build's, so
a page that asks forcemlp's runner for a run the build already trained reads it instead of
training again). Then the page's hidden cells run in the same kernel: they may only glue, file
runs for later pages or style output, so the values they glue must be the ones the book's own
execution glued. Each value is compared as the prose prints it (the role's format spec), except
wall-clock measurements, which differ from run to run and are only required to be there.

The static check needs no kernel: nothing a visible cell uses is defined only in a hidden cell.
"""
from __future__ import annotations

import ast
import builtins
import json
import os
import re
import time

import nbformat
import pytest
from myst_nb.core.variables import format_plain_text
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from .book import BOOK_ROOT, TEST_BUILD
from .test_pages import code_cells, executed_pages, is_hidden

PAGES = executed_pages()
PAGE_TIMEOUT_S = 900  # per cell, as the book's own execution allows
GLUE_ROLE = re.compile(r"\{glue(?::(?P<kind>[a-z]+))?\}`(?P<target>[^`]+)`")
# Glued wall-clock times (seconds, milliseconds, microseconds per step and their ratios)
# change from run to run; the prose quotes them as measured, so they must exist, not repeat.
WALL_CLOCK = re.compile(r"seconds|_us$|_ms$|^(bench|pipeline)_|_fast_lead$")
KEPT_ENVIRONMENT = ("PATH", "HOME", "LANG", "TMPDIR", "PYTHONPATH", "VIRTUAL_ENV")


# --- what a page defines and uses ---------------------------------------------------------------


def defined_names(source: str) -> set[str]:
    """Names a cell binds at the top level: assignments, imports, functions, classes, loops."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
    return names


def used_names(source: str) -> set[str]:
    return {node.id for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}


def python_source(source: str) -> str:
    """A cell's Python: IPython's magics (``%pip``, ``!ls``) left out."""
    return "\n".join(line for line in source.splitlines()
                     if not line.lstrip().startswith(("%", "!")))


def names_only_hidden_cells_define(document: str) -> set[str]:
    cells = code_cells(document)
    hidden = set().union(*(defined_names(python_source(cell.source))
                           for cell in cells if is_hidden(cell)))
    visible = set().union(*(defined_names(python_source(cell.source))
                            for cell in cells if not is_hidden(cell)))
    return hidden - visible - set(dir(builtins))


@pytest.mark.parametrize("document", PAGES)
def test_static_visible_cells_use_nothing_only_a_hidden_cell_defines(document):
    hidden_only = names_only_hidden_cells_define(document)
    leaks = {
        name: number for number, cell in enumerate(code_cells(document))
        if not is_hidden(cell)
        for name in used_names(python_source(cell.source)) & hidden_only
    }
    assert not leaks, f"{document}: visible cells use names made in hidden cells: {leaks}"


# --- the glue the prose quotes ------------------------------------------------------------------


def quoted_glue(document: str) -> dict[str, set[str]]:
    """Every glued key the page's prose quotes, with the format specs it is quoted with
    (``""`` for roles that show the value as it is)."""
    quoted: dict[str, set[str]] = {}
    for match in GLUE_ROLE.finditer((BOOK_ROOT / f"{document}.md").read_text()):
        target = match["target"]
        key, spec = target.rsplit(":", 1) if match["kind"] == "text" and ":" in target else (
            target, "")
        quoted.setdefault(key, set()).add(spec)
    return quoted


def glue_outputs(notebook: nbformat.NotebookNode) -> dict[str, dict]:
    """What an executed notebook glued: key -> its MIME bundle."""
    return {
        output["metadata"]["scrapbook"]["name"]: dict(output.get("data", {}))
        for cell in notebook.cells if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if "scrapbook" in output.get("metadata", {})
    }


def as_printed(bundle: dict, spec: str) -> str:
    """The value as the page prints it: myst-nb's own formatting of its plain text (glued
    with ``display=False``, its MIME type carries a prefix)."""
    plain = [value for mime, value in bundle.items() if mime.endswith("text/plain")]
    if plain:
        try:
            return format_plain_text(plain[0], spec)
        except ValueError:  # myst-nb cannot print it either: the page would show an error
            return f"unprintable with {spec!r}: {plain[0]}"
    return json.dumps(bundle, sort_keys=True)[:200]  # markdown, images: the bundle itself


def differences(document: str, reference: dict[str, dict], copied: dict[str, dict]) -> list:
    wrong = []
    for key, specs in quoted_glue(document).items():
        if key not in copied:
            wrong.append(f"{key}: not computed")
            continue
        if WALL_CLOCK.search(key) or key not in reference:
            continue
        for spec in specs:
            expected, got = as_printed(reference[key], spec), as_printed(copied[key], spec)
            if expected != got:
                wrong.append(f"{key}:{spec}: the book printed {expected}, the copy {got}")
    return wrong


# --- running the copy ---------------------------------------------------------------------------


def copied_page(document: str) -> tuple[nbformat.NotebookNode, int]:
    """The page as a reader copies it (visible cells, in order), then its hidden cells."""
    cells = code_cells(document)
    visible = [cell for cell in cells if not is_hidden(cell)]
    hidden = [cell for cell in cells if is_hidden(cell)]
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(cell.source) for cell in visible + hidden]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    return notebook, len(visible)


def run_copy(document: str, run_cache, monkeypatch) -> tuple[nbformat.NotebookNode, float]:
    """Execute the copied page in a fresh kernel that knows only the data and the run cache;
    a failure names the visible (or hidden) cell that stopped it."""
    notebook, visible_count = copied_page(document)
    data = os.environ["FORCEMLP_DATA"]
    for name in list(os.environ):
        if name not in KEPT_ENVIRONMENT:
            monkeypatch.delenv(name)
    monkeypatch.setenv("FORCEMLP_DATA", data)
    monkeypatch.setenv("FORCEMLP_RUN_CACHE", str(run_cache))
    client = NotebookClient(
        notebook, timeout=PAGE_TIMEOUT_S, kernel_name="python3",
        resources={"metadata": {"path": str((BOOK_ROOT / document).parent)}},
    )
    started = time.perf_counter()
    try:
        client.execute()
    except CellExecutionError as error:
        failure = str(error)[-1500:]
    else:
        return notebook, time.perf_counter() - started
    failed = next(number for number, cell in enumerate(notebook.cells)
                  if any(output.get("output_type") == "error"
                         for output in cell.get("outputs", [])))
    kind = "visible" if failed < visible_count else "hidden"
    pytest.fail(f"{document}: {kind} cell {failed} fails in a fresh kernel:\n"
                f"{notebook.cells[failed].source}\n{failure}")


@pytest.fixture(scope="module")
def book_execution(built_book):
    """The book's own execution: the glue of every page, and its run cache."""
    executed = TEST_BUILD / "jupyter_execute"
    return {
        document: json.loads((executed / f"{document}.glue.json").read_text())
        if (executed / f"{document}.glue.json").is_file() else {}
        for document in PAGES
    }, built_book.cache / "runs"


@pytest.mark.book
@pytest.mark.parametrize("document", PAGES)
def test_the_visible_cells_alone_compute_every_quoted_number(
        book_execution, monkeypatch, document):
    glue_of_pages, run_cache = book_execution
    reference = {key: value["data"] for key, value in glue_of_pages[document].items()}
    assert reference or not quoted_glue(document), f"{document}: the book glued nothing"
    notebook, seconds = run_copy(document, run_cache, monkeypatch)
    print(f"{document}: visible and hidden cells ran in {seconds:.0f} s")
    wrong = differences(document, reference, glue_outputs(notebook))
    assert not wrong, f"{document}: " + "; ".join(wrong)
