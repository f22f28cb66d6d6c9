// The playground's pictures: the plane as a heat map (the network's answer, or one neuron's
// values), its points as markers that stay visible on any background, the loss curves.
// Nothing touches the DOM until a painter is made, so the module imports anywhere.
//
//   const painter = gridPainter();            // one offscreen GRID×GRID canvas
//   painter.paint(context, values, scale, size, palette);
//   const points = pointsLayer(); points(context, data, size, colors);   // cached markers
//   drawLosses(context, size, curve, step, colors);

import { Axes, marker } from "./plot.js";
import { PLANE_RADIUS } from "./toy_data.js";

export const GRID = 40;  // heat-map cells per side (smoothed when scaled up)
// Okabe and Ito's colour-blind-safe orange and blue: class 0 and class 1.
export const CLASS_COLORS = ["#e69f00", "#0072b2"];
export const LOSS_COLORS = { train: "#0072b2", test: "#d55e00" };  // blue, vermillion
export const POINT_SHAPES = { train: "circle", test: "triangle" };

/** The plane's grid points, flat [x0, y0, ...], row 0 at the top (y = +6). */
export function gridPoints() {
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

/** A CSS colour as [r, g, b], read back from a 1×1 canvas (any syntax the browser knows). */
export function rgb(color) {
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = 1;
  const context = canvas.getContext("2d", { willReadFrequently: true });
  context.fillStyle = color;
  context.fillRect(0, 0, 1, 1);
  return Array.from(context.getImageData(0, 0, 1, 1).data.slice(0, 3));
}

/** The heat map's colours: class 0 at -1, the page's background at 0, class 1 at +1. */
export function heatPalette(background) {
  const [negative, positive] = CLASS_COLORS.map(rgb);
  return { negative, neutral: rgb(background), positive };
}

/** Paints GRID×GRID values (divided by `scale` into [-1, 1]) scaled up to `size` pixels. */
export function gridPainter() {
  const offscreen = document.createElement("canvas");
  offscreen.width = offscreen.height = GRID;
  const offscreenContext = offscreen.getContext("2d");
  const image = offscreenContext.createImageData(GRID, GRID);
  function paint(context, values, scale, size, palette) {
    const pixels = image.data;
    const { negative, neutral, positive } = palette;
    for (let index = 0; index < GRID * GRID; index++) {
      const value = values[index] / scale;
      const amount = Math.min(1, Math.abs(value)) || 0;
      const end = value < 0 ? negative : positive;
      const offset = 4 * index;
      for (let channel = 0; channel < 3; channel++) {
        pixels[offset + channel] = neutral[channel] + (end[channel] - neutral[channel]) * amount;
      }
      pixels[offset + 3] = 255;
    }
    offscreenContext.putImageData(image, 0, 0);
    context.imageSmoothingEnabled = true;
    context.drawImage(offscreen, 0, 0, size, size);
  }
  return { paint };
}

/** One unit's values over the grid (from a forward pass of the grid) and their largest size. */
export function neuronValues(passed, layer, unit, width) {
  const values = passed.layerInputs[layer + 1];
  const picked = new Float64Array(GRID * GRID);
  let largest = 1e-12;
  for (let index = 0; index < picked.length; index++) {
    picked[index] = values[index * width + unit];
    largest = Math.max(largest, Math.abs(picked[index]));
  }
  return [picked, largest];
}

/** p(class 1) - p(class 0) over the grid, in [-1, 1]. */
export function answerValues(passed) {
  const values = new Float64Array(GRID * GRID);
  for (let index = 0; index < values.length; index++) {
    values[index] = 2 * Math.exp(passed.logProbabilities[2 * index + 1]) - 1;
  }
  return values;
}

/** Training points as circles, test points as triangles, in their class colour, each with a
 *  halo of the background and a ring of the text colour (plot.js's markers). */
function drawPoints(context, data, size, colors) {
  const toPixel = (value) => (value + PLANE_RADIUS) * size / (2 * PLANE_RADIUS);
  for (const part of ["train", "test"]) {
    const { points, labels } = data[part];
    points.forEach(([x, y], index) => {
      marker(context, POINT_SHAPES[part], toPixel(x), size - toPixel(y),
             { fill: CLASS_COLORS[labels[index]], colors, radius: 3.5 });
    });
  }
}

/** drawPoints once into an offscreen canvas (again only for new data, colours or screen), then
 *  a copy of it each frame: hundreds of haloed markers cost one drawImage. */
export function pointsLayer() {
  let cached = null;
  let made = {};
  return function draw(context, data, size, colors) {
    const ratio = window.devicePixelRatio || 1;
    if (made.data !== data || made.colors !== colors || made.ratio !== ratio) {
      cached = document.createElement("canvas");
      cached.width = cached.height = Math.round(size * ratio);
      const cachedContext = cached.getContext("2d");
      cachedContext.scale(ratio, ratio);
      drawPoints(cachedContext, data, size, colors);
      made = { data, colors, ratio };
    }
    context.drawImage(cached, 0, 0, size, size);
  };
}

/** Train and test loss against steps; values past the top are drawn at the top. */
export function drawLosses(context, size, curve, step, colors) {
  context.clearRect(0, 0, size.width, size.height);
  const finite = [...curve.train, ...curve.test].filter(Number.isFinite);
  const top = Math.max(1e-3, Math.min(Math.max(...finite, 0.1), 10 * curve.train[0]));
  const axes = Axes.fit(context, size, [0, Math.max(10, step)], [0, top], { colors });
  axes.clip();
  for (const part of ["train", "test"]) {
    context.beginPath();
    context.strokeStyle = LOSS_COLORS[part];
    context.lineWidth = 2;
    context.setLineDash(part === "test" ? [6, 3] : []);
    curve[part].forEach((value, index) => {
      const y = axes.y(Number.isFinite(value) ? Math.min(value, top) : top);
      const x = axes.x(curve.steps[index]);
      if (index === 0) context.moveTo(x, y);
      else context.lineTo(x, y);
    });
    context.stroke();
  }
  context.restore();
  axes.decorate({ title: "Loss while training", xLabel: "training step",
                  yLabel: "cross-entropy" });
}
