// The activation explorer (lesson 3): an activation and its derivative for any parameter
// value, with the inputs where the gradient (nearly) vanishes shaded, and what a stack of n
// layers with that activation does to the gradient, measured on a batch of real digits that
// travels with the widget (js/mlp.js: the lessons' MLP). Python's
// forcemlp.widgets.activation_explorer.ActivationExplorer holds the state.

import { activation as activationFunctions } from "./activations.js";
import { XAVIER_ACTIVATIONS, initialNetwork, weightGradientSizes } from "./mlp.js";
import {
  Axes, FONT, crispCanvas, element, followWidth, frameScheduler, guarded, plotBox, slider, sync,
} from "./widget.js";

const PANEL = { width: 300, height: 260 };  // the largest panel; narrower columns shrink it
const MIN_PANEL_WIDTH = 230;
const GAP = 8;
const INPUTS = Array.from({ length: 401 }, (_, index) => -5 + index * 0.025);
const FUNCTION_COLOR = "#1f77b4";
const DERIVATIVE_COLOR = "#d62728";
const VANISHING_COLOR = "#f8dcdc";
const DEPTH_COLOR = "#555";

const log10Ticks = (low, high) => {
  const ticks = [];
  for (let power = Math.ceil(Math.log10(low)); power <= Math.floor(Math.log10(high)); power += 1) {
    ticks.push(10 ** power);
  }
  const step = Math.ceil(ticks.length / 6);
  return ticks.filter((_, index) => index % step === 0);
};

function curve(axes, xs, ys, color) {
  const c = axes.context;
  c.strokeStyle = color;
  c.lineWidth = 2;
  c.beginPath();
  xs.forEach((x, index) => (index ? c.lineTo : c.moveTo).call(c, axes.x(x), axes.y(ys[index])));
  c.stroke();
}

function zeroLines(axes) {
  const c = axes.context;
  c.strokeStyle = "black";
  c.lineWidth = 0.6;
  c.beginPath();
  c.moveTo(axes.x(0), axes.box.top);
  c.lineTo(axes.x(0), axes.box.top + axes.box.height);
  c.moveTo(axes.box.left, axes.y(0));
  c.lineTo(axes.box.left + axes.box.width, axes.y(0));
  c.stroke();
}

function render({ model, el }) {
  const table = model.get("activations");
  const vanishing = model.get("vanishing_gradient");
  const images = model.get("images");  // a DataView (or bytes) over the uint8 pixels
  const pixels = ArrayBuffer.isView(images)
    ? new Uint8Array(images.buffer, images.byteOffset, images.byteLength)
    : new Uint8Array(images);
  const labels = model.get("labels");
  const inputs = Float64Array.from(pixels, (pixel) => Math.fround(pixel / 255));
  const root = element("div", { class: "forcemlp-widget forcemlp-activation-explorer",
                                 style: { fontFamily: FONT.split(" ").slice(1).join(" ") } });
  let draws = 0;
  // Initial weights depend only on the sizes, the seed and He-or-Xavier: drawn once each.
  const networks = new Map();
  function weightsFor(sizes, name) {
    const key = [sizes.join("-"), model.get("seed"), XAVIER_ACTIVATIONS.includes(name)].join("|");
    if (!networks.has(key)) {
      networks.set(key, initialNetwork(sizes, name, { seed: model.get("seed") }));
    }
    return networks.get(key);
  }

  const choice = element("select", { "aria-label": "activation" },
    ...Object.entries(table).map(([name, entry]) => element("option", { value: name }, entry.title)));
  choice.value = model.get("activation");
  const parameterSlot = element("span");
  let parameter = null;
  function buildParameter() {
    const entry = table[model.get("activation")];
    parameter = entry.parameter_name === null ? null : slider(entry.parameter_name, {
      min: entry.parameter_range[0], max: entry.parameter_range[1], step: 0.001,
      value: model.get("parameter"), format: (value) => value.toFixed(3),
      onInput: (value) => sync(model, "parameter", value),
    });
    parameterSlot.replaceChildren(parameter ?? "");
  }
  choice.addEventListener("change", () => {
    const entry = table[choice.value];
    model.set("parameter", entry.default_parameter ?? 0);
    sync(model, "activation", choice.value);
  });
  const depth = slider("layers n", {
    min: 1, max: model.get("max_depth"), step: 1, value: model.get("depth"),
    format: (value) => String(Math.round(value)),
    onInput: (value) => sync(model, "depth", Math.round(value)),
  });
  const panels = [0, 1, 2].map((index) => crispCanvas(PANEL.width, PANEL.height,
    ["the activation g(x)", "its derivative g'(x)", "gradient size per layer"][index]));
  const note = element("div", { style: { fontSize: "0.85em", fontStyle: "italic" } });
  const depthNote = element("div", { class: "forcemlp-depth-note", style: { fontSize: "0.85em" } });
  root.append(
    element("div", { style: { display: "flex", flexWrap: "wrap", gap: "0.4em 1.2em", alignItems: "center" } },
      element("label", {}, "activation ", choice), parameterSlot, depth),
    note,
    element("div", { style: { display: "flex", flexWrap: "wrap", gap: `${GAP}px` } },
      ...panels.map((panel) => panel.canvas)),
    depthNote,
  );
  el.append(root);

  function draw() {
    const began = performance.now();
    const name = model.get("activation");
    const entry = table[name];
    const { function: g, derivative } = activationFunctions(name);
    const value = entry.parameter_name === null ? undefined : model.get("parameter");
    const outputs = INPUTS.map((x) => g(x, value));
    const slopes = INPUTS.map((x) => derivative(x, value));
    const setting = entry.parameter_name === null ? "" : `, ${entry.parameter_name} = ${value.toFixed(3)}`;
    note.textContent = entry.note;

    const [functionPanel, derivativePanel, depthPanel] = panels;
    const size = panels[0].canvas.logicalSize;
    const box = plotBox(size);
    for (const panel of panels) panel.context.clearRect(0, 0, size.width, size.height);
    const functionAxes = new Axes(functionPanel.context, box, [-5, 5], [-2.2, 5.2]);
    const derivativeAxes = new Axes(derivativePanel.context, box, [-5, 5], [-0.1, 1.3]);
    for (const axes of [functionAxes, derivativeAxes]) {  // shade where |g'| < vanishing
      axes.clip();
      axes.context.fillStyle = VANISHING_COLOR;
      INPUTS.forEach((x, index) => {
        if (Math.abs(slopes[index]) < vanishing) {
          axes.context.fillRect(axes.x(x - 0.0125), box.top, axes.x(x + 0.0125) - axes.x(x - 0.0125) + 0.5, box.height);
        }
      });
      zeroLines(axes);
    }
    curve(functionAxes, INPUTS, outputs, FUNCTION_COLOR);
    functionAxes.context.restore();
    curve(derivativeAxes, INPUTS, slopes, DERIVATIVE_COLOR);
    const peak = slopes.indexOf(Math.max(...slopes));
    const c = derivativePanel.context;
    c.fillStyle = DERIVATIVE_COLOR;
    c.beginPath();
    c.arc(derivativeAxes.x(INPUTS[peak]), derivativeAxes.y(slopes[peak]), 4, 0, 2 * Math.PI);
    c.fill();
    c.fillStyle = "#222";
    c.font = FONT;
    c.fillText(`max g′ = ${Number(slopes[peak].toPrecision(3))}`, box.left + 6, box.top + 14);
    c.fillText(`shaded: |g′(x)| < ${vanishing}`, box.left + 6, box.top + box.height - 8);
    c.restore();
    functionAxes.decorate({ title: `${entry.title}${setting}`, xLabel: "x", yLabel: "g(x)" });
    derivativeAxes.decorate({ title: "Derivative g′(x)", xLabel: "x", yLabel: "g′(x)" });

    // ---- the depth panel: ‖dE/dW_l‖ per layer of a network of n hidden layers
    const layers = model.get("depth");
    const sizes = [784, ...Array(layers).fill(model.get("width")), 10];
    const network = { ...weightsFor(sizes, name), activation: name, parameter: value };
    const gradients = weightGradientSizes(network, inputs, labels.length, labels);
    const positive = gradients.filter((size) => size > 0);
    const [smallest, largest] = [Math.min(...positive), Math.max(...positive)];
    const low = 10 ** Math.floor(Math.log10(Math.max(smallest, 1e-30)));
    const high = 10 ** Math.ceil(Math.log10(largest));
    const depthAxes = new Axes(depthPanel.context, box, [0.5, gradients.length + 0.5],
      [low, high === low ? low * 10 : high], { transform: Math.log10 });
    const d = depthPanel.context;
    d.fillStyle = DEPTH_COLOR;
    gradients.forEach((size, index) => {
      if (size <= 0) return;
      d.beginPath();
      d.arc(depthAxes.x(index + 1), depthAxes.y(size), 3.5, 0, 2 * Math.PI);
      d.fill();
    });
    curve(depthAxes, gradients.map((_, index) => index + 1),
      gradients.map((size) => Math.max(size, low)), DEPTH_COLOR);
    depthAxes.decorate({ title: `${layers} hidden layers: size of dE/dW`, xLabel: "layer (1 = input side)",
                         yLabel: "‖dE/dW‖ (log scale)", yTicks: log10Ticks(...depthAxes.yRange) });
    const spread = largest / smallest;
    depthNote.textContent = `${layers} hidden layers of ${model.get("width")} ${entry.title} units, `
      + `${labels.length} real digits: the largest layer gradient is ${spread.toPrecision(3)} times the `
      + "smallest. Near 1, every layer learns at the same pace; huge, the layers near the input barely move.";
    root.dataset.spread = String(spread);
    draws += 1;
    root.dataset.drawMs = (performance.now() - began).toFixed(2);
    root.dataset.draws = String(draws);
  }
  const requestDraw = frameScheduler(draw);

  const onChange = {
    activation: () => { choice.value = model.get("activation"); buildParameter(); requestDraw(); },
    parameter: () => { parameter?.setValue(model.get("parameter")); requestDraw(); },
    depth: () => { depth.setValue(model.get("depth")); requestDraw(); },
    width: requestDraw,
    seed: requestDraw,
  };
  for (const [name, handler] of Object.entries(onChange)) model.on(`change:${name}`, handler);
  const unfollow = followWidth(root, (available) => {  // three in a row, or two, if they fit
    const perRow = available >= 3 * MIN_PANEL_WIDTH + 2 * GAP ? 3 : 2;
    const width = Math.min(PANEL.width,
      Math.max(MIN_PANEL_WIDTH, Math.floor((available - (perRow - 1) * GAP) / perRow)));
    if (width === panels[0].canvas.logicalSize.width) return;
    for (const panel of panels) panel.resize(width, Math.round(width * PANEL.height / PANEL.width));
    draw();
  });
  buildParameter();
  draw();
  return () => {
    unfollow();
    for (const [name, handler] of Object.entries(onChange)) model.off(`change:${name}`, handler);
  };
}

export default { render: guarded(render) };
