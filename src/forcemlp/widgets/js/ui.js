// forcemlp's widget kit: the controls, layout, legend and status line every widget shares,
// styled by widget.css (sent as the widget's `_css`; installStyles puts it on the page once).
// Nothing here touches the DOM until called, so the module imports anywhere (tests, Node).
//
// API (every control's first argument is its visible label, which is also its accessible
// name; pass `name` to give it another one):
//   installStyles(model)                     the kit's stylesheet on the page, once per page
//   widgetRoot(className, title)             <div class="forcemlp-widget className"> (a labelled
//                                            group); put everything of one widget inside
//   button(text, { onClick, primary, className, name })
//                                            styled <button>; .setText(text) relabels it
//   menu(label, choices, { value, onChange, className })
//                                            labelled <select>; choices = [[value, text], ...];
//                                            returns its wrapper with .input and .setValue(v)
//   slider(label, { min, max, step, value, log, format, onInput, className, name })
//                                            labelled range input with its value written beside
//                                            it; log: true moves along log10(value); returns its
//                                            wrapper with .input and .setValue(v)
//   toggle(label, { checked, onChange, color, shape, className })
//                                            labelled checkbox (color/shape: a legend swatch
//                                            beside the text); .input and .setChecked(on)
//   controls(...nodes)                       a row of controls that wraps (stacks on a phone)
//   buttonRow(...nodes)                      a row of buttons that wraps (stays a row on a phone)
//   group(title, ...nodes)                   a titled <fieldset> of controls
//   columns(...nodes)                        a responsive grid: side by side on a desktop,
//                                            stacked on a phone (each column: a <div>)
//   column(head, ...nodes)                   one column whose head (a control, or "") has
//                                            the same height in every column, so the plots
//                                            below line up; stacked, each control sits on
//                                            top of what it changes
//   note(text, className)                    a small muted paragraph
//   legend(className)                        { node, update(items) }; items: { text, color,
//                                            shape, dash, bold } (shape as in plot.js markers,
//                                            "line" for a line, "area" for a shaded band)
//   statusLine(className)                    { node, show(state, message, next), announce(text) }:
//                                            a visible line whose data-state is one of "ready",
//                                            "running", "paused", "finished", "diverged" (styled
//                                            per state) saying what happened and what to do
//                                            next; announce() feeds a polite live region at most
//                                            once per ANNOUNCE_MS (the latest text wins)
//   throttle(callback, ms)                   callback(latest) at most once per ms, trailing call
//                                            kept (what announce() is built on)
//   swatch(color, shape)                     a small inline SVG of a series' colour and marker

import { element } from "./widget.js";
import { SHAPES, shapePoints } from "./plot.js";

export const ANNOUNCE_MS = 1000;
const STYLE_ID = "forcemlp-widget-css";
const SVG = "http://www.w3.org/2000/svg";
let nextId = 0;

/** A fresh id for label/aria wiring (unique on the page). */
export function uniqueId(prefix = "fm") {
  nextId += 1;
  return `${prefix}-${nextId}-${Math.random().toString(36).slice(2, 7)}`;
}

/** The kit's stylesheet (the widget's `_css` trait) in the page's head, once per page. */
export function installStyles(model) {
  const css = model.get("_css");
  if (typeof css !== "string" || css === "" || document.getElementById(STYLE_ID)) return;
  document.head.append(element("style", { id: STYLE_ID }, css));
}

/** The outer box of one widget: a labelled group the kit's styles apply inside. */
export function widgetRoot(className, title) {
  return element("div", { class: `forcemlp-widget ${className}`, role: "group",
                          "aria-label": title });
}

export function button(text, { onClick, primary = false, className = "", name } = {}) {
  const node = element("button", {
    type: "button", class: `fm-button${primary ? " fm-primary" : ""} ${className}`.trim(),
  }, text);
  if (name) node.setAttribute("aria-label", name);
  if (onClick) node.addEventListener("click", onClick);
  node.setText = (newText) => { node.textContent = newText; };
  return node;
}

/** A control with its label above it (TF Playground's look), wired for screen readers. */
function labelled(label, input, className, ...after) {
  const id = uniqueId("fm-control");
  input.id = id;
  const caption = element("label", { class: "fm-label", for: id }, label);
  return element("div", { class: `fm-control ${className}`.trim() }, caption, ...after);
}

export function menu(label, choices, { value, onChange, className = "" } = {}) {
  const input = element("select", { class: "fm-select", "aria-label": label },
    ...choices.map(([choice, text]) => element("option", { value: choice }, text)));
  if (value !== undefined) input.value = value;
  if (onChange) input.addEventListener("change", () => onChange(input.value));
  const wrapper = labelled(label, input, `fm-menu ${className}`, input);
  wrapper.input = input;
  wrapper.setValue = (newValue) => { input.value = newValue; };
  return wrapper;
}

export function slider(label, {
  min, max, step, value, log = false, format = String, onInput, className = "", name,
}) {
  const toSlider = (number) => (log ? Math.log10(number) : number);
  const fromSlider = (number) => (log ? 10 ** number : number);
  const input = element("input", {
    type: "range", class: "fm-range", min: toSlider(min), max: toSlider(max), step,
    "aria-label": name ?? label,
  });
  // The value beside the slider is for the eye; screen readers hear aria-valuetext (an
  // <output> would be a live region, read out at every move).
  const readout = element("span", { class: "fm-value", "aria-hidden": "true" });
  const show = (number) => {
    readout.textContent = format(number);
    input.setAttribute("aria-valuetext", format(number));
    const share = (Number(input.value) - Number(input.min)) / (input.max - input.min);
    input.style.setProperty("--fm-fill", `${(100 * share).toFixed(2)}%`);
  };
  input.addEventListener("input", () => {
    const number = fromSlider(Number(input.value));
    show(number);
    onInput?.(number);
  });
  const wrapper = labelled(label, input, `fm-slider ${className}`,
    element("div", { class: "fm-slider-row" }, input, readout));
  wrapper.input = input;
  wrapper.setValue = (number) => { input.value = toSlider(number); show(number); };
  wrapper.setValue(value);
  return wrapper;
}

export function toggle(label, { checked = false, onChange, color, shape, className = "" } = {}) {
  const input = element("input", { type: "checkbox", class: "fm-checkbox" });
  input.checked = checked;
  if (color) input.style.setProperty("--fm-swatch", color);
  if (onChange) input.addEventListener("change", () => onChange(input.checked));
  const wrapper = element("label", { class: `fm-toggle ${className}`.trim() }, input,
    color ? swatch(color, shape ?? "line") : "", element("span", {}, label));
  wrapper.input = input;
  wrapper.setChecked = (on) => { input.checked = on; };
  return wrapper;
}

export function controls(...nodes) {
  return element("div", { class: "fm-controls" }, ...nodes);
}

export function buttonRow(...nodes) {
  return element("div", { class: "fm-controls fm-buttons" }, ...nodes);
}

export function group(title, ...nodes) {
  return element("fieldset", { class: "fm-group" }, element("legend", {}, title), ...nodes);
}

export function columns(...nodes) {
  return element("div", { class: "fm-columns" }, ...nodes);
}

export function column(head, ...nodes) {
  return element("div", { class: "fm-column" }, element("div", { class: "fm-column-head" }, head),
                 ...nodes);
}

export function note(text = "", className = "") {
  return element("p", { class: `fm-note ${className}`.trim() }, text);
}

/** A colour-and-marker sample for legends and toggles (hidden from screen readers). */
export function swatch(color, shape = "line", { dash = false } = {}) {
  const svg = document.createElementNS(SVG, "svg");
  for (const [name, value] of Object.entries({ width: 18, height: 14, viewBox: "0 0 18 14",
    class: "fm-swatch", "aria-hidden": "true", focusable: "false" })) {
    svg.setAttribute(name, value);
  }
  const add = (tag, attributes) => {
    const node = document.createElementNS(SVG, tag);
    for (const [name, value] of Object.entries(attributes)) {
      if (name === "fill" || name === "stroke") node.style.setProperty(name, value);  // var() too
      else node.setAttribute(name, value);
    }
    svg.append(node);
  };
  if (shape === "area") {
    add("rect", { x: 1, y: 1, width: 16, height: 12, fill: color, rx: 2 });
  } else {
    add("line", { x1: 0, y1: 7, x2: 18, y2: 7, stroke: color, "stroke-width": 2.5,
                  "stroke-dasharray": dash ? "4 3" : "none" });
  }
  if (SHAPES.includes(shape)) {
    const common = { fill: color, stroke: "var(--fm-text)", "stroke-width": 1 };
    if (shape === "circle") add("circle", { cx: 9, cy: 7, r: 4, ...common });
    else add("polygon", { points: shapePoints(shape, 9, 7, 4.5).join(" "), ...common });
  }
  return svg;
}

export function legend(className = "") {
  const node = element("ul", { class: `fm-legend ${className}`.trim() });
  function update(items) {
    node.replaceChildren(...items.map(({ text, color, shape, dash, bold }) =>
      element("li", { class: bold ? "fm-strong" : "" },
        color ? swatch(color, shape, { dash }) : "", element("span", {}, text))));
  }
  return { node, update };
}

/** `callback(latest)` at most once per `ms`; a call inside the wait is kept for its end. */
export function throttle(callback, ms) {
  let last = -Infinity;
  let timer = null;
  let latest;
  const flush = () => {
    timer = null;
    last = performance.now();
    callback(latest);
  };
  const call = (value) => {
    latest = value;
    if (timer !== null) return;
    const wait = last + ms - performance.now();
    if (wait <= 0) flush();
    else timer = setTimeout(flush, wait);
  };
  call.cancel = () => { if (timer !== null) clearTimeout(timer); timer = null; };
  return call;
}

export const STATES = ["ready", "running", "paused", "finished", "diverged"];

export function statusLine(className = "") {
  const message = element("span", { class: "fm-status-message" });
  const next = element("span", { class: "fm-status-next" });
  const live = element("div", { class: "fm-visually-hidden", role: "status",
                                "aria-live": "polite", "aria-atomic": "true" });
  const node = element("div", { class: `fm-status ${className}`.trim(), "data-state": "ready" },
    message, next, live);
  const announce = throttle((text) => {
    if (live.textContent !== text) live.textContent = text;
  }, ANNOUNCE_MS);
  function show(state, text, nextStep = "") {
    if (!STATES.includes(state)) throw new Error(`unknown status ${state}`);
    node.dataset.state = state;
    message.textContent = text;
    next.textContent = nextStep;
  }
  return { node, show, announce, live };
}
