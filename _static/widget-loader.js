// Renders the page's embedded Jupyter widgets with no kernel and no CDN (conf.py loads this
// after RequireJS, on pages that hold widget state). Everything comes from this site's
// _static/widgets/ (tools/fetch_widget_js.py), found relative to this script's own URL, so
// the site works under any sub-path. Third-party widget modules (anywidget) load from there
// too, never from a CDN: a module the site lacks fails here, visibly.
//
// Until a widget has drawn, a one-line notice stands where it will appear; if the widget
// JavaScript cannot load, the notice says so instead of leaving an empty space.
(function () {
  "use strict";
  const VIEW_TYPE = "application/vnd.jupyter.widget-view+json";
  const NOTICE_CLASS = "widget-load-notice";
  const GIVE_UP_MS = 30000;
  const LOADING = "Loading the interactive widget…";
  const FAILED = "This interactive widget could not load: its JavaScript is missing or blocked " +
    "in this browser. Open the lesson's notebook to use it.";
  const widgetsFolder = new URL("widgets/", document.currentScript.src);

  function viewTags() {
    return Array.from(document.querySelectorAll(`script[type="${VIEW_TYPE}"]`));
  }

  // "drawn", "error" (the manager drew its error box instead) or "pending".
  function viewState(tag) {
    const area = tag.previousElementSibling;
    if (area === null || !area.classList.contains("widget-subarea")) return "pending";
    if (area.querySelector(".jupyter-widgets-error-widget") !== null) return "error";
    return area.querySelector(".lm-Widget, .jupyter-widgets") !== null ? "drawn" : "pending";
  }

  function addNotices() {
    for (const tag of viewTags()) {
      if (tag.parentElement.querySelector(`.${NOTICE_CLASS}`) !== null) continue;
      const notice = document.createElement("p");
      notice.className = NOTICE_CLASS;
      notice.setAttribute("role", "status");
      notice.textContent = LOADING;
      tag.parentElement.insertBefore(notice, tag.parentElement.firstChild);
    }
  }

  function updateNotices(failed) {
    for (const tag of viewTags()) {
      const notice = tag.parentElement.querySelector(`.${NOTICE_CLASS}`);
      if (notice === null) continue;
      const state = viewState(tag);
      if (state === "drawn") {
        notice.remove();
      } else if ((failed || state === "error") && !notice.classList.contains("failed")) {
        notice.textContent = FAILED;  // once: the observer sees this change too
        notice.classList.add("failed");
      }
    }
  }

  function fail(reason) {
    console.warn(`widget-loader: ${reason}`);
    updateNotices(true);
  }

  // Only this site's copy of a module, whatever version the widget state names.
  function siteLoader(moduleName) {
    return new Promise((resolve, reject) => {
      window.requirejs([moduleName], resolve, (error) => {
        reject(new Error(`${moduleName} is not served by this site (${error.message})`));
      });
    });
  }

  function render() {
    addNotices();
    if (typeof window.requirejs !== "function") {
      fail("RequireJS did not load");
      return;
    }
    window.__jupyter_widgets_assets_path__ = new URL("html-manager/", widgetsFolder).href;
    const manager = "@jupyter-widgets/html-manager/dist/libembed-amd";
    window.requirejs.config({
      paths: {
        [manager]: new URL("html-manager/libembed-amd", widgetsFolder).href,
        anywidget: new URL("anywidget/index", widgetsFolder).href,
      },
      waitSeconds: GIVE_UP_MS / 1000,
    });
    new MutationObserver(() => updateNotices(false)).observe(document.body, {
      childList: true, subtree: true,
    });
    setTimeout(() => updateNotices(true), GIVE_UP_MS);
    window.requirejs([manager], (embed) => embed.renderWidgets(document.documentElement, siteLoader),
      (error) => fail(`the widget manager did not load (${error.message})`));
  }

  if (document.readyState === "complete") {
    render();
  } else {
    window.addEventListener("load", render);
  }
})();
