"""A trained MLP's weights in one framework-neutral form, so any page can reuse them.

    result = run(recipes.BEST_MLP, keep_weights=True)
    log_p = log_probabilities(result.weights, "relu", splits.test.features[:5])

Every framework hands its trained layers over as :class:`LayerWeights` (PyTorch's layout:
``weight`` of shape (out, in), ``bias`` of shape (out,), float32; a Keras or TensorFlow kernel is
the transpose), and the run cache keeps them in an ``.npz`` file beside the run's JSON.
"""
from __future__ import annotations

import io
import itertools
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import IO

import numpy as np

from .activations import get_activation
from .errors import ForceMLPError


@dataclass(frozen=True)
class LayerWeights:
    """One dense layer z = h Wᵀ + b: ``weight`` (out, in) and ``bias`` (out,), float32."""

    weight: np.ndarray
    bias: np.ndarray


def layer_weights(pairs: Iterable[tuple[object, object]]) -> tuple[LayerWeights, ...]:
    """Float32 copies of (weight (out, in), bias (out,)) pairs, checked to chain layer to layer."""
    layers = tuple(
        LayerWeights(np.array(weight, dtype=np.float32), np.array(bias, dtype=np.float32))
        for weight, bias in pairs
    )
    check_layers(layers)
    return layers


def layer_views(
    flat: np.ndarray, layer_sizes: Sequence[int]
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Per-layer views W_l (out, in) and b_l (out,) into one flat vector laid out W_1, b_1, W_2,
    b_2, ... (torch's ``parameters_to_vector`` order), so one step on the vector moves them all."""
    weights, biases, offset = [], [], 0
    for fan_in, fan_out in itertools.pairwise(layer_sizes):
        weights.append(flat[offset:offset + fan_out * fan_in].reshape(fan_out, fan_in))
        offset += fan_out * fan_in
        biases.append(flat[offset:offset + fan_out])
        offset += fan_out
    if offset != len(flat):
        raise ForceMLPError(f"a vector of {len(flat)} numbers does not hold the layers of"
                            f" {list(layer_sizes)}, which need {offset}.")
    return weights, biases


def check_layers(layers: tuple[LayerWeights, ...], sizes: tuple[int, ...] | None = None) -> None:
    """Raise unless each layer is (out, in) + (out,) and feeds the next; ``sizes`` (784, ..., 10)
    fixes every width too."""
    shapes = [(layer.weight.shape, layer.bias.shape) for layer in layers]
    chained = bool(layers) and all(
        len(weight) == 2 and bias == weight[:1] for weight, bias in shapes
    ) and all(
        before[0][0] == after[0][1] for before, after in itertools.pairwise(shapes)
    )
    if chained and sizes is not None:
        chained = (shapes[0][0][1], *(weight[0] for weight, _ in shapes)) == tuple(sizes)
    if not chained:
        raise ForceMLPError(f"layer shapes {shapes} do not make an MLP {sizes or ''}".rstrip()
                            + ": pass (weight (out, in), bias (out,)) pairs, input layer first.")


def log_probabilities(
    layers: tuple[LayerWeights, ...], activation: str, features: np.ndarray
) -> np.ndarray:
    """Log-probabilities (N, classes) of the MLP ``layers`` with ``activation`` between them.

    float64 NumPy arithmetic, independent of the framework that trained the weights; in eval
    mode (dropout only acts while training).
    """
    function = get_activation(activation)
    hidden = np.asarray(features, dtype=np.float64)
    for position, layer in enumerate(layers):
        hidden = hidden @ layer.weight.T.astype(np.float64) + layer.bias
        if position < len(layers) - 1:
            hidden = function.function(hidden, function.default_parameter)
    shifted = hidden - hidden.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def write_npz(layers: tuple[LayerWeights, ...], handle: IO[bytes]) -> None:
    """Store ``layers`` as weight_0, bias_0, weight_1, ... in one .npz."""
    arrays = {}
    for index, layer in enumerate(layers):
        arrays[f"weight_{index}"], arrays[f"bias_{index}"] = layer.weight, layer.bias
    np.savez(handle, **arrays)


def read_npz(data: bytes, sizes: tuple[int, ...]) -> tuple[LayerWeights, ...]:
    """The layers an .npz from :func:`write_npz` holds; ForceMLPError unless they are whole,
    float32 and of the widths ``sizes`` (784, hidden..., 10)."""
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as stored:
            count = len(sizes) - 1
            if sorted(stored.files) != sorted(
                name for index in range(count) for name in (f"weight_{index}", f"bias_{index}")
            ):
                raise ForceMLPError(f"stored weights hold {sorted(stored.files)}, not {count} layers.")
            layers = tuple(
                LayerWeights(stored[f"weight_{index}"], stored[f"bias_{index}"])
                for index in range(count)
            )
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:  # not an npz, cut short
        raise ForceMLPError(f"stored weights are unreadable ({error}).") from None
    if any(array.dtype != np.float32 for layer in layers for array in (layer.weight, layer.bias)):
        raise ForceMLPError("stored weights are not float32.")
    check_layers(layers, sizes)
    return layers
