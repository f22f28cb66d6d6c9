"""The widgets' JavaScript maths under Node's own test runner, in seconds and with no browser.

    .venv/bin/pytest tests/test_js_maths.py

Python computes every expected value (forcemlp's random, optimizers, surfaces, descent paths,
activations and toy data) and writes them to a JSON file; ``node --test tests/js/`` recomputes
each with the ES modules the pages load and compares to 1e-9. The Chromium parity tests in
tests/test_browser.py check the same maths in the browser the reader uses.
"""
from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from forcemlp.activations import ACTIVATIONS
from forcemlp.descent import base_learning_rate, descend
from forcemlp.optimizers import OPTIMIZER_NAMES
from forcemlp.random import SeededNormal
from forcemlp.surfaces import SURFACES
from forcemlp.toy_data import DATASET_NAMES, make_dataset
from forcemlp.widgets.bundle import JS_FOLDER

NODE_TESTS = Path(__file__).parent / "js"


def finite_or_word(values) -> list:
    """Floats as JSON can carry them: NaN and the infinities as the words JavaScript reads."""
    return [float(value) if math.isfinite(value) else str(float(value)).replace("inf", "Infinity")
            .replace("nan", "NaN") for value in np.asarray(values, dtype=float).ravel()]


def surface_state(name: str) -> dict:
    """A surface as the widgets receive it from Python."""
    surface = SURFACES[name]
    return {"name": name, "x_range": list(surface.x_range), "y_range": list(surface.y_range),
            "start": surface.start.tolist(), "gradient_noise": surface.gradient_noise}


def walk(surface_name: str, optimizer: str, start: list, rate: float, momentum: float,
         seed: int, steps: int = 60) -> dict:
    """One descent path as descent.js is asked for it, with NumPy's answer."""
    path = descend(optimizer, surface_name, rate, steps, momentum=momentum, seed=seed,
                   start=start)
    return {"surface": surface_state(surface_name), "optimizer": optimizer, "start": start,
            "base_rate": base_learning_rate(surface_name, optimizer, start), "rate": rate,
            "steps": steps, "momentum": momentum, "seed": seed, "diverged_at": path.diverged_at,
            "points": finite_or_word(path.points), "losses": finite_or_word(path.losses)}


def descent_cases() -> list[dict]:
    """Every optimizer on every surface, 60 steps from a start and at a rate that travel far,
    with momentum and the SGD seed off their defaults; and three runs that diverge."""
    walks = []
    for surface_name in SURFACES:
        start = (np.asarray(SURFACES[surface_name].start) * 0.9 + 0.05).tolist()
        for name in OPTIMIZER_NAMES:
            rate = 0.7 * base_learning_rate(surface_name, name, start)
            walks.append(walk(surface_name, name, start, rate, momentum=0.8, seed=5))
    start = SURFACES["rosenbrock"].start.tolist()
    walks += [walk("rosenbrock", name, start, 50.0, momentum=0.9, seed=0)
              for name in ("gd", "momentum", "adam")]
    assert sum(case["diverged_at"] is not None for case in walks) >= 3
    return walks


def activation_cases(grid: np.ndarray) -> list[dict]:
    cases = []
    for name, activation in ACTIVATIONS.items():
        parameters = [None] if activation.parameter_name is None else [
            activation.default_parameter, *activation.parameter_range, 0.37]
        for parameter in parameters:
            arguments = () if parameter is None else (parameter,)
            cases.append({"name": name, "parameter": parameter,
                          "values": finite_or_word(activation.function(grid, *arguments)),
                          "slopes": finite_or_word(activation.derivative(grid, *arguments))})
    return cases


def toy_dataset_cases() -> list[dict]:
    cases = []
    for name in DATASET_NAMES:
        data = make_dataset(name, count=150, noise=0.4, test_fraction=0.3, seed=11)
        cases.append({"name": name,
                      "options": {"count": 150, "noise": 0.4, "testFraction": 0.3, "seed": 11},
                      **{part: {"labels": getattr(data, part).labels.tolist(),
                                "points": finite_or_word(getattr(data, part).points)}
                         for part in ("train", "test")}})
    return cases


def numpy_fixtures() -> dict:
    grid = np.concatenate([np.linspace(-20, 20, 1601), [-1e4, -745, -40, 0.0, 40, 745, 1e4]])
    erfc_xs = np.linspace(-6, 26, 3201)
    uint_source = SeededNormal(3)
    return {
        "js_folder": str(JS_FOLDER),
        "seeded_normal": {"seed": 7, "normals": finite_or_word(SeededNormal(7).standard_normal(500)),
                          "uint_seed": 3, "uint32s": [uint_source.next_uint32() for _ in range(5)]},
        "descents": descent_cases(),
        "activations": {"grid": grid.tolist(), "cases": activation_cases(grid)},
        "erfc": {"xs": erfc_xs.tolist(), "values": [math.erfc(x) for x in erfc_xs]},
        "toy_datasets": toy_dataset_cases(),
    }


def test_the_javascript_maths_equal_numpy_under_node(tmp_path):
    node = shutil.which("node")
    if node is None:
        pytest.fail("Node.js is missing: run `apt-get install nodejs` (or `make test`, which "
                    "installs what the tests need).")
    fixtures = tmp_path / "numpy.json"
    fixtures.write_text(json.dumps(numpy_fixtures()), encoding="utf-8")
    result = subprocess.run([node, "--test", str(NODE_TESTS)], capture_output=True, text=True,
                            env={**os.environ, "FORCEMLP_JS_FIXTURES": str(fixtures)},
                            timeout=120, check=False)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    summary = {line.split()[1]: int(line.split()[2]) for line in result.stdout.splitlines()
               if line.startswith("# ") and line.split()[1] in ("tests", "pass", "fail")}
    assert summary["fail"] == 0 and summary["pass"] == summary["tests"] >= 40, summary
