// The 2-D loss surfaces of forcemlp.surfaces.SURFACES: f(x, y) and its gradient, written with
// the same operations in the same order as the NumPy twin, so both give the same numbers.
// Plotting windows, starts and minima come from Python with the widget's state (one truth).

function beale(x, y) {
  const r1 = 1.5 - x + x * y;
  const r2 = 2.25 - x + x * y ** 2;
  const r3 = 2.625 - x + x * y ** 3;
  return r1 ** 2 + r2 ** 2 + r3 ** 2;
}

function bealeGradient(x, y) {
  const residuals = [[1, 1.5 - x + x * y], [2, 2.25 - x + x * y ** 2], [3, 2.625 - x + x * y ** 3]];
  let dx = 0;
  let dy = 0;
  for (const [power, r] of residuals) {
    dx += 2 * r * (y ** power - 1);
    dy += 2 * r * x * power * y ** (power - 1);
  }
  return [dx, dy];
}

export const SURFACES = {
  ravine: {
    value: (x, y) => x ** 2 / 20 + y ** 2,
    gradient: (x, y) => [x / 10, 2 * y],
  },
  rosenbrock: {
    value: (x, y) => (1 - x) ** 2 + 100 * (y - x ** 2) ** 2,
    gradient: (x, y) => [-2 * (1 - x) - 400 * x * (y - x ** 2), 200 * (y - x ** 2)],
  },
  beale: { value: beale, gradient: bealeGradient },
  saddle: {
    value: (x, y) => x ** 2 - y ** 2,
    gradient: (x, y) => [2 * x, -2 * y],
  },
  himmelblau: {
    value: (x, y) => (x ** 2 + y - 11) ** 2 + (x + y ** 2 - 7) ** 2,
    gradient: (x, y) => [
      4 * x * (x ** 2 + y - 11) + 2 * (x + y ** 2 - 7),
      2 * (x ** 2 + y - 11) + 4 * y * (x + y ** 2 - 7),
    ],
  },
};

/** The surface called `name`; an Error naming the ones that exist otherwise. */
export function surface(name) {
  const found = SURFACES[name];
  if (found === undefined) {
    throw new Error(`unknown surface ${name}: choose one of ${Object.keys(SURFACES).join(", ")}`);
  }
  return found;
}
