// The playground: a small MLP trained live on 2-D points, its decision boundary drawn as a heat
// map behind them, what each neuron computes over the plane, train and test loss as it learns.
//
// State (forcemlp.widgets.playground.Playground): dataset, points, noise, hidden_sizes, activation,
// learning_rate, batch_size, optimizer, l2, seed. Back to Python when training pauses: step,
// train_loss, test_loss. The root element carries data-step, data-train-loss, data-test-loss,
// data-frames (boundary redraws so far) and data-diverged for scripts and tests.

import { makeDataset, DATASET_NAMES, PLANE_RADIUS } from "./toy_data.js";
import { createNetwork, crossEntropy, trainingStep } from "./playground_mlp.js";
import { forward } from "./mlp.js";
import { makeOptimizer } from "./optimizers.js";
import { SeededNormal } from "./random.js";
import { element, sync, guarded, slider, crispCanvas, Axes, FONT } from "./widget.js";

const OPTIMIZERS = { sgd: "gd", momentum: "momentum", adam: "adam" };
const ACTIVATIONS = ["relu", "tanh", "sigmoid", "linear", "leaky_relu"];
const L2_VALUES = [0, 1e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3];
const MAX_LAYERS = 4;
const MAX_WIDTH = 8;
const STEPS_PER_SECOND = 300;   // training pace while playing, whatever the frame rate
const MAX_STEPS_PER_FRAME = 60;
const RECORD_EVERY = 5;         // steps between two points of the loss curves
const DIVERGENCE_FACTOR = 100;  // as forcemlp.toy_mlp: a loss 100 times its start has diverged
const GRID = 60;                // heat-map cells per side
const PLOT = 300;               // CSS pixels of the heat map
const THUMB = 30;               // CSS pixels of a neuron's picture
const CLASS_COLOURS = [[245, 147, 34], [8, 119, 189]];  // class 0 orange, class 1 blue

// Writes the colour of `value` (in [-1, 1]) into pixels at `offset`: orange (-1), white (0),
// blue (+1).
function paintPixel(pixels, offset, value) {
  const amount = Math.min(1, Math.abs(value));
  const colour = CLASS_COLOURS[value < 0 ? 0 : 1];
  for (let channel = 0; channel < 3; channel++) {
    pixels[offset + channel] = 255 + (colour[channel] - 255) * amount;
  }
  pixels[offset + 3] = 255;
}

// The plane's grid points, flat [x0, y0, ...], row 0 at the top (y = +6).
function gridPoints() {
  const points = new Float64Array(GRID * GRID * 2);
  for (let row = 0; row < GRID; row++) {
    for (let column = 0; column < GRID; column++) {
      const index = row * GRID + column;
      points[2 * index] = -PLANE_RADIUS + (column + 0.5) * 2 * PLANE_RADIUS / GRID;
      points[2 * index + 1] = PLANE_RADIUS - (row + 0.5) * 2 * PLANE_RADIUS / GRID;
    }
  }
  return points;
}

// One offscreen GRID×GRID canvas, repainted for each picture before it is drawn scaled up.
const offscreen = document.createElement("canvas");
offscreen.width = offscreen.height = GRID;
const offscreenContext = offscreen.getContext("2d");
const offscreenPixels = offscreenContext.createImageData(GRID, GRID);

// Draws `values` (one per grid point; divided by `scale` into [-1, 1]) over `size` pixels.
function drawGrid(context, values, scale, size) {
  for (let index = 0; index < GRID * GRID; index++) {
    paintPixel(offscreenPixels.data, 4 * index, values[index] / scale);
  }
  offscreenContext.putImageData(offscreenPixels, 0, 0);
  context.imageSmoothingEnabled = true;
  context.drawImage(offscreen, 0, 0, size, size);
}

function select(label, options, value, onChange) {
  const input = element("select", { "aria-label": label },
    ...options.map(([text, optionValue]) => element("option", { value: String(optionValue) }, text)));
  input.value = String(value);
  input.addEventListener("change", () => onChange(input.value));
  return element("label", { class: "forcemlp-control" }, `${label} `, input);
}

function render({ model, el }) {
  const settings = {};
  const names = ["dataset", "points", "noise", "hidden_sizes", "activation", "learning_rate", "batch_size",
                 "optimizer", "l2", "seed"];
  for (const name of names) settings[name] = model.get(name);
  const grid = gridPoints();
  const root = element("div", { class: "forcemlp-playground", "data-step": "0",
                                "data-frames": "0", "data-diverged": "false",
                                style: { font: FONT } });
  let data, network, optimizer, shuffle, order, step, curve, playing = false, diverged = false;
  let hovered = null, frames = 0, lastTime = null, owed = 0;

  const flat = (points) => Float64Array.from(points.flat());
  const losses = () => {
    return [crossEntropy(network, data.trainPoints, data.train.labels),
            crossEntropy(network, data.testPoints, data.test.labels)];
  };
  const newOptimizer = () => {
    optimizer = makeOptimizer(OPTIMIZERS[settings.optimizer], settings.learning_rate);
  };
  const reset = () => {
    data = makeDataset(settings.dataset,
                       { count: settings.points, noise: settings.noise, seed: settings.seed });
    data.trainPoints = flat(data.train.points);
    data.testPoints = flat(data.test.points);
    network = createNetwork([2, ...settings.hidden_sizes, 2], settings.activation, settings.seed);
    newOptimizer();
    shuffle = new SeededNormal(settings.seed + 1);
    order = [];
    step = 0;
    diverged = false;
    curve = { steps: [0], train: [], test: [] };
    const [train, test] = losses();
    curve.train.push(train);
    curve.test.push(test);
    draw();
  };
  const nextBatch = () => {
    const count = data.train.labels.length;
    if (order.length < settings.batch_size) {  // a fresh shuffled pass over the points
      const pass = Array.from({ length: count }, (_, index) => index);
      for (let index = count - 1; index > 0; index--) {
        const other = Math.floor(shuffle.uniform() * (index + 1));
        [pass[index], pass[other]] = [pass[other], pass[index]];
      }
      order = order.concat(pass);
    }
    const batch = order.splice(0, settings.batch_size);
    const points = new Float64Array(2 * batch.length);
    batch.forEach((index, row) => { points.set(data.train.points[index], 2 * row); });
    return { points, labels: batch.map((index) => data.train.labels[index]) };
  };
  const trainSteps = (count) => {
    for (let done = 0; done < count && !diverged; done++) {
      const { points, labels } = nextBatch();
      optimizer.learningRate = settings.learning_rate;
      trainingStep(network, optimizer, points, labels, settings.l2);
      step += 1;
      if (step % RECORD_EVERY === 0) {
        const [train, test] = losses();
        curve.steps.push(step);
        curve.train.push(train);
        curve.test.push(test);
        if (!Number.isFinite(train) || train > DIVERGENCE_FACTOR * curve.train[0]) diverged = true;
      }
    }
    if (diverged) pause();
  };

  // ---- pictures
  const heat = crispCanvas(PLOT, PLOT, "Decision boundary: the network's answer over the plane, with the points");
  heat.canvas.classList.add("forcemlp-playground-boundary");
  const lossPlot = crispCanvas(320, 212, "Train and test loss against training steps");
  const network_panel = element("div", { class: "forcemlp-playground-network",
                                         style: { display: "flex", gap: "10px", alignItems: "center" } });
  const status = element("div", { class: "forcemlp-playground-status", role: "status",
                                  style: { minHeight: "1.4em" } });
  let thumbs = [];

  const buildNetworkPanel = () => {
    const column = (children) => element("div", { style: { display: "flex", flexDirection: "column",
                                                             gap: "4px", alignItems: "center" } }, ...children);
    const button = (text, label, onClick, disabled) => {
      const node = element("button", { type: "button", "aria-label": label, onclick: onClick }, text);
      node.disabled = disabled;
      return node;
    };
    thumbs = [];
    const layers = settings.hidden_sizes.map((width, layer) => {
      const pictures = Array.from({ length: width }, (_, unit) => {
        const thumb = crispCanvas(THUMB, THUMB, `neuron ${unit + 1} of hidden layer ${layer + 1}`);
        thumb.canvas.classList.add("forcemlp-playground-neuron");
        thumb.canvas.style.border = "1px solid #999";
        thumb.canvas.addEventListener("mouseenter", () => { hovered = [layer, unit]; draw(); });
        thumb.canvas.addEventListener("mouseleave", () => { hovered = null; draw(); });
        thumbs.push({ layer, unit, ...thumb });
        return thumb.canvas;
      });
      const resize = (change) => () => {
        const sizes = [...settings.hidden_sizes];
        sizes[layer] += change;
        setSetting("hidden_sizes", sizes);
      };
      return column([
        element("div", {}, button("−", `fewer neurons in layer ${layer + 1}`, resize(-1), width <= 1),
                button("+", `more neurons in layer ${layer + 1}`, resize(1), width >= MAX_WIDTH)),
        element("div", { style: { fontSize: "11px" } }, `${width} neuron${width > 1 ? "s" : ""}`),
        ...pictures,
      ]);
    });
    const layerButtons = column([
      element("div", {}, `${settings.hidden_sizes.length} hidden layer${settings.hidden_sizes.length > 1 ? "s" : ""}`),
      element("div", {},
        button("−", "remove a hidden layer", () => setSetting("hidden_sizes", settings.hidden_sizes.slice(0, -1)),
               settings.hidden_sizes.length <= 1),
        button("+", "add a hidden layer", () => setSetting("hidden_sizes", [...settings.hidden_sizes, 4]),
               settings.hidden_sizes.length >= MAX_LAYERS)),
    ]);
    network_panel.replaceChildren(layerButtons, column([element("div", {}, "x, y")]), ...layers,
                                  column([element("div", {}, "output")]));
  };

  const draw = () => {
    const result = forward(network, grid, GRID * GRID);
    const hiddenLayers = result.layerInputs.slice(1);
    const neuron = (layer, unit) => {  // its values over the grid, and their largest size
      const values = hiddenLayers[layer];
      const width = settings.hidden_sizes[layer];
      const picked = new Float64Array(GRID * GRID);
      let largest = 1e-12;
      for (let index = 0; index < picked.length; index++) {
        picked[index] = values[index * width + unit];
        largest = Math.max(largest, Math.abs(picked[index]));
      }
      return [picked, largest];
    };
    const c = heat.context;
    if (hovered && hovered[0] < hiddenLayers.length && hovered[1] < settings.hidden_sizes[hovered[0]]) {
      drawGrid(c, ...neuron(...hovered), PLOT);
    } else {
      const chance = new Float64Array(GRID * GRID);  // p(blue) - p(orange) = 2 p(blue) - 1
      for (let index = 0; index < chance.length; index++) {
        chance[index] = 2 * Math.exp(result.logProbabilities[2 * index + 1]) - 1;
      }
      drawGrid(c, chance, 1, PLOT);
    }
    const toPixel = (value, flip) => (flip ? PLANE_RADIUS - value : value + PLANE_RADIUS) * PLOT / (2 * PLANE_RADIUS);
    for (const [part, hollow] of [["train", false], ["test", true]]) {
      data[part].points.forEach(([x, y], index) => {
        const [r, g, b] = CLASS_COLOURS[data[part].labels[index]];
        c.beginPath();
        c.arc(toPixel(x, false), toPixel(y, true), 3.5, 0, 2 * Math.PI);
        c.lineWidth = hollow ? 1.5 : 1;
        c.strokeStyle = hollow ? `rgb(${r}, ${g}, ${b})` : "#fff";
        c.fillStyle = hollow ? "rgba(255, 255, 255, 0.7)" : `rgb(${r}, ${g}, ${b})`;
        c.fill();
        c.stroke();
      });
    }
    c.fillStyle = "#222";
    c.font = FONT;
    c.fillText(hovered ? `neuron ${hovered[1] + 1} of layer ${hovered[0] + 1}` : "output", 6, 14);
    for (const thumb of thumbs) {
      if (thumb.layer >= hiddenLayers.length) continue;
      drawGrid(thumb.context, ...neuron(thumb.layer, thumb.unit), THUMB);
    }
    drawLosses();
    const [train, test] = [curve.train.at(-1), curve.test.at(-1)];
    Object.assign(root.dataset, { step: String(step), trainLoss: String(train),
                                  testLoss: String(test), frames: String(++frames),
                                  diverged: String(diverged) });
    status.textContent = diverged
      ? `Diverged at step ${step}: the loss blew up. Lower the learning rate and press Reset.`
      : `Step ${step} · train loss ${train.toFixed(3)} · test loss ${test.toFixed(3)}`;
    status.style.color = diverged ? "#b00" : "#222";
    resetButton.style.fontWeight = diverged ? "bold" : "normal";
  };

  const drawLosses = () => {
    const c = lossPlot.context;
    c.clearRect(0, 0, 320, 212);
    const finite = [...curve.train, ...curve.test].filter(Number.isFinite);
    const top = Math.max(1e-3, Math.min(Math.max(...finite, 0.1), 10 * curve.train[0]));
    const axes = new Axes(c, { left: 56, top: 24, width: 250, height: 132 },
                          [0, Math.max(10, step)], [0, top]);
    axes.clip();
    for (const [values, colour] of [[curve.train, "#1f77b4"], [curve.test, "#d62728"]]) {
      c.beginPath();
      c.strokeStyle = colour;
      c.lineWidth = 1.5;
      values.forEach((value, index) => {
        const y = axes.y(Number.isFinite(value) ? Math.min(value, top) : top);
        if (index === 0) c.moveTo(axes.x(curve.steps[index]), y);
        else c.lineTo(axes.x(curve.steps[index]), y);
      });
      c.stroke();
    }
    c.restore();
    c.fillStyle = "#222";
    axes.decorate({ title: "Loss while training", xLabel: "training step", yLabel: "cross-entropy" });
    c.font = FONT;
    c.textAlign = "left";
    c.textBaseline = "alphabetic";
    for (const [label, colour, x] of [["— train", "#1f77b4", 60], ["— test", "#d62728", 120]]) {
      c.fillStyle = colour;
      c.fillText(label, x, 208);
    }
  };

  // ---- playing
  const send = () => {
    sync(model, "step", step);
    sync(model, "train_loss", curve.train.at(-1));
    sync(model, "test_loss", curve.test.at(-1));
  };
  const frame = (time) => {
    if (!playing) return;
    const elapsed = lastTime === null ? 1 / 60 : (time - lastTime) / 1000;
    lastTime = time;
    owed += elapsed * STEPS_PER_SECOND;
    const steps = Math.min(MAX_STEPS_PER_FRAME, Math.floor(owed));
    owed -= steps;
    trainSteps(steps);
    draw();
    requestAnimationFrame(frame);
  };
  const play = () => {
    if (diverged) return;
    playing = true;
    lastTime = null;
    owed = 0;
    playButton.textContent = "Pause";
    requestAnimationFrame(frame);
  };
  function pause() {
    if (!playing) return;
    playing = false;
    playButton.textContent = "Play";
    send();
  }
  const playButton = element("button", { type: "button", class: "forcemlp-playground-play",
                                         onclick: () => (playing ? pause() : play()) }, "Play");
  const stepButton = element("button", { type: "button", class: "forcemlp-playground-step",
                                         onclick: () => { pause(); trainSteps(1); draw(); send(); } }, "Step");
  const resetButton = element("button", { type: "button", class: "forcemlp-playground-reset",
                                          onclick: () => { pause(); reset(); send(); } }, "Reset");

  function setSetting(name, value) {
    settings[name] = value;
    sync(model, name, value);
    if (["dataset", "points", "noise", "hidden_sizes", "activation", "seed"].includes(name)) {
      if (name === "hidden_sizes") buildNetworkPanel();
      reset();
    } else if (name === "optimizer") {
      newOptimizer();
    }
    if (!playing) draw();
  }

  const controls = element("div", { style: { display: "flex", flexWrap: "wrap", gap: "6px 16px",
                                             alignItems: "center", marginBottom: "8px" } },
    playButton, stepButton, resetButton,
    select("data", DATASET_NAMES.map((name) => [name, name]), settings.dataset,
           (value) => setSetting("dataset", value)),
    slider("points", { min: 20, max: 500, step: 10, value: settings.points,
                       onInput: (value) => setSetting("points", value) }),
    slider("noise", { min: 0, max: 2, step: 0.05, value: settings.noise,
                      format: (value) => value.toFixed(2), onInput: (value) => setSetting("noise", value) }),
    select("activation", ACTIVATIONS.map((name) => [name, name]), settings.activation,
           (value) => setSetting("activation", value)),
    slider("learning rate", { min: 1e-4, max: 10, step: 0.05, log: true, value: settings.learning_rate,
                              format: (value) => value.toPrecision(2),
                              onInput: (value) => setSetting("learning_rate", value) }),
    slider("batch size", { min: 1, max: 50, step: 1, value: settings.batch_size,
                           onInput: (value) => setSetting("batch_size", value) }),
    select("optimizer", Object.keys(OPTIMIZERS).map((name) => [name, name]), settings.optimizer,
           (value) => setSetting("optimizer", value)),
    select("L2", L2_VALUES.map((value) => [String(value), value]), settings.l2,
           (value) => setSetting("l2", Number(value))),
  );
  root.append(controls,
    element("div", { style: { display: "flex", flexWrap: "wrap", gap: "16px", alignItems: "flex-start" } },
      network_panel, heat.canvas, element("div", {}, lossPlot.canvas, status,
        element("div", { style: { fontSize: "12px", color: "#444", maxWidth: "320px" } },
          "Filled dots: training points; hollow: test points. Blue: class 1, orange: class 0. "
          + "Hover a neuron to see what it computes over the plane."))));
  el.replaceChildren(root);
  buildNetworkPanel();
  reset();
  return () => { playing = false; };
}

export default { render: guarded(render) };
