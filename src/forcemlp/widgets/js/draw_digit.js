// The draw-a-digit widget: a canvas for mouse, pen or finger, the 28×28 image the network
// sees, and the book's trained networks reading it: ten probability bars, the predicted digit
// and the hidden units of the article's model as a strip that changes while the reader draws.
//
// State (forcemlp.widgets.draw.DigitDrawing): `models` (exported by forcemlp.model_export),
// `model_index` (the one the bars show), `pen_width`; back to Python: `image` (784 values,
// row-major, [] while the canvas is blank) and `prediction` (-1 while blank). The root element
// carries data-prediction (empty while blank) and data-model for scripts and tests.

import { mnistStyle, decodeModel, predict } from "./digits.js";
import { element, sync, frameScheduler, guarded, FONT } from "./widget.js";

const CANVAS_SIDE = 280;
const PREVIEW_SCALE = 5;
const IMAGE_SIDE = 28;

function blankInk(context) {
  const { data } = context.getImageData(0, 0, CANVAS_SIDE, CANVAS_SIDE);
  const ink = new Float64Array(CANVAS_SIDE * CANVAS_SIDE);
  for (let index = 0; index < ink.length; index++) ink[index] = data[4 * index + 3] / 255;
  return ink;
}

function drawingPad(penWidth, onChange, onStrokeEnd) {
  const canvas = element("canvas", {
    width: CANVAS_SIDE, height: CANVAS_SIDE, class: "forcemlp-draw-pad", role: "img",
    "aria-label": "Drawing area: draw one digit with the mouse, a pen or a finger",
    style: { width: `${CANVAS_SIDE}px`, height: `${CANVAS_SIDE}px`, border: "1px solid #888",
             borderRadius: "4px", background: "#fff", touchAction: "none", cursor: "crosshair" },
  });
  const context = canvas.getContext("2d", { willReadFrequently: true });
  let last = null;
  const point = (event) => {
    const box = canvas.getBoundingClientRect();
    return [(event.clientX - box.left) * CANVAS_SIDE / box.width,
            (event.clientY - box.top) * CANVAS_SIDE / box.height];
  };
  const line = (from, to) => {
    Object.assign(context, { lineWidth: penWidth(), lineCap: "round", lineJoin: "round",
                             strokeStyle: "#000" });
    context.beginPath();
    context.moveTo(...from);
    context.lineTo(...to);
    context.stroke();
    onChange();
  };
  canvas.addEventListener("pointerdown", (event) => {
    event.preventDefault();
    canvas.setPointerCapture(event.pointerId);
    last = point(event);
    line(last, last);
  });
  canvas.addEventListener("pointermove", (event) => {
    if (last === null) return;
    const next = point(event);
    line(last, next);
    last = next;
  });
  const end = () => {
    if (last === null) return;
    last = null;
    onStrokeEnd();
  };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);
  const clear = () => context.clearRect(0, 0, CANVAS_SIDE, CANVAS_SIDE);
  return { canvas, context, clear };
}

function preview() {
  const canvas = element("canvas", {
    width: IMAGE_SIDE, height: IMAGE_SIDE, role: "img",
    "aria-label": "The 28 by 28 image the network sees",
    style: { width: `${IMAGE_SIDE * PREVIEW_SCALE}px`, height: `${IMAGE_SIDE * PREVIEW_SCALE}px`,
             imageRendering: "pixelated", border: "1px solid #888", background: "#000" },
  });
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

function probabilityBars() {
  const rows = Array.from({ length: 10 }, (_, digit) => {
    const bar = element("div", { style: { height: "14px", width: "0px", background: "#1f77b4",
                                          transition: "width 60ms linear" } });
    const value = element("span", { style: { minWidth: "3.5em", textAlign: "right" } }, "");
    const row = element("div", { class: "forcemlp-draw-bar", "data-digit": digit,
                                 style: { display: "flex", alignItems: "center", gap: "6px" } },
      element("span", { style: { width: "1em", fontWeight: "bold" } }, String(digit)),
      element("div", { style: { width: "160px", background: "#eee" } }, bar), value);
    return { row, bar, value };
  });
  const show = (probabilities, predicted) => rows.forEach(({ bar, value }, digit) => {
    const probability = probabilities ? probabilities[digit] : 0;
    bar.style.width = `${Math.round(160 * probability)}px`;
    bar.style.background = digit === predicted ? "#d62728" : "#1f77b4";
    value.textContent = probabilities ? `${(100 * probability).toFixed(1)}%` : "";
  });
  return { node: element("div", { role: "list", "aria-label": "Probability of each digit" },
                         ...rows.map(({ row }) => row)), show };
}

function hiddenStrip(units) {
  const cells = Array.from({ length: units }, (_, unit) => element("div", {
    class: "forcemlp-draw-unit", title: `hidden unit ${unit + 1}`,
    style: { width: "16px", height: "24px", background: "#fff", border: "1px solid #ccc" },
  }));
  const show = (activations) => cells.forEach((cell, unit) => {
    const largest = activations ? Math.max(...activations, 1e-9) : 1;
    const level = activations ? Math.round(255 * (1 - activations[unit] / largest)) : 255;
    cell.style.background = `rgb(${level}, ${level}, 255)`;
    cell.title = `hidden unit ${unit + 1}: ${activations ? activations[unit].toFixed(2) : "—"}`;
  });
  return { node: element("div", { style: { display: "flex", gap: "2px" } }, ...cells), show };
}

function render({ model, el }) {
  const models = model.get("models").map(decodeModel);
  if (models.length === 0) throw new Error("no trained model was given to the widget");
  // The strip shows the article's model: the first with a single hidden layer.
  const stripModel = models.find((candidate) => candidate.layers.length === 2) || models[0];
  const root = element("div", { class: "forcemlp-draw", "data-prediction": "",
                                style: { font: FONT, display: "flex", flexWrap: "wrap", gap: "16px" } });
  const bars = probabilityBars();
  const strip = hiddenStrip(stripModel.layers[0].outputs);
  const seen = preview();
  const verdict = element("div", { class: "forcemlp-draw-verdict",
                                   style: { fontSize: "32px", fontWeight: "bold", minHeight: "40px" } });
  const choice = element("select", { "aria-label": "network" },
    ...models.map((entry, index) => element("option", { value: index }, entry.name)));
  choice.value = String(model.get("model_index"));
  let image = null;

  const update = () => {
    const current = models[Number(choice.value)];
    const result = image ? predict(current, image) : null;
    const predicted = result ? result.probabilities.indexOf(Math.max(...result.probabilities)) : -1;
    bars.show(result && result.probabilities, predicted);
    verdict.textContent = result ? `It reads a ${predicted}` : "Draw a digit";
    strip.show(image ? predict(stripModel, image).hidden[0] : null);
    root.dataset.prediction = result ? String(predicted) : "";
    root.dataset.model = current.name;
    return predicted;
  };
  const send = () => {  // to Python in a live kernel, once per stroke
    sync(model, "image", image ? Array.from(image) : []);
    sync(model, "prediction", update());
  };
  const pad = drawingPad(() => model.get("pen_width"), frameScheduler(() => {
    image = mnistStyle(blankInk(pad.context), CANVAS_SIDE, CANVAS_SIDE);
    seen.show(image);
    update();
  }), send);
  const clear = element("button", { type: "button", class: "forcemlp-draw-clear", onclick: () => {
    pad.clear();
    image = null;
    seen.show(null);
    send();
  } }, "Clear");
  choice.addEventListener("change", () => {
    sync(model, "model_index", Number(choice.value));
    send();
  });

  const caption = (text) => element("div", { style: { fontSize: "12px", color: "#444" } }, text);
  root.append(
    element("div", {}, caption("Draw one digit here"), pad.canvas, element("div", {}, clear)),
    element("div", {}, caption("What the network sees (28×28)"), seen.canvas,
            caption(`${stripModel.name}: its ${stripModel.layers[0].outputs} hidden units`),
            strip.node),
    element("div", {}, element("label", {}, "Network ", choice), verdict, bars.node),
  );
  el.replaceChildren(root);
  update();
}

export default { render: guarded(render) };
