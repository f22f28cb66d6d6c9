"""The widgets live in JupyterLab: a real server and kernel, the page in headless Chromium.

The static pages prove the JavaScript computes with no kernel; this proves the other half of
the promise: in a live notebook the reader's moves reach Python's traits, Python's changes
reach the page, and a lesson can run the PyTorch model on the digit the reader drew. The
kernel writes what it sees to JSON files beside the notebook, which the test reads.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest

from .browser_harness import OPTIMIZER_ROOT, RENDER_TIMEOUT_MS, Explorer, draw_strokes, open_page

pytestmark = pytest.mark.browser

SERVER_START_SECONDS = 60
KERNEL_IDLE = """() => {
    const panel = window.jupyterapp?.shell.currentWidget;
    return panel?.sessionContext?.session?.kernel?.status === "idle";
}"""
RUN_CELL = """async (index) => {
    const panel = window.jupyterapp.shell.currentWidget;
    panel.content.activeCellIndex = index;
    await window.jupyterapp.commands.execute("notebook:run-cell");
}"""

EXPLORER_CELLS = ['''\
import json
from pathlib import Path

from forcemlp.widgets import OptimizerExplorer

explorer = OptimizerExplorer()
explorer.observe(lambda change: Path("explorer.json").write_text(json.dumps(
    {"learning_rate_scale": explorer.learning_rate_scale, "start": explorer.start})),
    names=["learning_rate_scale", "start"])
explorer''', 'explorer.surface = "beale"']

DRAW_CELLS = ['''\
import json
from pathlib import Path

import torch

from forcemlp import model_export
from forcemlp.config import TrainConfig
from forcemlp.widgets import draw_digit

config = TrainConfig(framework="torch", hidden_sizes=(16,), train_size=2000, epochs=1)
pad = draw_digit([config])
model = model_export.trained_torch_model(config)


def answer(change) -> None:
    if pad.image_array is None:
        return
    with torch.no_grad():
        digit = int(model(torch.from_numpy(pad.image_array[None])).argmax())
    Path("drawn.json").write_text(json.dumps(
        {"ink": float(pad.image_array.sum()), "torch_prediction": digit}))


pad.observe(answer, names=["image"])
pad''']


def write_notebook(folder: Path, name: str, cells: list[str]) -> None:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(cell) for cell in cells])
    notebook.metadata.kernelspec = {"name": "python3", "display_name": "Python 3",
                                    "language": "python"}
    nbformat.write(notebook, folder / name)


@pytest.fixture(scope="module")
def jupyter_lab(tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """JupyterLab from the project's venv on 127.0.0.1, serving a folder of notebooks."""
    folder = tmp_path_factory.mktemp("live")
    write_notebook(folder, "explorer.ipynb", EXPLORER_CELLS)
    write_notebook(folder, "draw.ipynb", DRAW_CELLS)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    environment = {**os.environ, "FORCEMLP_RUN_CACHE": str(folder / "runs")}
    log = folder / "server.log"  # named in the failure when the server does not come up
    with log.open("wb") as output:  # the server keeps its own copy of the descriptor
        server = subprocess.Popen(
            [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root",
             "--ip=127.0.0.1", f"--port={port}", f"--ServerApp.root_dir={folder}",
             "--IdentityProvider.token=", "--LabApp.expose_app_in_browser=True",
             f"--LabApp.workspaces_dir={folder / 'workspaces'}",
             f"--LabApp.user_settings_dir={folder / 'settings'}"],
            env=environment, stdout=output, stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while True:
            assert server.poll() is None, f"jupyter lab exited at start-up: see {log}"
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, f"jupyter lab did not start: see {log}"
                time.sleep(0.3)
        yield f"http://127.0.0.1:{port}", folder
    finally:
        server.terminate()
        server.wait(timeout=30)


def open_notebook(browser, jupyter_lab, name: str):
    """The notebook open in JupyterLab (alone: ``reset`` forgets the tabs of earlier tests)
    with its kernel started and idle."""
    url, folder = jupyter_lab
    page, log = open_page(browser, f"{url}/lab/tree/{name}?reset")
    page.wait_for_function(KERNEL_IDLE, timeout=RENDER_TIMEOUT_MS)
    return page, log, folder


def read_when_written(path: Path, condition) -> dict:
    """The JSON the kernel writes at ``path``, once it satisfies ``condition``."""
    deadline = time.monotonic() + RENDER_TIMEOUT_MS / 1000
    while time.monotonic() < deadline:
        if path.is_file():
            with_content = json.loads(path.read_text() or "null")
            if with_content and condition(with_content):
                return with_content
        time.sleep(0.2)
    raise AssertionError(f"the kernel never wrote what the page did into {path.name}")


def test_the_optimizer_explorer_syncs_both_ways_in_jupyterlab(browser, jupyter_lab):
    page, log, folder = open_notebook(browser, jupyter_lab, "explorer.ipynb")
    page.evaluate(RUN_CELL, 0)
    explorer = Explorer(page, OPTIMIZER_ROOT)
    root = explorer.root
    explorer.set_range("learning rate ×", -0.61)  # log10 of the scale, off the slider's grid
    seen = read_when_written(folder / "explorer.json",
                             lambda state: state["learning_rate_scale"] != 1.0)
    assert seen["learning_rate_scale"] == pytest.approx(10 ** -0.61, rel=1e-6)
    root.locator("canvas").first.click(position={"x": 250, "y": 90})
    seen = read_when_written(folder / "explorer.json",
                             lambda state: state["start"] != [-7.0, 2.0])
    assert json.loads(root.get_attribute("data-start")) == pytest.approx(seen["start"])
    page.evaluate(RUN_CELL, 1)  # explorer.surface = "beale", from Python
    page.wait_for_function("(root) => root.querySelector('select[aria-label=surface]').value"
                           " === 'beale'", arg=root.element_handle(), timeout=RENDER_TIMEOUT_MS)
    log.check_clean()


def test_a_drawn_digit_reaches_the_kernel_and_its_pytorch_model(browser, jupyter_lab,
                                                               mnist_splits):
    from forcemlp.digit_drawing import digit_strokes

    page, log, folder = open_notebook(browser, jupyter_lab, "draw.ipynb")
    page.evaluate(RUN_CELL, 0)  # trains the small network first: one epoch on 2,000 digits
    widget = page.locator(".forcemlp-draw")
    widget.wait_for(timeout=RENDER_TIMEOUT_MS)
    draw_strokes(page, widget.locator(".forcemlp-draw-pad"),
                 digit_strokes(mnist_splits.test.images[0]))
    page.wait_for_function("(root) => root.dataset.prediction !== ''",
                           arg=widget.element_handle(), timeout=RENDER_TIMEOUT_MS)
    shown = widget.get_attribute("data-prediction")  # the page's JavaScript forward pass
    seen = read_when_written(folder / "drawn.json",
                             lambda state: str(state["torch_prediction"]) == shown)
    assert seen["ink"] > 10  # the kernel holds the drawing, not an empty image
    log.check_clean()
