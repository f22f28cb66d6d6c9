"""The browser harness shared by every browser test and benchmark.

    from tests.browser_harness import open_page, serve   # the fixtures live in conftest.py

``serve`` puts folders on 127.0.0.1 under URL prefixes (the book under a sub-path, as GitHub
Pages serves it); ``open_page`` opens a page in Debian's headless Chromium (installed by
`make browser`, never `playwright install`) that records and blocks every request off
127.0.0.1 and collects console and page errors; ``JsRunner`` runs the package's ES modules in
the browser: ``js.call("optimizers.js", "name", *args)`` calls an exported function,
``js.evaluate(["a.js", "b.js"], "(a, b, x) => ...", x)`` runs an arrow function given the
imported modules, and both return the result to Python (typed arrays as lists).
``static_widget_page`` writes widgets into a page beside the repository's _static/, so a widget
can be tested without building the book. ``Explorer`` drives a rendered explorer and
``draw_strokes`` draws on the drawing pad. Screenshots go to _build/screenshots/.
"""
from __future__ import annotations

import contextlib
import http.server
import json
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

import numpy as np
import pytest
import traitlets

from forcemlp.surfaces import SURFACES
from forcemlp.widgets.base import BrowserWidget

from .book import BOOK_ROOT

SITE_PREFIX = "/forcemlp/"  # the book is served under a sub-path, as on GitHub Pages
JS_PREFIX = "/package-js/"
HARNESS_PAGE = "/harness.html"
ACTIVATION_PAGE = "lessons/03_activations.html"
OPTIMIZER_PAGE = "lessons/04_gradient_descent.html"
SCREENSHOTS = BOOK_ROOT / "_build" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
RENDER_TIMEOUT_MS = 60_000
# float64 on both sides: the languages differ only where libm's exp, log, pow, cos round the
# last bit differently; far below this. (Absolute 1e-300: denormals have no relative digits.)
PARITY_RTOL, PARITY_ATOL = 1e-9, 1e-300


def ensure_chromium() -> Path:
    """Debian's chromium, which `make browser` installs (the tests never provision the
    machine themselves)."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser` (apt-get install chromium).")
    return CHROMIUM


# ----------------------------------------------------------------------------- the harness
@contextlib.contextmanager
def serve(mounts: dict[str, Path]) -> Iterator[str]:
    """Serve each folder under its URL prefix ("/forcemlp/" -> folder) on 127.0.0.1 and a
    free port, plus an empty same-origin page at /harness.html; yields the server's root URL."""
    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            if urlparse(self.path).path == HARNESS_PAGE:
                body = b"<!doctype html><meta charset=utf-8><title>harness</title>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            super().do_GET()

        def translate_path(self, path: str) -> str:
            path = unquote(urlparse(path).path)
            for prefix, folder in mounts.items():
                if path.startswith(prefix):
                    relative = Path(path.removeprefix(prefix))
                    if ".." in relative.parts:
                        break
                    return str(folder / relative)
            return "/nonexistent"  # outside every mount: 404

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class PageLog:
    """Everything a page did that a test must see: outside requests and errors."""

    outside_requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def check_clean(self) -> None:
        assert self.outside_requests == [], f"requests left 127.0.0.1: {self.outside_requests}"
        assert self.errors == [], "\n".join(self.errors)


def is_local(url: str) -> bool:
    parsed = urlparse(url)
    return parsed.scheme in ("data", "blob", "about") or parsed.hostname == "127.0.0.1"


def open_page(browser, url: str, block: Sequence[str] = ()):
    """A fresh page (new context: no cache) that logs and blocks what it must not do; URLs
    containing any of ``block`` fail as if missing (to test fallbacks)."""
    context = browser.new_context(viewport={"width": 1280, "height": 1400})
    page = context.new_page()
    log = PageLog()

    def route(route) -> None:
        request_url = route.request.url
        if not is_local(request_url):
            log.outside_requests.append(request_url)
            route.abort()
        elif any(part in request_url for part in block):
            route.abort()
        else:
            route.continue_()

    def response(response) -> None:
        if response.status >= 400:
            log.errors.append(f"HTTP {response.status}: {response.url}")

    page.route("**/*", route)
    page.on("response", response)
    page.on("requestfailed", lambda request: None if any(part in request.url for part in block)
            else log.errors.append(f"request failed: {request.url} ({request.failure})"))
    page.on("console", lambda message: log.errors.append(f"console: {message.text}")
            if message.type == "error" else None)
    page.on("pageerror", lambda error: log.errors.append(f"page error: {error}"))
    page.goto(url, wait_until="load")
    return page, log


class JsRunner:
    """Runs the package's ES modules (src/forcemlp/widgets/js/) in a browser page."""

    EVALUATE = """async ([urls, code, args]) => {
        const modules = await Promise.all(urls.map((url) => import(url)));
        const plain = (value) => ArrayBuffer.isView(value) ? Array.from(value)
            : Array.isArray(value) ? value.map(plain)
            : value !== null && typeof value === "object"
                ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]))
                : value;
        return plain(await (0, eval)(code)(...modules, ...args));
    }"""

    def __init__(self, page, modules_url: str):
        self.page, self.modules_url = page, modules_url

    def evaluate(self, modules: str | Sequence[str], code: str, *arguments):
        """``code`` is a JS arrow function called with the modules, then the arguments."""
        names = [modules] if isinstance(modules, str) else list(modules)
        urls = [self.modules_url + name for name in names]
        return self.page.evaluate(self.EVALUATE, [urls, code, list(arguments)])

    def call(self, module: str, function: str, *arguments):
        """The exported ``function`` of ``module`` called with ``arguments``."""
        return self.evaluate(module, f"(module, ...args) => module.{function}(...args)",
                             *arguments)


WIDGET_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>{title}</title>
<link rel="stylesheet" href="_static/widget-loader.css">
<script defer src="_static/widgets/requirejs/require.js"></script>
<script defer src="_static/widget-loader.js"></script>
<script type="application/vnd.jupyter.widget-state+json">{state}</script>
</head><body><h1>{title}</h1>{views}</body></html>
"""


def static_widget_page(widgets, title: str = "widgets") -> str:
    """A page that embeds the widgets' state as the book's pages do and loads them with the
    site's own _static files (serve it beside the repository's _static/ folder)."""
    from ipywidgets.embed import dependency_state, embed_data

    # Only these widgets' models: by default embed_data takes every widget the test process
    # has made, and one plain ipywidget among them would send the page down the manager path.
    widgets = list(widgets)
    data = embed_data(views=widgets, state=dependency_state(widgets, drop_defaults=False),
                      drop_defaults=False)
    views = "".join(
        '<div class="cell_output"><script type="application/vnd.jupyter.widget-view+json">'
        f"{json.dumps(view)}</script></div>" for view in data["view_specs"]
    )
    return WIDGET_PAGE.format(title=title, state=json.dumps(data["manager_state"]), views=views)


WIDGET_JAVASCRIPT = BOOK_ROOT / "_static" / "widgets"
AXE_SCRIPT = BOOK_ROOT / "_build" / "test-js" / "axe-core" / "axe.min.js"


def require_widget_javascript() -> None:
    """_static/widgets/ as `make browser` (or any book build) fetches it from npm."""
    missing = [name for name in ("anywidget/index.js", "requirejs/require.js",
                                 "html-manager/libembed-amd.js")
               if not (WIDGET_JAVASCRIPT / name).is_file()]
    if missing:
        pytest.fail(f"{WIDGET_JAVASCRIPT} lacks {', '.join(missing)}: run `make browser`.")


def require_axe() -> Path:
    """axe-core's script as `make browser` fetches it (pinned in tools/fetch_widget_js.py)."""
    if not AXE_SCRIPT.is_file():
        pytest.fail(f"axe-core is missing ({AXE_SCRIPT}): run `make browser`.")
    return AXE_SCRIPT


def surface_state(name: str) -> dict:
    """A surface as the widgets receive it from Python."""
    surface = SURFACES[name]
    return {"name": name, "x_range": list(surface.x_range), "y_range": list(surface.y_range),
            "start": surface.start.tolist(), "gradient_noise": surface.gradient_noise}


def assert_parity(actual, expected, what: str) -> float:
    """JS results equal NumPy's to PARITY_RTOL; returns the largest relative difference."""
    actual, expected = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    np.testing.assert_allclose(actual, expected, rtol=PARITY_RTOL, atol=PARITY_ATOL, err_msg=what)
    scale = np.maximum(np.abs(expected), np.finfo(float).tiny)
    return float(np.max(np.abs(actual - expected) / scale, initial=0.0))


OPTIMIZER_ROOT = ".forcemlp-optimizer-explorer"
ACTIVATION_ROOT = ".forcemlp-activation-explorer"


class Explorer:
    """One rendered explorer on a page: move its controls, read its picture and state."""

    def __init__(self, page, selector: str):
        self.page, self.selector = page, selector
        self.root = page.locator(selector).first
        self.root.wait_for(timeout=RENDER_TIMEOUT_MS)

    def data(self, name: str) -> str:
        return self.root.get_attribute(f"data-{name}") or ""

    def picture(self) -> tuple[str, ...]:
        """Every canvas's pixels, as PNG data URLs."""
        return tuple(self.root.locator("canvas").evaluate_all(
            "canvases => canvases.map(canvas => canvas.toDataURL())"))

    def changes(self, label: str, action, *arguments, **keywords) -> None:
        """Do ``action(...)``; the picture must be redrawn and differ from before."""
        before, draws = self.picture(), int(self.data("draws"))
        action(*arguments, **keywords)
        self.page.wait_for_function(
            f"document.querySelector('{self.selector}').dataset.draws > {draws}")
        after = self.picture()
        assert after != before, f"{label}: the picture did not change"
        self.root.screenshot(path=SCREENSHOTS / f"{self.selector[1:]}-{label}.png")

    def set_range(self, label: str, value: float) -> None:
        """Move the range input labelled ``label`` to ``value`` as a reader's drag does."""
        self.root.locator(f'input[aria-label="{label}"]').evaluate(
            "(input, value) => { input.value = value;"
            " input.dispatchEvent(new Event('input', { bubbles: true })); }", value)

    def choose(self, label: str, value: str) -> None:
        self.root.locator(f'select[aria-label="{label}"]').select_option(value)


def draw_strokes(page, pad, strokes) -> None:
    """Draw pen strokes (canvas coordinates) on the pad with the mouse: pointer events."""
    box = pad.bounding_box()
    scale = box["width"] / 280
    for stroke in strokes:
        (x, y), rest = stroke[0], stroke[1:]
        page.mouse.move(box["x"] + x * scale, box["y"] + y * scale)
        page.mouse.down()
        for x, y in rest:
            page.mouse.move(box["x"] + x * scale, box["y"] + y * scale)
        page.mouse.up()


class Probe(BrowserWidget):
    """The smallest anywidget: draws its trait, and a click changes it in the page."""

    title = "probe"
    _esm = """export default { render({ model, el }) {
        const button = document.createElement("button");
        button.className = "probe";
        const show = () => { button.textContent = `count ${model.get("count")}`; };
        button.addEventListener("click", () => { model.set("count", model.get("count") + 1);
                                                 model.save_changes(); });
        model.on("change:count", show);
        show();
        el.append(button);
    } };"""
    count = traitlets.Int(41).tag(sync=True)
