"""The playground and the drawing board as every reader meets them: keyboard only, a screen
reader's live regions, a phone with touch, dark mode, a run that diverged, a slow CPU's
redraws aside (tools/bench_playground.py), and the page's menus against Python's limits.

    .venv/bin/pytest -m browser tests/test_browser_playground_draw.py   # no book build needed

Each test serves the widgets on a static page (the harness of tests/test_browser.py, plus a
phone's viewport tag and the book theme's dark colours) and leaves screenshots in
_build/screenshots/ (light and dark, desktop and phone) for a person to look at.
"""
from __future__ import annotations

import json
from collections.abc import Iterator

import numpy as np
import pytest

from forcemlp.widgets.playground import Playground, playground_limits

from .browser_harness import (
    BOOK_ROOT,
    RENDER_TIMEOUT_MS,
    SCREENSHOTS,
    SITE_PREFIX,
    require_axe,
    require_widget_javascript,
    serve,
    static_widget_page,
)

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}
DESKTOP = {"viewport": {"width": 1280, "height": 1000}}
TOUCH_TARGET = 44  # CSS px, the brief's smallest button or menu on a touch screen
# The book theme's (pydata-sphinx-theme 0.16) dark colours, which the widget kit follows.
THEME = """<style>
html[data-theme="dark"] { --pst-color-background: #14181e; --pst-color-surface: #29313d;
  --pst-color-text-base: #ced6dd; --pst-color-text-muted: #9ca4af; --pst-color-border: #48566b;
  --pst-color-primary: #3fb1c5; color-scheme: dark; }
html[data-theme="dark"] body { background: #14181e; color: #ced6dd; }
</style>"""
VIEWPORT = '<meta name="viewport" content="width=device-width, initial-scale=1">'


@pytest.fixture(scope="session")
def board_pages(tmp_path_factory) -> Iterator:
    """``show(name, widgets)`` -> URL of a static page of the widgets (as the harness's
    widget_pages), with a phone's viewport tag and the theme's dark colours."""
    require_widget_javascript()
    folder = tmp_path_factory.mktemp("board-pages")
    (folder / "_static").symlink_to(BOOK_ROOT / "_static", target_is_directory=True)
    with serve({SITE_PREFIX: folder}) as root:
        def show(name: str, widgets) -> str:
            page = static_widget_page(widgets, name)
            page = page.replace('<meta charset="utf-8">', f'<meta charset="utf-8">{VIEWPORT}')
            (folder / f"{name}.html").write_text(page.replace("</head>", f"{THEME}</head>"))
            return f"{root}{SITE_PREFIX}{name}.html"
        yield show


def open_widget(browser, url: str, selector: str, device: dict, dark: bool = False):
    context = browser.new_context(**device)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" and "favicon" not in message.text else None)
    page.route("**/favicon.ico", lambda route: route.fulfill(status=204))
    page.goto(url, wait_until="load")
    widget = page.locator(selector)
    widget.wait_for(timeout=RENDER_TIMEOUT_MS)
    if dark:  # the theme's switch, after the widget drew: it must follow
        page.evaluate("document.documentElement.dataset.theme = 'dark'")
        page.wait_for_timeout(200)
    return page, widget, errors


def screenshot(widget, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    widget.screenshot(path=SCREENSHOTS / f"{name}.png")


# ----------------------------------------------------------------------------- the playground
@pytest.fixture(scope="module")
def playground_url(board_pages) -> str:
    return board_pages("playground", [Playground()])


def test_the_page_s_menus_and_sliders_are_python_s_limits(browser, playground_url):
    """One source: every menu's choices and every slider's ends on the page are the ones
    Python validates (fails if playground.js keeps a list of its own)."""
    limits = playground_limits()
    _page, widget, errors = open_widget(browser, playground_url, ".forcemlp-playground", DESKTOP)

    def options(name: str) -> list[str]:
        return widget.get_by_label(name, exact=True).evaluate(
            "(select) => [...select.options].map((option) => option.value)")

    assert options("dataset") == limits["datasets"]
    assert options("activation") == limits["activations"]
    assert options("optimizer") == list(limits["optimizers"])
    assert [float(value) for value in options("L2")] == limits["l2"]
    for name, spec in limits["sliders"].items():
        ends = widget.get_by_label(name.replace("_", " "), exact=True).evaluate(
            "(input) => [Number(input.min), Number(input.max)]")
        expected = [np.log10(spec["min"]), np.log10(spec["max"])] if spec["log"] else [
            spec["min"], spec["max"]]
        assert ends == pytest.approx(expected), name
    more = widget.get_by_role("button", name="add a hidden layer")
    while more.is_enabled():
        more.click()
    assert widget.locator(".fm-pg-layer").count() == limits["max_layers"] + 2  # + input, output
    assert errors == []


LIVE_CHANGES = """(root) => {
    window.liveChanges = 0;
    const observer = new MutationObserver((records) => { window.liveChanges += records.length; });
    for (const node of root.querySelectorAll("[role=status], [aria-live]")) {
        observer.observe(node, { childList: true, characterData: true, subtree: true });
    }
}"""


def test_playing_is_announced_at_most_once_a_second(browser, playground_url):
    page, widget, errors = open_widget(browser, playground_url, ".forcemlp-playground", DESKTOP)
    widget.evaluate(LIVE_CHANGES)
    widget.get_by_role("button", name="Play").click()
    page.wait_for_timeout(3000)
    widget.get_by_role("button", name="Pause").click()
    page.wait_for_timeout(1100)  # the pause's announcement, after the throttle's wait
    frames = int(widget.get_attribute("data-frames"))
    changes = page.evaluate("window.liveChanges")
    live_text = widget.locator("[role=status]").text_content()
    print(f"3 s of play: {frames} redraws, {changes} live-region changes ({live_text!r})")
    assert frames > 30 and 2 <= changes <= 5  # start, pause (and at most a summary or two)
    assert live_text.startswith("Paused at step")
    assert errors == []


def test_neurons_show_their_plane_from_the_keyboard(browser, playground_url):
    """Tab reaches the first neuron; focusing it puts its plane on the heat map; Enter pins
    it (aria-pressed) so it stays after focus moves on; Enter again unpins it."""
    page, widget, errors = open_widget(browser, playground_url, ".forcemlp-playground", DESKTOP)
    heat = widget.locator(".forcemlp-playground-boundary")
    answer = heat.screenshot()
    neuron = widget.get_by_role("button", name="neuron 1 of hidden layer 1", exact=True)
    widget.get_by_role("button", name="more neurons in layer 2").focus()
    presses = 0
    while not neuron.evaluate("(node) => node === document.activeElement") and presses < 6:
        page.keyboard.press("Shift+Tab")  # fewer neurons in layer 2, then the neurons' stop
        presses += 1
    assert neuron.evaluate("(node) => node === document.activeElement")
    assert "Neuron 1 of hidden layer 1" in heat.get_attribute("aria-label")
    assert heat.screenshot() != answer
    page.keyboard.press("Enter")
    assert neuron.get_attribute("aria-pressed") == "true"
    page.keyboard.press("ArrowDown")  # the neurons are one Tab stop; arrows move inside it
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == (
        "neuron 2 of hidden layer 2")
    assert "Neuron 2 of hidden layer 2" in heat.get_attribute("aria-label")  # shown on focus
    assert widget.locator(".forcemlp-playground-neuron[tabindex='0']").count() == 1
    page.evaluate("document.activeElement.blur()")  # the pinned one comes back
    assert "Neuron 1 of hidden layer 1" in heat.get_attribute("aria-label")
    neuron.focus()
    page.keyboard.press("Enter")
    neuron.evaluate("(node) => node.blur()")
    assert neuron.get_attribute("aria-pressed") == "false"
    assert heat.get_attribute("aria-label").startswith("Decision boundary")
    # a layer's + button keeps keyboard focus when the panel is rebuilt
    fewer = widget.get_by_role("button", name="fewer neurons in layer 1")
    fewer.focus()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == (
        "fewer neurons in layer 1")
    assert errors == []


def test_play_after_divergence_says_what_to_do(browser, playground_url):
    page, widget, errors = open_widget(browser, playground_url, ".forcemlp-playground", DESKTOP)
    widget.get_by_label("activation", exact=True).select_option("linear")
    widget.get_by_label("optimizer", exact=True).select_option("sgd")
    widget.get_by_label("learning rate", exact=True).fill("1")  # 10: far too large
    widget.get_by_role("button", name="Play").click()
    page.wait_for_function("(root) => root.dataset.diverged === 'true'",
                           arg=widget.element_handle(), timeout=10_000)
    status = widget.locator(".forcemlp-playground-status")
    assert status.get_attribute("data-state") == "diverged"
    stopped_at = widget.get_attribute("data-step")
    page.evaluate("document.querySelector('.forcemlp-playground-status [role=status]')"
                  ".textContent = ''")
    widget.get_by_role("button", name="Play").click()  # Play again: not silently nothing
    page.wait_for_timeout(1100)
    assert widget.get_attribute("data-step") == stopped_at
    assert "Reset" in status.text_content() and "Diverged" in status.text_content()
    assert "Diverged" in widget.locator("[role=status]").text_content()  # said again
    assert "fm-primary" in widget.get_by_role("button", name="Reset").get_attribute("class")
    screenshot(widget, "playground-diverged-light-desktop")
    widget.get_by_role("button", name="Reset").click()
    assert widget.get_attribute("data-diverged") == "false"
    assert status.get_attribute("data-state") == "ready"
    assert errors == []


def visible_brightness(widget) -> float:
    """Mean brightness (0 black, 1 white) of the widget's screenshot."""
    from io import BytesIO

    from PIL import Image

    picture = Image.open(BytesIO(widget.screenshot())).convert("L")
    return float(np.asarray(picture).mean() / 255)


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_the_playground_follows_the_theme(browser, playground_url, dark):
    _page, widget, errors = open_widget(browser, playground_url, ".forcemlp-playground", DESKTOP,
                                       dark=dark)
    brightness = visible_brightness(widget)
    screenshot(widget, f"playground-{'dark' if dark else 'light'}-desktop")
    print(f"playground, {'dark' if dark else 'light'}: mean brightness {brightness:.2f}")
    assert brightness < 0.35 if dark else brightness > 0.75
    assert errors == []


def touch_problems(page, widget) -> list[str]:
    """Buttons, menus and sliders smaller than 44 × 44 CSS px, and sideways scrolling."""
    small = widget.evaluate("""(root, least) => [...root.querySelectorAll(
            "button, select, input")].map((node) => [node.getAttribute("aria-label")
            || node.labels?.[0]?.textContent || node.textContent, node.getBoundingClientRect()])
        .filter(([, box]) => box.width < least - 0.5 || box.height < least - 0.5)
        .map(([name, box]) => `${name}: ${box.width.toFixed(0)}×${box.height.toFixed(0)}`)""",
                            TOUCH_TARGET)
    sideways = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    return small + ([f"the page scrolls {sideways} px sideways"] if sideways > 0 else [])


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_the_playground_on_a_phone(browser, playground_url, dark):
    """390 × 844 with touch: targets of 44 px, no sideways scroll, Play in sight of the loss
    curve it drives (both on one screen)."""
    page, widget, errors = open_widget(browser, playground_url, ".forcemlp-playground", PHONE,
                                       dark=dark)
    assert touch_problems(page, widget) == []
    play = widget.get_by_role("button", name="Play").bounding_box()
    curve = widget.locator(".fm-pg-output canvas").nth(1).bounding_box()
    assert curve["y"] + curve["height"] - play["y"] <= 844, "Play and its curve on one screen"
    widget.get_by_role("button", name="Play").tap()
    page.wait_for_timeout(800)
    assert int(widget.get_attribute("data-step")) > 0
    widget.get_by_role("button", name="Pause").tap()
    widget.get_by_role("button", name="neuron 2 of hidden layer 1").tap()  # a tap pins it
    assert widget.get_by_role("button", name="neuron 2 of hidden layer 1").get_attribute(
        "aria-pressed") == "true"
    screenshot(widget, f"playground-{'dark' if dark else 'light'}-phone")
    assert errors == []


# ----------------------------------------------------------------------------- the drawing board
@pytest.fixture(scope="module")
def drawing(tmp_path_factory, mnist_splits):
    """A drawing board holding a 784-16-10 network trained for one epoch on 2,000 digits, and
    that network's layers (for the Python reference)."""
    from forcemlp import model_export
    from forcemlp.config import TrainConfig
    from forcemlp.widgets.draw import draw_digit

    config = TrainConfig(framework="torch", hidden_sizes=(16,), train_size=2000, epochs=1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FORCEMLP_RUN_CACHE", str(tmp_path_factory.mktemp("runs")))
        board = draw_digit([config])
        return board, model_export.decode_layers(board.models[0])


@pytest.fixture(scope="module")
def drawing_url(board_pages, drawing) -> str:
    return board_pages("drawing", [drawing[0]])


def python_reading(layers, pixels: np.ndarray) -> int:
    """What the page should read for a 28×28 digit put on its pad (10×10 ink per pixel)."""
    from forcemlp.digit_drawing import mnist_style
    from forcemlp.weights import log_probabilities

    image = mnist_style(np.kron(pixels / 255.0, np.ones((10, 10))))
    return int(log_probabilities(layers, "relu", image.reshape(1, -1)).argmax())


PREVIEW = "(root) => root.querySelector('.fm-draw-seen').toDataURL()"


def test_the_drawing_board_from_the_keyboard_alone(browser, drawing_url, drawing, mnist_splits):
    """Tab to the test-digit menu, pick a 7 with the arrow keys: the pad holds it and the
    board reads what Python reads and says so; Tab to the pad, Space and arrows draw a stroke
    that changes what the network sees; Clear empties it."""
    board, layers = drawing
    page, widget, errors = open_widget(browser, drawing_url, ".forcemlp-draw", DESKTOP)
    widget.evaluate("(root) => root.querySelector('canvas').blur()")
    menu = widget.get_by_label("test digit", exact=True)
    presses = 0
    while not menu.evaluate("(node) => node === document.activeElement") and presses < 10:
        page.keyboard.press("Tab")
        presses += 1
    for _ in range(8):
        page.keyboard.press("ArrowDown")  # choose…, 0, 1, ..., 7
    assert menu.input_value() == "7"
    example = next(example for example in board.examples if example["label"] == 7)
    import base64

    pixels = np.frombuffer(base64.b64decode(example["pixels"]), np.uint8).reshape(28, 28)
    expected = python_reading(layers, pixels.astype(float))
    assert widget.get_attribute("data-prediction") == str(expected)
    page.wait_for_timeout(1100)  # the spoken line, throttled to once a second
    assert f"It reads a {expected}" in widget.locator("[role=status]").text_content()
    before = widget.evaluate(PREVIEW)
    page.keyboard.press("Shift+Tab")  # back to the pad, before the menu
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.activeElement.classList.contains('forcemlp-draw-pad')")
    page.keyboard.press("Space")
    for key in ["ArrowUp"] * 6 + ["ArrowLeft"] * 6:
        page.keyboard.press(key)
    page.keyboard.press("Space")
    assert widget.evaluate(PREVIEW) != before  # the stroke reached what the network sees
    assert widget.get_attribute("data-prediction") != ""
    screenshot(widget, "draw-keyboard-light-desktop")
    widget.get_by_role("button", name="Clear").focus()
    page.keyboard.press("Enter")
    assert widget.get_attribute("data-prediction") == ""
    assert errors == []


def test_the_probability_list_is_a_list_a_screen_reader_can_read(browser, drawing_url):
    _page, widget, errors = open_widget(browser, drawing_url, ".forcemlp-draw", DESKTOP)
    widget.get_by_label("test digit", exact=True).select_option(label="a 3 from the test set")
    items = widget.get_by_role("list", name="Probability of each digit").get_by_role("listitem")
    assert items.count() == 10
    names = [items.nth(digit).get_attribute("aria-label") for digit in range(10)]
    assert all(name.startswith(f"{digit}: ") and name.endswith("%")
               for digit, name in enumerate(names))
    verdict = widget.locator(".forcemlp-draw-verdict .fm-status-message")
    size = float(verdict.evaluate("(node) => parseFloat(getComputedStyle(node).fontSize)"))
    assert size <= 20  # a line of the widget, not the page's title
    assert errors == []


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_the_drawing_board_on_a_phone(browser, drawing_url, mnist_splits, dark):
    """Touch targets, no sideways scroll, and a finger's stroke draws without scrolling."""
    from forcemlp.digit_drawing import digit_strokes

    page, widget, errors = open_widget(browser, drawing_url, ".forcemlp-draw", PHONE, dark=dark)
    assert touch_problems(page, widget) == []
    pad = widget.locator(".forcemlp-draw-pad")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    scale = box["width"] / 280
    scrolled = page.evaluate("window.scrollY")
    client = page.context.new_cdp_session(page)
    for stroke in digit_strokes(mnist_splits.test.images[0]):
        points = [{"x": box["x"] + x * scale, "y": box["y"] + y * scale} for x, y in stroke]
        client.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": points[:1]})
        for point in points[1:]:
            client.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [point]})
        client.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    assert page.evaluate("window.scrollY") == scrolled
    assert widget.get_attribute("data-prediction") != ""
    screenshot(widget, f"draw-{'dark' if dark else 'light'}-phone")
    if dark:
        assert visible_brightness(widget) < 0.35
    assert errors == []


def axe_violations(page, selector: str) -> list[dict]:
    page.add_script_tag(content=require_axe().read_text())
    return page.evaluate("""async (selector) => (await axe.run(selector,
        { resultTypes: ["violations"] })).violations.map((v) => ({ id: v.id, impact: v.impact,
        nodes: v.nodes.map((node) => node.target.join(" ")) }))""", selector)


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_axe_finds_nothing_critical_or_serious_in_either_widget(browser, playground_url,
                                                                 drawing_url, dark):
    for url, selector in ((playground_url, ".forcemlp-playground"),
                          (drawing_url, ".forcemlp-draw")):
        page, widget, errors = open_widget(browser, url, selector, DESKTOP, dark=dark)
        if selector == ".forcemlp-draw":
            widget.get_by_label("test digit", exact=True).select_option(index=4)
        bad = [violation for violation in axe_violations(page, selector)
               if violation["impact"] in ("critical", "serious")]
        assert bad == [], json.dumps(bad, indent=1)
        assert errors == []
