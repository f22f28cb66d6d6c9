// The playground's network column: buttons that add and remove hidden layers and neurons,
// and one thumbnail per neuron of what it computes over the plane. A thumbnail is a button:
// pointing at it, focusing it or pressing it (Enter, Space, a tap: it stays shown until
// pressed again) puts that neuron's plane on the big heat map. The neurons are one Tab stop;
// the arrow keys move between them (up and down a layer, left and right across layers).
//
//   const panel = networkPanel(settings, limits, change, redraw);
//   panel.node; panel.rebuild(); panel.shown();     // [layer, unit] on the heat map, or null
//   panel.paintThumbs(valuesOf, painter, palette);
//       // valuesOf(layer, unit, width) -> [values over the grid, their scale]

import { element, crispCanvas } from "./widget.js";
import { button, group } from "./ui.js";

const THUMB = 28;  // CSS pixels of a neuron's picture
const NETWORK_CSS = `
.forcemlp-playground .fm-pg-layers { display: flex; gap: 0.5rem; align-items: flex-start;
  flex-wrap: nowrap; }
.forcemlp-playground .fm-pg-layer { display: flex; flex-direction: column; align-items: center;
  gap: 4px; min-width: 0; }
.forcemlp-playground .fm-pg-layer-buttons { display: flex; gap: 2px; }
.forcemlp-playground .fm-pg-layer-buttons .fm-button { padding: 0 0.4rem; }
.forcemlp-playground .fm-pg-caption { font-size: 0.75rem; color: var(--fm-muted);
  white-space: nowrap; }
.forcemlp-playground .fm-pg-row { display: flex; align-items: center; gap: 0.5rem;
  margin-bottom: 0.5rem; }
.forcemlp-playground .fm-neuron { display: grid; place-items: center; padding: 2px;
  min-width: var(--fm-target); min-height: var(--fm-target); border: 1px solid var(--fm-border);
  border-radius: 4px; background: var(--fm-background); cursor: pointer; }
.forcemlp-playground .fm-neuron[aria-pressed="true"] { border: 2px solid var(--fm-accent); }
.forcemlp-playground .fm-neuron canvas { display: block; }
@media (pointer: coarse) {
  .forcemlp-playground .fm-pg-layer-buttons { flex-direction: column; }
}`;

function installNetworkStyles() {
  if (document.getElementById("forcemlp-playground-network-css")) return;
  document.head.append(element("style", { id: "forcemlp-playground-network-css" }, NETWORK_CSS));
}

const end = (text) => element("div", { class: "fm-pg-layer" },
                               element("span", { class: "fm-pg-caption" }, text));
const plural = (count, word) => `${count} ${word}${count === 1 ? "" : "s"}`;

/** The − and + buttons of one count, disabled at its limits. */
function stepper(label, value, low, high, onChange) {
  const fewer = button("−", { name: label.fewer, onClick: () => onChange(value - 1) });
  const more = button("+", { name: label.more, onClick: () => onChange(value + 1) });
  fewer.disabled = value <= low;
  more.disabled = value >= high;
  return element("div", { class: "fm-pg-layer-buttons" }, fewer, more);
}

/** Which neuron the heat map shows: pointed at, else focused, else pressed (pinned). */
function neuronChoice(redraw) {
  let hovered = null, focused = null, pinned = null;
  const same = (a, b) => a && b && a[0] === b[0] && a[1] === b[1];
  return {
    shown: () => hovered ?? focused ?? pinned,
    isPinned: (neuron) => Boolean(same(pinned, neuron)),
    hover(neuron) { hovered = neuron; redraw(); },
    focus(neuron) { focused = neuron; redraw(); },
    pin(neuron) { pinned = same(pinned, neuron) ? null : neuron; redraw(); },
    forget(sizes) {  // a neuron that no longer exists is shown no more
      const exists = (neuron) => neuron && neuron[0] < sizes.length && neuron[1] < sizes[neuron[0]];
      [hovered, focused, pinned] = [hovered, focused, pinned].map((n) => (exists(n) ? n : null));
    },
  };
}

const ARROWS = { ArrowUp: [0, -1], ArrowDown: [0, 1], ArrowLeft: [-1, 0], ArrowRight: [1, 0] };

/** The neuron an arrow key leads to from `neuron`, inside the network's sizes. */
function neighbour([layer, unit], key, sizes) {
  const [across, down] = ARROWS[key];
  const nextLayer = Math.min(sizes.length - 1, Math.max(0, layer + across));
  return [nextLayer, Math.min(sizes[nextLayer] - 1, Math.max(0, unit + down))];
}

/** One neuron's thumbnail: a toggle button holding its picture. */
function neuronButton(layer, unit, choice, onPin) {
  const picture = crispCanvas(THUMB, THUMB, "");
  picture.canvas.removeAttribute("role");
  picture.canvas.setAttribute("aria-hidden", "true");
  const neuron = [layer, unit];
  const node = element("button", {
    type: "button", class: "fm-neuron forcemlp-playground-neuron",
    "aria-label": `neuron ${unit + 1} of hidden layer ${layer + 1}`,
    "aria-pressed": String(choice.isPinned(neuron)),
  }, picture.canvas);
  node.addEventListener("pointerenter", () => choice.hover(neuron));
  node.addEventListener("pointerleave", () => choice.hover(null));
  node.addEventListener("focus", () => choice.focus(neuron));
  node.addEventListener("blur", () => choice.focus(null));
  node.addEventListener("click", () => { choice.pin(neuron); onPin(); });
  return { node, layer, unit, context: picture.context, neuron };
}

export function networkPanel(settings, limits, change, redraw) {
  installNetworkStyles();
  const choice = neuronChoice(redraw);
  const body = element("div");
  const node = element("div", { class: "fm-pg-network" }, group("Network", body));
  let thumbs = [];
  let roving = [0, 0];  // the neurons' one Tab stop
  const markPinned = () => thumbs.forEach((thumb) =>
    thumb.node.setAttribute("aria-pressed", String(choice.isPinned(thumb.neuron))));
  const findThumb = ([layer, unit]) =>
    thumbs.find((thumb) => thumb.layer === layer && thumb.unit === unit);
  function rove(neuron) {
    roving = neuron;
    const stop = findThumb(neuron);
    thumbs.forEach((thumb) => thumb.node.setAttribute("tabindex", thumb === stop ? "0" : "-1"));
  }
  function moveFocus(event, thumb) {
    if (!ARROWS[event.key]) return;
    event.preventDefault();
    const next = neighbour(thumb.neuron, event.key, settings.hidden_sizes);
    rove(next);
    findThumb(next).node.focus();
  }

  function layerColumn(width, layer) {
    const resize = (newWidth) => {
      const sizes = [...settings.hidden_sizes];
      sizes[layer] = newWidth;
      change("hidden_sizes", sizes);
    };
    const pictures = Array.from({ length: width },
                                (_, unit) => neuronButton(layer, unit, choice, markPinned));
    pictures.forEach((thumb) => {
      thumb.node.addEventListener("keydown", (event) => moveFocus(event, thumb));
      thumb.node.addEventListener("focus", () => rove(thumb.neuron));
    });
    thumbs.push(...pictures);
    return element("div", { class: "fm-pg-layer" },
      stepper({ fewer: `fewer neurons in layer ${layer + 1}`,
                more: `more neurons in layer ${layer + 1}` }, width, 1, limits.max_width, resize),
      element("span", { class: "fm-pg-caption" }, plural(width, "neuron")),
      ...pictures.map((picture) => picture.node));
  }

  function rebuild() {
    const focused = body.contains(document.activeElement)
      ? document.activeElement.getAttribute("aria-label") : null;
    const sizes = settings.hidden_sizes;
    choice.forget(sizes);
    thumbs = [];
    const layers = stepper({ fewer: "remove a hidden layer", more: "add a hidden layer" },
      sizes.length, 1, limits.max_layers, (count) => change("hidden_sizes",
        count > sizes.length ? [...sizes, limits.new_layer_width] : sizes.slice(0, count)));
    body.replaceChildren(
      element("div", { class: "fm-pg-row" }, layers,
              element("span", {}, plural(sizes.length, "hidden layer"))),
      element("div", { class: "fm-pg-layers" },
        end("input x, y"), ...sizes.map(layerColumn), end("output")));
    const layer = Math.min(roving[0], sizes.length - 1);  // the stop, inside the new sizes
    rove([layer, Math.min(roving[1], sizes[layer] - 1)]);
    refocus(focused);
  }

  // The button pressed was rebuilt: keyboard focus goes to its successor (or its twin when
  // the limit disabled it), never back to the top of the page.
  function refocus(label) {
    if (!label) return;
    const named = [...body.querySelectorAll("button")].filter((node) => !node.disabled);
    const target = named.find((node) => node.getAttribute("aria-label") === label)
      ?? named.find((node) => node.parentElement.contains(body.querySelector(
        `button[aria-label="${label}"]`)));
    target?.focus();
  }

  function paintThumbs(valuesOf, painter, palette) {
    for (const thumb of thumbs) {
      if (thumb.layer >= settings.hidden_sizes.length) continue;
      const [values, scale] = valuesOf(thumb.layer, thumb.unit, settings.hidden_sizes[thumb.layer]);
      painter.paint(thumb.context, values, scale, THUMB, palette);
    }
  }

  rebuild();
  return { node, rebuild, shown: choice.shown, paintThumbs };
}
