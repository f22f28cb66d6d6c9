// The playground's network: the lessons' MLP (mlp.js) with its parameters in one flat vector,
// L2 regularisation, and a training step taken by one of optimizers.js.
//
//   import { createNetwork, trainingStep } from "./playground_mlp.js";
//   const network = createNetwork([2, 8, 8, 2], "tanh", 0);
//   const loss = trainingStep(network, makeOptimizer("adam", 0.03), points, labels, 1e-3);
//
// forcemlp.toy_mlp.training_step is the Python twin: the parameters are laid out as NumpyMLP
// lays them out (W_1, b_1, W_2, b_2, ..., each W (out, in) row-major), the network's weights
// and biases are views into that vector, so an optimizer updates every layer in one call.
// L2 adds λ/2 Σ W² to the loss (weights only, as weight decay does), so λ W to each weight's
// gradient.

import { initialNetwork, forward, loss, backward } from "./mlp.js";

function parameterCount(layerSizes) {
  let count = 0;
  for (let layer = 1; layer < layerSizes.length; layer++) {
    count += (layerSizes[layer - 1] + 1) * layerSizes[layer];
  }
  return count;
}

// [W_1, b_1, W_2, b_2, ...] as views into `flat`.
function layerViews(layerSizes, flat) {
  const views = [];
  let offset = 0;
  for (let layer = 1; layer < layerSizes.length; layer++) {
    const size = layerSizes[layer - 1] * layerSizes[layer];
    views.push(flat.subarray(offset, offset + size));
    offset += size;
    views.push(flat.subarray(offset, offset + layerSizes[layer]));
    offset += layerSizes[layer];
  }
  return views;
}

// A network of mlp.js (NumpyMLP's initialisation from SeededNormal(seed)), or holding a copy of
// `parameters` when given; `network.parameters` is the flat vector behind its layers.
export function createNetwork(layerSizes, activation, seed = 0, parameters = null) {
  const network = initialNetwork(layerSizes, activation, { seed });
  const flat = new Float64Array(parameterCount(layerSizes));
  const views = layerViews(layerSizes, flat);
  network.weights.forEach((weight, layer) => views[2 * layer].set(weight));
  if (parameters) flat.set(parameters);
  network.weights = views.filter((_, index) => index % 2 === 0);
  network.biases = views.filter((_, index) => index % 2 === 1);
  network.parameters = flat;
  return network;
}

// Mean cross-entropy of the network on `count` points given flat [x0, y0, x1, y1, ...].
export function crossEntropy(network, points, labels) {
  return loss(network, forward(network, points, labels.length), labels);
}

// One step on one batch: forward, backward, + λ W, the optimizer's update. Returns the batch's
// cross-entropy before the step, without the L2 penalty (as NumpyMLP.loss).
export function trainingStep(network, optimizer, points, labels, l2 = 0) {
  const passed = forward(network, points, labels.length);
  const value = loss(network, passed, labels);
  const gradients = backward(network, passed, labels);
  const gradient = new Float64Array(network.parameters.length);
  const views = layerViews(network.layerSizes, gradient);
  gradients.weights.forEach((weightGradient, layer) => {
    const weight = network.weights[layer];
    const target = views[2 * layer];
    for (let index = 0; index < target.length; index++) {
      target[index] = weightGradient[index] + l2 * weight[index];
    }
    views[2 * layer + 1].set(gradients.biases[layer]);
  });
  network.parameters.set(optimizer.step(network.parameters, gradient));
  return value;
}
