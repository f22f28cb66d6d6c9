// The activation explorer (lesson 3): an activation and its derivative for any parameter
// value, with the inputs where the gradient (nearly) vanishes shaded, and what a stack of n
// layers with that activation does to the gradient, measured on a batch of real digits that
// travels with the widget (js/mlp.js: the lessons' MLP). Python's
// forcemlp.widgets.activation_explorer.ActivationExplorer holds the state, menus and limits.

import { activation as activationFunctions } from "./activations.js";
import { XAVIER_ACTIVATIONS, initialNetwork, weightGradientSizes } from "./mlp.js";
import { element, followWidth, frameScheduler, guarded, sync, table } from "./widget.js";
import { Axes, followTheme, marker, plot, themeColors } from "./plot.js";
import {
  column, columns, installStyles, legend, menu, note, slider, statusLine, widgetRoot,
} from "./ui.js";

const PANEL = { width: 340, height: 280 };  // the largest panel; narrower columns shrink it
const INPUTS = Array.from({ length: 401 }, (_, index) => -5 + index * 0.025);
const FUNCTION_COLOR = "#0072B2";  // Okabe & Ito blue and vermillion: 3:1 on light and dark
const DERIVATIVE_COLOR = "#D55E00";
const GRADIENTS_KEPT = 2000;  // settings whose layer gradients are remembered (about 0.5 MB)
const PANEL_LABELS = ["the activation g(x)", "its derivative g′(x)",
                      "size of the gradient dE/dW at each layer (log scale)"];

/** Powers of ten inside [low, high], at most about six of them. */
export function log10Ticks(low, high) {
  const ticks = [];
  for (let power = Math.ceil(Math.log10(low)); power <= Math.floor(Math.log10(high)); power += 1) {
    ticks.push(10 ** power);
  }
  const step = Math.ceil(ticks.length / 6);
  return ticks.filter((_, index) => index % step === 0);
}

function curve(axes, xs, ys, color, dash = []) {
  const c = axes.context;
  c.strokeStyle = color;
  c.lineWidth = 2;
  c.setLineDash(dash);
  c.beginPath();
  xs.forEach((x, index) => (index ? c.lineTo : c.moveTo).call(c, axes.x(x), axes.y(ys[index])));
  c.stroke();
  c.setLineDash([]);
}

/** [first, last] index of each run of inputs where |g′| < vanishing. */
export function vanishingRuns(slopes, vanishing) {
  const runs = [];
  slopes.forEach((slope, index) => {
    if (!(Math.abs(slope) < vanishing)) return;
    const run = runs.at(-1);
    if (run && run[1] === index - 1) run[1] = index;
    else runs.push([index, index]);
  });
  return runs;
}

/** The x = 0 and y = 0 lines, and the bands where |g′(x)| < the vanishing threshold. */
function background(axes, slopes, vanishing, colors) {
  const { context: c, box } = axes;
  c.fillStyle = colors.shade;
  for (const [first, last] of vanishingRuns(slopes, vanishing)) {
    const [left, right] = [axes.x(INPUTS[first] - 0.0125), axes.x(INPUTS[last] + 0.0125)];
    c.fillRect(left, box.top, right - left, box.height);
  }
  c.strokeStyle = colors.muted;
  c.lineWidth = 0.8;
  c.beginPath();
  c.moveTo(axes.x(0), box.top);
  c.lineTo(axes.x(0), box.top + box.height);
  c.moveTo(box.left, axes.y(0));
  c.lineTo(box.left + box.width, axes.y(0));
  c.stroke();
}

/** g and g′ for the chosen activation and parameter. */
export function curves(name, parameter) {
  const { function: g, derivative } = activationFunctions(name);
  return { outputs: INPUTS.map((x) => g(x, parameter)),
           slopes: INPUTS.map((x) => derivative(x, parameter)) };
}

function drawFunctions(view, entry, parameter, { outputs, slopes }, vanishing) {
  const [functionPanel, derivativePanel] = view.panels;
  const { colors } = view;
  const size = functionPanel.size();
  const setting = entry.parameter_name === null ? ""
    : `, ${entry.parameter_name} = ${parameter.toFixed(3)}`;
  const panels = [
    [functionPanel, [-2.2, 5.2], outputs, FUNCTION_COLOR, [], `${entry.title}${setting}`, "g(x)"],
    [derivativePanel, [-0.1, 1.3], slopes, DERIVATIVE_COLOR, [6, 3], "Derivative g′(x)",
     "g′(x)"],
  ];
  const peak = slopes.indexOf(Math.max(...slopes));
  for (const [panel, yRange, values, color, dash, title, yLabel] of panels) {
    const axes = Axes.fit(panel.context, size, [-5, 5], yRange, { colors });
    panel.context.clearRect(0, 0, size.width, size.height);
    axes.clip();
    background(axes, slopes, vanishing, colors);
    curve(axes, INPUTS, values, color, dash);
    panel.context.restore();
    if (panel === derivativePanel) {
      marker(panel.context, "circle", axes.x(INPUTS[peak]), axes.y(pin(slopes[peak], yRange)),
             { fill: DERIVATIVE_COLOR, colors });
    }
    axes.decorate({ title, xLabel: "x", yLabel });
  }
  return slopes[peak];
}

const pin = (value, [low, high]) => Math.min(Math.max(value, low), high);

/** The initial network of `layers` hidden layers: it depends only on the sizes, the seed and
 *  He-or-Xavier, so each is drawn once. */
function networkFor(model, view, name, layers) {
  const sizes = [784, ...Array(layers).fill(model.get("width")), 10];
  const key = [sizes.join("-"), model.get("seed"), XAVIER_ACTIVATIONS.includes(name)].join("|");
  if (!view.networks.has(key)) {
    view.networks.set(key, initialNetwork(sizes, name, { seed: model.get("seed") }));
  }
  return view.networks.get(key);
}

/** ‖dE/dW_l‖ per layer of a network of `layers` hidden layers, on the widget's digits; each
 *  setting computed once (a slider dragged back and forth costs nothing the second time). */
function gradientSizes(model, view, name, parameter, layers) {
  const key = [name, parameter, layers, model.get("width"), model.get("seed")].join("|");
  if (!view.gradients.has(key)) {
    if (view.gradients.size >= GRADIENTS_KEPT) view.gradients.clear();
    const network = { ...networkFor(model, view, name, layers), activation: name, parameter };
    const { inputs, labels } = view;
    view.gradients.set(key, weightGradientSizes(network, inputs, labels.length, labels));
  }
  return view.gradients.get(key);
}

/** While the browser is idle, one depth per idle moment, computes the layer gradients of
 *  every depth the slider offers for the current activation and parameter, so that moving the
 *  slider only draws (a slow machine's redraw stays short). `restart()` after the activation
 *  or its parameter changed; `stop()` for good. */
function depthWarmer(model, view) {
  const idle = window.requestIdleCallback ?? ((callback) => setTimeout(callback, 50));
  const cancel = window.cancelIdleCallback ?? clearTimeout;
  let handle = null;
  const stop = () => { if (handle !== null) cancel(handle); handle = null; };
  function restart() {
    stop();
    const name = model.get("activation");
    const entry = table(model, "activations")[name];
    const parameter = entry.parameter_name === null ? undefined : model.get("parameter");
    let layers = 0;
    const next = () => {
      layers += 1;
      handle = null;
      if (layers > model.get("max_depth")) return;
      gradientSizes(model, view, name, parameter, layers);
      handle = idle(next);
    };
    handle = idle(next);
  }
  return { restart, stop };
}

function drawDepth(view, gradients, layers) {
  const panel = view.panels[2];
  const size = panel.size();
  const positive = gradients.filter((value) => value > 0);
  const [smallest, largest] = [Math.min(...positive), Math.max(...positive)];
  const low = 10 ** Math.floor(Math.log10(Math.max(smallest, 1e-30)));
  const high = Math.max(10 ** Math.ceil(Math.log10(largest)), low * 10);
  const axes = Axes.fit(panel.context, size, [0.5, gradients.length + 0.5], [low, high],
    { transform: Math.log10, yTicks: log10Ticks(low, high), colors: view.colors });
  panel.context.clearRect(0, 0, size.width, size.height);
  const layerNumbers = gradients.map((_, index) => index + 1);
  curve(axes, layerNumbers, gradients.map((value) => Math.max(value, low)), view.colors.text);
  gradients.forEach((value, index) => {
    if (value > 0) {
      marker(panel.context, "circle", axes.x(index + 1), axes.y(value),
             { fill: view.colors.text, colors: view.colors, radius: 3.5 });
    }
  });
  axes.decorate({ title: `${layers} hidden layers: size of dE/dW`,
                  xLabel: "layer (1 = input side)", yLabel: "‖dE/dW‖ (log)" });
  return largest / smallest;
}

function legendItems(vanishing, peak) {
  return [
    { text: "g(x)", color: FUNCTION_COLOR },
    { text: "g′(x)", color: DERIVATIVE_COLOR, dash: true },
    { text: `max g′ = ${Number(peak.toPrecision(3))}`, color: DERIVATIVE_COLOR, shape: "circle" },
    { text: `shaded: |g′(x)| < ${vanishing}, the gradient nearly vanishes`,
      color: "var(--fm-shade)", shape: "area" },
  ];
}

export function spreadMessage({ layers, width, title, digits, spread }) {
  return `${layers} hidden layers of ${width} ${title} units, ${digits} real digits: the largest `
    + `layer gradient is ${spread.toPrecision(3)} times the smallest.`;
}

function buildControls(model, parameterSlot) {
  const activations = table(model, "activations");
  const choices = Object.entries(activations).map(([name, entry]) => [name, entry.title]);
  const choice = menu("activation", choices, {
    value: model.get("activation"),
    onChange: (name) => {
      model.set("parameter", activations[name].default_parameter ?? 0);
      sync(model, "activation", name);
    },
  });
  const depth = slider("layers n", {
    min: 1, max: model.get("max_depth"), step: 1, value: model.get("depth"),
    format: (value) => String(Math.round(value)),
    onInput: (value) => sync(model, "depth", Math.round(value)),
  });
  const parts = { choice, depth, parameter: null };
  parts.buildParameter = () => {
    const entry = activations[model.get("activation")];
    parts.parameter = entry.parameter_name === null ? null : slider(entry.parameter_name, {
      min: entry.parameter_range[0], max: entry.parameter_range[1], step: 0.001,
      value: model.get("parameter"), format: (value) => value.toFixed(3),
      onInput: (value) => sync(model, "parameter", value),
    });
    parameterSlot.replaceChildren(
      parts.parameter ?? note(`${entry.title} has no parameter to set.`));
  };
  parts.buildParameter();
  return parts;
}

function digitsOf(model) {
  const images = model.get("images");  // a DataView (or bytes) over the uint8 pixels
  const pixels = ArrayBuffer.isView(images)
    ? new Uint8Array(images.buffer, images.byteOffset, images.byteLength)
    : new Uint8Array(images);
  return { inputs: Float64Array.from(pixels, (pixel) => Math.fround(pixel / 255)),
           labels: model.get("labels") };
}

function render({ model, el }) {
  installStyles(model);
  const root = widgetRoot("forcemlp-activation-explorer", "Activation explorer");
  const panels = PANEL_LABELS.map((label) => plot(label, PANEL));
  const view = { panels, colors: themeColors(root), networks: new Map(), gradients: new Map(),
                 ...digitsOf(model) };
  const parameterSlot = element("div", { class: "fm-control-slot" });
  const parts = buildControls(model, parameterSlot);
  const activationNote = note("", "forcemlp-activation-note");
  const legendBox = legend("forcemlp-activation-legend");
  const status = statusLine("forcemlp-depth-note");
  root.append(activationNote, columns(  // each control on top of the plot it changes
    column(parts.choice, panels[0].node), column(parameterSlot, panels[1].node),
    column(parts.depth, panels[2].node, status.node)), legendBox.node);
  el.append(root);
  let draws = 0;

  function draw() {
    const began = performance.now();
    if (!view.colors.resolved) view.colors = themeColors(root);
    const name = model.get("activation");
    const entry = table(model, "activations")[name];
    const parameter = entry.parameter_name === null ? undefined : model.get("parameter");
    const vanishing = model.get("vanishing_gradient");
    const peak = drawFunctions(view, entry, parameter, curves(name, parameter), vanishing);
    const layers = model.get("depth");
    const spread = drawDepth(view, gradientSizes(model, view, name, parameter, layers), layers);
    activationNote.textContent = entry.note;
    legendBox.update(legendItems(vanishing, peak));
    const message = spreadMessage({ layers, width: model.get("width"), title: entry.title,
                                    digits: view.labels.length, spread });
    status.show("ready", message,
      "Near 1, every layer learns at the same pace; huge, the layers near the input barely move.");
    if (draws > 0) {
      status.announce(
        `Gradient ratio ${spread.toPrecision(3)} over ${layers} layers of ${entry.title}.`);
    }
    draws += 1;
    Object.assign(root.dataset, { spread: String(spread), draws: String(draws),
                                  drawMs: (performance.now() - began).toFixed(2) });
  }
  return connect(model, { root, view, parts, draw, status });
}

/** Wires model changes, resizes and theme switches; returns the cleanup. */
function connect(model, { root, view, parts, draw, status }) {
  const requestDraw = frameScheduler(draw);
  const warmer = depthWarmer(model, view);
  const redrawAndWarm = () => { requestDraw(); warmer.restart(); };
  const onChange = {
    activation: () => {
      parts.choice.setValue(model.get("activation"));
      parts.buildParameter();
      redrawAndWarm();
    },
    parameter: () => { parts.parameter?.setValue(model.get("parameter")); redrawAndWarm(); },
    depth: () => { parts.depth.setValue(model.get("depth")); requestDraw(); },
    width: redrawAndWarm,
    seed: redrawAndWarm,
  };
  for (const [name, handler] of Object.entries(onChange)) model.on(`change:${name}`, handler);
  const unfollow = followWidth(view.panels[0].node, (available) => {
    const width = Math.min(PANEL.width, available);
    if (width === view.panels[0].size().width && view.colors.resolved) return;
    const height = Math.round(width * PANEL.height / PANEL.width);
    for (const panel of view.panels) panel.resize(width, height);
    draw();
  });
  const unfollowTheme = followTheme(() => { view.colors = themeColors(root); draw(); });
  draw();
  warmer.restart();
  return () => {
    unfollow();
    unfollowTheme();
    warmer.stop();
    status.announce.cancel();
    for (const [name, handler] of Object.entries(onChange)) model.off(`change:${name}`, handler);
  };
}

export default { render: guarded(render) };
