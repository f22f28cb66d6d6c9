// The playground: a small MLP trained live on 2-D points, its decision boundary drawn as a heat
// map behind them, what each neuron computes over the plane, train and test loss as it learns.
// Laid out as TensorFlow Playground's columns (data → network → output), stacked on a phone
// with Play just above the pictures it drives.
//
// State (forcemlp.widgets.playground.Playground): dataset, points, noise, hidden_sizes, activation,
// learning_rate, batch_size, optimizer, l2, seed, and the read-only `limits` (every menu and
// slider range, written once in Python). Back to Python when training pauses: step,
// train_loss, test_loss (null once not finite), diverged. The root element carries data-step,
// data-train-loss, data-test-loss, data-frames (boundary redraws so far) and data-diverged for
// scripts and tests.

import { PlaygroundRun } from "./playground_run.js";
import { networkPanel } from "./playground_network.js";
import {
  GRID, LOSS_COLORS, CLASS_COLORS, POINT_SHAPES, gridPoints, gridPainter, heatPalette,
  neuronValues, answerValues, pointsLayer, drawLosses,
} from "./playground_pictures.js";
import { forward } from "./mlp.js";
import { element, sync, guarded } from "./widget.js";
import {
  installStyles, widgetRoot, button, menu, slider, controls, group, note, legend, statusLine,
} from "./ui.js";
import { plot, themeColors, followTheme } from "./plot.js";

const STEPS_PER_SECOND = 300;   // training pace while playing, whatever the frame rate
const MAX_STEPS_PER_FRAME = 60;
const TRAIN_BUDGET_MS = 8;      // a slow CPU trains fewer steps a frame, never fewer frames
const SLOW_REDRAW_MS = 100;     // loss curves, step count, thumbnails while playing: 10 a second
const SUMMARY_MS = 5000;        // a spoken summary while playing, at most this often
const HEAT_SIZE = 300;          // CSS pixels of the heat map
const LOSS_SIZE = { width: 320, height: 200 };
const SETTINGS = ["dataset", "points", "noise", "hidden_sizes", "activation", "learning_rate",
                  "batch_size", "optimizer", "l2", "seed"];
const RESTARTS = ["dataset", "points", "noise", "hidden_sizes", "activation", "seed"];
const PLAYGROUND_CSS = `
.forcemlp-playground .fm-pg-columns { display: flex; flex-wrap: wrap; gap: 0.75rem 1rem;
  align-items: flex-start; }
.forcemlp-playground .fm-pg-data { flex: 1 1 150px; max-width: 220px; }
.forcemlp-playground .fm-pg-network { flex: 1 1 200px; min-width: 0; }
.forcemlp-playground .fm-pg-output { flex: 0 1 320px; min-width: 0; }
.forcemlp-playground .fm-pg-step { font-variant-numeric: tabular-nums; align-self: center; }
.forcemlp-playground .fm-pg-diverged .forcemlp-playground-boundary { opacity: 0.55; }
@media (max-width: 540px) { .forcemlp-playground .fm-pg-data { max-width: none; } }`;

/** The widget's own few rules, once per page, beside the kit's stylesheet. */
function installPlaygroundStyles() {
  if (document.getElementById("forcemlp-playground-css")) return;
  document.head.append(element("style", { id: "forcemlp-playground-css" }, PLAYGROUND_CSS));
}

const fixed = (digits) => (value) => value.toFixed(digits);
const FORMATS = { learning_rate: (value) => value.toPrecision(2), noise: fixed(2) };

/** A slider for the trait `name`, its range from the `limits` trait. */
function traitSlider(name, limits, settings, change) {
  const spec = limits.sliders[name];
  return slider(name.replace("_", " "), {
    min: spec.min, max: spec.max, step: spec.step, log: spec.log, value: settings[name],
    format: FORMATS[name] ?? String, onInput: (value) => change(name, value),
  });
}

/** A menu for the trait `name`: its choices from the `limits` trait. */
function traitMenu(label, name, choices, settings, change, parse = String) {
  return menu(label, choices.map((choice) => [String(choice), String(choice)]), {
    value: String(settings[name]), onChange: (value) => change(name, parse(value)),
  });
}

/** The hyper-parameters across the top (TF Playground's top bar). */
function trainingControls(limits, settings, change) {
  return controls(
    traitSlider("learning_rate", limits, settings, change),
    traitMenu("activation", "activation", limits.activations, settings, change),
    traitMenu("optimizer", "optimizer", limits.optimizer_names, settings, change),
    traitMenu("L2", "l2", limits.l2, settings, change, Number),
  );
}

/** The data column: which points, how many, how noisy, how many per step. */
function dataColumn(limits, settings, change) {
  return element("div", { class: "fm-pg-data" }, group("Data",
    traitMenu("dataset", "dataset", limits.datasets, settings, change),
    traitSlider("points", limits, settings, change),
    traitSlider("noise", limits, settings, change),
    traitSlider("batch_size", limits, settings, change)));
}

/** Play / Pause, Step, Reset and the step count: the buttons that drive the pictures below. */
function playBar({ onPlay, onStep, onReset }) {
  const play = button("Play", { primary: true, className: "forcemlp-playground-play",
                                onClick: onPlay });
  const step = button("Step", { className: "forcemlp-playground-step", onClick: onStep });
  const reset = button("Reset", { className: "forcemlp-playground-reset", onClick: onReset });
  const count = element("span", { class: "fm-pg-step", "aria-hidden": "true" }, "step 0");
  const node = element("div", { class: "fm-controls fm-buttons" }, play, step, reset, count);
  const setPlaying = (playing) => play.setText(playing ? "Pause" : "Play");
  const setDiverged = (diverged) => {
    node.parentElement?.classList.toggle("fm-pg-diverged", diverged);
    reset.classList.toggle("fm-primary", diverged);
    play.classList.toggle("fm-primary", !diverged);
  };
  const showStep = (value) => { count.textContent = `step ${value}`; };
  return { node, setPlaying, setDiverged, showStep };
}

/** The output column: heat map with its points, status, loss curves and what they show. */
function outputColumn(bar) {
  const heat = plot("Decision boundary: the network's answer over the plane, with the points",
                    { width: HEAT_SIZE, height: HEAT_SIZE, className: "forcemlp-playground-map" });
  heat.canvas.classList.add("forcemlp-playground-boundary");
  const losses = plot("Train and test loss against training steps", { ...LOSS_SIZE });
  const status = statusLine("forcemlp-playground-status");
  const key = legend();
  key.update([
    { text: "class 0", color: CLASS_COLORS[0], shape: "area" },
    { text: "class 1", color: CLASS_COLORS[1], shape: "area" },
    { text: "training point", color: "var(--fm-surface)", shape: POINT_SHAPES.train },
    { text: "test point", color: "var(--fm-surface)", shape: POINT_SHAPES.test },
    { text: "train loss", color: LOSS_COLORS.train },
    { text: "test loss", color: LOSS_COLORS.test, dash: true },
  ]);
  const node = element("div", { class: "fm-pg-output" }, bar.node, heat.node, status.node,
    losses.node, key.node,
    note("Point at, focus or tap a neuron to see what it computes over the plane."));
  const name = (shown) => {  // the heat map's accessible name says what it shows
    const label = shown ? `Neuron ${shown[1] + 1} of hidden layer ${shown[0] + 1} over the plane`
      : "Decision boundary: the network's answer over the plane, with the points";
    if (heat.canvas.getAttribute("aria-label") !== label) {
      heat.canvas.setAttribute("aria-label", label);
    }
  };
  return { node, heat, losses, status, name };
}

/** What the loop shows each frame: the plane, the neurons, the curves, the numbers. */
function drawer(root, run, panel, output, bar) {
  const grid = gridPoints();
  const painter = gridPainter();
  const points = pointsLayer();
  let colors = null, palette = null, frames = 0, slowDrawn = -Infinity, drawMs = 0;
  const refreshTheme = () => {
    colors = themeColors(root);
    palette = heatPalette(colors.background);
  };
  function draw(playing = false) {
    const started = performance.now();
    if (!colors) refreshTheme();
    const passed = forward(run.network, grid, GRID * GRID);
    const shown = panel.shown();
    const context = output.heat.context;
    if (shown) {
      const width = run.settings.hidden_sizes[shown[0]];
      painter.paint(context, ...neuronValues(passed, ...shown, width), HEAT_SIZE, palette);
    } else {
      painter.paint(context, answerValues(passed), 1, HEAT_SIZE, palette);
    }
    points(context, run.data, HEAT_SIZE, colors);
    output.name(shown);
    if (!playing || started - slowDrawn >= SLOW_REDRAW_MS) {  // what changes slowly
      slowDrawn = started;
      panel.paintThumbs((layer, unit, width) => neuronValues(passed, layer, unit, width),
                        painter, palette);
      drawLosses(output.losses.context, LOSS_SIZE, run.curve, run.step, colors);
      bar.showStep(run.step);
    }
    const { train, test } = run.latest();
    drawMs = 0.9 * drawMs + 0.1 * (performance.now() - started);  // a running mean
    Object.assign(root.dataset, { step: String(run.step), trainLoss: String(train),
                                  testLoss: String(test), frames: String(++frames),
                                  diverged: String(run.diverged), drawMs: drawMs.toFixed(2) });
  }
  return { draw, refreshTheme };
}

/** The spoken and written state: ready, running, paused, diverged. */
function reporter(run, status) {
  const numbers = () => {
    const { train, test } = run.latest();
    return `train loss ${train.toFixed(3)}, test loss ${test.toFixed(3)}`;
  };
  let lastSummary = 0;
  return {
    ready: () => status.show("ready", `Step ${run.step}: ${numbers()}.`, "Press Play to train."),
    running(now = performance.now()) {
      if (now - lastSummary >= SUMMARY_MS) {
        lastSummary = now;
        status.announce(`Training, step ${run.step}: ${numbers()}.`);
      }
    },
    paused() {
      status.show("paused", `Paused at step ${run.step}: ${numbers()}.`, "Play or Step goes on.");
      status.announce(`Paused at step ${run.step}: ${numbers()}.`);
    },
    diverged() {
      const text = `Diverged at step ${run.step}: the loss blew up.`;
      const next = "Lower the learning rate, then press Reset.";
      status.show("diverged", text, next);
      status.announce(`${text} ${next}`);
    },
    started() {
      lastSummary = performance.now();
      status.show("running", "Training…", "Press Pause to stop.");
      status.announce(`Training from step ${run.step}.`);
    },
  };
}

function render({ model, el }) {
  installStyles(model);
  installPlaygroundStyles();
  const limits = model.get("limits");
  const settings = Object.fromEntries(SETTINGS.map((name) => [name, model.get(name)]));
  const run = new PlaygroundRun(settings, limits);
  const root = widgetRoot("forcemlp-playground", "MLP playground");
  Object.assign(root.dataset, { step: "0", frames: "0", diverged: "false" });
  const loop = player(model, run);
  const bar = playBar({ onPlay: () => loop.toggle(), onStep: () => loop.stepOnce(),
                        onReset: () => loop.reset() });
  const output = outputColumn(bar);
  const panel = networkPanel(settings, limits, (...args) => change(...args), () => loop.redraw());
  const view = drawer(root, run, panel, output, bar);
  const report = reporter(run, output.status);
  loop.attach(view, report, bar);
  function change(name, value) {
    settings[name] = value;
    sync(model, name, value);
    if (name === "hidden_sizes") panel.rebuild();
    if (RESTARTS.includes(name)) loop.restart();
    else if (name === "optimizer") run.renewOptimizer();
    loop.redraw();
  }
  root.append(trainingControls(limits, settings, change), element("div", { class: "fm-pg-columns" },
    dataColumn(limits, settings, change), panel.node, output.node));
  el.replaceChildren(root);
  const stopTheme = followTheme(() => { view.refreshTheme(); loop.redraw(); });
  requestAnimationFrame(() => { view.refreshTheme(); loop.redraw(); });  // once on the page
  view.draw();
  report.ready();
  return () => { loop.stop(); stopTheme(); };
}

/** Play, pause, one step, reset: the training loop and what it tells Python and the reader. */
function player(model, run) {
  let view, report, bar, playing = false, lastTime = null, owed = 0;
  const finite = (value) => (Number.isFinite(value) ? value : null);
  const send = () => {
    const { train, test } = run.latest();
    for (const [name, value] of [["step", run.step], ["train_loss", finite(train)],
      ["test_loss", finite(test)], ["diverged", run.diverged]]) model.set(name, value);
    model.save_changes();
  };
  const pause = () => {
    if (!playing) return;
    playing = false;
    bar.setPlaying(false);
    view.draw();  // everything up to date, the slow parts too
    if (run.diverged) report.diverged(); else report.paused();
    send();
  };
  const frame = (time) => {
    if (!playing) return;
    const elapsed = lastTime === null ? 1 / 60 : (time - lastTime) / 1000;
    lastTime = time;
    owed = Math.min(MAX_STEPS_PER_FRAME, owed + elapsed * STEPS_PER_SECOND);
    trainWithin(Math.floor(owed));
    view.draw(true);
    if (run.diverged) { bar.setDiverged(true); pause(); return; }
    report.running(time);
    requestAnimationFrame(frame);
  };
  const trainWithin = (steps) => {  // at most TRAIN_BUDGET_MS of them; a debt is forgiven
    const started = performance.now();
    let done = 0;
    while (done < steps && !run.diverged && performance.now() - started < TRAIN_BUDGET_MS) {
      done += run.train(Math.min(5, steps - done));
    }
    owed = done < steps ? owed % 1 : owed - done;
  };
  const play = () => {
    if (run.diverged) { report.diverged(); return; }  // say so: Play cannot go on from here
    playing = true;
    lastTime = null;
    owed = 0;
    bar.setPlaying(true);
    report.started();
    requestAnimationFrame(frame);
  };
  return {
    attach(...parts) { [view, report, bar] = parts; },
    toggle: () => (playing ? pause() : play()),
    stepOnce() {
      pause();
      if (run.diverged) { report.diverged(); return; }
      run.train(1);
      view.draw();
      if (run.diverged) { bar.setDiverged(true); report.diverged(); } else report.paused();
      send();
    },
    reset() {  // the Reset button: back to step 0, paused
      pause();
      this.restart();
    },
    restart() {  // a new dataset or network: back to step 0, playing on if it was playing
      run.reset();
      bar.setDiverged(false);
      view.draw();
      if (!playing) report.ready();
      send();
    },
    redraw() { if (!playing) view.draw(); },
    stop() { playing = false; },
  };
}

export default { render: guarded(render) };
