"""How fast the explorers redraw in headless Chromium: control moved -> picture redrawn.

    .venv/bin/python tools/bench_widgets.py                     # static pages, no book needed
    .venv/bin/python tools/bench_widgets.py --site _build/html  # the built book's lessons
    .venv/bin/python tools/bench_widgets.py --cpu-slowdown 1 4  # the default: 1x and 4x CPU

For each explorer, moves one slider to `--moves` different values, one at a time, and times
from the input event to the end of the redraw it causes (a MutationObserver sees the
explorer's `data-draws` change; the redraw runs in the next animation frame, so the figure
includes the wait for it), from `--settle` seconds after the explorer appeared (the activation
explorer computes every depth's gradients while the page is idle). Prints the median and 90th percentile, and the drawing alone
(`data-draw-ms`), once per CPU slowdown (Chrome's `Emulation.setCPUThrottlingRate`, as
DevTools' "4x slowdown" does). The target is a median of at most 50 ms with the CPU slowed 4x.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPOSITORY))
from tests.browser_harness import (  # the browser harness, shared with the tests
    CHROMIUM_FLAGS,
    SITE_PREFIX,
    ensure_chromium,
    open_page,
    require_widget_javascript,
    serve,
    static_widget_page,
)

TARGET_MS = 50.0
TIME_MOVES = """async ([selector, label, values]) => {
    const root = document.querySelector(selector);
    const input = root.querySelector(`input[aria-label="${label}"]`);
    const latencies = [], drawing = [];
    for (const value of values) {
        const drawn = new Promise((resolve) => {
            const observer = new MutationObserver(() => { observer.disconnect(); resolve(); });
            observer.observe(root, { attributes: true, attributeFilter: ["data-draws"] });
        });
        const started = performance.now();
        input.value = value;
        input.dispatchEvent(new Event("input", { bubbles: true }));
        await drawn;
        latencies.push(performance.now() - started);
        drawing.push(Number(root.dataset.drawMs));
        await new Promise((resolve) => setTimeout(resolve, 30));
    }
    return [latencies, drawing];
}"""
# (page in the book, explorer root, slider label, first and last slider value)
CASES = {
    "optimizer explorer, learning rate": (
        "lessons/04_gradient_descent.html", ".forcemlp-optimizer-explorer", "learning rate ×",
        (-1.9, 0.9)),
    "optimizer explorer, momentum": (
        "lessons/04_gradient_descent.html", ".forcemlp-optimizer-explorer", "momentum β",
        (0.05, 0.98)),
    "activation explorer, depth": (
        "lessons/03_activations.html", ".forcemlp-activation-explorer", "layers n", (2, 29)),
}


def static_pages(folder: Path) -> None:
    """The two explorers on pages of their own, named like the lessons, beside _static/."""
    from forcemlp import widgets

    require_widget_javascript()
    (folder / "_static").symlink_to(REPOSITORY / "_static", target_is_directory=True)
    (folder / "lessons").mkdir()
    pages = {"lessons/04_gradient_descent.html": widgets.optimizer_explorer("ravine"),
             "lessons/03_activations.html": widgets.activation_explorer(activation="sigmoid")}
    for name, widget in pages.items():
        html = static_widget_page([widget]).replace('"_static/', '"../_static/')
        (folder / name).write_text(html)


def slider_values(label: str, low: float, high: float, moves: int) -> list[float]:
    """`moves` values spread over [low, high] in an order that jumps about (golden ratio)."""
    values = [low + (high - low) * (index * 0.618 % 1) for index in range(1, moves + 1)]
    return [round(value) for value in values] if label == "layers n" else values


def time_moves(page, selector: str, label: str, values: list[float],
               cpu_slowdown: float = 1) -> tuple[list[float], list[float]]:
    """Control -> redrawn latencies and drawing times (ms) of one explorer on an open page,
    with Chrome's CPU throttled `cpu_slowdown` times."""
    session = page.context.new_cdp_session(page)
    session.send("Emulation.setCPUThrottlingRate", {"rate": cpu_slowdown})
    try:
        return page.evaluate(TIME_MOVES, [selector, label, values])
    finally:
        session.send("Emulation.setCPUThrottlingRate", {"rate": 1})
        session.detach()


def measure(site: Path, moves: int, cpu_slowdown: float, settle_s: float
            ) -> dict[str, tuple[list[float], list[float]]]:
    from playwright.sync_api import sync_playwright

    results = {}
    with serve({SITE_PREFIX: site}) as root, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(ensure_chromium()),
                                             args=CHROMIUM_FLAGS, headless=True)
        for case, (page_name, selector, label, (low, high)) in CASES.items():
            page, log = open_page(browser, f"{root}{SITE_PREFIX}{page_name}")
            page.locator(selector).first.wait_for(timeout=60_000)
            page.wait_for_timeout(1000 * settle_s)
            results[case] = time_moves(page, selector, label,
                                       slider_values(label, low, high, moves), cpu_slowdown)
            log.check_clean()
            page.context.close()
        browser.close()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", type=Path, help="a built book (default: static pages)")
    parser.add_argument("--moves", type=int, default=40, help="slider moves per case")
    parser.add_argument("--cpu-slowdown", type=float, nargs="+", default=[1, 4],
                        help="CPU throttling rates to measure at (target: 50 ms at 4)")
    parser.add_argument("--settle", type=float, default=3.0,
                        help="seconds between the explorer appearing and the first move (a "
                             "reader looks first; the explorers prepare while the page is idle)")
    arguments = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-widgets-") as folder:
        site = arguments.site
        if site is None:
            site = Path(folder)
            static_pages(site)
        for slowdown in arguments.cpu_slowdown:
            report(measure(site.resolve(), arguments.moves, slowdown, arguments.settle),
                   slowdown)
    return 0


def report(results: dict[str, tuple[list[float], list[float]]], slowdown: float) -> None:
    worst = 0.0
    for case, (latencies, drawing) in results.items():
        median = statistics.median(latencies)
        worst = max(worst, median)
        tail = statistics.quantiles(latencies, n=10)[-1]
        print(f"CPU {slowdown:g}x slower, {case}: control -> redrawn median {median:.1f} ms, "
              f"90th percentile {tail:.1f} ms; drawing alone median "
              f"{statistics.median(drawing):.1f} ms ({len(latencies)} moves)")
    verdict = "within" if worst <= TARGET_MS else "ABOVE"
    print(f"CPU {slowdown:g}x slower: slowest median {worst:.1f} ms, {verdict} the "
          f"{TARGET_MS:.0f} ms target ({worst / TARGET_MS:.2f} of it)")


if __name__ == "__main__":
    sys.exit(main())
