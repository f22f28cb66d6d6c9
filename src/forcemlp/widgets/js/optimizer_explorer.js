// The optimizer explorer (lesson 4): every optimizer walks the chosen surface from the start
// the reader clicked, recomputed in the browser for any learning rate, momentum and step
// count; contour plot and loss curves side by side, animated by Play / Step / Reset.
// Python's forcemlp.widgets.optimizer_explorer.OptimizerExplorer holds the state (traits).

import { baseLearningRate, descend } from "./descent.js";
import { surface as surfaceFunctions } from "./surfaces.js";
import {
  Axes, FONT, canvasPoint, crispCanvas, element, followWidth, frameScheduler, guarded, plotBox,
  slider, sync,
} from "./widget.js";

const PANEL = { width: 380, height: 320 };  // the largest panel; narrower columns shrink it
const MIN_PANEL_WIDTH = 250;
const GAP = 8;
const GRID = 140;  // function values per side for the contour picture
const CONTOUR_LEVELS = 14;
const LINEAR_BELOW = 1e-3;  // the loss axis is logarithmic above this size, linear below
const PLAY_FRAMES = 150;  // a Play walks the whole path in about this many frames

const symlog = (value) => Math.sign(value) * Math.log10(1 + Math.abs(value) / LINEAR_BELOW);

/** 0 and ±powers of ten inside [low, high]: the ticks of a symlog axis. */
function symlogTicks(low, high) {
  const ticks = low <= 0 && high >= 0 ? [0] : [];
  for (let power = -3; power <= 12; power += 1) {
    for (const tick of [10 ** power, -(10 ** power)]) {
      if (tick >= low && tick <= high) ticks.push(tick);
    }
  }
  const step = Math.ceil(ticks.length / 6);
  return ticks.sort((a, b) => a - b).filter((_, index) => index % step === 0);
}

/** Marching squares: the segments where a grid of values crosses `level`. */
function contourSegments(values, columns, rows, level, toPixel) {
  const segments = [];
  const at = (i, j) => values[j * columns + i];
  const crossing = (i1, j1, i2, j2) => {
    const [a, b] = [at(i1, j1), at(i2, j2)];
    const share = (level - a) / (b - a);
    return toPixel(i1 + (i2 - i1) * share, j1 + (j2 - j1) * share);
  };
  for (let j = 0; j + 1 < rows; j += 1) {
    for (let i = 0; i + 1 < columns; i += 1) {
      const edges = [];
      const corners = [[i, j], [i + 1, j], [i + 1, j + 1], [i, j + 1]];
      for (let k = 0; k < 4; k += 1) {
        const [p, q] = [corners[k], corners[(k + 1) % 4]];
        if ((at(...p) < level) !== (at(...q) < level)) edges.push(crossing(...p, ...q));
      }
      if (edges.length >= 2) segments.push([edges[0], edges[1]]);
      if (edges.length === 4) segments.push([edges[2], edges[3]]);
    }
  }
  return segments;
}

/** The surface's contour lines at evenly spread heights (quantiles), drawn once per surface. */
function contourPicture(spec, axes) {
  const { value } = surfaceFunctions(spec.name);
  const [[xLow, xHigh], [yLow, yHigh]] = [spec.x_range, spec.y_range];
  const values = new Float64Array(GRID * GRID);
  for (let j = 0; j < GRID; j += 1) {
    for (let i = 0; i < GRID; i += 1) {
      values[j * GRID + i] = value(xLow + (xHigh - xLow) * i / (GRID - 1),
                                   yLow + (yHigh - yLow) * j / (GRID - 1));
    }
  }
  const sorted = Float64Array.from(values).sort();
  const levels = new Set();
  for (let k = 0; k < CONTOUR_LEVELS; k += 1) {
    const share = 0.01 + 0.96 * k / (CONTOUR_LEVELS - 1);
    levels.add(sorted[Math.round(share * (sorted.length - 1))]);
  }
  const toPixel = (i, j) => [axes.x(xLow + (xHigh - xLow) * i / (GRID - 1)),
                             axes.y(yLow + (yHigh - yLow) * j / (GRID - 1))];
  const path = new Path2D();
  for (const level of levels) {
    for (const [[x1, y1], [x2, y2]] of contourSegments(values, GRID, GRID, level, toPixel)) {
      path.moveTo(x1, y1);
      path.lineTo(x2, y2);
    }
  }
  return path;
}

/** Where a path stopped, or left the view: what the legend says about it. */
function ending(result, spec) {
  if (result.divergedAt !== null) return `diverged at step ${result.divergedAt}`;
  const [[xLow, xHigh], [yLow, yHigh]] = [spec.x_range, spec.y_range];
  const outside = result.points.findIndex(([x, y]) => x < xLow || x > xHigh || y < yLow || y > yHigh);
  return outside >= 0 ? `left the view at step ${outside}` : "";
}

function lossLimits(results, spec) {
  const { value } = surfaceFunctions(spec.name);
  const top = 4 * Math.abs(value(...spec.start)) + 1;
  let lowest = Infinity;
  for (const result of results) {
    const last = result.divergedAt === null ? result.losses.length : result.divergedAt;
    for (let step = 0; step < last; step += 1) lowest = Math.min(lowest, result.losses[step]);
  }
  const bottom = Math.max(Number.isFinite(lowest) ? lowest : 0, -10 * top);
  return [bottom - 0.1 * Math.abs(bottom), top];
}

function marker(context, kind, x, y, color) {
  context.save();
  context.fillStyle = color;
  context.strokeStyle = color === "black" ? "white" : "black";
  context.lineWidth = 1;
  context.beginPath();
  if (kind === "dot") {
    context.arc(x, y, 4.5, 0, 2 * Math.PI);
    context.fill();
    context.stroke();
  } else if (kind === "star") {
    for (let k = 0; k < 10; k += 1) {
      const radius = k % 2 === 0 ? 8 : 3.5;
      const angle = -Math.PI / 2 + k * Math.PI / 5;
      context.lineTo(x + radius * Math.cos(angle), y + radius * Math.sin(angle));
    }
    context.closePath();
    context.fill();
  } else {  // an X where a path diverged
    context.lineWidth = 3;
    context.strokeStyle = color;
    context.moveTo(x - 6, y - 6); context.lineTo(x + 6, y + 6);
    context.moveTo(x + 6, y - 6); context.lineTo(x - 6, y + 6);
    context.stroke();
  }
  context.restore();
}

function render({ model, el }) {
  const surfaces = model.get("surfaces");
  const titles = model.get("optimizer_titles");
  const colors = model.get("optimizer_colors");
  const root = element("div", { class: "forcemlp-widget forcemlp-optimizer-explorer",
                                 style: { fontFamily: FONT.split(" ").slice(1).join(" ") } });
  const state = { results: {}, draws: 0, playing: null, contours: {} };
  const spec = () => surfaces[model.get("surface")];

  // ---- controls
  const surfaceChoice = element("select", { "aria-label": "surface" },
    ...Object.entries(surfaces).map(([name, entry]) => element("option", { value: name }, entry.title)));
  surfaceChoice.value = model.get("surface");
  surfaceChoice.addEventListener("change", () => {
    model.set("start", surfaces[surfaceChoice.value].start);
    sync(model, "surface", surfaceChoice.value);
  });
  const rate = slider("learning rate ×", {
    min: 0.01, max: 10, step: 0.01, value: model.get("learning_rate_scale"), log: true,
    format: (value) => value.toPrecision(3), onInput: (value) => sync(model, "learning_rate_scale", value),
  });
  const momentum = slider("momentum β", {
    min: 0, max: 0.99, step: 0.005, value: model.get("momentum"),
    format: (value) => value.toFixed(3), onInput: (value) => sync(model, "momentum", value),
  });
  const steps = slider("steps", {
    min: 10, max: 1000, step: 1, value: model.get("steps"),
    format: (value) => String(Math.round(value)),
    onInput: (value) => {
      model.set("position", Math.round(value));
      sync(model, "steps", Math.round(value));
    },
  });
  const toggles = element("div", { class: "forcemlp-toggles" }, ...Object.keys(titles).map((name) => {
    const box = element("input", { type: "checkbox", value: name, "aria-label": titles[name] });
    box.checked = model.get("optimizers").includes(name);
    box.addEventListener("change", () => {
      const chosen = Object.keys(titles).filter((key) =>
        root.querySelector(`input[value="${key}"]`).checked);
      sync(model, "optimizers", chosen);
    });
    return element("label", { style: { marginRight: "0.9em", whiteSpace: "nowrap" } }, box,
      element("span", { style: { color: colors[name] } }, " ■ "), titles[name]);
  }));
  const positionText = element("span", { class: "forcemlp-position" });
  const play = element("button", { type: "button", class: "forcemlp-play" }, "▶ Play");
  const stepButton = element("button", { type: "button", class: "forcemlp-step" }, "Step");
  const reset = element("button", { type: "button", class: "forcemlp-reset" }, "Reset");
  const contour = crispCanvas(PANEL.width, PANEL.height, "contour plot with the optimizers' paths");
  const loss = crispCanvas(PANEL.width, PANEL.height, "loss along each path");
  contour.canvas.style.cursor = "crosshair";
  const legend = element("div", { class: "forcemlp-legend", style: { fontSize: "0.85em" } });
  const note = element("div", { style: { fontSize: "0.85em", fontStyle: "italic" } });
  root.append(
    element("div", { style: { display: "flex", flexWrap: "wrap", gap: "0.4em 1.2em", alignItems: "center" } },
      element("label", {}, "surface ", surfaceChoice), rate, momentum, steps),
    toggles,
    element("div", { style: { display: "flex", gap: "0.5em", alignItems: "center", margin: "0.3em 0" } },
      play, stepButton, reset, positionText),
    element("div", { style: { display: "flex", flexWrap: "wrap", gap: `${GAP}px` } }, contour.canvas, loss.canvas),
    note, legend,
  );
  el.append(root);

  // ---- computing and drawing
  function recompute() {
    const chosen = spec();
    const start = model.get("start");
    state.results = {};
    for (const name of model.get("optimizers")) {
      const learningRate = model.get("learning_rate_scale") * baseLearningRate(chosen, name, start);
      state.results[name] = {
        learningRate,
        ...descend(name, chosen, learningRate, model.get("steps"), {
          momentum: model.get("momentum"), seed: model.get("seed"), start,
        }),
      };
    }
  }

  function contourAxes() {
    const chosen = spec();
    return new Axes(contour.context, plotBox(contour.canvas.logicalSize), chosen.x_range,
                    chosen.y_range);
  }

  function drawContour(position) {
    const chosen = spec();
    const c = contour.context;
    const axes = contourAxes();
    c.clearRect(0, 0, contour.canvas.logicalSize.width, contour.canvas.logicalSize.height);
    state.contours[chosen.name] ??= contourPicture(chosen, axes);
    axes.clip();
    c.strokeStyle = "#c8c8c8";
    c.lineWidth = 0.8;
    c.stroke(state.contours[chosen.name]);
    for (const [name, result] of Object.entries(state.results)) {
      const shown = result.points.slice(0, position + 1);
      c.strokeStyle = colors[name];
      c.lineWidth = 1.6;
      c.beginPath();
      shown.forEach(([x, y], index) => (index ? c.lineTo : c.moveTo).call(c, axes.x(x), axes.y(y)));
      c.stroke();
    }
    c.restore();
    for (const minimum of chosen.minima) marker(c, "star", axes.x(minimum[0]), axes.y(minimum[1]), "black");
    marker(c, "dot", axes.x(model.get("start")[0]), axes.y(model.get("start")[1]), "black");
    const [[xLow, xHigh], [yLow, yHigh]] = [chosen.x_range, chosen.y_range];
    const pin = (value, low, high) => Math.min(Math.max(value, low), high);
    for (const [name, result] of Object.entries(state.results)) {
      const [x, y] = result.points[Math.min(position, result.points.length - 1)];
      const inside = x >= xLow && x <= xHigh && y >= yLow && y <= yHigh;
      if (result.divergedAt !== null && position >= result.divergedAt) {
        marker(c, "x", axes.x(pin(x, xLow, xHigh)), axes.y(pin(y, yLow, yHigh)), colors[name]);
      } else if (inside) {
        marker(c, "dot", axes.x(x), axes.y(y), colors[name]);
      }
    }
    axes.decorate({ title: `${chosen.title}: click to start there`, xLabel: "x", yLabel: "y" });
  }

  function drawLoss(position) {
    const chosen = spec();
    const c = loss.context;
    const results = Object.values(state.results);
    const limits = lossLimits(results, chosen);
    const total = model.get("steps");
    const box = plotBox(loss.canvas.logicalSize, 60);
    const axes = new Axes(c, box, [0, total], limits, { transform: symlog });
    c.clearRect(0, 0, loss.canvas.logicalSize.width, loss.canvas.logicalSize.height);
    axes.clip();
    const pin = (value) => Math.min(Math.max(value, limits[0]), limits[1]);
    for (const [name, result] of Object.entries(state.results)) {
      const last = Math.min(position, result.divergedAt === null ? total : result.divergedAt - 1);
      c.strokeStyle = colors[name];
      c.lineWidth = 1.6;
      c.beginPath();
      for (let step = 0; step <= last; step += 1) {
        (step ? c.lineTo : c.moveTo).call(c, axes.x(step), axes.y(pin(result.losses[step])));
      }
      c.stroke();
    }
    c.strokeStyle = "rgba(60, 60, 60, 0.6)";
    c.beginPath();
    c.moveTo(axes.x(position), box.top);
    c.lineTo(axes.x(position), box.top + box.height);
    c.stroke();
    c.restore();
    for (const [name, result] of Object.entries(state.results)) {
      if (result.divergedAt !== null && position >= result.divergedAt) {
        const last = result.divergedAt - 1;
        marker(c, "x", axes.x(last), axes.y(pin(result.losses[last])), colors[name]);
      }
    }
    axes.decorate({ title: "Loss along the path", xLabel: "step", yLabel: "loss (symlog scale)",
                    yTicks: symlogTicks(...limits) });
  }

  function describe() {
    const chosen = spec();
    note.textContent = `${chosen.note}. Learning rates: ×${model.get("learning_rate_scale").toPrecision(3)}`
      + " each optimizer's base rate (1/L, L the steepest curvature at the start, for GD, SGD,"
      + " momentum and Nesterov; a share of the view for the others).";
    legend.replaceChildren(...Object.entries(state.results).map(([name, result]) => {
      const status = ending(result, chosen);
      return element("span", { style: { whiteSpace: "nowrap", marginRight: "1.2em", display: "inline-block" } },
        element("span", { style: { color: colors[name] } }, "■ "),
        `${titles[name]}, lr ${result.learningRate.toPrecision(2)}`,
        status ? element("b", {}, `: ${status}`) : "");
    }));
    const diverged = Object.entries(state.results)
      .filter(([, result]) => result.divergedAt !== null)
      .map(([name, result]) => `${name}:${result.divergedAt}`);
    root.dataset.diverged = diverged.join(" ");
    root.dataset.start = JSON.stringify(model.get("start"));
  }

  function draw() {
    const began = performance.now();
    const position = Math.min(model.get("position"), model.get("steps"));
    drawContour(position);
    drawLoss(position);
    positionText.textContent = `step ${position} of ${model.get("steps")}`;
    state.draws += 1;
    root.dataset.drawMs = (performance.now() - began).toFixed(2);
    root.dataset.draws = String(state.draws);
    root.dataset.position = String(position);
  }
  const requestDraw = frameScheduler(draw);
  function recomputeAndDraw() {
    recompute();
    describe();
    requestDraw();
  }

  // ---- animation
  function stop() {
    if (state.playing !== null) cancelAnimationFrame(state.playing);
    state.playing = null;
    play.textContent = "▶ Play";
    model.save_changes();
  }
  function advance() {
    const total = model.get("steps");
    const next = Math.min(model.get("position") + Math.max(1, Math.round(total / PLAY_FRAMES)), total);
    model.set("position", next);
    if (next >= total) stop();
    else state.playing = requestAnimationFrame(advance);
  }
  play.addEventListener("click", () => {
    if (state.playing !== null) { stop(); return; }
    if (model.get("position") >= model.get("steps")) model.set("position", 0);
    play.textContent = "❚❚ Pause";
    state.playing = requestAnimationFrame(advance);
  });
  stepButton.addEventListener("click", () => {
    stop();
    sync(model, "position", Math.min(model.get("position") + 1, model.get("steps")));
  });
  reset.addEventListener("click", () => {
    stop();
    sync(model, "position", 0);
  });
  contour.canvas.addEventListener("click", (event) => {
    const [px, py] = canvasPoint(contour.canvas, event);
    const axes = contourAxes();
    if (!axes.contains(px, py)) return;
    sync(model, "start", axes.invert(px, py));
  });

  // ---- state changes, from this page or from Python
  const onChange = {
    surface: () => { surfaceChoice.value = model.get("surface"); recomputeAndDraw(); },
    learning_rate_scale: () => { rate.setValue(model.get("learning_rate_scale")); recomputeAndDraw(); },
    momentum: () => { momentum.setValue(model.get("momentum")); recomputeAndDraw(); },
    steps: () => { steps.setValue(model.get("steps")); recomputeAndDraw(); },
    optimizers: () => {
      for (const box of toggles.querySelectorAll("input")) {
        box.checked = model.get("optimizers").includes(box.value);
      }
      recomputeAndDraw();
    },
    start: recomputeAndDraw,
    seed: recomputeAndDraw,
    position: requestDraw,
  };
  for (const [name, handler] of Object.entries(onChange)) model.on(`change:${name}`, handler);
  const unfollow = followWidth(root, (available) => {  // two panels side by side if they fit
    const width = Math.min(PANEL.width, Math.max(MIN_PANEL_WIDTH, Math.floor((available - GAP) / 2)));
    const height = Math.round(width * PANEL.height / PANEL.width);
    if (width === contour.canvas.logicalSize.width) return;
    contour.resize(width, height);
    loss.resize(width, height);
    state.contours = {};  // contour lines are kept in pixels: draw them again at the new size
    draw();
  });
  recompute();
  describe();
  draw();
  return () => {
    unfollow();
    stop();
    for (const [name, handler] of Object.entries(onChange)) model.off(`change:${name}`, handler);
  };
}

export default { render: guarded(render) };
