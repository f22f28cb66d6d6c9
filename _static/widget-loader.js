// Renders the page's embedded Jupyter widgets with no kernel and no CDN (conf.py loads this on
// pages that hold widget state). Two paths:
//
// - Light: where every widget on the page is an anywidget (all of forcemlp's are), the page
//   needs no widget manager. Each anywidget model becomes a small object offering anywidget's
//   model API (get, set, on, off, save_changes, send) over the embedded state; the widget's own
//   ES module (its `_esm`, stored in that state) is imported from a Blob URL, as anywidget
//   itself does, and its `render({ model, el })` is called. There is no kernel: `set` fires
//   "change:<name>" and "change" here, as Backbone does, and `save_changes`/`send` go nowhere.
//   Nothing else is fetched: no RequireJS, no 3.6 MB manager, no icon fonts.
// - Manager: a page with a core ipywidget (a slider, a box) loads RequireJS and the ipywidgets
//   HTML manager's AMD build from this site's _static/widgets/ (tools/fetch_widget_js.py),
//   found relative to this script's own URL, so the site works under any sub-path. Third-party
//   modules (anywidget) load from there too, never from a CDN.
//
// Until a widget has drawn, a one-line notice stands where it will appear; if the widget cannot
// load, the notice says so instead of leaving an empty space.
(function () {
  "use strict";
  const STATE_TYPE = "application/vnd.jupyter.widget-state+json";
  const VIEW_TYPE = "application/vnd.jupyter.widget-view+json";
  const NOTICE_CLASS = "widget-load-notice";
  const GIVE_UP_MS = 30000;
  const LOADING = "Loading the interactive widget…";
  const FAILED = "This interactive widget could not load: its JavaScript is missing or blocked " +
    "in this browser. Open the lesson's notebook to use it.";
  const widgetsFolder = new URL("widgets/", document.currentScript.src);

  // ------------------------------------------------------------------ notices (both paths)
  function viewTags() {
    return Array.from(document.querySelectorAll(`script[type="${VIEW_TYPE}"]`));
  }

  function noticeOf(tag) {
    return tag.parentElement.querySelector(`.${NOTICE_CLASS}`);
  }

  function addNotices() {
    for (const tag of viewTags()) {
      if (noticeOf(tag) !== null) continue;
      const notice = document.createElement("p");
      notice.className = NOTICE_CLASS;
      notice.setAttribute("role", "status");
      notice.textContent = LOADING;
      tag.parentElement.insertBefore(notice, tag.parentElement.firstChild);
    }
  }

  function markFailed(tag) {
    const notice = noticeOf(tag);
    if (notice === null || notice.classList.contains("failed")) return;
    notice.textContent = FAILED;
    notice.classList.add("failed");
  }

  // ------------------------------------------------------------------ the light path
  function embeddedState() {
    const tag = document.querySelector(`script[type="${STATE_TYPE}"]`);
    return tag === null ? {} : JSON.parse(tag.textContent).state || {};
  }

  // anywidget models and the layout models every DOM widget carries: nothing else.
  function onlyAnywidgets(state) {
    const models = Object.values(state);
    return models.some((model) => model.model_module === "anywidget") && models.every(
      (model) => model.model_module === "anywidget" ||
        (model.model_module === "@jupyter-widgets/base" && model.model_name === "LayoutModel"));
  }

  function decodeBase64(text) {
    const bytes = Uint8Array.from(atob(text), (character) => character.charCodeAt(0));
    return new DataView(bytes.buffer);
  }

  // The state with its binary buffers put back where they were cut out, as DataViews (as the
  // widget manager hands them to anywidget).
  function attributesOf(entry) {
    const attributes = entry.state;
    for (const buffer of entry.buffers || []) {
      let holder = attributes;
      for (const key of buffer.path.slice(0, -1)) holder = holder[key];
      holder[buffer.path[buffer.path.length - 1]] = decodeBase64(buffer.data);
    }
    return attributes;
  }

  // Backbone's equality for what widget state holds: JSON-like values compared deeply.
  function equal(a, b) {
    if (a === b) return true;
    if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) {
      return Number.isNaN(a) && Number.isNaN(b);
    }
    if (Array.isArray(a) !== Array.isArray(b)) return false;
    if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
    if (!Array.isArray(a) && Object.getPrototypeOf(a) !== Object.prototype) return false;
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((key) => equal(a[key], b[key]));
  }

  // anywidget's model API over embedded state, with no kernel behind it.
  class StaticModel {
    constructor(id, attributes, manager) {
      this.model_id = id;
      this.attributes = attributes;
      this.widget_manager = manager;
      this.listeners = [];  // { name, callback, context }
    }

    get(name) {
      return this.attributes[name];
    }

    set(key, value) {
      const changes = typeof key === "object" && key !== null ? key : { [key]: value };
      const changed = Object.keys(changes).filter((name) => !equal(this.attributes[name], changes[name]));
      for (const name of changed) this.attributes[name] = changes[name];
      for (const name of changed) this.trigger(`change:${name}`, this, this.attributes[name]);
      if (changed.length > 0) this.trigger("change", this);
      return this;
    }

    save_changes() {}  // no kernel: the change has already happened here

    send() {}  // no kernel to receive a custom message

    on(names, callback, context) {
      for (const name of names.split(/\s+/)) this.listeners.push({ name, callback, context });
    }

    off(names, callback, context) {
      const matches = (listener) => (names == null || names.split(/\s+/).includes(listener.name)) &&
        (callback == null || listener.callback === callback) &&
        (context == null || listener.context === context);
      this.listeners = this.listeners.filter((listener) => !matches(listener));
    }

    trigger(name, ...values) {
      for (const listener of this.listeners.filter((each) => each.name === name)) {
        listener.callback.apply(listener.context, values);
      }
    }
  }

  // What a widget module sees: anywidget's proxy, listeners tagged so they can be removed.
  function proxy(model, context) {
    return {
      get: (name) => model.get(name),
      set: (key, value) => { model.set(key, value); },
      save_changes: () => model.save_changes(),
      send: (...message) => model.send(...message),
      on: (name, callback) => model.on(name, callback, context),
      off: (name, callback) => model.off(name, callback, context),
      widget_manager: model.widget_manager,
    };
  }

  async function importWidget(source) {
    const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
    try {
      const module = await import(url);
      if (module.render) return { render: module.render };
      if (!module.default) throw new Error("the widget module has no default export");
      return typeof module.default === "function" ? await module.default() : module.default;
    } finally {
      URL.revokeObjectURL(url);
    }
  }

  function addStyle(css, id) {
    if (!css || document.getElementById(id) !== null) return;
    const style = document.createElement("style");
    style.id = id;
    style.textContent = css;
    document.head.append(style);
  }

  // A layout model's CSS properties (width, grid_area, ...) on the view's element.
  function applyLayout(el, layout) {
    for (const [name, value] of Object.entries(layout || {})) {
      if (name.startsWith("_") || value === null || value === undefined || value === "") continue;
      el.style.setProperty(name.replace(/_/g, "-"), String(value));
    }
  }

  function lightPath(state) {
    const models = new Map();
    const manager = { get_model: async (id) => models.get(id) };
    for (const [id, entry] of Object.entries(state)) {
      models.set(id, new StaticModel(id, attributesOf(entry), manager));
    }
    const widgets = new Map();  // model id -> Promise of its initialised module
    const experimental = { invoke: () => Promise.reject(new Error("no kernel on this page")) };
    const signal = new AbortController().signal;  // views live as long as the page

    function widgetFor(model) {
      if (!widgets.has(model.model_id)) {
        widgets.set(model.model_id, (async () => {
          addStyle(model.get("_css"), model.get("_anywidget_id"));
          const widget = await importWidget(model.get("_esm"));
          await widget.initialize?.({ model: proxy(model, widget), signal, experimental });
          return widget;
        })());
      }
      return widgets.get(model.model_id);
    }

    async function renderView(tag) {
      const model = models.get(JSON.parse(tag.textContent).model_id);
      if (model === undefined || model.get("_esm") === undefined) {
        throw new Error("the page holds no anywidget state for this view");
      }
      const widget = await widgetFor(model);
      const area = document.createElement("div");
      area.className = "widget-subarea";
      const el = document.createElement("div");
      el.className = "jupyter-widgets";
      const layout = models.get(String(model.get("layout")).replace("IPY_MODEL_", ""));
      applyLayout(el, layout && layout.attributes);
      area.append(el);
      tag.before(area);
      await widget.render({ model: proxy(model, el), el, signal, experimental });
      noticeOf(tag)?.remove();
    }

    for (const tag of viewTags()) {
      renderView(tag).catch((error) => {
        console.warn(`widget-loader: a widget did not render (${error.message})`);
        markFailed(tag);
      });
    }
  }

  // ------------------------------------------------------------------ the manager path
  // "drawn", "error" (the manager drew its error box instead) or "pending".
  function managerViewState(tag) {
    const area = tag.previousElementSibling;
    if (area === null || !area.classList.contains("widget-subarea")) return "pending";
    if (area.querySelector(".jupyter-widgets-error-widget") !== null) return "error";
    return area.querySelector(".lm-Widget, .jupyter-widgets") !== null ? "drawn" : "pending";
  }

  function updateManagerNotices(failed) {
    for (const tag of viewTags()) {
      const state = managerViewState(tag);
      if (state === "drawn") noticeOf(tag)?.remove();
      else if (failed || state === "error") markFailed(tag);  // once: the observer sees this too
    }
  }

  function failManager(reason) {
    console.warn(`widget-loader: ${reason}`);
    updateManagerNotices(true);
  }

  // Only this site's copy of a module, whatever version the widget state names.
  function siteLoader(moduleName) {
    return new Promise((resolve, reject) => {
      window.requirejs([moduleName], resolve, (error) => {
        reject(new Error(`${moduleName} is not served by this site (${error.message})`));
      });
    });
  }

  function withRequireJs(then) {
    if (typeof window.requirejs === "function") {
      then();
      return;
    }
    const script = document.createElement("script");
    script.src = new URL("requirejs/require.js", widgetsFolder).href;
    script.addEventListener("load", then);
    script.addEventListener("error", () => failManager("RequireJS did not load"));
    document.head.append(script);
  }

  function managerPath() {
    window.__jupyter_widgets_assets_path__ = new URL("html-manager/", widgetsFolder).href;
    const manager = "@jupyter-widgets/html-manager/dist/libembed-amd";
    new MutationObserver(() => updateManagerNotices(false)).observe(document.body, {
      childList: true, subtree: true,
    });
    setTimeout(() => updateManagerNotices(true), GIVE_UP_MS);
    withRequireJs(() => {
      window.requirejs.config({
        paths: {
          [manager]: new URL("html-manager/libembed-amd", widgetsFolder).href,
          anywidget: new URL("anywidget/index", widgetsFolder).href,
        },
        waitSeconds: GIVE_UP_MS / 1000,
      });
      window.requirejs([manager],
        (embed) => embed.renderWidgets(document.documentElement, siteLoader),
        (error) => failManager(`the widget manager did not load (${error.message})`));
    });
  }

  // ------------------------------------------------------------------ start
  function start() {
    addNotices();
    let state;
    try {
      state = embeddedState();
    } catch (error) {
      console.warn(`widget-loader: the page's widget state is not JSON (${error.message})`);
      viewTags().forEach(markFailed);
      return;
    }
    if (onlyAnywidgets(state)) {
      lightPath(state);
    } else if (document.readyState === "complete") {
      managerPath();
    } else {
      // After every other script: RequireJS's `define` must not be mistaken for theirs.
      window.addEventListener("load", managerPath);
    }
  }

  // Loaded async: start as soon as the page is parsed, without waiting for the deferred
  // scripts (the theme's icons, MathJax) that DOMContentLoaded waits for.
  if (document.readyState === "loading") {
    document.addEventListener("readystatechange", start, { once: true });
  } else {
    start();
  }
})();
