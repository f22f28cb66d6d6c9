"""What a stack of layers does to a gradient: the activation explorer's depth panel in NumPy.

    from forcemlp.widgets.gradients import layer_gradient_sizes
    layer_gradient_sizes("sigmoid", depth=10, width=32, images=..., labels=...)

The panel computes this in the browser (``js/mlp.js``) for whatever depth and activation the
reader picks. Here it is the lessons' own :class:`~forcemlp.numpy_mlp.NumpyMLP`, with its
initial weights drawn from :class:`~forcemlp.random.SeededNormal` instead of NumPy's
generator, because that is the generator the browser has too: same seed, same network, same
gradients (the browser test holds the two to 1e-9).
"""
from __future__ import annotations

import numpy as np

from ..data import to_features
from ..numpy_mlp import NumpyMLP
from ..random import SeededNormal

CLASSES = 10


def seeded_network(
    layer_sizes: tuple[int, ...], activation: str, seed: int = 0, parameter: float | None = None,
) -> NumpyMLP:
    """A NumpyMLP with NumpyMLP's initialisation drawn from SeededNormal(seed), layer by layer
    as js/mlp.js draws it."""
    return NumpyMLP(layer_sizes, activation, seed, parameter, generator=SeededNormal(seed))


def layer_gradient_sizes(
    activation: str, depth: int, width: int, images: np.ndarray, labels: np.ndarray,
    seed: int = 0, parameter: float | None = None,
) -> list[float]:
    """‖dE/dW_l‖ for each layer (input side first) of a network of ``depth`` hidden layers of
    ``width`` units, on one batch of real digits (uint8 images, as the explorer carries them)."""
    features = to_features(np.asarray(images, dtype=np.uint8))
    sizes = (features.shape[1], *(width,) * depth, CLASSES)
    network = seeded_network(sizes, activation, seed, parameter)
    gradients = network.backward(network.forward(features), labels)
    return [float(np.linalg.norm(gradient)) for gradient in gradients.weights]
