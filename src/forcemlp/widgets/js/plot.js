// forcemlp's widget kit, the drawing half: crisp canvases in the page's theme colours, axes
// whose text never collides, and markers that stay visible on any background. Like ui.js,
// nothing here touches the DOM until called.
//
// API:
//   plot(label, { width, height, focusable, className })
//       { node, canvas, context, resize(width, height), size() }: a canvas scaled by
//       devicePixelRatio inside <div class="fm-plot">; `label` is its accessible name;
//       focusable: true makes it a keyboard target (role "application", tabindex 0) whose
//       handlers the widget adds
//   themeColors(node)  { text, muted, border, grid, background, surface, accent, danger,
//       success, warning, shade, resolved }: the kit's CSS colours (widget.css: --fm-*, taken
//       from the pydata/sphinx-book theme's --pst-color-*) as canvas colour strings, read now;
//       resolved: false while node is not in a styled page yet (read again before drawing)
//   followTheme(callback)  callback() whenever the page switches light/dark (the book's
//       html[data-theme], JupyterLab's body[data-jp-theme-light], the system preference);
//       returns stop()
//   SHAPES, shapePoints(shape, x, y, radius), marker(context, shape, x, y, { fill, colors,
//       radius }): series markers (circle, square, triangle, diamond, down, pentagon, hexagon,
//       star, cross); each drawn with a halo of the background and a ring of the text colour
//   FONT, fitText(context, text, width): the canvas font; text shortened with "…" to fit
//   Axes.fit(context, size, xRange, yRange, { colors, transform, xTicks, yTicks })
//       axes whose box leaves room for the measured tick labels and axis titles; then
//       axes.x(v), axes.y(v), axes.invert(px, py), axes.contains(px, py), axes.pinned(x, y)
//       (the pixel of a point, pulled inside the box: for markers of points off the plot),
//       axes.clip() (pair it
//       with context.restore()), axes.decorate({ title, xLabel, yLabel }) (tick labels that
//       would overlap are skipped; the title is shortened to fit)
//   niceTicks(low, high, count), formatTick(value)

import { crispCanvas, element } from "./widget.js";

export const FONT = "12px system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
const LINE = 14;  // px: one line of canvas text
const TICK = 4;
const GAP = 4;

export function plot(label, { width, height, focusable = false, className = "" }) {
  const { canvas, context, resize } = crispCanvas(width, height, label);
  if (focusable) {
    canvas.setAttribute("role", "application");
    canvas.setAttribute("tabindex", "0");
  }
  const node = element("div", { class: `fm-plot ${className}`.trim() }, canvas);
  return { node, canvas, context, resize, size: () => canvas.logicalSize };
}

// widget.css's light defaults: what a canvas uses until its element is styled in a page.
const LIGHT = { text: "#222832", muted: "#48566b", border: "#d1d5da", grid: "#d1d5da",
                background: "#ffffff", surface: "#f3f4f5", accent: "#0a7d91", danger: "#d72d47",
                success: "#00843f", warning: "#f66a0a", shade: "#f9e1e4" };

/** The --fm-* colours where `node` is; `resolved` is false (and the colours widget.css's
 *  light ones) while the node is not yet in a styled page: read them again then. */
export function themeColors(node) {
  const style = node.isConnected ? getComputedStyle(node) : null;
  const read = (name) => style?.getPropertyValue(`--fm-${name}`).trim() ?? "";
  const resolved = read("text") !== "";
  const colors = Object.fromEntries(Object.keys(LIGHT).map((name) =>
    [name, (resolved && read(name)) || LIGHT[name]]));
  return { ...colors, resolved };
}

export function followTheme(callback) {
  let pending = false;
  const changed = () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => { pending = false; callback(); });
  };
  const observer = new MutationObserver(changed);
  const attributeFilter = ["data-theme", "data-mode", "class", "data-jp-theme-light"];
  observer.observe(document.documentElement, { attributes: true, attributeFilter });
  if (document.body) observer.observe(document.body, { attributes: true, attributeFilter });
  const scheme = window.matchMedia?.("(prefers-color-scheme: dark)");
  scheme?.addEventListener("change", changed);
  return () => {
    observer.disconnect();
    scheme?.removeEventListener("change", changed);
  };
}

// ---- markers
export const SHAPES = ["circle", "square", "triangle", "diamond", "down", "pentagon", "hexagon",
                       "star", "cross"];

function regular(sides, x, y, radius, turn) {
  return Array.from({ length: sides }, (_, k) => {
    const angle = turn + 2 * Math.PI * k / sides;
    return [x + radius * Math.cos(angle), y + radius * Math.sin(angle)];
  });
}

/** The corners of a marker shape (not "circle") of about `radius` around (x, y). */
export function shapePoints(shape, x, y, radius) {
  const up = -Math.PI / 2;
  switch (shape) {
    case "square": return regular(4, x, y, radius * 1.2, Math.PI / 4);
    case "triangle": return regular(3, x, y + radius * 0.2, radius * 1.3, up);
    case "down": return regular(3, x, y - radius * 0.2, radius * 1.3, -up);
    case "diamond": return regular(4, x, y, radius * 1.35, up);
    case "pentagon": return regular(5, x, y, radius * 1.15, up);
    case "hexagon": return regular(6, x, y, radius * 1.1, 0);
    case "star": return regular(10, x, y, 1, up).map(([px, py], k) => {
      const reach = k % 2 === 0 ? radius * 1.6 : radius * 0.7;
      return [x + (px - x) * reach, y + (py - y) * reach];
    });
    case "cross": {
      const [a, b] = [radius * 1.3, radius * 0.45];
      return [[-b, -a], [b, -a], [b, -b], [a, -b], [a, b], [b, b], [b, a], [-b, a], [-b, b],
              [-a, b], [-a, -b], [-b, -b]].map(([dx, dy]) => [x + dx, y + dy]);
    }
    default: throw new Error(`unknown marker shape ${shape}`);
  }
}

function tracePath(context, shape, x, y, radius) {
  context.beginPath();
  if (shape === "circle") {
    context.arc(x, y, radius, 0, 2 * Math.PI);
    return;
  }
  shapePoints(shape, x, y, radius).forEach(([px, py], k) =>
    (k ? context.lineTo : context.moveTo).call(context, px, py));
  context.closePath();
}

/** A marker filled with `fill`, a halo of the background and a thin ring of the text colour:
 *  visible on the background, on a line of its own colour and on any other series. */
export function marker(context, shape, x, y, { fill, colors, radius = 4.5 }) {
  context.save();
  tracePath(context, shape, x, y, radius);
  context.lineJoin = "round";
  context.strokeStyle = colors.background;
  context.lineWidth = 4;
  context.stroke();
  context.fillStyle = fill;
  context.fill();
  context.strokeStyle = colors.text;
  context.lineWidth = 1.2;
  context.stroke();
  context.restore();
}

// ---- text and axes
export function fitText(context, text, width) {
  if (context.measureText(text).width <= width) return text;
  let kept = text;
  while (kept.length > 1 && context.measureText(`${kept}…`).width > width) {
    kept = kept.slice(0, -1);
  }
  return `${kept}…`;
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

/** Short tick labels: 0.001 → "0.001", 12000 → "1e+4". */
export function formatTick(value) {
  if (value === 0) return "0";
  const size = Math.abs(value);
  return size >= 1e4 || size < 1e-3 ? value.toExponential(0) : String(Number(value.toPrecision(3)));
}

export class Axes {
  constructor(context, box, xRange, yRange, options = {}) {
    const { transform = (value) => value, colors, xTicks, yTicks } = options;
    Object.assign(this, { context, box, xRange, yRange, transform, colors });
    this.xTicks = xTicks ?? niceTicks(...xRange);
    this.yTicks = [...(yTicks ?? niceTicks(...yRange))].sort((a, b) => a - b);
  }

  /** Axes in a canvas of `size`, the plotting box inset by what its labels measure. */
  static fit(context, size, xRange, yRange, options = {}) {
    const probe = new Axes(context, null, xRange, yRange, options);
    context.save();
    context.font = FONT;
    const widths = probe.yTicks.map((tick) => context.measureText(formatTick(tick)).width);
    const widest = Math.max(0, ...widths);
    const lastX = context.measureText(formatTick(probe.xTicks.at(-1) ?? 0)).width;
    context.restore();
    const left = Math.ceil(GAP + LINE + GAP + widest + TICK + GAP);
    const right = Math.ceil(Math.max(10, lastX / 2 + 2));
    const box = { left, top: LINE + 2 * GAP, width: size.width - left - right,
                  height: size.height - (LINE + 2 * GAP) - (TICK + 2 * LINE + 2 * GAP) };
    return new Axes(context, box, xRange, yRange, options);
  }

  x(value) {
    const [low, high] = this.xRange;
    return this.box.left + (value - low) / (high - low) * this.box.width;
  }

  y(value) {
    const [low, high] = this.yRange.map(this.transform);
    return this.box.top + (1 - (this.transform(value) - low) / (high - low)) * this.box.height;
  }

  /** Data coordinates of a CSS pixel inside the box (for untransformed axes). */
  invert(px, py) {
    const [xLow, xHigh] = this.xRange;
    const [yLow, yHigh] = this.yRange;
    return [
      xLow + (px - this.box.left) / this.box.width * (xHigh - xLow),
      yLow + (1 - (py - this.box.top) / this.box.height) * (yHigh - yLow),
    ];
  }

  /** The pixel of (x, y), pulled inside the box by `margin`: where a marker for a point off
   *  the plot goes, clear of the frame and of the text around it. */
  pinned(x, y, margin = 7) {
    const { left, top, width, height } = this.box;
    const clamp = (value, low, high) => Math.min(Math.max(value, low), high);
    const px = Number.isFinite(this.x(x)) ? this.x(x) : (x > 0 ? Infinity : -Infinity);
    const py = Number.isFinite(this.y(y)) ? this.y(y) : (y > 0 ? -Infinity : Infinity);
    return [clamp(px, left + margin, left + width - margin),
            clamp(py, top + margin, top + height - margin)];
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

  /** Frame, ticks, tick labels (those that would overlap are left out) and titles. */
  decorate({ title, xLabel, yLabel }) {
    const { context: c, box, colors } = this;
    c.save();
    c.font = FONT;
    c.strokeStyle = colors.muted;
    c.lineWidth = 1;
    c.strokeRect(box.left + 0.5, box.top + 0.5, box.width - 1, box.height - 1);
    c.fillStyle = colors.text;
    this.#xTickLabels();
    this.#yTickLabels();
    c.textAlign = "center";
    c.textBaseline = "bottom";
    c.fillText(fitText(c, xLabel, box.width), box.left + box.width / 2,
               box.top + box.height + TICK + 2 * LINE + GAP);
    c.translate(GAP + LINE / 2, box.top + box.height / 2);
    c.rotate(-Math.PI / 2);
    c.textBaseline = "middle";
    c.fillText(fitText(c, yLabel, box.height), 0, 0);
    c.restore();
    c.save();
    c.fillStyle = colors.text;
    c.font = `600 ${FONT}`;
    c.textAlign = "left";
    c.textBaseline = "alphabetic";
    const width = c.canvas.logicalSize?.width ?? box.left + box.width;
    c.fillText(fitText(c, title, width - box.left), box.left, box.top - GAP - 2);
    c.restore();
  }

  #xTickLabels() {
    const { context: c, box } = this;
    c.textAlign = "center";
    c.textBaseline = "top";
    let freeFrom = -Infinity;
    for (const tick of this.xTicks) {
      const px = this.x(tick);
      if (px < box.left - 0.5 || px > box.left + box.width + 0.5) continue;
      c.fillRect(px - 0.5, box.top + box.height, 1, TICK);
      const text = formatTick(tick);
      const half = c.measureText(text).width / 2;
      if (px - half < freeFrom) continue;
      c.fillText(text, px, box.top + box.height + TICK + 2);
      freeFrom = px + half + GAP;
    }
  }

  #yTickLabels() {
    const { context: c, box } = this;
    c.textAlign = "right";
    c.textBaseline = "middle";
    let freeAbove = Infinity;
    for (const tick of this.yTicks) {  // low to high: bottom to top
      const py = this.y(tick);
      if (py < box.top - 0.5 || py > box.top + box.height + 0.5) continue;
      c.fillRect(box.left - TICK, py - 0.5, TICK, 1);
      if (py + LINE / 2 > freeAbove) continue;
      c.fillText(formatTick(tick), box.left - TICK - 2, py);
      freeAbove = py - LINE / 2;
    }
  }
}
