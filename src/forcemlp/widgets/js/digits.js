// What the draw widget computes: a drawing made MNIST-style, and an exported MLP run on it.
//
//   import { mnistStyle, decodeModel, predict } from "./digits.js";
//   const image = mnistStyle(ink, width, height);   // Float64Array(784), or null when blank
//   const network = decodeModel(exported);          // from forcemlp.model_export, for mlp.js
//   const { hidden, probabilities } = predict(network, image);   // mlp.js's forward pass
//
// mnistStyle is forcemlp.digit_drawing.mnist_style line for line: the ink's bounding box scaled
// so its longer side is 20 pixels, every drawing pixel a small square placed so the centre of
// mass lands on (14, 14) of the 28×28 field, each output pixel the ink its area covers.

import { forward } from "./mlp.js";

const IMAGE_SIDE = 28;
const BOX_SIDE = 20;
const FIELD_CENTRE = 14.5;  // MNIST's centres of mass: the middle of pixel (14, 14)

// For each source pixel along one axis: the first output pixel it touches and how much of
// each output pixel from there on it covers (as _overlaps in Python, stored sparsely).
function overlaps(sourceSize, centre, scale) {
  const spans = [];
  for (let source = 0; source < sourceSize; source++) {
    const start = (source - centre) * scale + FIELD_CENTRE;
    const end = start + scale;
    const first = Math.max(0, Math.floor(start));
    const last = Math.min(IMAGE_SIDE - 1, Math.ceil(end) - 1);
    const amounts = [];
    for (let output = first; output <= last; output++) {
      amounts.push(Math.max(0, Math.min(end, output + 1) - Math.max(start, output)));
    }
    spans.push({ first, amounts });
  }
  return spans;
}

// ink: row-major values in [0, 1] (alpha / 255 of the canvas), height rows of width.
export function mnistStyle(ink, width, height) {
  let top = height, bottom = -1, left = width, right = -1;
  let total = 0, momentX = 0, momentY = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const value = ink[y * width + x];
      if (value > 0) {
        top = Math.min(top, y); bottom = Math.max(bottom, y);
        left = Math.min(left, x); right = Math.max(right, x);
        total += value; momentX += value * (x + 0.5); momentY += value * (y + 0.5);
      }
    }
  }
  if (bottom < 0) return null;
  const scale = BOX_SIDE / Math.max(bottom - top + 1, right - left + 1);
  const vertical = overlaps(height, momentY / total, scale);
  const horizontal = overlaps(width, momentX / total, scale);
  const image = new Float64Array(IMAGE_SIDE * IMAGE_SIDE);
  const row = new Float64Array(IMAGE_SIDE);
  for (let y = top; y <= bottom; y++) {
    row.fill(0);  // this source row, resampled across: Σ_x ink[y, x] overlap_x
    for (let x = left; x <= right; x++) {
      const value = ink[y * width + x];
      if (value === 0) continue;
      const { first, amounts } = horizontal[x];
      for (let k = 0; k < amounts.length; k++) row[first + k] += value * amounts[k];
    }
    const { first, amounts } = vertical[y];
    for (let k = 0; k < amounts.length; k++) {
      const offset = (first + k) * IMAGE_SIDE;
      for (let column = 0; column < IMAGE_SIDE; column++) image[offset + column] += amounts[k] * row[column];
    }
  }
  return image;
}

function bytesOf(base64) {
  const text = atob(base64);
  const bytes = new Uint8Array(text.length);
  for (let index = 0; index < text.length; index++) bytes[index] = text.charCodeAt(index);
  return bytes;
}

function float16ToNumber(bits) {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 31) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

// Little-endian numbers packed by forcemlp.model_export, as a Float64Array.
function decodeNumbers(base64, encoding) {
  const bytes = bytesOf(base64);
  const view = new DataView(bytes.buffer);
  if (encoding === "int8") return Float64Array.from(new Int8Array(bytes.buffer));
  if (encoding === "float16") {
    return Float64Array.from({ length: bytes.length / 2 }, (_, i) => float16ToNumber(view.getUint16(2 * i, true)));
  }
  if (encoding === "float32") {
    return Float64Array.from({ length: bytes.length / 4 }, (_, i) => view.getFloat32(4 * i, true));
  }
  throw new Error(`unknown weight encoding ${encoding}`);
}

// An exported model ({ name, activation, layers: [{ inputs, outputs, encoding, weights,
// scales?, bias }] }) as a network of mlp.js: float64 weights (out, in) row-major and biases,
// int8 rows times their scale.
export function decodeModel(exported) {
  const weights = [];
  const biases = [];
  for (const layer of exported.layers) {
    const weight = decodeNumbers(layer.weights, layer.encoding);
    if (layer.encoding === "int8") {
      const scales = decodeNumbers(layer.scales, "float32");
      for (let index = 0; index < weight.length; index++) {
        weight[index] *= scales[Math.floor(index / layer.inputs)];
      }
    }
    weights.push(weight);
    biases.push(decodeNumbers(layer.bias, "float32"));
  }
  const layerSizes = [exported.layers[0].inputs, ...exported.layers.map((layer) => layer.outputs)];
  return { name: exported.name, activation: exported.activation, layerSizes, weights, biases };
}

// One image through mlp.js's forward pass (the lessons' MLP, whatever its activation): every
// hidden layer's activations and the probability of each class.
export function predict(network, image) {
  const passed = forward(network, image, 1);
  return { hidden: passed.layerInputs.slice(1),
           probabilities: Array.from(passed.logProbabilities, Math.exp) };
}

// A test digit as forcemlp.widgets.draw.example_digits sends it (784 uint8, base64) in [0, 1].
export function decodeDigit(base64) {
  return Float64Array.from(bytesOf(base64), (value) => value / 255);
}
