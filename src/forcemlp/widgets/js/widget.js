// What every forcemlp widget's front-end shares: syncing a trait back to Python, controls
// built from plain DOM, canvases that stay crisp at any devicePixelRatio, axes with ticks, and
// a guard that shows a one-line error where the widget should be instead of an empty space.

export const FONT = "12px system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";

/** Set a trait here and, in a live kernel, in Python too (a no-op sync on a static page). */
export function sync(model, name, value) {
  model.set(name, value);
  model.save_changes();
}

/** A DOM element with attributes (`style` may be an object) and children (nodes or text). */
export function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "style" && typeof value === "object") Object.assign(node.style, value);
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value);
  }
  node.append(...children);
  return node;
}

/**
 * A labelled range input. `log: true` makes it move along log10 of the value, so every
 * decade gets the same room; `format` writes the value beside it.
 */
export function slider(label, { min, max, step, value, log = false, format = String, onInput }) {
  const toSlider = (number) => (log ? Math.log10(number) : number);
  const fromSlider = (number) => (log ? 10 ** number : number);
  const input = element("input", {
    type: "range", min: toSlider(min), max: toSlider(max), step, "aria-label": label,
  });
  input.value = toSlider(value);
  const readout = element("output", { style: { minWidth: "4.5em", display: "inline-block" } });
  const show = (number) => { readout.textContent = format(number); };
  show(value);
  input.addEventListener("input", () => {
    const number = fromSlider(Number(input.value));
    show(number);
    onInput(number);
  });
  const control = element("label", { class: "forcemlp-control" }, `${label} `, input, readout);
  control.setValue = (number) => { input.value = toSlider(number); show(number); };
  return control;
}

/**
 * A canvas of the given CSS size whose pixels match the screen's: crisp on any display.
 * `resize(width, height)` changes both (and clears it).
 */
export function crispCanvas(width, height, label) {
  const canvas = element("canvas", { role: "img", "aria-label": label });
  const context = canvas.getContext("2d");
  function resize(newWidth, newHeight) {
    const ratio = window.devicePixelRatio || 1;
    canvas.width = Math.round(newWidth * ratio);
    canvas.height = Math.round(newHeight * ratio);
    Object.assign(canvas.style, { width: `${newWidth}px`, height: `${newHeight}px` });
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    canvas.logicalSize = { width: newWidth, height: newHeight };
  }
  resize(width, height);
  return { canvas, context, resize };
}

/**
 * Calls `layout(width)` with the element's width now and whenever it changes (a narrow
 * book column, a phone, a resized notebook), so panels can be drawn at the size they show.
 */
export function followWidth(node, layout) {
  let last = null;
  const observer = new ResizeObserver(() => {
    const width = node.clientWidth;
    if (width > 0 && width !== last) {
      last = width;
      layout(width);
    }
  });
  observer.observe(node);
  return () => observer.disconnect();
}

/** A plotting box inside a panel: margins for tick labels left and below, a title above. */
export function plotBox({ width, height }, left = 52) {
  return { left, top: 26, width: width - left - 14, height: height - 74 };
}

/** The canvas point (CSS pixels of its logical size) under a mouse event. */
export function canvasPoint(canvas, event) {
  const box = canvas.getBoundingClientRect();
  return [
    (event.clientX - box.left) * canvas.logicalSize.width / box.width,
    (event.clientY - box.top) * canvas.logicalSize.height / box.height,
  ];
}

/** About `count` round tick values between low and high. */
export function niceTicks(low, high, count = 5) {
  const span = high - low;
  if (!(span > 0) || !Number.isFinite(span)) return [low];
  const raw = span / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((factor) => factor * magnitude).find((size) => size >= raw);
  const ticks = [];
  for (let tick = Math.ceil(low / step) * step; tick <= high + step * 1e-9; tick += step) {
    ticks.push(Math.abs(tick) < step * 1e-9 ? 0 : tick);
  }
  return ticks;
}

/** Short tick labels: 0.001 → "0.001", 12000 → "1.2e+4". */
export function formatTick(value) {
  if (value === 0) return "0";
  const size = Math.abs(value);
  return size >= 1e4 || size < 1e-3 ? value.toExponential(0) : String(Number(value.toPrecision(3)));
}

/**
 * A plotting box inside a canvas: maps data to CSS pixels and draws a frame, ticks, labels
 * and a title. `transform` (e.g. a symlog) maps y values before they are scaled.
 */
export class Axes {
  constructor(context, box, xRange, yRange, { transform = (value) => value } = {}) {
    Object.assign(this, { context, box, xRange, yRange, transform });
  }

  x(value) {
    const [low, high] = this.xRange;
    return this.box.left + (value - low) / (high - low) * this.box.width;
  }

  y(value) {
    const [low, high] = this.yRange.map(this.transform);
    return this.box.top + (1 - (this.transform(value) - low) / (high - low)) * this.box.height;
  }

  /** Data coordinates of a CSS pixel inside the box. */
  invert(px, py) {
    const [xLow, xHigh] = this.xRange;
    const [yLow, yHigh] = this.yRange;
    return [
      xLow + (px - this.box.left) / this.box.width * (xHigh - xLow),
      yLow + (1 - (py - this.box.top) / this.box.height) * (yHigh - yLow),
    ];
  }

  contains(px, py) {
    const { left, top, width, height } = this.box;
    return px >= left && px <= left + width && py >= top && py <= top + height;
  }

  clip() {
    const { left, top, width, height } = this.box;
    this.context.save();
    this.context.beginPath();
    this.context.rect(left, top, width, height);
    this.context.clip();
  }

  /** Frame, ticks and labels; `yTicks` defaults to round values of the y range. */
  decorate({ title, xLabel, yLabel, yTicks = niceTicks(...this.yRange) }) {
    const { context: c, box } = this;
    c.save();
    c.strokeStyle = "#444";
    c.lineWidth = 1;
    c.strokeRect(box.left, box.top, box.width, box.height);
    c.fillStyle = "#222";
    c.font = FONT;
    c.textAlign = "center";
    c.textBaseline = "top";
    for (const tick of niceTicks(...this.xRange)) {
      const px = this.x(tick);
      c.fillRect(px, box.top + box.height, 1, 4);
      c.fillText(formatTick(tick), px, box.top + box.height + 6);
    }
    c.fillText(xLabel, box.left + box.width / 2, box.top + box.height + 22);
    c.textAlign = "right";
    c.textBaseline = "middle";
    for (const tick of yTicks) {
      const py = this.y(tick);
      if (py < box.top - 0.5 || py > box.top + box.height + 0.5) continue;
      c.fillRect(box.left - 4, py, 4, 1);
      c.fillText(formatTick(tick), box.left - 6, py);
    }
    c.translate(box.left - 44, box.top + box.height / 2);
    c.rotate(-Math.PI / 2);
    c.textAlign = "center";
    c.fillText(yLabel, 0, 0);
    c.restore();
    c.save();
    c.fillStyle = "#222";
    c.font = `bold ${FONT}`;
    c.textAlign = "center";
    c.textBaseline = "bottom";
    c.fillText(title, box.left + box.width / 2, box.top - 6);
    c.restore();
  }
}

/**
 * Wraps a widget's render so that an error shows as one line where the widget should be
 * (and in the console), never as an empty space.
 */
export function guarded(render) {
  return (context) => {
    try {
      return render(context);
    } catch (error) {
      console.error(error);
      context.el.replaceChildren(element("p", { class: "forcemlp-widget-error" },
        `This widget failed to start: ${error.message}`));
      return undefined;
    }
  };
}

/** Runs `draw` at most once per animation frame however often `request` is called. */
export function frameScheduler(draw) {
  let pending = false;
  return function request() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      draw();
    });
  };
}
