// Walking a surface with an optimizer, as forcemlp.descent.descend does, and the learning
// rate each optimizer's "×1" stands for (forcemlp.descent.base_learning_rate).
// A surface here is its state from Python: {name, x_range, y_range, start, gradient_noise}.

import { makeOptimizer } from "./optimizers.js";
import { surface as surfaceFunctions } from "./surfaces.js";

// A step counts as divergence when it is not finite or lands this many windows from the view.
export const ESCAPE_WINDOWS = 100;
// Optimizers whose step is η × gradient: "×1" is 1/L (L the largest curvature at the start).
export const CURVATURE_SCALED = ["gd", "sgd", "momentum", "nesterov"];
// Adaptive optimizers move about η per step: "×1" is this fraction of the view's width.
export const VIEW_FRACTION = { adagrad: 0.1, adadelta: 2.0, rmsprop: 0.01, adam: 0.02 };
const CURVATURE_OFFSET = 1e-4;

function escaped(spec, functions, x, y) {
  if (!(Number.isFinite(x) && Number.isFinite(y) && Number.isFinite(functions.value(x, y)))) {
    return true;
  }
  return [[x, spec.x_range], [y, spec.y_range]].some(([value, [low, high]]) =>
    Math.abs(value - (low + high) / 2) > ESCAPE_WINDOWS * (high - low));
}

/** Largest |eigenvalue| of the Hessian at (x, y), by central differences of the gradient. */
export function largestCurvature(name, [x, y]) {
  const { gradient } = surfaceFunctions(name);
  const h = CURVATURE_OFFSET;
  const rows = [[x + h, y, x - h, y], [x, y + h, x, y - h]].map(([x1, y1, x2, y2]) => {
    const [forward, backward] = [gradient(x1, y1), gradient(x2, y2)];
    return [0, 1].map((k) => (forward[k] - backward[k]) / (2 * h));
  });
  const [a, c] = [rows[0][0], rows[1][1]];
  const b = (rows[0][1] + rows[1][0]) / 2;
  const spread = Math.sqrt(((a - c) / 2) ** 2 + b ** 2);
  return Math.max(Math.abs((a + c) / 2 + spread), Math.abs((a + c) / 2 - spread));
}

/** The learning rate "×1" stands for: 1/L for gradient-style optimizers, else a view fraction. */
export function baseLearningRate(spec, optimizerName, start = spec.start) {
  if (CURVATURE_SCALED.includes(optimizerName)) {
    return 1 / largestCurvature(spec.name, start);
  }
  const widths = [spec.x_range, spec.y_range].map(([low, high]) => high - low);
  return VIEW_FRACTION[optimizerName] * Math.min(...widths);
}

/**
 * `steps` optimizer steps down the surface from `start`: {points, losses, divergedAt}.
 * points has steps + 1 entries [x, y]; after a divergence the last good point repeats.
 */
export function descend(optimizerName, spec, learningRate, steps, options = {}) {
  const { momentum = 0.9, seed = 0, start = spec.start } = options;
  const functions = surfaceFunctions(spec.name);
  const optimizer = makeOptimizer(optimizerName, learningRate, {
    momentum, seed, noiseScale: spec.gradient_noise,
  });
  let point = Float64Array.from(start);
  const points = [Array.from(point)];
  let divergedAt = null;
  for (let step = 1; step <= steps; step += 1) {
    const candidate = divergedAt === null
      ? optimizer.step(point, functions.gradient(point[0], point[1]))
      : point;
    if (divergedAt === null && escaped(spec, functions, candidate[0], candidate[1])) {
      divergedAt = step;
    } else {
      point = candidate;
    }
    points.push(Array.from(point));
  }
  const losses = points.map(([x, y]) => functions.value(x, y));
  return { points, losses, divergedAt };
}
