"""How alive the playground is: training steps per second and boundary redraws per second.

    .venv/bin/python tools/bench_playground.py                  # the site in _build/html
    .venv/bin/python tools/bench_playground.py --site _build/test/html --seconds 10

Opens lesson 3's playground in headless Debian Chromium (served on 127.0.0.1 under a
sub-path, like the browser tests), sets it to the spiral with two hidden layers of 8 and
presses Play; then reads the widget's own counters (data-step: training steps, data-frames:
boundary redraws) over a measured stretch of wall time. The playground paces training at
300 steps a second whatever the frame rate, so the script also measures the raw capacity: the
same network's trainingStep called in a loop in the page, on batches of 10 spiral points.
Targets (issue 10): >= 200 steps/s while playing, >= 10 redraws/s.
"""
from __future__ import annotations

import argparse
import http.server
import json
import threading
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
JS_FOLDER = REPOSITORY / "src" / "forcemlp" / "widgets" / "js"
PAGE = "lessons/03_activations.html"
PREFIX = "/forcemlp/"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update"]
RAW_CAPACITY = """async ([modules, seconds]) => {
    const mlp = await import(modules + "playground_mlp.js");
    const data = (await import(modules + "toy_data.js")).makeDataset("spiral", { noise: 0.2 });
    const optimizer = (await import(modules + "optimizers.js")).makeOptimizer("adam", 0.03);
    const network = mlp.createNetwork([2, 8, 8, 2], "tanh", 0);
    const points = Float64Array.from(data.train.points.slice(0, 10).flat());
    const labels = data.train.labels.slice(0, 10);
    let steps = 0;
    const started = performance.now();
    while (performance.now() - started < seconds * 1000) {
        mlp.trainingStep(network, optimizer, points, labels, 0);
        steps += 1;
    }
    return steps / ((performance.now() - started) / 1000);
}"""


def serve(site: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    """The site under PREFIX and the package's ES modules under /js/, on 127.0.0.1."""
    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def translate_path(self, path: str) -> str:
            path = path.split("?")[0]
            for prefix, folder in ((PREFIX, site), ("/js/", JS_FOLDER)):
                if path.startswith(prefix):
                    return str(folder / path.removeprefix(prefix))
            return "/nonexistent"

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


def counters(widget) -> tuple[int, int, float]:
    return (int(widget.get_attribute("data-step")), int(widget.get_attribute("data-frames")),
            time.perf_counter())


def measure(site: Path, seconds: float) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    server, root = serve(site)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                                 args=CHROMIUM_FLAGS, headless=True)
            page = browser.new_page(viewport={"width": 1280, "height": 1400})
            page.goto(root + PREFIX + PAGE)
            widget = page.locator(".forcemlp-playground").first
            widget.wait_for(timeout=60_000)
            widget.locator("select[aria-label=data]").select_option("spiral")
            while len(widget.locator(".forcemlp-playground-network > div").all()) < 5:
                widget.get_by_label("add a hidden layer").click()  # layers: x, y | 2 | output
            for layer in (1, 2):
                more = widget.get_by_label(f"more neurons in layer {layer}")
                while more.is_enabled():
                    more.click()
            widget.locator(".forcemlp-playground-play").click()
            page.wait_for_timeout(1000)  # past the first frames
            steps_before, frames_before, started = counters(widget)
            page.wait_for_timeout(seconds * 1000)
            steps_after, frames_after, ended = counters(widget)
            elapsed = ended - started
            capacity = page.evaluate(RAW_CAPACITY, [root + "/js/", min(seconds, 3.0)])
            browser.close()
    finally:
        server.shutdown()
    return {
        "steps_per_second": (steps_after - steps_before) / elapsed,
        "redraws_per_second": (frames_after - frames_before) / elapsed,
        "raw_steps_per_second": capacity,
        "seconds": elapsed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, default=REPOSITORY / "_build" / "html")
    parser.add_argument("--seconds", type=float, default=5.0)
    arguments = parser.parse_args()
    if not (arguments.site / PAGE).is_file():
        raise SystemExit(f"no {PAGE} in {arguments.site}: build the book first (make html).")
    result = measure(arguments.site, arguments.seconds)
    print(json.dumps(result, indent=2))
    print(f"playground on the spiral, 2 hidden layers of 8: {result['steps_per_second']:.0f}"
          f" training steps/s (target >= 200), boundary redrawn {result['redraws_per_second']:.1f}"
          f" times/s (target >= 10); raw capacity {result['raw_steps_per_second']:.0f} steps/s")


if __name__ == "__main__":
    main()
