// The eight optimizers of forcemlp.optimizers, step for step the same arithmetic (the NumPy
// twin is replayed against torch.optim; the browser test replays this file against NumPy).
// Each works on a Float64Array of any length: `step(params, gradient)` returns new params.
// Notation as in Python: θ parameters, g gradient, η learning rate, t the step from 1.

import { SeededNormal } from "./random.js";

export const OPTIMIZER_NAMES = [
  "gd", "sgd", "momentum", "nesterov", "adagrad", "adadelta", "rmsprop", "adam",
];

/** θ ← θ − η g */
class GradientDescent {
  constructor(learningRate) {
    this.learningRate = learningRate;
  }

  step(params, gradient) {
    return params.map((value, i) => value - this.learningRate * gradient[i]);
  }
}

/** θ ← θ − η (g + σ ξ), ξ seeded standard normal noise: a mini-batch's error, stood in for. */
class NoisyGradientDescent extends GradientDescent {
  constructor(learningRate, noiseScale, seed) {
    super(learningRate);
    this.noiseScale = noiseScale;
    this.random = new SeededNormal(seed);
  }

  step(params, gradient) {
    const noise = this.random.normals(gradient.length);
    return super.step(params, gradient.map((value, i) => value + this.noiseScale * noise[i]));
  }
}

/** v ← μ v + g (v = g at t = 1); θ ← θ − η v, or θ − η (g + μ v) for Nesterov. */
class Momentum {
  constructor(learningRate, momentum, nesterov) {
    Object.assign(this, { learningRate, momentum, nesterov, velocity: null });
  }

  step(params, gradient) {
    this.velocity = this.velocity === null
      ? Float64Array.from(gradient)
      : this.velocity.map((value, i) => this.momentum * value + gradient[i]);
    return params.map((value, i) => {
      const direction = this.nesterov
        ? gradient[i] + this.momentum * this.velocity[i]
        : this.velocity[i];
      return value - this.learningRate * direction;
    });
  }
}

/** s ← s + g²; θ ← θ − η g / (√s + ε) */
class Adagrad {
  constructor(learningRate, eps = 1e-10) {
    Object.assign(this, { learningRate, eps, sumOfSquares: null });
  }

  step(params, gradient) {
    const previous = this.sumOfSquares ?? new Float64Array(gradient.length);
    this.sumOfSquares = previous.map((value, i) => value + gradient[i] * gradient[i]);
    return params.map((value, i) =>
      value - this.learningRate * gradient[i] / (Math.sqrt(this.sumOfSquares[i]) + this.eps));
  }
}

/** s ← ρ s + (1−ρ) g²; Δ = √(u + ε)/√(s + ε) g; u ← ρ u + (1−ρ) Δ²; θ ← θ − η Δ */
class Adadelta {
  constructor(learningRate, rho = 0.9, eps = 1e-6) {
    Object.assign(this, { learningRate, rho, eps, squareAverage: null, stepAverage: null });
  }

  step(params, gradient) {
    const rho = this.rho;
    const zeros = new Float64Array(gradient.length);
    const squares = (this.squareAverage ?? zeros).map(
      (value, i) => rho * value + (1 - rho) * gradient[i] * gradient[i]);
    const steps = this.stepAverage ?? zeros;
    const delta = squares.map((square, i) =>
      Math.sqrt(steps[i] + this.eps) / Math.sqrt(square + this.eps) * gradient[i]);
    this.squareAverage = squares;
    this.stepAverage = steps.map((value, i) => rho * value + (1 - rho) * delta[i] * delta[i]);
    return params.map((value, i) => value - this.learningRate * delta[i]);
  }
}

/** s ← α s + (1−α) g²; θ ← θ − η g / (√s + ε) */
class RMSprop {
  constructor(learningRate, alpha = 0.99, eps = 1e-8) {
    Object.assign(this, { learningRate, alpha, eps, squareAverage: null });
  }

  step(params, gradient) {
    const alpha = this.alpha;
    const previous = this.squareAverage ?? new Float64Array(gradient.length);
    this.squareAverage = previous.map(
      (value, i) => alpha * value + (1 - alpha) * gradient[i] * gradient[i]);
    return params.map((value, i) =>
      value - this.learningRate * gradient[i] / (Math.sqrt(this.squareAverage[i]) + this.eps));
  }
}

/** m ← β1 m + (1−β1) g; v ← β2 v + (1−β2) g²; θ ← θ − η/(1−β1ᵗ) m / (√v/√(1−β2ᵗ) + ε) */
class Adam {
  constructor(learningRate, beta1 = 0.9, beta2 = 0.999, eps = 1e-8) {
    Object.assign(this, { learningRate, beta1, beta2, eps, mean: null, squareMean: null, t: 0 });
  }

  step(params, gradient) {
    this.t += 1;
    const { beta1, beta2 } = this;
    const zeros = new Float64Array(gradient.length);
    this.mean = (this.mean ?? zeros).map((value, i) => beta1 * value + (1 - beta1) * gradient[i]);
    this.squareMean = (this.squareMean ?? zeros).map(
      (value, i) => beta2 * value + (1 - beta2) * gradient[i] * gradient[i]);
    const stepSize = this.learningRate / (1 - beta1 ** this.t);
    const correction = Math.sqrt(1 - beta2 ** this.t);
    return params.map((value, i) => {
      const denominator = Math.sqrt(this.squareMean[i]) / correction + this.eps;
      return value - stepSize * this.mean[i] / denominator;
    });
  }
}

/**
 * A fresh optimizer with torch.optim's defaults, as forcemlp.optimizers.make_optimizer.
 * `momentum` is μ for "momentum" and "nesterov"; `seed` and `noiseScale` drive "sgd"'s noise.
 */
export function makeOptimizer(name, learningRate, { momentum = 0.9, seed = 0, noiseScale = 1 } = {}) {
  if (!(Number.isFinite(learningRate) && learningRate > 0)) {
    throw new Error(`learning rate must be a positive number, got ${learningRate}`);
  }
  const builders = {
    gd: () => new GradientDescent(learningRate),
    sgd: () => new NoisyGradientDescent(learningRate, noiseScale, seed),
    momentum: () => new Momentum(learningRate, momentum, false),
    nesterov: () => new Momentum(learningRate, momentum, true),
    adagrad: () => new Adagrad(learningRate),
    adadelta: () => new Adadelta(learningRate),
    rmsprop: () => new RMSprop(learningRate),
    adam: () => new Adam(learningRate),
  };
  if (!(name in builders)) {
    throw new Error(`unknown optimizer ${name}: choose one of ${OPTIMIZER_NAMES.join(", ")}`);
  }
  return builders[name]();
}
