"""How alive the playground is, on a fast and a slowed CPU: frames and training steps per second.

    .venv/bin/python tools/bench_playground.py                 # 1× and 4× CPU, 5 s each
    .venv/bin/python tools/bench_playground.py --seconds 10 --rates 1 4 6

Serves the playground (its default: the spiral, two hidden layers of 8) on a static page on
127.0.0.1, as the browser tests do (no book build needed), opens it in headless Debian
Chromium, slows the CPU with Chrome's `Emulation.setCPUThrottlingRate`, presses Play and reads
the widget's own counters (data-frames: boundary redraws, data-step: training steps) over a
measured stretch of wall time. The playground paces training at 300 steps a second whatever
the frame rate, so the script also measures the raw capacity: the same network's trainingStep
called in a loop in the page, on batches of 10 spiral points.
Targets (issues 10 and 15): >= 30 frames/s with the CPU slowed 4×, >= 200 steps/s.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
PREFIX = "/forcemlp/"
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
COUNTERS = """(root) => [Number(root.dataset.step), Number(root.dataset.frames),
                      performance.now(), Number(root.dataset.drawMs)]"""


def measure_rate(browser, url: str, modules_url: str, rate: float, seconds: float) -> dict:
    """Frames and steps per second while playing, with the CPU slowed `rate` times."""
    page = browser.new_page(viewport={"width": 1280, "height": 1200})
    page.goto(url)
    widget = page.locator(".forcemlp-playground").first
    widget.wait_for(timeout=60_000)
    client = page.context.new_cdp_session(page)
    client.send("Emulation.setCPUThrottlingRate", {"rate": rate})
    widget.get_by_role("button", name="Play").click()
    page.wait_for_timeout(1000)  # past the first frames
    steps_before, frames_before, started, _ = widget.evaluate(COUNTERS)
    page.wait_for_timeout(seconds * 1000)
    steps_after, frames_after, ended, draw_ms = widget.evaluate(COUNTERS)
    elapsed = (ended - started) / 1000  # the page's own clock
    capacity = page.evaluate(RAW_CAPACITY, [modules_url, min(seconds, 3.0)])
    page.close()
    return {"cpu_slowdown": rate, "frames_per_second": (frames_after - frames_before) / elapsed,
            "steps_per_second": (steps_after - steps_before) / elapsed,
            "draw_ms": draw_ms, "raw_steps_per_second": capacity, "seconds": elapsed}


def measure(rates: list[float], seconds: float) -> list[dict]:
    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(REPOSITORY))
    from forcemlp.widgets.bundle import JS_FOLDER
    from forcemlp.widgets.playground import Playground
    from tests.browser_harness import (
        CHROMIUM_FLAGS,
        require_widget_javascript,
        serve,
        static_widget_page,
    )

    require_widget_javascript()
    folder = REPOSITORY / "_build" / "bench-playground"
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / "_static").exists():
        (folder / "_static").symlink_to(REPOSITORY / "_static", target_is_directory=True)
    (folder / "playground.html").write_text(static_widget_page([Playground()], "playground"))
    with serve({PREFIX: folder, "/js/": JS_FOLDER}) as root, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                             args=CHROMIUM_FLAGS, headless=True)
        results = [measure_rate(browser, f"{root}{PREFIX}playground.html", f"{root}/js/", rate,
                                seconds) for rate in rates]
        browser.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rates", type=float, nargs="+", default=[1.0, 4.0],
                        help="CPU slowdowns to measure (Chrome's CPU throttling rate)")
    arguments = parser.parse_args()
    results = measure(arguments.rates, arguments.seconds)
    print(json.dumps(results, indent=2))
    for result in results:
        print(f"CPU slowed {result['cpu_slowdown']:g}×: {result['frames_per_second']:.1f}"
              f" frames/s (target >= 30), {result['steps_per_second']:.0f} training steps/s"
              f" (target >= 200); one redraw {result['draw_ms']:.1f} ms; raw capacity {result['raw_steps_per_second']:.0f} steps/s")


if __name__ == "__main__":
    main()
