"""Trained MLP weights packed small enough to ship inside a web page, and read back.

    from forcemlp.model_export import export_layers, decode_layers
    exported = export_layers(layers, name="784-16-10", encoding="float32")   # JSON-ready dict
    decode_layers(exported)          # [(W, b), ...] as the page's JavaScript will see them

``layers`` is framework-neutral: per layer the weight W of shape (out, in), as nn.Linear keeps
it, and the bias b. Encodings, from exact to small: ``float32`` (4 bytes a weight), ``float16``
(2) and ``int8`` (1): each row of W divided by its own scale max|row| / 127 and rounded, so a
row of small weights keeps its precision. Biases stay float32 (they are few). Numbers are
little-endian and base64-encoded; digits.js decodes the same format.
"""
from __future__ import annotations

import base64
import os
from collections.abc import Sequence

import numpy as np

from .config import TrainConfig
from .errors import ForceMLPError

ENCODINGS = ("float32", "float16", "int8")
INT8_LIMIT = 127
Layer = tuple[np.ndarray, np.ndarray]


def _pack(array: np.ndarray, dtype: str) -> str:
    return base64.b64encode(np.ascontiguousarray(array, dtype=np.dtype(dtype).newbyteorder("<"))
                            .tobytes()).decode("ascii")


def _unpack(text: str, dtype: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype=np.dtype(dtype).newbyteorder("<"))


def check_layers(layers: Sequence[Layer]) -> list[Layer]:
    """The layers as float arrays, or a one-line error when shapes do not chain."""
    checked = []
    for index, (weight, bias) in enumerate(layers):
        weight, bias = np.asarray(weight, dtype=np.float64), np.asarray(bias, dtype=np.float64)
        if weight.ndim != 2 or bias.shape != (weight.shape[0],):
            raise ForceMLPError(
                f"layer {index}: weight {weight.shape} and bias {bias.shape} do not fit:"
                " pass W of shape (out, in) and b of shape (out,)."
            )
        if checked and checked[-1][0].shape[0] != weight.shape[1]:
            raise ForceMLPError(
                f"layer {index} takes {weight.shape[1]} inputs but the layer before gives"
                f" {checked[-1][0].shape[0]}: pass the layers in order."
            )
        if not (np.all(np.isfinite(weight)) and np.all(np.isfinite(bias))):
            raise ForceMLPError(f"layer {index} holds NaN or infinite weights: retrain the model.")
        checked.append((weight, bias))
    if not checked:
        raise ForceMLPError("no layers to export: pass [(W, b), ...] of a trained MLP.")
    return checked


def row_scales(weight: np.ndarray) -> np.ndarray:
    """int8's scale per row, max|row| / 127 (1 for an all-zero row), as float32."""
    largest = np.abs(weight).max(axis=1)
    return np.where(largest > 0, largest / INT8_LIMIT, 1.0).astype(np.float32)


def export_layers(
    layers: Sequence[Layer], name: str, encoding: str = "float32", activation: str = "relu"
) -> dict:
    """A JSON-ready description of a ReLU MLP ending in softmax, weights in ``encoding``."""
    if encoding not in ENCODINGS:
        raise ForceMLPError(f"unknown encoding {encoding!r}: choose one of {', '.join(ENCODINGS)}.")
    if activation != "relu":
        raise ForceMLPError(f"only ReLU networks can be exported for now, got {activation!r}.")
    exported_layers = []
    for weight, bias in check_layers(layers):
        outputs, inputs = weight.shape
        layer = {"inputs": inputs, "outputs": outputs, "encoding": encoding,
                 "bias": _pack(bias, "float32")}
        if encoding == "int8":
            scales = row_scales(weight)
            quantized = np.clip(np.rint(weight / scales[:, None]), -INT8_LIMIT, INT8_LIMIT)
            layer.update(weights=_pack(quantized, "int8"), scales=_pack(scales, "float32"))
        else:
            layer["weights"] = _pack(weight, encoding)
        exported_layers.append(layer)
    return {"name": name, "activation": activation, "layers": exported_layers}


def decode_layers(exported: dict) -> list[Layer]:
    """The float64 (W, b) per layer that the page computes with (int8 rows times their scale)."""
    layers = []
    for layer in exported["layers"]:
        shape = (layer["outputs"], layer["inputs"])
        weight = _unpack(layer["weights"], layer["encoding"]).astype(np.float64).reshape(shape)
        if layer["encoding"] == "int8":
            weight = weight * _unpack(layer["scales"], "float32").astype(np.float64)[:, None]
        layers.append((weight, _unpack(layer["bias"], "float32").astype(np.float64)))
    return layers


def exported_bytes(exported: dict) -> int:
    """Characters of base64 the model adds to a page."""
    return sum(len(layer["weights"]) + len(layer.get("scales", "")) + len(layer["bias"])
               for layer in exported["layers"])


def probabilities(layers: Sequence[Layer], features: np.ndarray) -> np.ndarray:
    """Softmax outputs of a ReLU MLP for rows of features, in float64 (what the page computes)."""
    values = np.asarray(features, dtype=np.float64)
    for index, (weight, bias) in enumerate(layers):
        values = values @ weight.T + bias
        if index < len(layers) - 1:
            values = np.maximum(values, 0.0)
    values = values - values.max(axis=1, keepdims=True)
    exponentials = np.exp(values)
    return exponentials / exponentials.sum(axis=1, keepdims=True)


def trained_layers(config: TrainConfig) -> list[Layer]:
    """The trained [(W, b), ...] of a PyTorch run ``config``, trained once and then reused.

    Stored as an .npz beside the run cache ($FORCEMLP_RUN_CACHE, under the run's cache key),
    so a page that shows a model the book trained does not train it again.
    """
    from .runner import cached_path

    if config.framework != "torch":
        raise ForceMLPError(
            f"only PyTorch runs can be exported for now, got framework {config.framework!r}."
        )
    path = cached_path(config)
    weights_path = path.with_suffix(".weights.npz") if path is not None else None
    if weights_path is not None and weights_path.is_file():
        with np.load(weights_path) as stored:
            count = len(stored.files) // 2
            return [(stored[f"weight{index}"], stored[f"bias{index}"]) for index in range(count)]
    layers = _train_torch(config)
    if weights_path is not None:
        weights_path.parent.mkdir(parents=True, exist_ok=True)
        partial = weights_path.with_suffix(f".{os.getpid()}.part.npz")
        np.savez(partial, **{f"weight{index}": weight for index, (weight, _) in enumerate(layers)},
                 **{f"bias{index}": bias for index, (_, bias) in enumerate(layers)})
        partial.replace(weights_path)
    return layers


def _train_torch(config: TrainConfig) -> list[Layer]:
    from . import torch_mlp
    from .data import load_splits

    splits = load_splits(config.dataset, train_size=config.train_size)
    model = torch_mlp.model_for(config)
    torch_mlp.train(model, splits, config.epochs, config.batch_size, config.learning_rate,
                    config.optimizer, config.seed, config.device, False, config.lr_schedule)
    linears = [module for module in model.modules() if isinstance(module, torch_mlp.nn.Linear)]
    return [(layer.weight.detach().cpu().numpy(), layer.bias.detach().cpu().numpy())
            for layer in linears]


def trained_torch_model(config: TrainConfig):
    """The PyTorch model of ``config`` holding its trained weights (see :func:`trained_layers`),
    in eval mode: what the lessons run on a reader's drawing, and the parity tests' reference."""
    import torch

    from . import torch_mlp

    model = torch_mlp.model_for(config)
    linears = [module for module in model.modules() if isinstance(module, torch.nn.Linear)]
    with torch.no_grad():
        for layer, (weight, bias) in zip(linears, trained_layers(config), strict=True):
            layer.weight.copy_(torch.from_numpy(np.asarray(weight)))
            layer.bias.copy_(torch.from_numpy(np.asarray(bias)))
    return model.eval()
