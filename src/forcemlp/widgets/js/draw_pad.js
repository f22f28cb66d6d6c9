// The drawing pad: a canvas for mouse, pen and finger (touch draws and never scrolls the
// page), and a keyboard route: arrow keys move a pen cursor, Space puts the pen down or lifts
// it, E turns it into an eraser; showDigit() puts a 28×28 digit on the pad to edit. The ink
// is the canvas's alpha (its colour follows the theme), read as values in [0, 1].
//
//   const pad = drawingPad({ penWidth: () => 22, ink: () => "#000", onChange, onDone });
//   pad.node, pad.help;  pad.clear();  pad.showDigit(pixels);  pad.recolor();
//   onChange(ink) while drawing (at most once a frame); onDone() after a stroke or a key.

import { element, frameScheduler } from "./widget.js";
import { note, uniqueId } from "./ui.js";

export const PAD_SIDE = 280;     // canvas pixels (digits.js reads 280×280 ink)
const KEY_STEP = 10;             // one MNIST pixel of a digit put on the pad
const DIGIT_SIDE = 28;
const MARGIN = 5;                // the cursor stays this far inside the pad
const PEN_NAMES = { up: "pen lifted", draw: "pen down, drawing", erase: "eraser down" };
const PAD_CSS = `
.forcemlp-draw .fm-pad-box { position: relative; width: ${PAD_SIDE}px; max-width: 100%; }
.forcemlp-draw .forcemlp-draw-pad { display: block; width: 100%; aspect-ratio: 1;
  border: 1px solid var(--fm-border); border-radius: 6px; background: var(--fm-surface);
  touch-action: none; cursor: crosshair; }
.forcemlp-draw .fm-pad-cursor { position: absolute; width: 22px; height: 22px; margin: -11px;
  border: 2px solid var(--fm-accent); border-radius: 50%; pointer-events: none; display: none; }
.forcemlp-draw .forcemlp-draw-pad:focus-visible + .fm-pad-cursor { display: block; }
.forcemlp-draw .fm-pad-cursor[data-pen="draw"] { background: var(--fm-accent); }
.forcemlp-draw .fm-pad-cursor[data-pen="erase"] { border-style: dashed; }`;

function installPadStyles() {
  if (document.getElementById("forcemlp-draw-pad-css")) return;
  document.head.append(element("style", { id: "forcemlp-draw-pad-css" }, PAD_CSS));
}

/** The ink of the whole canvas: alpha / 255, row-major. */
function readInk(context) {
  const { data } = context.getImageData(0, 0, PAD_SIDE, PAD_SIDE);
  const ink = new Float64Array(PAD_SIDE * PAD_SIDE);
  for (let index = 0; index < ink.length; index++) ink[index] = data[4 * index + 3] / 255;
  return ink;
}

/** A line (or a dot, from == to) with a round pen; erasing removes ink instead. */
function stroke(context, from, to, { width, color, erase }) {
  Object.assign(context, { lineWidth: width, lineCap: "round", lineJoin: "round",
    strokeStyle: color, globalCompositeOperation: erase ? "destination-out" : "source-over" });
  context.beginPath();
  context.moveTo(...from);
  context.lineTo(...to);
  context.stroke();
  context.globalCompositeOperation = "source-over";
}

/** Mouse, pen and finger: pointer events, captured, with the page kept still. */
function followPointer(canvas, draw, settle) {
  let last = null;
  const point = (event) => {
    const box = canvas.getBoundingClientRect();
    return [(event.clientX - box.left) * PAD_SIDE / box.width,
            (event.clientY - box.top) * PAD_SIDE / box.height];
  };
  canvas.addEventListener("pointerdown", (event) => {
    event.preventDefault();
    canvas.setPointerCapture(event.pointerId);
    last = point(event);
    draw(last, last, false);
  });
  canvas.addEventListener("pointermove", (event) => {
    if (last === null) return;
    const next = point(event);
    draw(last, next, false);
    last = next;
  });
  const end = () => {
    if (last === null) return;
    last = null;
    settle();
  };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);
}

const MOVES = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };

/** The keyboard: a cursor the arrow keys move, drawing or erasing behind it while the pen is
 *  down. */
function followKeys(canvas, cursor, draw, settle, announce) {
  let at = [PAD_SIDE / 2, PAD_SIDE / 2];
  let pen = "up";
  const place = () => {
    const [left, top] = at.map((value) => `${100 * value / PAD_SIDE}%`);
    Object.assign(cursor.style, { left, top });
    cursor.dataset.pen = pen;
  };
  const setPen = (next) => {
    pen = next;
    if (pen !== "up") draw(at, at, pen === "erase");
    announce(PEN_NAMES[pen]);
  };
  canvas.addEventListener("keydown", (event) => {
    const move = MOVES[event.key];
    if (move) {
      const step = KEY_STEP * (event.shiftKey ? 3 : 1);
      const next = at.map((value, axis) =>
        Math.min(PAD_SIDE - MARGIN, Math.max(MARGIN, value + move[axis] * step)));
      if (pen !== "up") draw(at, next, pen === "erase");
      at = next;
    } else if (event.key === " " || event.key === "Enter") {
      setPen(pen === "draw" ? "up" : "draw");
    } else if (event.key === "e" || event.key === "E") {
      setPen(pen === "erase" ? "up" : "erase");
    } else if (event.key === "Escape" && pen !== "up") {
      setPen("up");
    } else {
      return;
    }
    event.preventDefault();
    place();
    settle();
  });
  place();
  return { centre: () => { at = [PAD_SIDE / 2, PAD_SIDE / 2]; pen = "up"; place(); } };
}

export function drawingPad({ penWidth, ink, onChange, onDone }) {
  installPadStyles();
  const helpId = uniqueId("fm-pad-help");
  const canvas = element("canvas", {
    width: PAD_SIDE, height: PAD_SIDE, class: "forcemlp-draw-pad", tabindex: "0",
    role: "application", "aria-roledescription": "drawing pad",
    "aria-label": "Drawing pad: draw one digit", "aria-describedby": helpId,
  });
  const cursor = element("div", { class: "fm-pad-cursor", "aria-hidden": "true" });
  const state = element("span", { class: "fm-visually-hidden", "aria-live": "polite" });
  const help = note("Mouse, pen or finger: draw in the box. Keyboard: pick a test digit, then"
    + " Tab to the pad; arrow keys move the pen (Shift: further), Space puts it down or lifts"
    + " it, E erases.", "fm-pad-help");
  help.id = helpId;
  const context = canvas.getContext("2d", { willReadFrequently: true });
  const changed = frameScheduler(() => onChange(readInk(context)));
  const draw = (from, to, erase) => {
    stroke(context, from, to, { width: penWidth(), color: ink(), erase });
    changed();
  };
  const redraw = () => { onChange(readInk(context)); onDone(); };  // now, not next frame
  followPointer(canvas, draw, redraw);
  const keys = followKeys(canvas, cursor, draw, redraw, (text) => { state.textContent = text; });
  return {
    node: element("div", { class: "fm-pad-box" }, canvas, cursor, state),
    help,
    clear() { context.clearRect(0, 0, PAD_SIDE, PAD_SIDE); keys.centre(); redraw(); },
    showDigit(pixels) {  // 28×28 values in [0, 1], each a 10×10 square of ink
      const small = element("canvas", { width: DIGIT_SIDE, height: DIGIT_SIDE });
      const smallContext = small.getContext("2d");
      const picture = smallContext.createImageData(DIGIT_SIDE, DIGIT_SIDE);
      pixels.forEach((value, index) => { picture.data[4 * index + 3] = Math.round(255 * value); });
      smallContext.putImageData(picture, 0, 0);
      context.clearRect(0, 0, PAD_SIDE, PAD_SIDE);
      context.imageSmoothingEnabled = false;
      context.drawImage(small, 0, 0, PAD_SIDE, PAD_SIDE);
      this.recolor();
      keys.centre();
      redraw();
    },
    recolor() {  // the ink keeps its shape (alpha) and takes the theme's text colour
      context.globalCompositeOperation = "source-in";
      context.fillStyle = ink();
      context.fillRect(0, 0, PAD_SIDE, PAD_SIDE);
      context.globalCompositeOperation = "source-over";
    },
  };
}
