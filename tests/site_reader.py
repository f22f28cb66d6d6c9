"""What the book's readers get, measured in headless Chromium: a gzip server like GitHub
Pages, a slow line, axe-core, a phone. Shared by tests/test_every_reader.py and
tools/bench_first_widget.py.

``gzip_serve`` serves a built site under a sub-path with text compressed as GitHub Pages does
and counts the bytes it sent; ``first_widget_ms`` opens a page on a cold cache over an emulated
line (Chrome DevTools Protocol) and returns when its first widget showed; ``axe_violations``
runs the pinned axe-core (tools/fetch_widget_js.py --test) on an open page.
"""
from __future__ import annotations

import contextlib
import gzip
import http.server
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

# GitHub Pages compresses these (and not images or fonts, which are compressed already).
COMPRESSED_SUFFIXES = (".html", ".js", ".mjs", ".css", ".json", ".svg", ".txt", ".map", ".xml")
SLOW_LINE = {"latency_ms": 60, "megabits_per_second": 10}
WIDGET_PAGES = ("lessons/03_activations.html", "lessons/04_gradient_descent.html",
                "lessons/06_pytorch.html", "lessons/09_your_turn.html")
WIDGET_DRAWN = ".widget-subarea > * > *"  # what a rendered widget puts on the page (both paths)
WIDGET_MANAGER = "libembed-amd.js"
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True,
         "has_touch": True}


@dataclass
class Transfer:
    """What the server sent: per path, the file's own size and the bytes on the wire."""

    files: dict[str, tuple[int, int]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, path: str, size: int, sent: int) -> None:
        with self.lock:
            self.files[path] = (size, sent)

    def clear(self) -> None:
        with self.lock:
            self.files.clear()

    def totals(self) -> tuple[int, int]:
        """(uncompressed bytes, bytes sent)."""
        with self.lock:
            return (sum(size for size, _ in self.files.values()),
                    sum(sent for _, sent in self.files.values()))


@contextlib.contextmanager
def gzip_serve(folder: Path, prefix: str = "/forcemlp/") -> Iterator[tuple[str, Transfer]]:
    """Serve ``folder`` under ``prefix`` on 127.0.0.1 over keep-alive HTTP/1.1, gzipping text
    when the browser accepts it; yields (the site's URL, the record of what was sent)."""
    transfer = Transfer()
    compressed: dict[tuple[Path, float], bytes] = {}  # by file and modification time

    class Handler(http.server.SimpleHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:
            pass

        def translate_path(self, path: str) -> str:
            path = unquote(urlparse(path).path)
            relative = Path(path.removeprefix(prefix))
            if not path.startswith(prefix) or ".." in relative.parts:
                return "/nonexistent"
            return str(folder / relative)

        def do_GET(self) -> None:
            file = Path(self.translate_path(self.path))
            if file.is_dir():
                file = file / "index.html"
            wants_gzip = "gzip" in self.headers.get("Accept-Encoding", "")
            if not file.is_file() or not (wants_gzip and file.suffix in COMPRESSED_SUFFIXES):
                super().do_GET()
                if file.is_file():
                    size = file.stat().st_size
                    transfer.add(urlparse(self.path).path, size, size)
                return
            key = (file, file.stat().st_mtime)
            if key not in compressed:
                compressed[key] = gzip.compress(file.read_bytes(), compresslevel=6)
            body = compressed[key]
            self.send_response(200)
            self.send_header("Content-Type", self.guess_type(str(file)))
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "max-age=600")  # as GitHub Pages
            self.end_headers()
            self.wfile.write(body)
            transfer.add(urlparse(self.path).path, file.stat().st_size, len(body))

    class Server(http.server.ThreadingHTTPServer):
        def handle_error(self, request, client_address) -> None:
            if not isinstance(sys.exc_info()[1], ConnectionError):  # a closed tab: expected
                super().handle_error(request, client_address)

    server = Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}{prefix}", transfer
    finally:
        server.shutdown()
        server.server_close()


# Started before the page's own scripts: the moment (ms after navigation) the first widget's
# element had a size, then the next frame, when it was painted.
WATCH_FIRST_WIDGET = """(() => {
    const selector = %r;
    const watch = () => {
        const shown = Array.from(document.querySelectorAll(selector))
            .some((node) => node.getBoundingClientRect().height > 0);
        if (!shown) return false;
        requestAnimationFrame(() => { window.__firstWidgetMs = performance.now(); });
        return true;
    };
    const observer = new MutationObserver(() => { if (watch()) observer.disconnect(); });
    observer.observe(document, { childList: true, subtree: true });
})();"""


@dataclass
class FirstWidget:
    milliseconds: float
    requests: list[str]  # every URL the page asked for until then
    uncompressed_bytes: int
    sent_bytes: int


def first_widget_ms(browser, url: str, selector: str, transfer: Transfer,
                    latency_ms: float = SLOW_LINE["latency_ms"],
                    megabits_per_second: float = SLOW_LINE["megabits_per_second"],
                    timeout_ms: float = 60_000) -> FirstWidget:
    """Open ``url`` in a fresh context (cold cache) over an emulated line; wait for the first
    element matching ``selector`` to be painted with a size."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        requests: list[str] = []
        page.on("request", lambda request: requests.append(request.url))
        session = context.new_cdp_session(page)
        session.send("Network.enable")
        session.send("Network.setCacheDisabled", {"cacheDisabled": True})
        bytes_per_second = megabits_per_second * 1e6 / 8
        session.send("Network.emulateNetworkConditions", {
            "offline": False, "latency": latency_ms,
            "downloadThroughput": bytes_per_second, "uploadThroughput": bytes_per_second,
        })
        page.add_init_script(WATCH_FIRST_WIDGET % selector)
        transfer.clear()
        page.goto(url, wait_until="commit")
        page.wait_for_function("window.__firstWidgetMs !== undefined", timeout=timeout_ms)
        milliseconds = page.evaluate("window.__firstWidgetMs")
        uncompressed, sent = transfer.totals()
        return FirstWidget(milliseconds, list(requests), uncompressed, sent)
    finally:
        context.close()


def page_weight(browser, url: str, transfer: Transfer) -> tuple[int, int, list[str]]:
    """(uncompressed bytes, bytes sent, URLs) of everything a page loads until it is idle."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        requests: list[str] = []
        page.on("request", lambda request: requests.append(request.url))
        transfer.clear()
        page.goto(url, wait_until="load")
        wait_until_settled(page)
        page.wait_for_load_state("networkidle")
        return (*transfer.totals(), requests)
    finally:
        context.close()


AXE_RUN = """async () => {
    const results = await axe.run(document, { resultTypes: ["violations"] });
    return results.violations.map((violation) => ({
        id: violation.id, impact: violation.impact,
        nodes: violation.nodes.map((node) => node.target.join(" ")),
    }));
}"""


def axe_violations(page, axe_source: str) -> list[dict]:
    """axe-core's violations on the page as it is now: [{id, impact, nodes}]."""
    page.add_script_tag(content=axe_source)
    return page.evaluate(AXE_RUN)


def wait_until_settled(page, timeout_ms: float = 60_000) -> None:
    """Widgets drawn (no loading notice left) and MathJax done typesetting."""
    page.wait_for_function(
        "!document.querySelector('.widget-load-notice:not(.failed)')", timeout=timeout_ms)
    page.evaluate("async () => { if (window.MathJax?.startup?.promise)"
                  " await MathJax.startup.promise; }")


SIDEWAYS = """() => {
    const width = document.documentElement.clientWidth;
    window.scrollTo(10000, window.scrollY);
    const scrolled = window.scrollX;
    window.scrollTo(0, window.scrollY);
    const wide = Array.from(document.querySelectorAll("body *")).filter((node) => {
        const box = node.getBoundingClientRect();
        if (box.width === 0 || box.right <= width + 1) return false;
        for (let parent = node.parentElement; parent; parent = parent.parentElement) {
            const style = getComputedStyle(parent);
            if (["auto", "scroll", "hidden", "clip"].includes(style.overflowX)) return false;
        }
        return true;
    }).slice(0, 5).map((node) => `${node.tagName.toLowerCase()}.${node.className} ` +
        `${Math.round(node.getBoundingClientRect().right)}px`);
    return { scrolled, scrollWidth: document.documentElement.scrollWidth, width, wide };
}"""


def sideways_scroll(page) -> dict:
    """How far the page scrolls sideways (0 when it does not), and the widest culprits."""
    return page.evaluate(SIDEWAYS)
