// The draw-a-digit widget: a pad for mouse, pen, finger or keyboard, the 28×28 image the
// network sees, and the book's trained networks reading it (mlp.js's forward pass): the
// probability of each digit, the digit read (spoken at most once a second) and the hidden
// units of the article's model as a strip that changes while the reader draws.
//
// State (forcemlp.widgets.draw.DigitDrawing): `models` (exported by forcemlp.model_export),
// `model_index` (the one the bars show), `pen_width`, `examples` (one real test digit of each
// class, for the keyboard route); back to Python: `image` (784 values, row-major, [] while
// the pad is blank) and `prediction` (-1 while blank). The root element carries
// data-prediction (empty while blank) and data-model for scripts and tests.

import { mnistStyle, decodeModel, decodeDigit, predict } from "./digits.js";
import { drawingPad, PAD_SIDE } from "./draw_pad.js";
import { element, sync, guarded } from "./widget.js";
import { installStyles, widgetRoot, button, menu, note, statusLine } from "./ui.js";
import { themeColors, followTheme } from "./plot.js";

const IMAGE_SIDE = 28;
const PREVIEW_SCALE = 5;
const DRAW_CSS = `
.forcemlp-draw .fm-draw-columns { display: flex; flex-wrap: wrap; gap: 0.75rem 1.25rem;
  align-items: flex-start; }
.forcemlp-draw .fm-draw-column { display: flex; flex-direction: column; gap: 0.4rem;
  flex: 0 1 auto; min-width: 0; max-width: 100%; }
.forcemlp-draw .fm-draw-pad-column { width: 282px; }
.forcemlp-draw .fm-draw-answer { flex: 1 1 15rem; max-width: 24rem; }
.forcemlp-draw .fm-draw-seen { width: 140px; height: 140px; image-rendering: pixelated;
  border: 1px solid var(--fm-border); border-radius: 4px; background: #000; }
.forcemlp-draw .fm-draw-units { display: flex; flex-wrap: wrap; gap: 2px; max-width: 300px; }
.forcemlp-draw .fm-draw-unit { width: 14px; height: 22px; border: 1px solid var(--fm-border);
  background: var(--fm-background); }
.forcemlp-draw .fm-draw-bars { list-style: none; margin: 0; padding: 0; min-width: 15rem; }
.forcemlp-draw .fm-draw-bars li { display: grid; grid-template-columns: 1.2em 1fr 4.2em;
  gap: 0.4rem; align-items: center; margin: 0; font-variant-numeric: tabular-nums; }
.forcemlp-draw .fm-draw-track { height: 12px; border-radius: 2px; background: var(--fm-surface); }
.forcemlp-draw .fm-draw-fill { height: 100%; width: 0; border-radius: 2px;
  background: var(--fm-muted); }
.forcemlp-draw .fm-draw-bars li.fm-strong { font-weight: 600; }
.forcemlp-draw .fm-draw-bars li.fm-strong .fm-draw-fill { background: var(--fm-accent); }
.forcemlp-draw .fm-draw-value { text-align: right; }
.forcemlp-draw .forcemlp-draw-verdict .fm-status-message { font-size: 1.125rem; }`;

function installDrawStyles() {
  if (document.getElementById("forcemlp-draw-css")) return;
  document.head.append(element("style", { id: "forcemlp-draw-css" }, DRAW_CSS));
}

/** The 28×28 image the network sees, white on black as MNIST stores it. */
function preview() {
  const canvas = element("canvas", { width: IMAGE_SIDE, height: IMAGE_SIDE, role: "img",
    class: "fm-draw-seen", "aria-label": "The 28 by 28 image the network sees" });
  const context = canvas.getContext("2d");
  const show = (image) => {
    const pixels = context.createImageData(IMAGE_SIDE, IMAGE_SIDE);
    for (let index = 0; index < IMAGE_SIDE * IMAGE_SIDE; index++) {
      const level = image ? Math.round(255 * Math.min(1, image[index])) : 0;
      pixels.data.set([level, level, level, 255], 4 * index);
    }
    context.putImageData(pixels, 0, 0);
  };
  show(null);
  return { canvas, show };
}

/** Ten rows, one per digit: a list (each row its text) with a bar drawn beside it. */
function probabilityBars() {
  const rows = Array.from({ length: 10 }, (_, digit) => {
    const fill = element("div", { class: "fm-draw-fill" });
    const value = element("span", { class: "fm-draw-value" }, "—");
    const row = element("li", { class: "forcemlp-draw-bar", "data-digit": digit,
                                "aria-label": `${digit}: no drawing yet` },
      element("span", { "aria-hidden": "true" }, String(digit)),
      element("div", { class: "fm-draw-track", "aria-hidden": "true" }, fill), value);
    value.setAttribute("aria-hidden", "true");
    return { row, fill, value };
  });
  const show = (probabilities, predicted) => rows.forEach(({ row, fill, value }, digit) => {
    const percent = probabilities ? `${(100 * probabilities[digit]).toFixed(1)}%` : "—";
    fill.style.width = probabilities ? `${(100 * probabilities[digit]).toFixed(1)}%` : "0";
    value.textContent = percent;
    row.classList.toggle("fm-strong", digit === predicted);
    row.setAttribute("aria-label", `${digit}: ${probabilities ? percent : "no drawing yet"}`);
  });
  const node = element("ul", { class: "fm-draw-bars", "aria-label": "Probability of each digit" },
    ...rows.map(({ row }) => row));
  return { node, show };
}

/** The article's hidden units, each a cell as bright as its activation (largest = full). */
function hiddenStrip(units) {
  const cells = Array.from({ length: units }, (_, unit) => element("div", {
    class: "fm-draw-unit forcemlp-draw-unit", title: `hidden unit ${unit + 1}` }));
  const show = (activations) => cells.forEach((cell, unit) => {
    const largest = activations ? Math.max(...activations, 1e-9) : 1;
    const share = activations ? Math.round(100 * activations[unit] / largest) : 0;
    cell.style.background =
      `color-mix(in srgb, var(--fm-accent) ${share}%, var(--fm-background))`;
    cell.title = `hidden unit ${unit + 1}: ${activations ? activations[unit].toFixed(2) : "—"}`;
  });
  const node = element("div", { class: "fm-draw-units", role: "img",
    "aria-label": `The ${units} hidden units of the article's network, bright when active` },
    ...cells);
  return { node, show };
}

/** The keyboard route's menu: puts one real test digit of the chosen class on the pad. */
function exampleMenu(examples, onPick) {
  const choices = [["", "choose a digit…"],
    ...examples.map((example, index) => [String(index), `a ${example.label} from the test set`])];
  return menu("test digit", choices, { value: "", className: "forcemlp-draw-example",
    onChange: (value) => {
      if (value !== "") onPick(decodeDigit(examples[Number(value)].pixels));
    } });
}

/** What the networks read: bars, verdict, strip, data-* and the spoken line. */
function reader(root, networks, stripNetwork, parts) {
  const { bars, strip, verdict, choice } = parts;
  return function update(image) {
    const current = networks[Number(choice.input.value)];
    const result = image ? predict(current, image) : null;
    const probabilities = result?.probabilities;
    const predicted = result ? probabilities.indexOf(Math.max(...probabilities)) : -1;
    bars.show(probabilities, predicted);
    strip.show(image ? predict(stripNetwork, image).hidden[0] : null);
    if (result) {
      const sure = `${(100 * probabilities[predicted]).toFixed(0)}% sure`;
      verdict.show("finished", `It reads a ${predicted}`, `${current.name}, ${sure}`);
    } else {
      verdict.show("ready", "Draw a digit", "or pick a test digit and edit it with the keys");
    }
    root.dataset.prediction = result ? String(predicted) : "";
    root.dataset.model = current.name;
    return predicted;
  };
}

function render({ model, el }) {
  installStyles(model);
  installDrawStyles();
  const networks = model.get("models").map(decodeModel);
  if (networks.length === 0) throw new Error("no trained model was given to the widget");
  // The strip shows the article's network: the first with a single hidden layer.
  const stripNetwork = networks.find((network) => network.weights.length === 2) || networks[0];
  const root = widgetRoot("forcemlp-draw", "Draw a digit");
  root.dataset.prediction = "";
  const choice = menu("network", networks.map((network, index) => [String(index), network.name]),
    { value: String(model.get("model_index")) });
  const verdict = statusLine("forcemlp-draw-verdict");
  const parts = { bars: probabilityBars(), strip: hiddenStrip(stripNetwork.layerSizes[1]),
                  seen: preview(), verdict, choice };
  const update = reader(root, networks, stripNetwork, parts);
  let image = null;
  const send = () => {  // to Python in a live kernel, once per stroke or key
    const predicted = update(image);
    sync(model, "image", image ? Array.from(image, (value) => Math.min(1, value)) : []);
    sync(model, "prediction", predicted);
    verdict.announce(predicted < 0 ? "The pad is blank." : `It reads a ${predicted}.`);
  };
  const pad = drawingPad({
    penWidth: () => model.get("pen_width"), ink: () => themeColors(root).text,
    onChange: (ink) => {
      image = mnistStyle(ink, PAD_SIDE, PAD_SIDE);
      parts.seen.show(image);
      update(image);
    },
    onDone: send,
  });
  const clear = button("Clear", { className: "forcemlp-draw-clear", onClick: () => pad.clear() });
  choice.input.addEventListener("change", () => {
    sync(model, "model_index", Number(choice.input.value));
    send();
  });
  const examples = model.get("examples") ?? [];
  const padColumn = element("div", { class: "fm-draw-column fm-draw-pad-column" }, pad.node,
    element("div", { class: "fm-controls fm-buttons" }, clear,
            ...(examples.length ? [exampleMenu(examples, (digit) => pad.showDigit(digit))] : [])),
    pad.help);
  root.append(element("div", { class: "fm-draw-columns" }, padColumn,
    element("div", { class: "fm-draw-column" }, note("What the network sees (28×28)"),
      parts.seen.canvas,
      note(`${stripNetwork.name}: its ${stripNetwork.layerSizes[1]} hidden units`),
      parts.strip.node),
    element("div", { class: "fm-draw-column fm-draw-answer" }, choice, verdict.node,
            parts.bars.node)));
  el.replaceChildren(root);
  update(null);
  return followTheme(() => pad.recolor());
}

export default { render: guarded(render) };
