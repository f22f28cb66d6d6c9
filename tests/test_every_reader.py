"""The built book for every reader: a screen reader (axe-core), a phone, dark mode, a slow line.

    FORCEMLP_SITE=_build/html .venv/bin/pytest -m browser tests/test_every_reader.py
    .venv/bin/python tools/bench_first_widget.py      # the slow-line numbers, printed

Every page of the built book (the API's highlighted source pages share one template: two of
them stand for all) is served under /forcemlp/ as GitHub Pages serves it, gzip included, and
opened in headless Chromium with every request off 127.0.0.1 blocked and recorded. axe-core
4.14.1 (pinned like the site's JavaScript, tools/fetch_widget_js.py --test) must find no
critical or serious violation, in light and in dark mode; at 390 px with touch no page may
scroll sideways; widget pages that hold only anywidgets must never fetch the Jupyter widget
manager, and lesson 4's first widget must show soon on a 10 Mbit/s line.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from .book import BOOK_ROOT
from .browser_harness import (
    RENDER_TIMEOUT_MS,
    Probe,
    is_local,
    open_page,
    require_axe,
)
from .site_reader import (
    PHONE,
    WIDGET_DRAWN,
    WIDGET_MANAGER,
    WIDGET_PAGES,
    axe_violations,
    first_widget_ms,
    gzip_serve,
    sideways_scroll,
    wait_until_settled,
)

pytestmark = pytest.mark.browser

BLOCKING_IMPACTS = ("critical", "serious")
SOURCE_PAGE_SAMPLES = ("_modules/index.html", "_modules/forcemlp/optimizers.html")
# On a busy 2-core machine a cold load varies by a second or more; the 2.5 s budget itself is
# measured by tools/bench_first_widget.py, which prints it. This bound fails only when the
# first widget is as slow as it was with the widget manager (4 s and more).
FIRST_WIDGET_BOUND_MS = 4000


def book_pages() -> list[str]:
    """Every page of the book: one per source page, the pages Sphinx adds, two source pages."""
    sources = [BOOK_ROOT / "index.md", *sorted((BOOK_ROOT / "docs").glob("*.md")),
               *sorted((BOOK_ROOT / "lessons").glob("*.md"))]
    pages = [str(path.relative_to(BOOK_ROOT).with_suffix(".html")) for path in sources]
    return [*pages, "genindex.html", "search.html", "py-modindex.html", *SOURCE_PAGE_SAMPLES]


@pytest.fixture(scope="module")
def served(site: Path):
    with gzip_serve(site) as (url, transfer):
        yield url, transfer


@pytest.fixture(scope="module")
def axe_source() -> str:
    return require_axe().read_text()


def open_reader_page(browser, url: str, dark: bool = False, phone: bool = False):
    """A fresh page (cold cache) in light or dark mode, desktop or phone, that blocks and
    records every request off 127.0.0.1; returns (page, outside requests)."""
    context = browser.new_context(**(PHONE if phone else {"viewport": {"width": 1280,
                                                                       "height": 900}}),
                                  color_scheme="dark" if dark else "light")
    if dark:  # the theme's own switch, as a reader who chose dark mode leaves it
        context.add_init_script("localStorage.setItem('mode', 'dark');"
                                "localStorage.setItem('theme', 'dark');")
    page = context.new_page()
    outside: list[str] = []

    def route(route) -> None:
        if is_local(route.request.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", route)
    page.goto(url, wait_until="load")
    wait_until_settled(page)
    return page, outside


def blocking(violations: list[dict]) -> list[dict]:
    return [violation for violation in violations if violation["impact"] in BLOCKING_IMPACTS]


@pytest.mark.parametrize("page_name", book_pages())
@pytest.mark.parametrize("mode", ["light", "dark"])
def test_axe_finds_nothing_critical_or_serious(browser, served, axe_source, page_name, mode):
    url, _ = served
    page, outside = open_reader_page(browser, url + page_name, dark=mode == "dark")
    assert page.evaluate("document.documentElement.dataset.theme") == mode
    violations = axe_violations(page, axe_source)
    counts = {violation["id"]: len(violation["nodes"]) for violation in violations}
    print(f"{page_name} ({mode}): axe {json.dumps(counts)}")
    page.context.close()
    assert outside == [], f"requests left 127.0.0.1: {outside}"
    assert blocking(violations) == [], json.dumps(blocking(violations), indent=1)


@pytest.mark.parametrize("page_name", book_pages())
def test_no_page_scrolls_sideways_on_a_phone(browser, served, page_name):
    url, _ = served
    page, outside = open_reader_page(browser, url + page_name, phone=True)
    result = sideways_scroll(page)
    page.context.close()
    assert outside == [], f"requests left 127.0.0.1: {outside}"
    assert result["scrolled"] == 0 and result["scrollWidth"] <= result["width"], result


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_one_search_box_and_the_landing_page_leads_to_lesson_1(browser, served, phone):
    url, _ = served
    page, _ = open_reader_page(browser, url + "index.html", phone=phone)
    searches = page.locator(".search-button__button").evaluate_all(
        "buttons => buttons.filter((b) => b.getClientRects().length > 0).length")
    start = page.locator("a.start-reading").get_attribute("href")
    next_page = page.locator("a.right-next").get_attribute("href")
    page.context.close()
    assert searches == 1
    assert start == next_page == "lessons/01_data.html"


@pytest.mark.parametrize("page_name", WIDGET_PAGES)
@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_back_to_top_never_covers_a_widget(browser, served, page_name, phone):
    """The theme's pill appears while a reader scrolls up: it must not stand over any
    widget control (here it never shows at all)."""
    url, _ = served
    page, _ = open_reader_page(browser, url + page_name, phone=phone)
    control = page.locator(".widget-subarea").locator("button, input, select").first
    control.scroll_into_view_if_needed()
    for _ in range(3):
        page.mouse.wheel(0, -120)
        page.wait_for_timeout(150)
    covered = page.evaluate("""() => {
        const pill = document.getElementById('pst-back-to-top');
        if (pill === null || pill.getBoundingClientRect().height === 0) return [];
        const box = pill.getBoundingClientRect();
        return Array.from(document.querySelectorAll(
            '.widget-subarea button, .widget-subarea input, .widget-subarea select'))
            .filter((node) => { const r = node.getBoundingClientRect();
                return r.right > box.left && r.left < box.right && r.bottom > box.top
                    && r.top < box.bottom; })
            .map((node) => node.outerHTML.slice(0, 80));
    }""")
    visible = page.locator("#pst-back-to-top").is_visible()
    page.context.close()
    assert covered == [] and not visible, covered


@pytest.mark.parametrize("page_name", WIDGET_PAGES)
def test_anywidget_pages_render_without_the_widget_manager(browser, served, page_name):
    """Every widget on the page drawn, from this site only, and neither RequireJS nor the
    3.6 MB manager fetched: the loader's light path gave anywidget its model."""
    url, _ = served
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.route("**/*", lambda route: route.continue_() if is_local(route.request.url)
               else route.abort())
    page.goto(url + page_name, wait_until="load")
    wait_until_settled(page)
    views = page.locator('script[type="application/vnd.jupyter.widget-view+json"]').count()
    drawn = page.locator(WIDGET_DRAWN).count()
    page.wait_for_load_state("networkidle")
    context.close()
    assert views > 0 and drawn >= views, f"{drawn} widgets drawn for {views} views"
    assert [url for url in requests if not is_local(url)] == []
    assert not any(WIDGET_MANAGER in url or "require.js" in url for url in requests), requests


def test_lesson_4s_first_widget_on_a_slow_line(browser, served):
    url, transfer = served
    result = first_widget_ms(browser, url + "lessons/04_gradient_descent.html", WIDGET_DRAWN,
                             transfer)
    print(f"lesson 4: first widget after {result.milliseconds:.0f} ms at 10 Mbit/s, 60 ms, gzip,"
          f" cold cache; {result.sent_bytes / 1e6:.2f} MB sent"
          f" ({result.uncompressed_bytes / 1e6:.2f} MB uncompressed)")
    assert all(is_local(request) for request in result.requests)
    assert result.milliseconds < FIRST_WIDGET_BOUND_MS


class Broken(Probe):
    """An anywidget whose module cannot be imported."""

    _esm = "export default { render( }"


class EventLog(Probe):
    """Exercises the model API in render and writes what it saw into the page."""

    _esm = """export default { render({ model, el }) {
        const log = [];
        model.on("change:count", (_, value) => log.push(`count:${value}`));
        model.on("change", () => log.push("change"));
        model.set("count", 5);
        model.set("count", 5);  // equal: no event
        const removed = () => log.push("removed");
        model.on("change:count", removed);
        model.off("change:count", removed);
        model.set("count", 6);
        model.save_changes();
        model.send({ nobody: "listens" });
        log.push(`get:${model.get("count")}`);
        el.append(Object.assign(document.createElement("output"),
                                { className: "event-log", textContent: JSON.stringify(log) }));
    } };"""


def test_light_path_leaves_a_notice_when_a_widget_cannot_load(browser, widget_pages):
    page, log = open_page(browser, widget_pages("broken", [Probe(), Broken()]))
    page.locator("button.probe").wait_for(timeout=RENDER_TIMEOUT_MS)
    notice = page.locator(".widget-load-notice.failed")
    notice.wait_for(timeout=RENDER_TIMEOUT_MS)
    assert notice.count() == 1 and "could not load" in notice.text_content()
    assert log.outside_requests == []


def test_light_path_model_fires_change_events_like_backbone(browser, widget_pages):
    """set fires change:<name> then change, nothing for an equal value; off removes a
    listener; save_changes and send go nowhere without a kernel; a click still syncs."""
    page, log = open_page(browser, widget_pages("events", [Probe(), EventLog()]))
    events = page.locator("output.event-log")
    events.wait_for(timeout=RENDER_TIMEOUT_MS)
    assert json.loads(events.text_content()) == ["count:5", "change", "count:6", "change",
                                                  "get:6"]
    button = page.locator("button.probe")
    button.click()
    assert button.text_content() == "count 42"
    log.check_clean()
