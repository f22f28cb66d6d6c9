"""forcemlp.rosetta: one test digit through NumPy, PyTorch, Keras, TensorFlow and fastai.

NumPy (lesson 2's equations in float64) is the reference; every float32 framework must agree
with it on the forward pass, the loss, every gradient and one Adam step.
"""
from __future__ import annotations

import html
import inspect
import re
import subprocess
import sys

import numpy as np
import pytest

from forcemlp import rosetta
from forcemlp.errors import ForceMLPError

FLOAT32_AGREEMENT = 1e-6


@pytest.fixture(scope="module")
def digit(mnist_splits):
    return rosetta.test_digit(mnist_splits)


@pytest.fixture(scope="module")
def start():
    return rosetta.shared_weights(seed=0)


@pytest.fixture(scope="module")
def traces(digit, start):
    return {name: step(digit, start) for name, step in rosetta.STEPS.items()}


def test_shared_weights_are_float32_seeded_and_biases_not_zero(start):
    again, other = rosetta.shared_weights(seed=0), rosetta.shared_weights(seed=1)
    assert [value.shape for value in start.as_list()] == [(16, 784), (16,), (10, 16), (10,)]
    assert all(value.dtype == np.float32 for value in start.as_list())
    assert all(np.array_equal(a, b) for a, b in zip(start.as_list(), again.as_list()))
    assert not np.array_equal(start.W, other.W)
    assert np.abs(start.b_h).min() > 0 and np.abs(start.b_o).min() > 0


def test_the_numpy_reference_is_lesson_two_by_hand(digit, start, traces):
    reference = traces["numpy"]
    z_h = start.W.astype(float) @ digit.features[0] + start.b_h
    h = np.maximum(z_h, 0)
    z_o = start.O.astype(float) @ h + start.b_o
    p = np.exp(z_o - z_o.max()) / np.exp(z_o - z_o.max()).sum()
    np.testing.assert_allclose(reference.hidden_pre_activations, z_h, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(reference.probabilities, p, rtol=1e-12)
    assert reference.loss == pytest.approx(-np.log(p[digit.label]), rel=1e-12)
    delta_o = p - np.eye(10)[digit.label]
    np.testing.assert_allclose(reference.gradients["O"], np.outer(delta_o, h), atol=1e-15)
    delta_h = (start.O.astype(float).T @ delta_o) * (z_h > 0)
    np.testing.assert_allclose(reference.gradients["W"], np.outer(delta_h, digit.features[0]),
                               atol=1e-15)


@pytest.mark.parametrize("framework", ["torch", "keras", "tensorflow", "fastai"])
def test_forward_loss_and_gradients_agree_with_numpy(traces, framework):
    differences = rosetta.largest_differences(traces)
    for quantity, by_framework in differences.items():
        if quantity.startswith("W, b_h, O, b_o after"):
            continue
        assert by_framework[framework] <= FLOAT32_AGREEMENT, quantity
    assert traces[framework].probabilities.sum() == pytest.approx(1, abs=1e-6)


@pytest.mark.parametrize("framework", ["torch", "tensorflow", "fastai"])
def test_one_adam_step_agrees_with_numpy(traces, framework):
    after = rosetta.largest_differences(traces)["W, b_h, O, b_o after one Adam step"]
    assert after[framework] <= FLOAT32_AGREEMENT


def test_the_first_adam_step_moves_each_weight_by_about_the_learning_rate(traces, start):
    reference = traces["numpy"]
    moved = np.abs(reference.weights_after_step["O"] - start.O)
    assert moved.max() == pytest.approx(rosetta.LEARNING_RATE, rel=1e-3)
    untouched = reference.gradients["W"] == 0  # the digit's blank pixels: no gradient, no step
    assert untouched.any() and np.array_equal(
        reference.weights_after_step["W"][untouched], start.W[untouched])


def test_keras_adam_adds_epsilon_before_the_bias_correction(traces, start):
    """Why Keras's step differs by more than float32 rounding: its ε sits under the correction.

    Keras: θ -= η √(1-β2^t)/(1-β1^t) · m / (√v + ε); torch: θ -= η/(1-β1^t) · m / (√v̂ + ε).
    """
    beta_1, beta_2, epsilon = 0.9, 0.999, 1e-8
    gradients = traces["numpy"].gradients
    for name, value in zip(rosetta.NAMES, start.as_list()):
        m, v = (1 - beta_1) * gradients[name], (1 - beta_2) * gradients[name] ** 2
        rate = rosetta.LEARNING_RATE * np.sqrt(1 - beta_2) / (1 - beta_1)
        keras_formula = value - rate * m / (np.sqrt(v) + epsilon)
        np.testing.assert_allclose(traces["keras"].weights_after_step[name], keras_formula,
                                   atol=FLOAT32_AGREEMENT)
    after = rosetta.largest_differences(traces)["W, b_h, O, b_o after one Adam step"]
    assert after["keras"] > 10 * after["torch"]


def test_layouts_are_recorded_as_each_framework_stores_them(traces):
    shapes = {name: trace.stored_hidden_weight_shape for name, trace in traces.items()}
    assert shapes == {"numpy": (16, 784), "torch": (16, 784), "fastai": (16, 784),
                      "keras": (784, 16), "tensorflow": (784, 16)}
    assert all(trace.gradients["W"].shape == (16, 784) for trace in traces.values())


def test_difference_table_has_a_row_per_quantity(traces):
    table = rosetta.difference_table(rosetta.largest_differences(traces)).splitlines()
    assert table[0] == "| quantity | PyTorch | Keras | TensorFlow | fastai |"
    assert len(table) == 2 + len(rosetta.QUANTITIES)
    assert all(re.fullmatch(r"\| .+ (\| \d\.\de[-+]\d\d ){4}\|", row) for row in table[2:])


def test_bad_requests_are_one_line_errors(mnist_splits, traces):
    with pytest.raises(ForceMLPError, match="index must lie in 0..7999"):
        rosetta.test_digit(mnist_splits, 8000)
    with pytest.raises(ForceMLPError, match="no trace for the reference"):
        rosetta.largest_differences({"torch": traces["torch"]})


def code_blocks_by_tab(page_html: str) -> list[tuple[str, str]]:
    """(tab label, the text of the code block inside that tab) for every synced tab."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(page_html, "html.parser")
    pairs = []
    for label in soup.select("label.sd-tab-label[data-sync-group='framework']"):
        content = label.find_next_sibling(class_="sd-tab-content")
        code = content.select_one("div.highlight pre") if content else None
        if code is not None:
            pairs.append((label.get_text(strip=True), html.unescape(code.get_text())))
    return pairs


@pytest.mark.book
def test_each_tab_shows_the_code_that_ran(built_book):
    """The Rosetta page is the book's one page of framework tabs."""
    functions = {rosetta.TITLES[name]: step for name, step in rosetta.STEPS.items()}
    pairs = code_blocks_by_tab((built_book.html / "docs" / "rosetta.html").read_text())
    assert sorted(label for label, _ in pairs) == sorted(functions)
    for label, code in pairs:
        assert code.rstrip() == inspect.getsource(functions[label]).rstrip(), label


def test_importing_rosetta_loads_no_framework_and_the_steps_show_their_own_source():
    """torch and fastai load when a step first runs; the book's tabs still show each step as
    written (inspect.getsource unwraps the loader around torch_step and fastai_step)."""
    code = ("import sys; from forcemlp import rosetta;"
            " print(sorted({'torch', 'fastai', 'tensorflow'} & set(sys.modules)))")
    result = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                            text=True)
    assert result.stdout.strip() == "[]"
    for name, step in rosetta.STEPS.items():
        assert inspect.getsource(step).startswith(f"def {name}_step("), name
