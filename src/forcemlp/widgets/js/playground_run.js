// One playground run, without a page: the data, the network, its optimizer, the shuffled
// batches and the loss curves, stepped as forcemlp.toy_mlp.train_toy steps it.
//
//   import { PlaygroundRun } from "./playground_run.js";
//   const run = new PlaygroundRun(settings, limits);   // both from the widget's traits
//   run.train(30);                  // 30 steps, stopping early if the loss blows up
//   run.step, run.curve, run.diverged, run.latest()
//
// `settings` is read at every step (learning rate, batch size, L2 apply at once); a new
// dataset, network or seed needs reset(), a new optimizer renewOptimizer(). `limits` is the
// Playground's read-only `limits` trait: the optimizer menu's rules and the divergence rule.

import { makeDataset } from "./toy_data.js";
import { createNetwork, crossEntropy, trainingStep } from "./playground_mlp.js";
import { makeOptimizer } from "./optimizers.js";
import { SeededNormal } from "./random.js";

export const RECORD_EVERY = 5;  // steps between two points of the loss curves

const flat = (points) => Float64Array.from(points.flat());

export class PlaygroundRun {
  constructor(settings, limits) {
    this.settings = settings;
    this.limits = limits;
    this.reset();
  }

  /** A fresh dataset and network from the settings, at step 0. */
  reset() {
    const { dataset, points, noise, seed, hidden_sizes: sizes, activation } = this.settings;
    this.data = makeDataset(dataset, { count: points, noise, seed });
    this.trainPoints = flat(this.data.train.points);
    this.testPoints = flat(this.data.test.points);
    this.network = createNetwork([2, ...sizes, 2], activation, seed);
    this.renewOptimizer();
    this.shuffle = new SeededNormal(seed + 1);
    this.order = [];
    this.step = 0;
    this.diverged = false;
    this.curve = { steps: [], train: [], test: [] };
    this.record();
  }

  renewOptimizer() {
    const rule = this.limits.optimizers[this.settings.optimizer];
    this.optimizer = makeOptimizer(rule, this.settings.learning_rate);
  }

  /** [train loss, test loss] of the network now. */
  losses() {
    return [crossEntropy(this.network, this.trainPoints, this.data.train.labels),
            crossEntropy(this.network, this.testPoints, this.data.test.labels)];
  }

  record() {
    const [train, test] = this.losses();
    this.curve.steps.push(this.step);
    this.curve.train.push(train);
    this.curve.test.push(test);
    const start = this.curve.train[0];
    if (!Number.isFinite(train) || train > this.limits.loss_growth_limit * start) {
      this.diverged = true;
    }
  }

  /** The next batch: cut in order from fresh shuffles of the training points (Fisher-Yates). */
  nextBatch() {
    const size = this.settings.batch_size;
    const count = this.data.train.labels.length;
    if (this.order.length < size) {
      const pass = Array.from({ length: count }, (_, index) => index);
      for (let index = count - 1; index > 0; index--) {
        const other = Math.floor(this.shuffle.uniform() * (index + 1));
        [pass[index], pass[other]] = [pass[other], pass[index]];
      }
      this.order = this.order.concat(pass);
    }
    const batch = this.order.splice(0, size);
    const points = new Float64Array(2 * batch.length);
    batch.forEach((index, row) => { points.set(this.data.train.points[index], 2 * row); });
    return { points, labels: batch.map((index) => this.data.train.labels[index]) };
  }

  /** Up to `count` steps; stops at divergence. Returns the steps taken. */
  train(count) {
    let done = 0;
    for (; done < count && !this.diverged; done++) {
      const { points, labels } = this.nextBatch();
      this.optimizer.learningRate = this.settings.learning_rate;
      trainingStep(this.network, this.optimizer, points, labels, this.settings.l2);
      this.step += 1;
      if (this.step % RECORD_EVERY === 0) this.record();
    }
    return done;
  }

  /** The latest losses: { train, test } (not finite once the run diverged). */
  latest() {
    return { train: this.curve.train.at(-1), test: this.curve.test.at(-1) };
  }
}
