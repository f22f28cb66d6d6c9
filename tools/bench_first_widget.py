"""How soon a reader on a slow line sees the first widget, and what each widget page weighs.

    .venv/bin/python tools/bench_first_widget.py                    # the built book, _build/html
    .venv/bin/python tools/bench_first_widget.py --site /tmp/old --runs 5

Serves the built site under /forcemlp/ with text gzip-compressed (as GitHub Pages serves it),
opens each widget page in headless Chromium on a cold cache over an emulated line (10 Mbit/s,
60 ms round trip, Chrome DevTools Protocol), and prints the time from navigation to the first
widget painted (median of --runs), the bytes sent and their uncompressed size, and whether the
Jupyter widget manager was fetched. The target: lesson 4's first widget within 2.5 s.
"""
from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPOSITORY))
from tests.browser_harness import CHROMIUM_FLAGS, ensure_chromium
from tests.site_reader import (
    WIDGET_DRAWN,
    WIDGET_MANAGER,
    WIDGET_PAGES,
    first_widget_ms,
    gzip_serve,
    page_weight,
)

TARGET_MS = 2500.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", type=Path, default=REPOSITORY / "_build" / "html")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pages", nargs="*", default=list(WIDGET_PAGES))
    arguments = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright, gzip_serve(arguments.site) as (site_url, transfer):
        browser = playwright.chromium.launch(executable_path=str(ensure_chromium()),
                                             args=CHROMIUM_FLAGS, headless=True)
        for page_name in arguments.pages:
            runs = [first_widget_ms(browser, site_url + page_name, WIDGET_DRAWN, transfer)
                    for _ in range(arguments.runs)]
            times = sorted(run.milliseconds for run in runs)
            uncompressed, sent, requests = page_weight(browser, site_url + page_name, transfer)
            manager = any(WIDGET_MANAGER in url for url in requests)
            print(f"{page_name}: first widget {statistics.median(times):.0f} ms "
                  f"(runs {', '.join(f'{time:.0f}' for time in times)}); by then "
                  f"{runs[0].sent_bytes / 1e6:.2f} MB sent; whole page "
                  f"{sent / 1e6:.2f} MB sent, {uncompressed / 1e6:.2f} MB uncompressed, "
                  f"{len(requests)} requests; widget manager fetched: {manager}")
        browser.close()
    print(f"target: lesson 4's first widget within {TARGET_MS:.0f} ms at 10 Mbit/s, 60 ms, gzip")
    return 0


if __name__ == "__main__":
    sys.exit(main())
