"""The activation explorer of lesson 3: each activation, its derivative, and depth, in the browser.

    from forcemlp.widgets import activation_explorer
    explorer = activation_explorer(images, labels)   # a batch of real digits for the depth panel
    explorer.activation, explorer.parameter, explorer.depth   # what the reader chose

The page draws g and g' for any parameter value (leaky ReLU's slope, ELU's alpha), shades the
inputs where |g'| < 0.05, and measures what n hidden layers with that activation do to the
gradient: ‖dE/dW‖ per layer of the lessons' MLP on the digits the widget carries
(:func:`forcemlp.widgets.gradients.layer_gradient_sizes` is the same computation in NumPy).
"""
from __future__ import annotations

import numpy as np
import traitlets

from ..activations import ACTIVATIONS
from ..errors import ForceMLPError
from .base import (
    IN_ORDER,
    BrowserWidget,
    InvalidValue,
    Number,
    check_choice,
    check_integer,
    check_range,
    check_seed,
)
from .gradients import layer_gradient_sizes

VANISHING_GRADIENT = 0.05  # where |g'(x)| is below this, backpropagation barely moves weights
MAX_DEPTH = 30
MAX_WIDTH = 128
CLASSES = 10
DIGITS = 32  # carried by the widget: 25 kB of pixels, enough for a stable picture
PIXELS = 784


def activation_state(name: str) -> dict:
    """What the page needs to know about an activation (its formula lives in js/activations.js)."""
    activation = ACTIVATIONS[name]
    return {
        "title": activation.title, "note": activation.note,
        "parameter_name": activation.parameter_name,
        "default_parameter": activation.default_parameter,
        "parameter_range": activation.parameter_range,
    }


class ActivationExplorer(BrowserWidget):
    """One activation at a time, with its parameter and the depth of the gradient panel."""

    _module = "activation_explorer.js"
    title = "Activation explorer"

    activation = traitlets.Unicode("relu").tag(sync=True)
    parameter = Number(0.0).tag(sync=True)  # for those that have one
    depth = traitlets.Int(10).tag(sync=True)
    width = traitlets.Int(32).tag(sync=True)
    seed = traitlets.Int(0).tag(sync=True)
    images = traitlets.Bytes().tag(sync=True)  # uint8 pixels, DIGITS x 784
    labels = traitlets.List(traitlets.Int()).tag(sync=True)
    activations = traitlets.Dict(read_only=True).tag(**IN_ORDER)
    vanishing_gradient = traitlets.Float(VANISHING_GRADIENT, read_only=True).tag(sync=True)
    max_depth = traitlets.Int(MAX_DEPTH, read_only=True).tag(sync=True)

    @traitlets.default("activations")
    def _activations(self) -> dict:
        return {name: activation_state(name) for name in ACTIVATIONS}

    @traitlets.validate("activation")
    def _check_activation(self, proposal):
        return check_choice("activation", proposal["value"], tuple(ACTIVATIONS))

    @traitlets.validate("parameter")
    def _check_parameter(self, proposal):
        activation = ACTIVATIONS[self.activation]
        if activation.parameter_range is None:
            return check_range("parameter", proposal["value"], -1e9, 1e9)
        return check_range(activation.parameter_name, proposal["value"],
                           *activation.parameter_range)

    @traitlets.validate("depth")
    def _check_depth(self, proposal):
        return check_integer("depth", proposal["value"], 1, MAX_DEPTH)

    @traitlets.validate("width")
    def _check_width(self, proposal):
        return check_integer("width", proposal["value"], 1, MAX_WIDTH)

    @traitlets.validate("seed")
    def _check_seed(self, proposal):
        return check_seed(proposal["value"])

    @traitlets.validate("images")
    def _check_images(self, proposal):
        size = len(proposal["value"])
        if size == 0 or size % PIXELS or size > DIGITS * PIXELS:
            raise InvalidValue(f"images must hold 1 to {DIGITS} digits of {PIXELS} uint8 pixels, "
                               f"got {size} bytes.")
        return proposal["value"]

    @traitlets.validate("labels")
    def _check_labels(self, proposal):
        labels = proposal["value"]
        if not 1 <= len(labels) <= DIGITS:
            raise InvalidValue(f"labels must be 1 to {DIGITS} digit classes, got {len(labels)}.")
        wrong = [label for label in labels if isinstance(label, bool) or label not in range(CLASSES)]
        if wrong:
            raise InvalidValue(f"labels must be whole numbers from 0 to {CLASSES - 1}, "
                               f"got {wrong[0]!r}.")
        return list(labels)

    def gradient_sizes(self) -> list[float]:
        """‖dE/dW‖ per layer, as the depth panel shows it, computed in NumPy."""
        images = np.frombuffer(self.images, dtype=np.uint8).reshape(-1, PIXELS)
        activation = ACTIVATIONS[self.activation]
        parameter = self.parameter if activation.parameter_name else None
        return layer_gradient_sizes(self.activation, self.depth, self.width, images,
                                    np.array(self.labels), self.seed, parameter)


def activation_explorer(
    images: np.ndarray | None = None, labels: np.ndarray | None = None,
    activation: str = "relu", **traits,
) -> ActivationExplorer:
    """An activation explorer whose depth panel measures gradients on ``images`` (uint8, the
    first 32 are kept; default: the first 32 MNIST training digits) and their ``labels``."""
    check_choice("activation", activation, tuple(ACTIVATIONS))
    if images is None:
        from ..data import load_splits

        train = load_splits("mnist").train
        images, labels = train.images, train.labels
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.size == 0 or images.size % PIXELS or labels is None:
        raise ForceMLPError("images must be uint8 digits (N, 28, 28) with N labels.")
    images = images.reshape(-1, PIXELS)[:DIGITS]
    labels = np.asarray(labels)
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise ForceMLPError("labels must be a list of whole numbers 0 to 9, one per image.")
    labels = [int(label) for label in labels[: len(images)]]
    if len(labels) != len(images):
        raise ForceMLPError(f"{len(images)} images need as many labels, got {len(labels)}.")
    default = ACTIVATIONS[activation].default_parameter
    traits.setdefault("parameter", 0.0 if default is None else default)
    return ActivationExplorer(activation=activation, images=images.tobytes(), labels=labels,
                              **traits)
