"""Every instruction the lessons give about a widget ("set X, you will see Y") carried out in
headless Chromium through the widget's own controls, and the widget's text read back.

    pytest -m browser tests/test_widget_instructions.py      # no book build needed

Each widget is made by the very code of its lesson's cell (found on the page by what it
calls), written into a static page by ``widget_pages`` (tests/test_browser.py) and driven as a
reader drives it: keys on a slider, a choice in a menu, a click on a button. Controls are found
by their role and accessible name, never by styling, so the widgets' look may change freely.
The numbers the text promises are computed as the lesson's hidden cells compute them.
"""
from __future__ import annotations

import ast
import itertools
import json
import math
import re

import jupytext
import pytest

from forcemlp import data, toy_data, toy_mlp, widgets
from forcemlp.widgets.activation_explorer import DIGITS
from forcemlp.widgets.gradients import layer_gradient_sizes

from .book import BOOK_ROOT
from .browser_harness import RENDER_TIMEOUT_MS, open_page
from .test_pages import is_hidden

pytestmark = pytest.mark.browser

SPREAD = re.compile(r"the largest layer gradient is (?P<spread>[\d.e+]+) times")
LOG_SLIDER_STOP = 0.01  # the learning-rate slider moves in steps of 0.01 of log10(scale)


def lesson_widget(lesson: str, call: str, **names):
    """The widget that the lesson's visible cell calling ``call`` makes (its last line)."""
    cells = [cell.source for cell in jupytext.read(BOOK_ROOT / "lessons" / f"{lesson}.md").cells
             if cell.cell_type == "code" and not is_hidden(cell) and call in cell.source]
    assert len(cells) == 1, f"{lesson}: {len(cells)} visible cells call {call}"
    tree = ast.parse(cells[0])
    *statements, last = tree.body
    namespace = {"widgets": widgets, **names}
    exec(compile(ast.Module(body=statements, type_ignores=[]), lesson, "exec"), namespace)  # noqa: S102
    return eval(compile(ast.Expression(body=last.value), lesson, "eval"), namespace)


def press(control, key: str, times: int = 1) -> None:
    control.focus()
    for _ in range(times):
        control.press(key)


# --------------------------------------------------------------------- lesson 4: the optimizers
@pytest.fixture
def optimizer_page(browser, widget_pages):
    explorer = lesson_widget("04_gradient_descent", "optimizer_explorer(")
    page, log = open_page(browser, widget_pages("lesson-4-explorer", [explorer]))
    page.get_by_role("slider", name="learning rate ×").wait_for(timeout=RENDER_TIMEOUT_MS)
    yield page, explorer
    log.check_clean()


def legend_line(page, title: str) -> str:
    """The legend's entry of one walker: "<title>, lr <rate>[: <how it ended>]"."""
    entry = page.locator(".fm-legend li span").filter(has_text=re.compile(rf"^{title}"))
    assert entry.count() == 1, f"{entry.count()} legend entries for {title}"
    return entry.text_content()


def test_lesson4_just_above_twice_the_rate(optimizer_page):
    """"Set the learning rate just above ×2 … until it reads ×2.14. Plain gradient descent …
    diverged at step N; momentum … still ends near the bottom; Nesterov … leaves at step M"."""
    page, explorer = optimizer_page
    rate = page.get_by_role("slider", name="learning rate ×")
    stops = round(math.log10(2.14 / explorer.learning_rate_scale) / LOG_SLIDER_STOP)
    press(rate, "ArrowRight", stops)
    assert "2.14" in rate.locator("xpath=..").text_content()  # the slider's own readout
    assert page.get_by_text("The learning rate is ×2.14 ").count() == 1  # the surface note
    expected = widgets.optimizer_explorer("ravine", ("gd", "momentum", "nesterov"),
                                          learning_rate_scale=10 ** 0.33, momentum=0.9).paths()
    assert f"diverged at step {expected['gd'].diverged_at}" in legend_line(page, "Gradient")
    assert f"diverged at step {expected['nesterov'].diverged_at}" in legend_line(page, "Nesterov")
    assert "diverged" not in legend_line(page, "Momentum")


def test_lesson4_momentum_down_to_zero_is_gradient_descent(optimizer_page):
    """"Slide the momentum μ down to zero and momentum becomes gradient descent"."""
    page, _ = optimizer_page
    press(page.get_by_role("slider", name="learning rate ×"), "ArrowRight", 33)  # ×2.14
    momentum = page.get_by_role("slider", name=re.compile(r"^momentum"))
    press(momentum, "Home")
    assert re.search(r"0\.000", momentum.locator("xpath=..").text_content())
    gradient_descent = legend_line(page, "Gradient descent").split(":", 1)[1]
    assert "diverged at step" in gradient_descent
    assert legend_line(page, "Momentum").split(":", 1)[1] == gradient_descent


def click_plane(page, x: float, y: float) -> None:
    """Click the contour plot where the plane's point (x, y) is drawn: two clicks first read
    back (the explorer's data-start) how pixels map to the plane, wherever the layout puts it."""
    contour = page.get_by_role("application", name=re.compile("^contour plot"))
    root = page.locator(".forcemlp-optimizer-explorer").first
    box = contour.bounding_box()

    def start_after_click(pixel_x: float, pixel_y: float) -> list[float]:
        contour.click(position={"x": pixel_x, "y": pixel_y})
        return json.loads(root.get_attribute("data-start"))

    first = (box["width"] * 0.4, box["height"] * 0.4)
    second = (box["width"] * 0.6, box["height"] * 0.6)
    (x1, y1), (x2, y2) = start_after_click(*first), start_after_click(*second)
    start_after_click(first[0] + (x - x1) * (second[0] - first[0]) / (x2 - x1),
                      first[1] + (y - y1) * (second[1] - first[1]) / (y2 - y1))
    assert json.loads(root.get_attribute("data-start")) == pytest.approx([x, y], abs=0.05)


def test_lesson4_momentum_leaves_the_saddle_sooner(optimizer_page):
    """"On the saddle, with a small learning rate, click a start just off the ridge, close to
    y = 0: gradient descent creeps away from it, while momentum and Nesterov … leave far
    sooner" (an escape from x² − y², which has no bottom, is reported as diverging)."""
    page, _ = optimizer_page
    page.get_by_role("combobox", name="surface").select_option("saddle")
    press(page.get_by_role("slider", name="learning rate ×"), "ArrowLeft", 100)  # ×0.1
    click_plane(page, -1.5, 0.02)  # x = -1.5, just above y = 0
    left_at = {}
    for title in ("Gradient descent", "Momentum", "Nesterov"):
        ending = re.search(r"(diverged|left the view) at step (\d+)", legend_line(page, title))
        assert ending, f"{title} never left the saddle: {legend_line(page, title)}"
        left_at[title] = int(ending[2])
    assert left_at["Momentum"] < left_at["Gradient descent"] / 2, left_at
    assert left_at["Nesterov"] < left_at["Gradient descent"] / 2, left_at


# --------------------------------------------------------------------- lesson 3: the activations
@pytest.fixture(scope="module")
def splits():
    return data.load_splits("mnist")


def spread_shown(page, layers: int) -> float:
    """The ratio the panel's note gives, once it speaks of ``layers`` hidden layers."""
    note = page.get_by_text(re.compile(rf"^{layers} hidden layers of .* the largest layer"))
    note.wait_for()
    return float(SPREAD.search(note.text_content())["spread"])


def explorer_spread(name: str, depth: int, splits) -> float:
    sizes = layer_gradient_sizes(name, depth, 32, splits.train.images[:DIGITS],
                                 splits.train.labels[:DIGITS])
    return max(sizes) / min(sizes)


def test_lesson3_depth_slider_multiplies_the_sigmoid_spread(browser, widget_pages, splits):
    """"With the sigmoid and 10 layers, the panel says …" and "slide n down to one layer and up
    again with the sigmoid: every layer you add multiplies the ratio once more"; "switch to
    tanh: … the ratio stays small"."""
    explorer = lesson_widget("03_activations", "activation_explorer(", splits=splits)
    page, log = open_page(browser, widget_pages("lesson-3-explorer", [explorer]))
    depth = page.get_by_role("slider", name="layers n")
    depth.wait_for(timeout=RENDER_TIMEOUT_MS)
    assert spread_shown(page, 10) == pytest.approx(explorer_spread("sigmoid", 10, splits),
                                                   rel=1e-2)
    press(depth, "Home")
    spreads = [spread_shown(page, 1)]
    for layers in range(2, 11):
        press(depth, "ArrowRight")
        spreads.append(spread_shown(page, layers))
    assert all(later > earlier for earlier, later in itertools.pairwise(spreads)), spreads
    page.get_by_role("combobox", name="activation").select_option(value="tanh")
    page.get_by_text(re.compile(r"Tanh units")).wait_for()
    assert spread_shown(page, 10) < spreads[-1] / 1000
    log.check_clean()


def play_until(page, step: int) -> list[dict[str, float]]:
    """Press Play, read the step and losses the playground's root carries (data-step,
    data-train-loss, data-test-loss) until the network has trained ``step`` steps, Pause;
    returns every reading on the way."""
    readings = []
    page.get_by_role("button", name="Play").click()
    root = page.locator(".forcemlp-playground").first
    while True:
        reading = root.evaluate("node => [node.dataset.step, node.dataset.trainLoss,"
                                " node.dataset.testLoss]")
        if None not in reading:
            readings.append(dict(zip(("step", "train", "test"), map(float, reading))))
            if readings[-1]["step"] >= step:
                break
        page.wait_for_timeout(100)
    page.get_by_role("button", name="Pause").click()
    return readings


def test_lesson3_xor_linear_hedges_and_relu_folds(browser, widget_pages):
    """"It starts with the linear activation. Press Play … Then pick relu and press Play
    again": linear hedges, a loss of about ln 2 and an almost even background; relu learns
    the quadrants."""
    playground = lesson_widget("03_activations", "Playground(")
    page, log = open_page(browser, widget_pages("lesson-3-playground", [playground]))
    page.get_by_role("button", name="Play").wait_for(timeout=RENDER_TIMEOUT_MS)
    points = toy_data.make_dataset("xor", noise=0.2, seed=0)
    linear = toy_mlp.train_toy(points, hidden_sizes=(4,), activation="linear", steps=500)
    relu = toy_mlp.train_toy(points, hidden_sizes=(4,), activation="relu", steps=500)
    hedge = play_until(page, 500)[-1]["test"]
    assert hedge == pytest.approx(math.log(2), abs=0.05)
    assert hedge == pytest.approx(linear.test_losses[-1], abs=0.05)
    page.get_by_role("combobox", name="activation").select_option("relu")
    page.get_by_role("button", name="Reset").click()
    folded = play_until(page, 500)[-1]["test"]
    assert folded < hedge / 2 and folded == pytest.approx(relu.test_losses[-1], abs=0.15)
    log.check_clean()


# --------------------------------------------------------------------- lesson 9: overfitting
def test_lesson9_overfitting_and_its_cures(browser, widget_pages):
    """"Press Play and watch the red test curve … turns and climbs", then the cures: a single
    neuron underfits, L2 of 0.03 keeps the test loss lower, no noise finds the disc."""
    playground = lesson_widget("09_your_turn", "Playground(")
    page, log = open_page(browser, widget_pages("lesson-9-playground", [playground]))
    page.get_by_role("button", name="Play").wait_for(timeout=RENDER_TIMEOUT_MS)
    steps = 3000
    readings = play_until(page, steps)
    lowest, last = min(reading["test"] for reading in readings), readings[-1]
    assert last["test"] > 1.5 * lowest and last["train"] < last["test"] / 2, readings[-1]
    page.get_by_role("combobox", name="L2").select_option("0.03")
    page.get_by_role("button", name="Reset").click()
    held = play_until(page, steps)[-1]
    assert held["test"] < last["test"]
    page.get_by_role("combobox", name="L2").select_option("0")
    noise = page.get_by_role("slider", name="noise")
    press(noise, "Home")
    page.get_by_role("button", name="Reset").click()
    clean = play_until(page, steps)[-1]
    assert clean["test"] < 0.1, "without noise, three layers of 8 find the disc"
    press(noise, "ArrowRight", 20)  # back to the noise of 1.00
    assert "1.00" in noise.locator("xpath=..").text_content()
    for _ in range(2):
        page.get_by_role("button", name="remove a hidden layer").click()
    fewer = page.get_by_role("button", name="fewer neurons in layer 1")
    while fewer.is_enabled():
        fewer.click()
    assert page.get_by_text("1 hidden layer", exact=True).count() == 1
    page.get_by_role("button", name="Reset").click()
    narrow = play_until(page, steps)[-1]
    assert narrow["train"] > 3 * last["train"], "a single neuron cannot wrap the disc"
    log.check_clean()
