"""Trained MLP weights packed small enough to ship inside a web page, and read back.

    from forcemlp.model_export import export_layers, decode_layers, trained_layers
    exported = export_layers(trained_layers(recipes.SEED_TORCH), "784-16-10")  # JSON-ready
    decode_layers(exported)          # the layers as the page's JavaScript will see them

Layers are the contract's framework-neutral :class:`forcemlp.weights.LayerWeights`: per layer
the weight W of shape (out, in), as nn.Linear keeps it, and the bias b. Encodings, from exact
to small: ``float32`` (4 bytes a weight), ``float16`` (2) and ``int8`` (1): each row of W divided
by its own scale max|row| / 127 and rounded, so a row of small weights keeps its precision.
Biases stay float32 (they are few). Numbers are little-endian and base64-encoded; digits.js
decodes the same format. :func:`forcemlp.weights.log_probabilities` runs decoded layers in
float64, as the page does.
"""
from __future__ import annotations

import base64
from collections.abc import Sequence

import numpy as np

from .config import TrainConfig
from .errors import ForceMLPError
from .weights import LayerWeights, check_layers

ENCODINGS = ("float32", "float16", "int8")
INT8_LIMIT = 127


def _pack(array: np.ndarray, dtype: str) -> str:
    little_endian = np.ascontiguousarray(array, dtype=np.dtype(dtype).newbyteorder("<"))
    return base64.b64encode(little_endian.tobytes()).decode("ascii")


def _unpack(text: str, dtype: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype=np.dtype(dtype).newbyteorder("<"))


def row_scales(weight: np.ndarray) -> np.ndarray:
    """int8's scale per row, max|row| / 127 (1 for an all-zero row), as float32."""
    largest = np.abs(weight).max(axis=1)
    return np.where(largest > 0, largest / INT8_LIMIT, 1.0).astype(np.float32)


def export_layers(
    layers: Sequence[LayerWeights], name: str, encoding: str = "float32",
    activation: str = "relu",
) -> dict:
    """A JSON-ready description of a ReLU MLP ending in softmax, weights in ``encoding``."""
    if encoding not in ENCODINGS:
        raise ForceMLPError(f"unknown encoding {encoding!r}: choose one of {', '.join(ENCODINGS)}.")
    if activation != "relu":
        raise ForceMLPError(f"only ReLU networks can be exported for now, got {activation!r}.")
    layers = tuple(layers)
    check_layers(layers)
    if not all(np.isfinite(layer.weight).all() and np.isfinite(layer.bias).all()
               for layer in layers):
        raise ForceMLPError("the network holds NaN or infinite weights: retrain it.")
    exported_layers = []
    for layer in layers:
        outputs, inputs = layer.weight.shape
        entry = {"inputs": inputs, "outputs": outputs, "encoding": encoding,
                 "bias": _pack(layer.bias, "float32")}
        if encoding == "int8":
            scales = row_scales(layer.weight)
            quantized = np.clip(np.rint(layer.weight / scales[:, None]), -INT8_LIMIT, INT8_LIMIT)
            entry.update(weights=_pack(quantized, "int8"), scales=_pack(scales, "float32"))
        else:
            entry["weights"] = _pack(layer.weight, encoding)
        exported_layers.append(entry)
    return {"name": name, "activation": activation, "layers": exported_layers}


def decode_layers(exported: dict) -> tuple[LayerWeights, ...]:
    """The float64 layers the page computes with (int8 rows times their scale)."""
    layers = []
    for entry in exported["layers"]:
        shape = (entry["outputs"], entry["inputs"])
        weight = _unpack(entry["weights"], entry["encoding"]).astype(np.float64).reshape(shape)
        if entry["encoding"] == "int8":
            weight = weight * _unpack(entry["scales"], "float32").astype(np.float64)[:, None]
        layers.append(LayerWeights(weight, _unpack(entry["bias"], "float32").astype(np.float64)))
    return tuple(layers)


def check_exported(exported: object, sizes: tuple[int, int] = (784, 10)) -> dict:
    """``exported`` if it is a network :func:`export_layers` made, from ``sizes[0]`` inputs to
    ``sizes[1]`` classes, whose numbers decode to finite layers; else a one-line error."""
    fix = "export it with forcemlp.model_export.export_layers"
    if not (isinstance(exported, dict) and isinstance(exported.get("name"), str)
            and exported.get("activation") == "relu"
            and isinstance(exported.get("layers"), list) and exported["layers"]
            and all(isinstance(entry, dict) and entry.get("encoding") in ENCODINGS
                    for entry in exported["layers"])):
        raise ForceMLPError(f"not an exported ReLU network: {fix}.")
    try:
        layers = decode_layers(exported)
    except (KeyError, TypeError, ValueError) as error:  # missing keys, bad base64, bad sizes
        raise ForceMLPError(f"network {exported['name']!r} does not decode ({error}): {fix}.")
    first, last = layers[0].weight.shape[1], layers[-1].weight.shape[0]
    check_layers(layers)
    if (first, last) != tuple(sizes):
        raise ForceMLPError(f"network {exported['name']!r} maps {first} inputs to {last}"
                            f" classes, not {sizes[0]} to {sizes[1]}: {fix}.")
    if not all(np.isfinite(layer.weight).all() and np.isfinite(layer.bias).all()
               for layer in layers):
        raise ForceMLPError(f"network {exported['name']!r} holds NaN or infinite weights.")
    return exported


def exported_bytes(exported: dict) -> int:
    """Characters of base64 the model adds to a page."""
    return sum(len(entry["weights"]) + len(entry.get("scales", "")) + len(entry["bias"])
               for entry in exported["layers"])


def trained_layers(config: TrainConfig) -> tuple[LayerWeights, ...]:
    """The trained layers of the PyTorch run ``config``: from the run cache when the book
    trained it already, else trained now (and stored there)."""
    from .runner import run

    if config.framework != "torch":
        raise ForceMLPError(
            f"only PyTorch runs can be exported for now, got framework {config.framework!r}."
        )
    return run(config, keep_weights=True).weights


def trained_torch_model(config: TrainConfig, layers: Sequence[LayerWeights] | None = None):
    """The PyTorch model of ``config`` holding ``layers`` (default: its trained ones, see
    :func:`trained_layers`), in eval mode: what the lessons run on a reader's drawing, and the
    parity tests' reference."""
    import torch

    from .torch_mlp import model_for

    model = model_for(config)
    linears = [module for module in model.modules() if isinstance(module, torch.nn.Linear)]
    with torch.no_grad():
        for linear, layer in zip(linears, layers or trained_layers(config), strict=True):
            linear.weight.copy_(torch.from_numpy(layer.weight))
            linear.bias.copy_(torch.from_numpy(layer.bias))
    return model.eval()
