"""The widgets in a real browser: the package's JavaScript against NumPy, and the built book's
explorers with no kernel and no network.

    .venv/bin/pytest -m browser tests/test_browser.py            # builds the book first
    FORCEMLP_SITE=_build/html .venv/bin/pytest -m browser tests/test_browser.py   # a built site
    .venv/bin/pytest -m browser tests/test_browser.py -k parity  # the JS maths only, no book

The harness (serving, pages that block off-site requests, running the ES modules) is
tests/browser_harness.py; its fixtures (``browser``, ``js``, ``site``, ``site_url``,
``widget_pages``) are in tests/conftest.py.
"""
from __future__ import annotations

import json
import math
import os

import numpy as np
import pytest

from forcemlp.activations import ACTIVATIONS
from forcemlp.descent import base_learning_rate, descend
from forcemlp.optimizers import OPTIMIZER_NAMES
from forcemlp.random import SeededNormal
from forcemlp.surfaces import SURFACES
from forcemlp.widgets.gradients import layer_gradient_sizes, seeded_network

from .book import BOOK_ROOT, LESSONS
from .browser_harness import (
    ACTIVATION_PAGE,
    ACTIVATION_ROOT,
    OPTIMIZER_PAGE,
    OPTIMIZER_ROOT,
    PARITY_RTOL,
    RENDER_TIMEOUT_MS,
    SCREENSHOTS,
    Explorer,
    Probe,
    assert_parity,
    draw_strokes,
    is_local,
    open_page,
    surface_state,
)

pytestmark = pytest.mark.browser

# ----------------------------------------------------------------------------- infrastructure
def test_anywidget_renders_in_a_static_page_under_a_sub_path(browser, widget_pages):
    """No kernel, no CDN: RequireJS, the HTML manager and anywidget's front-end come from
    _static/, found from the loader's own URL under /forcemlp/; the loading notice goes."""
    page, log = open_page(browser, widget_pages("probe", [Probe()]))
    button = page.locator("button.probe")
    button.wait_for(timeout=RENDER_TIMEOUT_MS)
    assert button.text_content() == "count 41"
    button.click()
    assert button.text_content() == "count 42"
    assert page.locator(".widget-load-notice").count() == 0
    log.check_clean()


@pytest.mark.parametrize("missing", ["anywidget/index.js", "html-manager/libembed-amd.js"])
def test_a_widget_whose_javascript_cannot_load_leaves_a_notice(browser, widget_pages, missing):
    import ipywidgets  # a core widget: the page needs the manager, not the light path

    widgets = [Probe(), ipywidgets.IntSlider()]
    page, log = open_page(browser, widget_pages("probe-missing", widgets), block=[missing])
    notice = page.locator(".widget-load-notice.failed").first
    notice.wait_for(timeout=RENDER_TIMEOUT_MS)
    assert "could not load" in notice.text_content()
    assert log.outside_requests == []


# ----------------------------------------------------------------------------- parity
def test_parity_seeded_normal_noise(js):
    """The one PRNG both languages draw SGD's noise (and initial weights) from."""
    expected = SeededNormal(7).standard_normal(500)
    actual = js.evaluate("random.js", "(m) => new m.SeededNormal(7).normals(500)")
    assert_parity(actual, expected, "SeededNormal")
    uniforms = js.evaluate("random.js", "(m) => { const r = new m.SeededNormal(3);"
                           " return Array.from({length: 5}, () => r.nextUint32()); }")
    python = SeededNormal(3)
    assert uniforms == [python.next_uint32() for _ in range(5)]


@pytest.mark.parametrize("surface_name", SURFACES)
def test_parity_every_optimizer_walks_every_surface_like_numpy(js, surface_name):
    """Every optimizer, 60 steps from a start and a learning rate that travel far; momentum,
    the SGD seed and the start point are not the defaults, so each is passed through."""
    steps, momentum, seed = 60, 0.8, 5
    state = surface_state(surface_name)
    start = (np.asarray(SURFACES[surface_name].start) * 0.9 + 0.05).tolist()
    worst = 0.0
    for name in OPTIMIZER_NAMES:
        base = base_learning_rate(surface_name, name, start)
        js_base = js.call("descent.js", "baseLearningRate", state, name, start)
        worst = max(worst, assert_parity(js_base, base, f"{name} base rate"))
        rate = 0.7 * base
        path = descend(name, surface_name, rate, steps, momentum=momentum, seed=seed, start=start)
        result = js.call("descent.js", "descend", name, state, rate, steps,
                         {"momentum": momentum, "seed": seed, "start": start})
        assert result["divergedAt"] == path.diverged_at, name
        worst = max(worst, assert_parity(result["points"], path.points, f"{name} points"),
                    assert_parity(result["losses"], path.losses, f"{name} losses"))
        if not path.diverged:
            assert np.linalg.norm(path.points[-1] - path.points[0]) > 1e-3, f"{name} stood still"
    print(f"optimizers on {surface_name}: max relative difference {worst:.1e}")


def test_parity_divergence_is_found_at_the_same_step(js):
    for name in ("gd", "momentum", "adam"):
        path = descend(name, "rosenbrock", 50.0, 60)
        result = js.call("descent.js", "descend", name, surface_state("rosenbrock"), 50.0, 60)
        assert path.diverged and result["divergedAt"] == path.diverged_at
        assert_parity(result["points"], path.points, name)


def test_parity_every_activation_and_derivative_on_a_grid(js):
    grid = np.concatenate([np.linspace(-20, 20, 1601), [-1e4, -745, -40, 0.0, 40, 745, 1e4]])
    worst = 0.0
    for name, activation in ACTIVATIONS.items():
        parameters = [None] if activation.parameter_name is None else [
            activation.default_parameter, *activation.parameter_range, 0.37]
        for parameter in parameters:
            arguments = () if parameter is None else (parameter,)
            code = ("(m, name, xs, p) => { const a = m.ACTIVATIONS[name];"
                    " return [xs.map((x) => a.function(x, p ?? undefined)),"
                    " xs.map((x) => a.derivative(x, p ?? undefined))]; }")
            values, slopes = js.evaluate("activations.js", code, name, grid.tolist(), parameter)
            worst = max(
                worst,
                assert_parity(values, activation.function(grid, *arguments), f"{name}({parameter})"),
                assert_parity(slopes, activation.derivative(grid, *arguments), f"{name}'"),
            )
    print(f"activations: max relative difference {worst:.1e}")


def test_parity_erfc_across_its_range(js):
    xs = np.linspace(-6, 26, 3201)
    actual = js.evaluate("activations.js", "(m, xs) => xs.map(m.erfc)", xs.tolist())
    worst = assert_parity(actual, [math.erfc(x) for x in xs], "erfc")
    print(f"erfc: max relative difference {worst:.1e}")


MLP_FORWARD_BACKWARD = """(mlp, sizes, activation, parameter, pixels, labels) => {
    const network = mlp.initialNetwork(sizes, activation, { seed: 3, parameter });
    const inputs = Float64Array.from(pixels, (pixel) => Math.fround(pixel / 255));
    const passed = mlp.forward(network, inputs, labels.length);
    const gradients = mlp.backward(network, passed, labels);
    return { weights: network.weights, loss: mlp.loss(network, passed, labels),
             gradients: gradients.weights, biasGradients: gradients.biases,
             sizes: mlp.weightGradientSizes(network, inputs, labels.length, labels) };
}"""


@pytest.mark.parametrize("activation, parameter", [("sigmoid", None), ("elu", 0.5), ("gelu", None)])
def test_parity_mlp_forward_and_backward_equal_the_lessons_numpy_mlp(js, mnist_splits,
                                                                     activation, parameter):
    """js/mlp.js against forcemlp.numpy_mlp on real digits: the same seeded weights, loss and
    every gradient entry (to 1e-9 of the largest: sums run in another order than BLAS's)."""
    batch = mnist_splits.train.head(16)
    sizes = (784, 12, 12, 10)
    network = seeded_network(sizes, activation, seed=3, parameter=parameter)
    passed = network.forward(batch.features)
    gradients = network.backward(passed, batch.labels)
    result = js.evaluate("mlp.js", MLP_FORWARD_BACKWARD, list(sizes), activation, parameter,
                         batch.images.reshape(-1).tolist(), batch.labels.tolist())
    for layer, weight in enumerate(network.weights):
        assert_parity(result["weights"][layer], weight.ravel(), f"initial W{layer + 1}")
    assert_parity(result["loss"], network.loss(passed, batch.labels), "loss")
    for layer, (weight, bias) in enumerate(zip(gradients.weights, gradients.biases)):
        scale = np.abs(weight).max()
        np.testing.assert_allclose(result["gradients"][layer], weight.ravel(), rtol=PARITY_RTOL,
                                   atol=PARITY_RTOL * scale, err_msg=f"dE/dW{layer + 1}")
        np.testing.assert_allclose(result["biasGradients"][layer], bias, rtol=PARITY_RTOL,
                                   atol=PARITY_RTOL * scale, err_msg=f"dE/db{layer + 1}")
    expected_sizes = layer_gradient_sizes(activation, 2, 12, batch.images, batch.labels, seed=3,
                                          parameter=parameter)
    worst = assert_parity(result["sizes"], expected_sizes, "gradient sizes")
    print(f"MLP with {activation}: gradient sizes max relative difference {worst:.1e}")


# ----------------------------------------------------------------------------- the explorers
def test_optimizer_explorer_computes_in_the_page(browser, site_url):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page, log = open_page(browser, site_url + OPTIMIZER_PAGE)
    explorer = Explorer(page, OPTIMIZER_ROOT)
    assert page.locator(".widget-load-notice").count() == 0
    for value in (-1.37, -0.23, 0.27):  # log10 of the learning-rate scale: off any grid
        explorer.changes(f"rate{value}", explorer.set_range, "learning rate ×", value)
    for value in (0.315, 0.72, 0.955):
        explorer.changes(f"momentum{value}", explorer.set_range, "momentum β", value)
    for value in (37, 263, 150):
        explorer.changes(f"steps{value}", explorer.set_range, "steps", value)
    for surface in ("rosenbrock", "beale", "saddle", "himmelblau", "ravine"):
        explorer.changes(surface, explorer.choose, "surface", surface)
    canvas = explorer.root.locator("canvas").first
    start = explorer.data("start")
    box = canvas.bounding_box()  # the plot's size follows the column: click 3/4 across, 3/10 down
    explorer.changes("clicked-start", canvas.click,
                     position={"x": 0.75 * box["width"], "y": 0.3 * box["height"]})
    assert explorer.data("start") != start
    x, y = json.loads(explorer.data("start"))
    assert 0 < x < 10 and 0 < y < 5  # upper right of the ravine's window
    for name in ("Adam", "Momentum"):
        toggle = explorer.root.get_by_label(name, exact=True)
        explorer.changes(f"without-{name}", toggle.uncheck)
        assert name not in explorer.root.locator(".forcemlp-legend").text_content()
        explorer.changes(f"with-{name}", toggle.check)
    explorer.changes("reset", explorer.root.locator(".forcemlp-reset").click)
    assert explorer.data("position") == "0"
    explorer.changes("step", explorer.root.locator(".forcemlp-step").click)
    assert explorer.data("position") == "1"
    explorer.root.evaluate("root => { window.shownPositions = [];"
                           " new MutationObserver(() => window.shownPositions.push("
                           "Number(root.dataset.position))).observe(root, {attributes: true,"
                           " attributeFilter: ['data-position']}); }")
    explorer.root.locator(".forcemlp-play").click()
    page.wait_for_function(f"document.querySelector('{OPTIMIZER_ROOT}').dataset.position"
                           " === '150'", timeout=RENDER_TIMEOUT_MS)
    positions = page.evaluate("window.shownPositions")
    assert positions == sorted(positions) and len(set(positions)) > 5, f"Play showed {positions}"
    explorer.changes("diverging", explorer.set_range, "learning rate ×", math.log10(5.3))
    assert "gd:" in explorer.data("diverged")
    assert "diverged at step" in explorer.root.locator(".forcemlp-legend").text_content()
    log.check_clean()


def test_optimizer_explorer_is_crisp_on_a_dense_screen(browser, site_url):
    context = browser.new_context(device_scale_factor=2, viewport={"width": 1000, "height": 900})
    page = context.new_page()
    page.goto(site_url + OPTIMIZER_PAGE)
    explorer = Explorer(page, OPTIMIZER_ROOT)
    sizes = explorer.root.locator("canvas").evaluate_all(
        "canvases => canvases.map(c => [c.width, c.getBoundingClientRect().width])")
    assert all(pixels == 2 * css for pixels, css in sizes), sizes
    context.close()


def test_activation_explorer_computes_in_the_page(browser, site_url, mnist_splits):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page, log = open_page(browser, site_url + ACTIVATION_PAGE)
    explorer = Explorer(page, ACTIVATION_ROOT)
    train = mnist_splits.train
    expected = layer_gradient_sizes("sigmoid", 10, 32, train.images[:32], train.labels[:32])
    assert float(explorer.data("spread")) == pytest.approx(max(expected) / min(expected),
                                                           rel=PARITY_RTOL)
    for name in ACTIVATIONS:
        if name != "sigmoid":
            explorer.changes(name, explorer.choose, "activation", name)
    explorer.changes("leaky", explorer.choose, "activation", "leaky_relu")
    for value in (0.037, 0.213, 0.444):
        explorer.changes(f"slope{value}", explorer.set_range, "slope", value)
    explorer.changes("elu", explorer.choose, "activation", "elu")
    for value in (0.35, 1.73):
        explorer.changes(f"alpha{value}", explorer.set_range, "alpha", value)
    explorer.changes("tanh", explorer.choose, "activation", "tanh")
    for depth in (3, 17, 29):
        explorer.changes(f"depth{depth}", explorer.set_range, "layers n", depth)
        expected = layer_gradient_sizes("tanh", depth, 32, train.images[:32], train.labels[:32])
        assert float(explorer.data("spread")) == pytest.approx(max(expected) / min(expected),
                                                               rel=PARITY_RTOL)
    log.check_clean()


EXPLORER_PAGE_LIMIT = 400 * 1024


@pytest.mark.parametrize("page_name", [ACTIVATION_PAGE, OPTIMIZER_PAGE])
def test_explorer_pages_stay_light(site, page_name):
    """No precomputed frames: the HTML (widget state and bundled JS included) stays small; the
    shared widget manager is one file in _static that every page caches."""
    size = (site / page_name).stat().st_size
    print(f"{page_name}: {size / 1024:.0f} KB")
    assert size <= EXPLORER_PAGE_LIMIT


SIDEWAYS_SCROLLING = """() => [...document.querySelectorAll("article pre")]
    .filter((block) => block.scrollWidth > block.clientWidth + 1)
    .map((block) => block.textContent.split("\\n")[0].slice(0, 60))"""


@pytest.mark.parametrize("width", [1024, 1280])  # laptop screens, the theme's sidebar shown
def test_code_of_88_columns_never_scrolls_sideways(browser, site_url, width):
    """Code cells and their outputs keep to 88 columns (test_pages); the page's type must then
    fit 88 columns in the text column, which at the theme's size holds about 80."""
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    for lesson in LESSONS:
        page.goto(f"{site_url}lessons/{lesson}.html")
        assert page.evaluate(SIDEWAYS_SCROLLING) == [], f"{lesson} scrolls sideways at {width} px"
    context.close()


def test_a_chosen_framework_tab_follows_the_reader_across_pages_and_reloads(browser, site_url):
    """Synced tabs (group "framework"): a choice on the Rosetta page, the book's page of
    framework tabs, is still chosen when the reader comes back from another page and reloads.

    sphinx-design 0.8.0's design-tabs.js keeps the choice in localStorage; one browser context
    (one profile) visits the Rosetta page, picks a tab, reads lesson 8, returns and reloads.
    """
    def chosen(page) -> list[str]:
        return page.eval_on_selector_all(
            "input:checked + label.sd-tab-label[data-sync-group='framework']",
            "labels => labels.map(label => label.textContent.trim())",
        )

    context = browser.new_context()
    page = context.new_page()
    page.route("**/*", lambda route: route.continue_() if is_local(route.request.url)
               else route.abort())
    page.goto(site_url + "docs/rosetta.html", wait_until="load")
    assert set(chosen(page)) == {"NumPy"}  # the first tab, before any choice
    page.locator("label.sd-tab-label", has_text="Keras").first.click()
    assert chosen(page) and set(chosen(page)) == {"Keras"}  # every tab set on the page
    page.locator("label.sd-tab-label", has_text="PyTorch").first.click()
    page.goto(site_url + "lessons/08_fastai.html", wait_until="load")
    page.goto(site_url + "docs/rosetta.html", wait_until="load")
    page.reload(wait_until="load")
    assert set(chosen(page)) == {"PyTorch"}  # not the page's first tab, NumPy
    context.close()


# ----------------------------------------------------------------------------- draw and playground
DRAW_PAGE = "lessons/06_pytorch.html"
PLAYGROUND_PAGES = ("lessons/03_activations.html", "lessons/09_your_turn.html")
STROKE_DIGITS = 36  # real MNIST test digits the browser draws stroke by stroke
WIDGET_PAGE_LIMIT = 1_500_000  # bytes of HTML, the embedded networks and bundled JS included


@pytest.fixture(scope="session")
def page_networks():
    """Lesson 6's networks as its page embeds them, with the PyTorch models they came from:
    trained once into the book build's run cache (unless FORCEMLP_RUN_CACHE names another)."""
    from forcemlp import model_export, recipes

    with pytest.MonkeyPatch.context() as patch:
        if "FORCEMLP_RUN_CACHE" not in os.environ:
            patch.setenv("FORCEMLP_RUN_CACHE", str(BOOK_ROOT / "_build" / "test" / "cache" / "runs"))
        return [(model_export.export_layers(model_export.trained_layers(config), "page", encoding),
                 model_export.trained_torch_model(config))
                for config, encoding in ((recipes.SEED_TORCH, "float32"),
                                         (recipes.BEST_MLP, "float16"))]


def test_parity_forward_pass_equals_pytorch_on_1000_test_digits(js, page_networks, mnist_splits):
    """The page's networks (float32 and float16 weights) run by digits.js on the first 1,000
    test images give PyTorch's predicted digit every time and its probabilities to 1e-3."""
    import torch

    images = mnist_splits.test.images[:1000]
    code = ("(m, exported, images) => { const model = m.decodeModel(exported);"
            " return images.map((image) => m.predict(model, image.flat().map((v) => v / 255))"
            ".probabilities); }")
    for exported, torch_model in page_networks:
        with torch.no_grad():
            expected = torch_model(torch.from_numpy(mnist_splits.test.features[:1000])).exp()
        expected = expected.double().numpy()
        actual = np.array(js.evaluate("digits.js", code, exported, images.tolist()))
        mismatches = int((actual.argmax(axis=1) != expected.argmax(axis=1)).sum())
        difference = float(np.abs(actual - expected).max())
        print(f"{exported['layers'][0]['encoding']} {len(exported['layers'])} layers:"
              f" {mismatches} mismatches, max probability difference {difference:.1e}")
        assert mismatches == 0 and difference < 1e-3


def test_parity_mnist_style_preprocessing(js, mnist_splits):
    from forcemlp.digit_drawing import digit_strokes, mnist_style, render_strokes

    for image in mnist_splits.test.images[:5]:
        ink = render_strokes(digit_strokes(image))
        actual = js.call("digits.js", "mnistStyle", ink.ravel().tolist(), 280, 280)
        assert_parity(np.reshape(actual, (28, 28)), mnist_style(ink), "mnistStyle")
    assert js.call("digits.js", "mnistStyle", [0.0] * 400, 20, 20) is None


def test_parity_toy_datasets(js):
    from forcemlp.toy_data import DATASET_NAMES, make_dataset

    for name in DATASET_NAMES:
        expected = make_dataset(name, count=150, noise=0.4, test_fraction=0.3, seed=11)
        actual = js.call("toy_data.js", "makeDataset", name,
                         {"count": 150, "noise": 0.4, "testFraction": 0.3, "seed": 11})
        for part in ("train", "test"):
            assert actual[part]["labels"] == getattr(expected, part).labels.tolist()
            assert_parity(actual[part]["points"], getattr(expected, part).points, name)


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_parity_playground_training_steps_equal_numpy(js, optimizer):
    """Five steps of the page's network (spiral, two hidden layers of 8, L2) against
    forcemlp.toy_mlp.training_step on the same weights and batches, for every activation."""
    from forcemlp.optimizers import make_optimizer
    from forcemlp.toy_data import make_dataset
    from forcemlp.toy_mlp import (
        PLAYGROUND_ACTIVATIONS,
        PLAYGROUND_OPTIMIZERS,
        toy_network,
        training_step,
    )

    data = make_dataset("spiral", noise=0.3, seed=2)
    batches = [(data.train.points[10 * k:10 * k + 10], data.train.labels[10 * k:10 * k + 10])
               for k in range(5)]
    code = """(mlp, optimizers, sizes, name, parameters, rule, batches, l2) => {
        const network = mlp.createNetwork(sizes, name, 0, parameters);
        const optimizer = optimizers.makeOptimizer(rule, 0.05);
        const losses = batches.map(([points, labels]) => mlp.trainingStep(
            network, optimizer, Float64Array.from(points.flat()), labels, l2));
        return { losses, parameters: network.parameters };
    }"""
    worst = 0.0
    for activation in PLAYGROUND_ACTIVATIONS:
        model = toy_network((8, 8), activation, seed=4)
        start = model.parameters.tolist()
        stepper = make_optimizer(PLAYGROUND_OPTIMIZERS[optimizer], 0.05)
        losses = [training_step(model, stepper, points, labels, 0.01) for points, labels in batches]
        result = js.evaluate(["playground_mlp.js", "optimizers.js"], code,
                             [2, 8, 8, 2], activation, start, PLAYGROUND_OPTIMIZERS[optimizer],
                             [[points.tolist(), labels.tolist()] for points, labels in batches], 0.01)
        worst = max(worst, assert_parity(result["losses"], losses, f"{optimizer} {activation}"))
        scale = np.abs(model.parameters).max()  # sums run in another order than BLAS's
        np.testing.assert_allclose(result["parameters"], model.parameters, rtol=PARITY_RTOL,
                                   atol=PARITY_RTOL * scale, err_msg=f"{optimizer} {activation}")
        worst = max(worst, float(np.abs(np.subtract(result["parameters"], model.parameters)).max()
                                 / scale))
    print(f"playground steps, {optimizer}: max difference {worst:.1e} (relative to the largest)")


def test_draw_a_digit_on_the_built_page(browser, site_url, mnist_splits):
    """Real test digits traced as strokes with the mouse are read as their labels; an empty
    canvas predicts nothing; the bigger network answers too; nothing leaves the site."""
    from forcemlp.digit_drawing import digit_strokes

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page, log = open_page(browser, site_url + DRAW_PAGE)
    widget = page.locator(".forcemlp-draw")
    widget.wait_for(timeout=RENDER_TIMEOUT_MS)
    pad, clear = widget.locator(".forcemlp-draw-pad"), widget.locator(".forcemlp-draw-clear")
    assert widget.get_attribute("data-prediction") == ""
    right = 0
    for image, label in zip(mnist_splits.test.images[:STROKE_DIGITS],
                            mnist_splits.test.labels[:STROKE_DIGITS]):
        clear.click()
        assert widget.get_attribute("data-prediction") == ""
        draw_strokes(page, pad, digit_strokes(image))
        page.wait_for_function("(root) => root.dataset.prediction !== ''", arg=widget.element_handle())
        right += widget.get_attribute("data-prediction") == str(label)
    print(f"strokes read right: {right} of {STROKE_DIGITS}")
    assert right >= 0.9 * STROKE_DIGITS
    widget.screenshot(path=SCREENSHOTS / "draw-digit.png")
    first_network = widget.get_attribute("data-model")
    widget.get_by_label("network", exact=True).select_option(index=1)
    assert widget.get_attribute("data-model") != first_network
    assert widget.get_attribute("data-prediction") != ""
    clear.click()
    assert widget.get_attribute("data-prediction") == ""
    log.check_clean()


@pytest.mark.parametrize("lesson", PLAYGROUND_PAGES)
def test_playground_plays_steps_resets_and_diverges_on_the_built_page(browser, site_url, lesson):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page, log = open_page(browser, site_url + lesson)
    widget = page.locator(".forcemlp-playground")
    widget.wait_for(timeout=RENDER_TIMEOUT_MS)
    heat = widget.locator(".forcemlp-playground-boundary")

    def step() -> int:
        return int(widget.get_attribute("data-step"))

    def loss(part: str) -> float:
        return float(widget.get_attribute(f"data-{part}-loss"))

    widget.get_by_label("activation", exact=True).select_option("relu")  # a learner on any data
    assert step() == 0
    start_losses, start_picture = (loss("train"), loss("test")), heat.screenshot()
    widget.locator(".forcemlp-playground-play").click()
    page.wait_for_timeout(1500)
    widget.locator(".forcemlp-playground-play").click()  # pause
    paused_at = step()
    assert paused_at > 100 and loss("train") < start_losses[0]  # (test loss may rise: lesson 9)
    assert heat.screenshot() != start_picture  # the boundary moved
    page.wait_for_timeout(300)
    assert step() == paused_at  # paused means paused
    widget.locator(".forcemlp-playground-step").click()
    assert step() == paused_at + 1
    before_hover = heat.screenshot()
    widget.locator(".forcemlp-playground-neuron").first.hover()
    assert heat.screenshot() != before_hover  # the neuron's own picture
    widget.locator(".forcemlp-playground-reset").click()
    assert step() == 0 and (loss("train"), loss("test")) == pytest.approx(start_losses)
    widget.locator("input[aria-label='learning rate']").fill("1")  # 10: far too large
    widget.get_by_label("activation", exact=True).select_option("linear")
    widget.locator(".forcemlp-playground-play").click()
    page.wait_for_function("(root) => root.dataset.diverged === 'true'", arg=widget.element_handle(),
                           timeout=10_000)
    assert "Diverged" in widget.locator(".forcemlp-playground-status").text_content()
    widget.screenshot(path=SCREENSHOTS / f"playground-diverged-{lesson.split('/')[-1]}.png")
    widget.locator(".forcemlp-playground-reset").click()
    assert widget.get_attribute("data-diverged") == "false" and step() == 0
    log.check_clean()


@pytest.mark.parametrize("page_name", [DRAW_PAGE, *PLAYGROUND_PAGES])
def test_draw_and_playground_pages_stay_under_the_page_budget(site, page_name):
    size = (site / page_name).stat().st_size
    print(f"{page_name}: {size / 1000:.0f} kB")
    assert size <= WIDGET_PAGE_LIMIT
