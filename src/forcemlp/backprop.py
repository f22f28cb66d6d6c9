"""The lesson's forward and backward passes, written once, into buffers the caller owns.

For layers l = 1..L with weights W_l (out, in) and biases b_l, as in PyTorch's nn.Linear::

    forward:   z_l = h_{l-1} W_lᵀ + b_l,   h_0 = X,   h_l = g(z_l) below the output
    backward:  dE/dW_l = (dE/dz_l)ᵀ h_{l-1},   dE/db_l = Σ_n dE/dz_l,
               dE/dz_{l-1} = (dE/dz_l W_l) ⊙ g'(z_{l-1})

Both NumPy trainers run these two functions: :class:`~forcemlp.numpy_mlp.NumpyMLP` (float64,
fresh buffers for every batch, the lessons' reference) and the PyTorch fast path (float32,
buffers allocated once per batch size, where allocation would cost more than the arithmetic).
Each keeps its own output layer, the softmax and its cross-entropy, which gives dE/dz_L.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

#: g(z) written into ``out``: ``activate(pre, out)``.
Activate = Callable[[np.ndarray, np.ndarray], None]
#: g'(z) written into ``out``, from z or from h = g(z), whichever is cheaper:
#: ``slope(pre, post, out)``.
Slope = Callable[[np.ndarray, np.ndarray, np.ndarray], None]


@dataclass
class Buffers:
    """What a pass over one batch writes: z_l of every layer (the last are the logits), and
    h_l, g'(z_l) and dE/dz_l of every hidden layer; ``ones`` (one per row) turns dE/db_l's sum
    over the rows into one matrix product, two to four times faster than a NumPy sum."""

    pre: list[np.ndarray]
    post: list[np.ndarray]
    slope: list[np.ndarray]
    delta: list[np.ndarray]
    ones: np.ndarray

    @classmethod
    def allocate(cls, rows: int, layer_sizes: Sequence[int], dtype: type = np.float64) -> Buffers:
        pre = [np.empty((rows, size), dtype) for size in layer_sizes[1:]]
        hidden = pre[:-1]
        return cls(pre, [np.empty_like(z) for z in hidden], [np.empty_like(z) for z in hidden],
                   [np.empty_like(z) for z in hidden], np.ones(rows, dtype))

    @property
    def logits(self) -> np.ndarray:
        return self.pre[-1]


def forward(weights: Sequence[np.ndarray], biases: Sequence[np.ndarray], inputs: np.ndarray,
            buffers: Buffers, activations: Sequence[Activate]) -> np.ndarray:
    """z_l = h_{l-1} W_lᵀ + b_l and h_l = g_l(z_l), layer by layer (``activations`` holds one
    g_l per hidden layer); returns the logits z_L."""
    layer_input = inputs
    for layer, (weight, bias) in enumerate(zip(weights, biases)):
        np.matmul(layer_input, weight.T, out=buffers.pre[layer])
        buffers.pre[layer] += bias
        if layer < len(buffers.post):
            activations[layer](buffers.pre[layer], buffers.post[layer])
            layer_input = buffers.post[layer]
    return buffers.logits


def backward(weights: Sequence[np.ndarray], inputs: np.ndarray, buffers: Buffers,
             output_delta: np.ndarray, slopes: Sequence[Slope],
             weight_gradients: Sequence[np.ndarray], bias_gradients: Sequence[np.ndarray]) -> None:
    """The chain rule from dE/dz_L back to every dE/dW_l and dE/db_l, written in place
    (``slopes`` holds one g_l' per hidden layer)."""
    delta = output_delta
    for layer in reversed(range(len(weights))):
        layer_input = buffers.post[layer - 1] if layer else inputs
        np.matmul(delta.T, layer_input, out=weight_gradients[layer])
        np.matmul(buffers.ones, delta, out=bias_gradients[layer])
        if layer:
            below = layer - 1
            np.matmul(delta, weights[layer], out=buffers.delta[below])
            slopes[below](buffers.pre[below], buffers.post[below], buffers.slope[below])
            buffers.delta[below] *= buffers.slope[below]
            delta = buffers.delta[below]
