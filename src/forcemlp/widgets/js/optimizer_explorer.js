// The optimizer explorer (lesson 4): every optimizer walks the chosen surface from the start
// the reader picked (a click, or the arrow keys on the focused plot), recomputed in the
// browser for any learning rate, momentum and step count; contour plot and loss curves side
// by side, animated by Play / Step / Reset, with a status line that says what happened and
// what to do next. Python's forcemlp.widgets.optimizer_explorer.OptimizerExplorer holds the
// state (traits), the menus and the limits.

import { baseLearningRate, descend } from "./descent.js";
import { surface as surfaceFunctions } from "./surfaces.js";
import { canvasPoint, followWidth, frameScheduler, guarded, sync, table } from "./widget.js";
import { Axes, followTheme, marker, plot, themeColors } from "./plot.js";
import {
  button, buttonRow, columns, controls, group, installStyles, legend, menu, note, slider,
  statusLine, toggle, widgetRoot,
} from "./ui.js";

const PANEL = { width: 480, height: 400 };  // the largest panel; narrower columns shrink it
const GRID = 140;  // function values per side for the contour picture
const CONTOUR_LEVELS = 14;
const LINEAR_BELOW = 1e-3;  // the loss axis is logarithmic above this size, linear below
const PLAY_FRAMES = 150;  // a Play walks the whole path in about this many frames
const KEY_STEPS = 40;  // an arrow key moves the start 1/40 of the view (Shift: 1/8)
export const HINT = "click the plot, or focus it and use the arrow keys; Enter runs from there";

const symlog = (value) => Math.sign(value) * Math.log10(1 + Math.abs(value) / LINEAR_BELOW);

/** 0 and ±powers of ten inside [low, high]: the ticks of a symlog axis. */
export function symlogTicks(low, high) {
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
export function contourSegments(values, columns, rows, level, toPixel) {
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

/** The surface on a GRID × GRID lattice over its view, and heights at evenly spread
 *  quantiles of it (so every surface gets lines where its values are). */
function contourLevels(spec) {
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
  return { values, levels };
}

/** The contour lines as a bitmap of the canvas's size: drawn once per surface, size and
 *  theme, then copied in each frame (a slider move must not redraw 20,000 segments). */
function contourBitmap(spec, axes, size, color) {
  const ratio = window.devicePixelRatio || 1;
  const bitmap = document.createElement("canvas");
  bitmap.width = Math.round(size.width * ratio);
  bitmap.height = Math.round(size.height * ratio);
  const context = bitmap.getContext("2d");
  context.setTransform(ratio, 0, 0, ratio, 0, 0);
  const [[xLow, xHigh], [yLow, yHigh]] = [spec.x_range, spec.y_range];
  const toPixel = (i, j) => [axes.x(xLow + (xHigh - xLow) * i / (GRID - 1)),
                             axes.y(yLow + (yHigh - yLow) * j / (GRID - 1))];
  const { values, levels } = contourLevels(spec);
  context.beginPath();
  for (const level of levels) {
    for (const [[x1, y1], [x2, y2]] of contourSegments(values, GRID, GRID, level, toPixel)) {
      context.moveTo(x1, y1);
      context.lineTo(x2, y2);
    }
  }
  context.strokeStyle = color;
  context.lineWidth = 0.8;
  context.stroke();
  return bitmap;
}

/** Where a path stopped, or left the view: what the legend says about it. */
export function ending(result, spec) {
  if (result.divergedAt !== null) return `diverged at step ${result.divergedAt}`;
  const [[xLow, xHigh], [yLow, yHigh]] = [spec.x_range, spec.y_range];
  const outside = result.points.findIndex(([x, y]) =>
    x < xLow || x > xHigh || y < yLow || y > yHigh);
  return outside >= 0 ? `left the view at step ${outside}` : "";
}

export function lossLimits(results, spec) {
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

/** What the status line says for the state shown: what happened, and what to do next. */
export function runStatus({ results, titles, position, total, playing }) {
  const entries = Object.entries(results);
  const diverged = entries.filter(([, result]) =>
    result.divergedAt !== null && position >= result.divergedAt);
  if (playing) {
    return { state: "running", message: `Playing: step ${position} of ${total}.`,
             next: "Pause stops it." };
  }
  if (diverged.length > 0) {
    const names = diverged.map(([name, result]) => `${titles[name]} at step ${result.divergedAt}`);
    return { state: "diverged", message: `Diverged: ${names.join(", ")}.`,
             next: "Lower the learning rate × (or momentum β), or untick it, then Play again." };
  }
  if (position >= total) {
    const finals = entries.map(([name, result]) => [name, result.losses.at(-1)]);
    const [best, loss] = finals.sort((a, b) => a[1] - b[1])[0] ?? [];
    const lowest = best === undefined ? ""
      : ` Lowest loss: ${titles[best]}, ${loss.toPrecision(3)}.`;
    return { state: "finished", message: `Finished: ${total} steps.${lowest}`,
             next: `Move the start (${HINT}) or a slider, and Play again.` };
  }
  if (position === 0) {
    return { state: "ready", message: `At the start: step 0 of ${total}.`,
             next: "Play walks every path; Step moves one step." };
  }
  return { state: "paused", message: `Paused at step ${position} of ${total}.`,
           next: "Play goes on, Step moves one step, Reset goes back to step 0." };
}

/** The controls, each trait's control written from Python's menus and limits. */
function buildControls(model, actions) {
  const surfaces = table(model, "surfaces");
  const titles = table(model, "optimizer_titles");
  const limits = model.get("limits");
  const choices = Object.entries(surfaces).map(([name, entry]) => [name, entry.title]);
  const surface = menu("surface", choices, {
    value: model.get("surface"),
    onChange: (name) => { model.set("start", surfaces[name].start); sync(model, "surface", name); },
  });
  const rate = slider("learning rate ×", {
    ...limits.learning_rate_scale, value: model.get("learning_rate_scale"), log: true,
    format: (value) => value.toPrecision(3),
    onInput: (value) => sync(model, "learning_rate_scale", value),
  });
  const momentum = slider("momentum β", {
    ...limits.momentum, value: model.get("momentum"), format: (value) => value.toFixed(3),
    onInput: (value) => sync(model, "momentum", value),
  });
  const steps = slider("steps", {
    ...limits.steps, value: model.get("steps"), format: (value) => String(Math.round(value)),
    onInput: (value) => {
      model.set("position", Math.round(value));
      sync(model, "steps", Math.round(value));
    },
  });
  const toggles = Object.keys(titles).map((name) => toggle(titles[name], {
    checked: model.get("optimizers").includes(name), color: model.get("optimizer_colors")[name],
    shape: model.get("optimizer_markers")[name], className: `forcemlp-toggle-${name}`,
    onChange: () => sync(model, "optimizers",
      Object.keys(titles).filter((_, index) => toggles[index].input.checked)),
  }));
  const play = button("Play", { primary: true, className: "forcemlp-play", onClick: actions.play });
  const step = button("Step", { className: "forcemlp-step", onClick: actions.step });
  const reset = button("Reset", { className: "forcemlp-reset", onClick: actions.reset });
  return { surface, rate, momentum, steps, toggles, play, step, reset };
}

/** Each control shows the trait's value when Python (or another view) changes it. */
function showState(model, parts) {
  parts.surface.setValue(model.get("surface"));
  parts.rate.setValue(model.get("learning_rate_scale"));
  parts.momentum.setValue(model.get("momentum"));
  parts.steps.setValue(model.get("steps"));
  const chosen = model.get("optimizers");
  const names = Object.keys(table(model, "optimizer_titles"));
  parts.toggles.forEach((control, index) => control.setChecked(chosen.includes(names[index])));
}

function computePaths(model) {
  const spec = table(model, "surfaces")[model.get("surface")];
  const start = model.get("start");
  const results = {};
  for (const name of model.get("optimizers")) {
    const learningRate = model.get("learning_rate_scale") * baseLearningRate(spec, name, start);
    results[name] = {
      learningRate,
      ...descend(name, spec, learningRate, model.get("steps"), {
        momentum: model.get("momentum"), seed: model.get("seed"), start,
      }),
    };
  }
  return results;
}

const pin = (value, low, high) => Math.min(Math.max(value, low), high);

function contourAxes(view, spec) {
  return Axes.fit(view.contour.context, view.contour.size(), spec.x_range, spec.y_range,
                  { colors: view.colors });
}

function drawContour(view, state, spec, start, position) {
  const { context: c } = view.contour;
  const size = view.contour.size();
  const axes = contourAxes(view, spec);
  const key = `${spec.name} ${size.width} ${view.colors.grid}`;
  if (view.bitmapKey !== key) {
    view.bitmap = contourBitmap(spec, axes, size, view.colors.grid);
    view.bitmapKey = key;
  }
  c.clearRect(0, 0, size.width, size.height);
  c.drawImage(view.bitmap, 0, 0, size.width, size.height);
  axes.clip();
  for (const [name, result] of Object.entries(state.results)) {
    c.strokeStyle = view.style.colors[name];
    c.lineWidth = 1.8;
    c.beginPath();
    result.points.slice(0, position + 1).forEach(([x, y], index) =>
      (index ? c.lineTo : c.moveTo).call(c, axes.x(x), axes.y(y)));
    c.stroke();
  }
  c.restore();
  const colors = view.colors;
  for (const minimum of spec.minima) {
    marker(c, "star", axes.x(minimum[0]), axes.y(minimum[1]), { fill: colors.text, colors });
  }
  marker(c, "circle", axes.x(start[0]), axes.y(start[1]),
         { fill: colors.background, colors, radius: 5.5 });
  drawWalkers(view, state, spec, axes, position);
  axes.decorate({ title: `${spec.title}: start ●, minimum ★`,
                  xLabel: "x", yLabel: "y" });
}

/** Where each optimizer is at `position`: its marker, or a cross where it diverged. */
function drawWalkers(view, state, spec, axes, position) {
  const [[xLow, xHigh], [yLow, yHigh]] = [spec.x_range, spec.y_range];
  const { colors } = view;
  for (const [name, result] of Object.entries(state.results)) {
    const [x, y] = result.points[Math.min(position, result.points.length - 1)];
    const fill = view.style.colors[name];
    if (result.divergedAt !== null && position >= result.divergedAt) {
      marker(view.contour.context, "cross", ...axes.pinned(x, y), { fill, colors, radius: 5 });
    } else if (x >= xLow && x <= xHigh && y >= yLow && y <= yHigh) {
      marker(view.contour.context, view.style.markers[name], axes.x(x), axes.y(y),
             { fill, colors });
    }
  }
}

function drawLoss(view, state, spec, total, position) {
  const { context: c } = view.loss;
  const size = view.loss.size();
  const limits = lossLimits(Object.values(state.results), spec);
  const axes = Axes.fit(c, size, [0, total], limits,
    { transform: symlog, yTicks: symlogTicks(...limits), colors: view.colors });
  c.clearRect(0, 0, size.width, size.height);
  axes.clip();
  const clamp = (value) => pin(value, ...limits);
  for (const [name, result] of Object.entries(state.results)) {
    const last = Math.min(position, result.divergedAt === null ? total : result.divergedAt - 1);
    c.strokeStyle = view.style.colors[name];
    c.lineWidth = 1.8;
    c.beginPath();
    for (let step = 0; step <= last; step += 1) {
      (step ? c.lineTo : c.moveTo).call(c, axes.x(step), axes.y(clamp(result.losses[step])));
    }
    c.stroke();
  }
  c.strokeStyle = view.colors.muted;
  c.setLineDash([3, 3]);
  c.beginPath();
  c.moveTo(axes.x(position), axes.box.top);
  c.lineTo(axes.x(position), axes.box.top + axes.box.height);
  c.stroke();
  c.restore();
  for (const [name, result] of Object.entries(state.results)) {
    if (result.divergedAt !== null && position >= result.divergedAt) {
      const last = result.divergedAt - 1;
      marker(c, "cross", ...axes.pinned(last, clamp(result.losses[last])),
             { fill: view.style.colors[name], colors: view.colors, radius: 5 });
    }
  }
  axes.decorate({ title: "Loss along each path", xLabel: "step", yLabel: "loss (symlog)" });
}

function legendItems(model, state, spec) {
  const titles = table(model, "optimizer_titles");
  return Object.entries(state.results).map(([name, result]) => {
    const status = ending(result, spec);
    const rate = `${titles[name]}, lr ${result.learningRate.toPrecision(2)}`;
    return { color: model.get("optimizer_colors")[name],
             shape: model.get("optimizer_markers")[name],
             text: status ? `${rate}: ${status}` : rate, bold: status !== "" };
  });
}

/** Arrow keys move the start over the focused contour plot (Shift: bigger steps), Home puts
 *  it back at the surface's classic start, Enter or Space runs from there. */
function startKeys(model, actions) {
  return (event) => {
    const spec = table(model, "surfaces")[model.get("surface")];
    const [x, y] = model.get("start");
    const share = (event.shiftKey ? 5 : 1) / KEY_STEPS;
    const dx = (spec.x_range[1] - spec.x_range[0]) * share;
    const dy = (spec.y_range[1] - spec.y_range[0]) * share;
    const moves = {
      ArrowLeft: [-dx, 0], ArrowRight: [dx, 0], ArrowUp: [0, dy], ArrowDown: [0, -dy],
    };
    if (event.key in moves) {
      const [moveX, moveY] = moves[event.key];
      sync(model, "start", [pin(x + moveX, ...spec.x_range), pin(y + moveY, ...spec.y_range)]);
    } else if (event.key === "Home") {
      sync(model, "start", spec.start);
    } else if (event.key === "Enter" || event.key === " ") {
      actions.replay();
    } else {
      return;
    }
    event.preventDefault();
  };
}

/** Play / Pause over model.position, one animation frame at a time. */
function player(model, { onStop, onFrame }) {
  let frame = null;
  const playing = () => frame !== null;
  function stop() {
    if (frame === null) return;
    cancelAnimationFrame(frame);
    frame = null;
    model.save_changes();
    onStop();
  }
  function advance() {
    const total = model.get("steps");
    const stride = Math.max(1, Math.round(total / PLAY_FRAMES));
    const next = Math.min(model.get("position") + stride, total);
    model.set("position", next);
    if (next >= total) stop();
    else frame = requestAnimationFrame(advance);
  }
  function start(fromZero = false) {
    if (frame !== null) cancelAnimationFrame(frame);
    if (fromZero || model.get("position") >= model.get("steps")) model.set("position", 0);
    frame = requestAnimationFrame(advance);
    onFrame();
  }
  return { playing, stop, start, toggle: () => (playing() ? stop() : start()) };
}

function layoutView(model, root) {
  const contour = plot(
    `contour plot of the surface with each optimizer's path; start point: ${HINT}`,
    { ...PANEL, focusable: true, className: "forcemlp-contour" });
  const loss = plot("loss along each optimizer's path, step by step",
                    { ...PANEL, className: "forcemlp-loss" });
  const style = { colors: model.get("optimizer_colors"), markers: model.get("optimizer_markers") };
  return { root, contour, loss, style, colors: themeColors(root), bitmap: null, bitmapKey: "" };
}

function render({ model, el }) {
  installStyles(model);
  const root = widgetRoot("forcemlp-optimizer-explorer", "Optimizer explorer");
  const view = layoutView(model, root);
  const state = { results: {}, draws: 0 };
  const spec = () => table(model, "surfaces")[model.get("surface")];
  const status = statusLine("forcemlp-status");
  const legendBox = legend("forcemlp-legend");
  const surfaceNote = note("", "forcemlp-note");
  const run = player(model, {
    onStop: () => { requestDraw(); announce(); }, onFrame: () => requestDraw(),
  });
  const actions = {
    play: () => run.toggle(),
    replay: () => run.start(true),
    step: () => {
      run.stop();
      sync(model, "position", Math.min(model.get("position") + 1, model.get("steps")));
    },
    reset: () => { run.stop(); sync(model, "position", 0); },
  };
  const parts = buildControls(model, actions);
  root.append(
    controls(parts.surface, parts.rate, parts.momentum, parts.steps),
    group("optimizers", buttonRow(...parts.toggles)),
    buttonRow(parts.play, parts.step, parts.reset), status.node,
    columns(view.contour.node, view.loss.node), legendBox.node, surfaceNote,
  );
  el.append(root);

  function currentStatus() {
    return runStatus({ results: state.results, titles: table(model, "optimizer_titles"),
                       position: Math.min(model.get("position"), model.get("steps")),
                       total: model.get("steps"), playing: run.playing() });
  }
  function announce(prefix = "") {
    status.announce(`${prefix}${currentStatus().message}`);
  }
  function draw() {
    const began = performance.now();
    if (!view.colors.resolved) view.colors = themeColors(root);
    const position = Math.min(model.get("position"), model.get("steps"));
    drawContour(view, state, spec(), model.get("start"), position);
    drawLoss(view, state, spec(), model.get("steps"), position);
    const shown = currentStatus();
    status.show(shown.state, shown.message, shown.next);
    parts.play.setText(run.playing() ? "Pause" : "Play");
    state.draws += 1;
    Object.assign(root.dataset, { drawMs: (performance.now() - began).toFixed(2),
      draws: String(state.draws), position: String(position), state: shown.state });
  }
  const requestDraw = frameScheduler(draw);
  function recompute() {
    state.results = computePaths(model);
    legendBox.update(legendItems(model, state, spec()));
    const scale = model.get("learning_rate_scale").toPrecision(3);
    surfaceNote.textContent = `${spec().note}. The learning rate is ×${scale}`
      + " each optimizer's base rate (1/L, L the steepest curvature at the start, for GD, SGD,"
      + " momentum and Nesterov; a share of the view for the others).";
    root.dataset.diverged = Object.entries(state.results)
      .filter(([, result]) => result.divergedAt !== null)
      .map(([name, result]) => `${name}:${result.divergedAt}`).join(" ");
    root.dataset.start = JSON.stringify(model.get("start"));
  }
  return connect({ model, root, view, parts, run, draw, requestDraw, recompute, announce,
                   actions, status });
}

/** Wires model changes, the keyboard, clicks, resizes and theme switches; returns cleanup. */
function connect({
  model, root, view, parts, run, draw, requestDraw, recompute, announce, actions, status,
}) {
  const changed = (startMoved) => {
    showState(model, parts);
    recompute();
    requestDraw();
    if (run.playing()) return;
    const [x, y] = model.get("start");  // a keyboard reader hears where the start went
    announce(startMoved ? `Start x ${x.toFixed(2)}, y ${y.toFixed(2)}. ` : "");
  };
  const traits = ["surface", "learning_rate_scale", "momentum", "steps", "optimizers", "start",
                  "seed"];
  const handlers = Object.fromEntries(
    traits.map((name) => [name, () => changed(name === "start")]));
  for (const name of traits) model.on(`change:${name}`, handlers[name]);
  model.on("change:position", requestDraw);
  const canvas = view.contour.canvas;
  canvas.addEventListener("keydown", startKeys(model, actions));
  canvas.addEventListener("click", (event) => {
    const [px, py] = canvasPoint(canvas, event);
    const axes = contourAxes(view, table(model, "surfaces")[model.get("surface")]);
    if (axes.contains(px, py)) sync(model, "start", axes.invert(px, py));
  });
  const unfollow = followWidth(view.contour.node, (available) => {
    const width = Math.min(PANEL.width, available);
    if (width === view.contour.size().width && view.colors.resolved) return;
    const height = Math.round(width * PANEL.height / PANEL.width);
    view.contour.resize(width, height);
    view.loss.resize(width, height);
    draw();
  });
  const unfollowTheme = followTheme(() => { view.colors = themeColors(root); draw(); });
  recompute();
  draw();
  return () => {
    unfollow();
    unfollowTheme();
    run.stop();
    status.announce.cancel?.();
    for (const name of traits) model.off(`change:${name}`, handlers[name]);
    model.off("change:position", requestDraw);
  };
}

export default { render: guarded(render) };
