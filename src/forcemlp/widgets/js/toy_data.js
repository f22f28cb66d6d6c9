// The playground's 2-D datasets; forcemlp.toy_data (Python) makes the very same points.
//
//   import { makeDataset } from "./toy_data.js";
//   const data = makeDataset("spiral", { count: 400, noise: 0.3, testFraction: 0.5, seed: 1 });
//   data.train.points  // [[x, y], ...] in the plane [-6, 6]²;  data.train.labels  // 0 or 1
//
// Each point is clean geometry plus Gaussian jitter of standard deviation `noise` (plane
// units); its label is the class it was drawn for, so jitter makes the classes overlap.
// Then the points are shuffled (Fisher-Yates) and the first ones go to the training set.

import { SeededNormal } from "./random.js";

export const DATASET_NAMES = ["gaussians", "circle", "xor", "spiral"];
export const PLANE_RADIUS = 6;
const CLUSTER_SPREAD = 0.8;   // gaussians: standard deviation of each clean cluster
const CIRCLE_RADIUS = 5;
const XOR_PADDING = 0.3;      // xor: clean points keep this far from the axes

// Clean point number `index` of `count` and its label, drawing what it needs from `random`.
const GEOMETRY = {
  gaussians(index, count, random) {
    const label = index < count / 2 ? 1 : 0;
    const centre = label === 1 ? 2 : -2;
    return [centre + CLUSTER_SPREAD * random.normal(),
            centre + CLUSTER_SPREAD * random.normal(), label];
  },
  circle(index, count, random) {
    const label = index < count / 2 ? 1 : 0;
    const radius = label === 1 ? random.uniform() * 0.5 * CIRCLE_RADIUS
                               : CIRCLE_RADIUS * (0.7 + 0.3 * random.uniform());
    const angle = 2 * Math.PI * random.uniform();
    return [radius * Math.sin(angle), radius * Math.cos(angle), label];
  },
  xor(index, count, random) {
    let x = 10 * random.uniform() - 5;
    let y = 10 * random.uniform() - 5;
    x += x > 0 ? XOR_PADDING : -XOR_PADDING;
    y += y > 0 ? XOR_PADDING : -XOR_PADDING;
    return [x, y, x * y >= 0 ? 1 : 0];
  },
  spiral(index, count, random) {
    const half = Math.ceil(count / 2);
    const label = index < half ? 1 : 0;
    const position = label === 1 ? index : index - half;
    const along = position / half;
    const radius = 5 * along;
    const angle = 1.75 * 2 * Math.PI * along + (label === 1 ? 0 : Math.PI);
    return [radius * Math.sin(angle), radius * Math.cos(angle), label];
  },
};

export function makeDataset(name, { count = 400, noise = 0, testFraction = 0.5, seed = 0 } = {}) {
  const geometry = GEOMETRY[name];
  if (!geometry) throw new Error(`unknown dataset ${name}: choose one of ${DATASET_NAMES}`);
  const random = new SeededNormal(seed);
  const points = [];
  const labels = [];
  for (let index = 0; index < count; index++) {
    const [x, y, label] = geometry(index, count, random);
    points.push([x + noise * random.normal(), y + noise * random.normal()]);
    labels.push(label);
  }
  for (let index = count - 1; index > 0; index--) {
    const other = Math.floor(random.uniform() * (index + 1));
    [points[index], points[other]] = [points[other], points[index]];
    [labels[index], labels[other]] = [labels[other], labels[index]];
  }
  const trainCount = count - Math.round(count * testFraction);
  return {
    train: { points: points.slice(0, trainCount), labels: labels.slice(0, trainCount) },
    test: { points: points.slice(trainCount), labels: labels.slice(trainCount) },
  };
}
