// The playground's network: a small float64 MLP with backpropagation, L2 and a training step.
//
//   import { createNetwork, trainingStep, forward } from "./playground_mlp.js";
//   const network = createNetwork([2, 8, 8, 2], activation, 0);
//   const loss = trainingStep(network, optimizer, points, labels, 1e-3);
//
// The arithmetic is lesson 2's, as forcemlp.numpy_mlp writes it: parameters in one flat
// Float64Array laid out W_1, b_1, W_2, b_2, ... (each W (out, in), row-major, as nn.Linear),
// z_l = h_{l-1} W_lᵀ + b_l, h_l = g(z_l), a softmax over the two classes, mean cross-entropy,
// and dE/dz_L = (p - Y)/N backwards through the layers. L2 adds λ/2 Σ W² to the loss (weights
// only, as weight decay does), so λ W to each weight's gradient. `activation` is
// { function(x, parameter), derivative(x, parameter), parameter }; `optimizer` has
// step(parameters, gradient) -> new parameters, like forcemlp.optimizers.

import { SeededNormal } from "./random.js";

const XAVIER_ACTIVATIONS = ["sigmoid", "tanh", "linear"];

function layerViews(layerSizes, flat) {
  const weights = [];
  const biases = [];
  let offset = 0;
  for (let layer = 1; layer < layerSizes.length; layer++) {
    const fanIn = layerSizes[layer - 1];
    const fanOut = layerSizes[layer];
    weights.push(flat.subarray(offset, offset + fanOut * fanIn));
    offset += fanOut * fanIn;
    biases.push(flat.subarray(offset, offset + fanOut));
    offset += fanOut;
  }
  return { weights, biases };
}

export function parameterCount(layerSizes) {
  let count = 0;
  for (let layer = 1; layer < layerSizes.length; layer++) {
    count += (layerSizes[layer - 1] + 1) * layerSizes[layer];
  }
  return count;
}

// A network over `parameters` (copied), or freshly initialised as NumpyMLP does it: normal
// weights, He's variance 2/fan_in before ReLU-like activations, Xavier's 2/(fan_in + fan_out)
// before the others and for the output layer; zero biases; seeded.
export function createNetwork(layerSizes, activationName, seed = 0, parameters = null) {
  const flat = new Float64Array(parameterCount(layerSizes));
  const network = { layerSizes: [...layerSizes], parameters: flat, ...layerViews(layerSizes, flat) };
  if (parameters) {
    flat.set(parameters);
    return network;
  }
  const random = new SeededNormal(seed);
  network.weights.forEach((weight, layer) => {
    const fanIn = layerSizes[layer];
    const fanOut = layerSizes[layer + 1];
    const isOutput = layer === network.weights.length - 1;
    const xavier = isOutput || XAVIER_ACTIVATIONS.includes(activationName);
    const deviation = Math.sqrt(xavier ? 2 / (fanIn + fanOut) : 2 / fanIn);
    for (let index = 0; index < weight.length; index++) weight[index] = deviation * random.normal();
  });
  return network;
}

// Replace the network's parameters by `parameters` (the optimizer returns new ones).
export function setParameters(network, parameters) {
  network.parameters.set(parameters);
}

// Forward pass for `count` points given flat [x0, y0, x1, y1, ...]: every layer's input
// (h_0 = the points) and pre-activation z_l, and the log-probabilities (count, 2).
export function forward(network, activation, points, count) {
  const { layerSizes, weights, biases } = network;
  const layerInputs = [points];
  const preActivations = [];
  let hidden = points;
  for (let layer = 0; layer < weights.length; layer++) {
    const fanIn = layerSizes[layer];
    const fanOut = layerSizes[layer + 1];
    const weight = weights[layer];
    const bias = biases[layer];
    const preActivation = new Float64Array(count * fanOut);
    for (let row = 0; row < count; row++) {
      for (let unit = 0; unit < fanOut; unit++) {
        let sum = 0;
        for (let input = 0; input < fanIn; input++) {
          sum += hidden[row * fanIn + input] * weight[unit * fanIn + input];
        }
        preActivation[row * fanOut + unit] = sum + bias[unit];
      }
    }
    preActivations.push(preActivation);
    if (layer < weights.length - 1) {
      hidden = new Float64Array(preActivation.length);
      for (let index = 0; index < hidden.length; index++) {
        hidden[index] = activation.function(preActivation[index], activation.parameter);
      }
      layerInputs.push(hidden);
    }
  }
  const classes = layerSizes[layerSizes.length - 1];
  const logits = preActivations[preActivations.length - 1];
  const logProbabilities = new Float64Array(logits.length);
  for (let row = 0; row < count; row++) {  // log-softmax, largest logit subtracted first
    let largest = -Infinity;
    for (let k = 0; k < classes; k++) largest = Math.max(largest, logits[row * classes + k]);
    let total = 0;
    for (let k = 0; k < classes; k++) total += Math.exp(logits[row * classes + k] - largest);
    const logTotal = Math.log(total);
    for (let k = 0; k < classes; k++) {
      logProbabilities[row * classes + k] = logits[row * classes + k] - largest - logTotal;
    }
  }
  return { count, layerInputs, preActivations, logProbabilities };
}

// Mean cross-entropy -(1/N) Σ log p[n, y_n].
export function crossEntropy(network, result, labels) {
  const classes = network.layerSizes[network.layerSizes.length - 1];
  let total = 0;
  for (let row = 0; row < result.count; row++) total -= result.logProbabilities[row * classes + labels[row]];
  return total / result.count;
}

// λ/2 Σ_l Σ W_l²: the penalty L2 adds to the loss.
export function l2Penalty(network, l2) {
  let total = 0;
  for (const weight of network.weights) for (const value of weight) total += value * value;
  return 0.5 * l2 * total;
}

// dE/dθ (flat, laid out like the parameters) of the mean cross-entropy plus L2.
export function backward(network, activation, result, labels, l2 = 0) {
  const { layerSizes, weights } = network;
  const gradient = new Float64Array(network.parameters.length);
  const views = layerViews(layerSizes, gradient);
  const count = result.count;
  const classes = layerSizes[layerSizes.length - 1];
  let delta = new Float64Array(count * classes);  // dE/dz_L = (p - Y) / N
  for (let row = 0; row < count; row++) {
    for (let k = 0; k < classes; k++) {
      const probability = Math.exp(result.logProbabilities[row * classes + k]);
      delta[row * classes + k] = (probability - (labels[row] === k ? 1 : 0)) / count;
    }
  }
  for (let layer = weights.length - 1; layer >= 0; layer--) {
    const fanIn = layerSizes[layer];
    const fanOut = layerSizes[layer + 1];
    const input = result.layerInputs[layer];
    const weight = weights[layer];
    const dWeight = views.weights[layer];
    const dBias = views.biases[layer];
    for (let unit = 0; unit < fanOut; unit++) {
      let biasSum = 0;
      for (let row = 0; row < count; row++) biasSum += delta[row * fanOut + unit];
      dBias[unit] = biasSum;
      for (let from = 0; from < fanIn; from++) {
        let sum = 0;
        for (let row = 0; row < count; row++) sum += delta[row * fanOut + unit] * input[row * fanIn + from];
        dWeight[unit * fanIn + from] = sum + l2 * weight[unit * fanIn + from];
      }
    }
    if (layer > 0) {  // dE/dz_{l-1} = (dE/dz_l W_l) ⊙ g'(z_{l-1})
      const preActivation = result.preActivations[layer - 1];
      const previous = new Float64Array(count * fanIn);
      for (let row = 0; row < count; row++) {
        for (let from = 0; from < fanIn; from++) {
          let sum = 0;
          for (let unit = 0; unit < fanOut; unit++) sum += delta[row * fanOut + unit] * weight[unit * fanIn + from];
          previous[row * fanIn + from] = sum * activation.derivative(preActivation[row * fanIn + from], activation.parameter);
        }
      }
      delta = previous;
    }
  }
  return gradient;
}

// One step on one batch: forward, backward (with L2), the optimizer's update. Returns the
// batch's cross-entropy before the step (without the L2 penalty, as NumpyMLP.loss).
export function trainingStep(network, activation, optimizer, points, labels, l2 = 0) {
  const result = forward(network, activation, points, labels.length);
  const loss = crossEntropy(network, result, labels);
  const gradient = backward(network, activation, result, labels, l2);
  setParameters(network, optimizer.step(network.parameters, gradient));
  return loss;
}
