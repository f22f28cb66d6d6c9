// The lessons' MLP (forcemlp.numpy_mlp) in the browser: forward pass, backpropagation and the
// initial weights, with the same equations. Matrices are row-major Float64Arrays; a batch of
// N inputs of size D is one Float64Array of N × D numbers.
//
//   z_l = h_{l-1} W_lᵀ + b_l,  h_l = g(z_l) (hidden layers),  log p = log_softmax(z_L)
//   dE/dz_L = (p − Y)/N;  dE/dW_l = (dE/dz_l)ᵀ h_{l-1};  dE/db_l = Σ_n dE/dz_l;
//   dE/dz_{l-1} = (dE/dz_l W_l) ⊙ g'(z_{l-1})

import { activation as activationFunctions } from "./activations.js";
import { SeededNormal } from "./random.js";

// As NumpyMLP: Xavier's variance 2/(fan_in + fan_out) before these and for the output layer,
// He's 2/fan_in before the ReLU family.
export const XAVIER_ACTIVATIONS = ["sigmoid", "tanh", "linear"];

/**
 * A network with NumpyMLP's initialisation, drawn from SeededNormal(seed) layer by layer
 * (weights row by row; biases zero): {layerSizes, activation, parameter, weights, biases}.
 */
export function initialNetwork(layerSizes, activation, { seed = 0, parameter = undefined } = {}) {
  activationFunctions(activation);
  const random = new SeededNormal(seed);
  const weights = [];
  const biases = [];
  for (let layer = 0; layer + 1 < layerSizes.length; layer += 1) {
    const [fanIn, fanOut] = [layerSizes[layer], layerSizes[layer + 1]];
    const isOutput = layer + 2 === layerSizes.length;
    const variance = isOutput || XAVIER_ACTIVATIONS.includes(activation)
      ? 2 / (fanIn + fanOut)
      : 2 / fanIn;
    const scale = Math.sqrt(variance);
    weights.push(random.normals(fanOut * fanIn).map((value) => scale * value));
    biases.push(new Float64Array(fanOut));
  }
  return { layerSizes, activation, parameter, weights, biases };
}

function affine(inputs, rows, weight, bias, fanIn, fanOut) {
  const outputs = new Float64Array(rows * fanOut);
  for (let n = 0; n < rows; n += 1) {
    for (let j = 0; j < fanOut; j += 1) {
      let sum = 0;
      for (let i = 0; i < fanIn; i += 1) sum += inputs[n * fanIn + i] * weight[j * fanIn + i];
      outputs[n * fanOut + j] = sum + bias[j];
    }
  }
  return outputs;
}

function logSoftmax(logits, rows, classes) {
  const result = new Float64Array(rows * classes);
  for (let n = 0; n < rows; n += 1) {
    const start = n * classes;
    let largest = -Infinity;
    for (let k = 0; k < classes; k += 1) largest = Math.max(largest, logits[start + k]);
    let total = 0;
    for (let k = 0; k < classes; k += 1) total += Math.exp(logits[start + k] - largest);
    const logTotal = Math.log(total);
    for (let k = 0; k < classes; k += 1) result[start + k] = logits[start + k] - largest - logTotal;
  }
  return result;
}

/** The forward pass of `rows` inputs: {layerInputs, preActivations, logProbabilities, rows}. */
export function forward(network, inputs, rows) {
  const { layerSizes, weights, biases, parameter } = network;
  const g = activationFunctions(network.activation).function;
  let hidden = inputs;
  const layerInputs = [hidden];
  const preActivations = [];
  for (let layer = 0; layer < weights.length; layer += 1) {
    const [fanIn, fanOut] = [layerSizes[layer], layerSizes[layer + 1]];
    const z = affine(hidden, rows, weights[layer], biases[layer], fanIn, fanOut);
    preActivations.push(z);
    if (layer + 1 < weights.length) {
      hidden = new Float64Array(z.length);
      for (let index = 0; index < z.length; index += 1) hidden[index] = g(z[index], parameter);
      layerInputs.push(hidden);
    }
  }
  const classes = layerSizes[layerSizes.length - 1];
  const logProbabilities = logSoftmax(preActivations[preActivations.length - 1], rows, classes);
  return { layerInputs, preActivations, logProbabilities, rows };
}

/** Mean cross-entropy of a forward pass against integer labels. */
export function loss(network, passed, labels) {
  const classes = network.layerSizes[network.layerSizes.length - 1];
  let total = 0;
  labels.forEach((label, n) => { total += passed.logProbabilities[n * classes + label]; });
  return -total / labels.length;
}

/** dE/dz_L = (p − Y)/N, from a forward pass and integer labels. */
function outputDelta(passed, labels, classes) {
  return passed.logProbabilities.map((logP, index) => {
    const target = labels[Math.floor(index / classes)] === index % classes ? 1 : 0;
    return (Math.exp(logP) - target) / passed.rows;
  });
}

/** dE/dz_{l-1} = (dE/dz_l W_l) ⊙ g'(z_{l-1}), for `layer` = l (counted from 0). */
function propagate(network, passed, delta, layer) {
  const [fanIn, fanOut] = [network.layerSizes[layer], network.layerSizes[layer + 1]];
  const derivative = activationFunctions(network.activation).derivative;
  const weight = network.weights[layer];
  const z = passed.preActivations[layer - 1];
  const previous = new Float64Array(passed.rows * fanIn);
  for (let n = 0; n < passed.rows; n += 1) {
    for (let i = 0; i < fanIn; i += 1) {
      let sum = 0;
      for (let j = 0; j < fanOut; j += 1) sum += delta[n * fanOut + j] * weight[j * fanIn + i];
      previous[n * fanIn + i] = sum * derivative(z[n * fanIn + i], network.parameter);
    }
  }
  return previous;
}

/** Backpropagation: {weights: [dE/dW_l], biases: [dE/db_l]}, row-major like the weights. */
export function backward(network, passed, labels) {
  const { layerSizes, weights } = network;
  const rows = passed.rows;
  let delta = outputDelta(passed, labels, layerSizes[layerSizes.length - 1]);
  const weightGradients = new Array(weights.length);
  const biasGradients = new Array(weights.length);
  for (let layer = weights.length - 1; layer >= 0; layer -= 1) {
    const [fanIn, fanOut] = [layerSizes[layer], layerSizes[layer + 1]];
    const inputs = passed.layerInputs[layer];
    const dW = new Float64Array(fanOut * fanIn);
    const db = new Float64Array(fanOut);
    for (let n = 0; n < rows; n += 1) {
      for (let j = 0; j < fanOut; j += 1) {
        const d = delta[n * fanOut + j];
        db[j] += d;
        for (let i = 0; i < fanIn; i += 1) dW[j * fanIn + i] += d * inputs[n * fanIn + i];
      }
    }
    weightGradients[layer] = dW;
    biasGradients[layer] = db;
    if (layer > 0) delta = propagate(network, passed, delta, layer);
  }
  return { weights: weightGradients, biases: biasGradients };
}

/** The rows' dot products with each other: G[n][m] = a_n · a_m. */
function gram(matrix, rows, columns) {
  const result = new Float64Array(rows * rows);
  for (let n = 0; n < rows; n += 1) {
    for (let m = 0; m <= n; m += 1) {
      let sum = 0;
      for (let k = 0; k < columns; k += 1) sum += matrix[n * columns + k] * matrix[m * columns + k];
      result[n * rows + m] = sum;
      result[m * rows + n] = sum;
    }
  }
  return result;
}

const inputGrams = new WeakMap();  // the batch's own Gram matrix, computed once per batch

/**
 * The size (Frobenius norm) of each layer's weight gradient, input layer first, without
 * forming the gradients: ‖δᵀh‖² = Σ_nm (δ_n·δ_m)(h_n·h_m), so the 784-wide first layer costs
 * N² dot products of its small δ instead of a full 784-column gradient.
 */
export function weightGradientSizes(network, inputs, rows, labels) {
  const { layerSizes, weights } = network;
  const passed = forward(network, inputs, rows);
  if (!inputGrams.has(inputs)) inputGrams.set(inputs, gram(inputs, rows, layerSizes[0]));
  let delta = outputDelta(passed, labels, layerSizes[layerSizes.length - 1]);
  const sizes = new Array(weights.length);
  for (let layer = weights.length - 1; layer >= 0; layer -= 1) {
    const [fanIn, fanOut] = [layerSizes[layer], layerSizes[layer + 1]];
    const hiddenGram = layer === 0 ? inputGrams.get(inputs) : gram(passed.layerInputs[layer], rows, fanIn);
    const deltaGram = gram(delta, rows, fanOut);
    let square = 0;
    for (let k = 0; k < rows * rows; k += 1) square += hiddenGram[k] * deltaGram[k];
    sizes[layer] = Math.sqrt(Math.max(square, 0));
    if (layer > 0) delta = propagate(network, passed, delta, layer);
  }
  return sizes;
}
