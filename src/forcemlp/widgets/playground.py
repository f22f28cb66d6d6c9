"""The playground: a small MLP trained live on 2-D points, in the reader's browser.

    from forcemlp.widgets.playground import Playground
    Playground(dataset="xor", hidden_sizes=[4], activation="linear")

The reader picks a dataset (two Gaussians, circle, XOR, spiral), how many points (half of
them for training, half for testing) and their noise, 1-4 hidden
layers of 1-8 neurons, the activation, learning rate, batch size, optimizer (SGD, momentum,
Adam) and L2, then plays, pauses, steps and resets. The network is forcemlp.toy_mlp's,
computed by playground_mlp.js with the optimizers of optimizers.js; the decision boundary is a
heat map behind the points, each neuron's picture shows what it computes over the plane, and
the train and test losses are drawn as it learns. In a live kernel ``step``, ``train_loss`` and
``test_loss`` come back to Python whenever training pauses (``None`` once a loss is no longer
finite), and ``diverged`` says whether the run blew up.

Every menu and limit of the page is written here once (:func:`playground_limits`): Python
checks each trait against it, and the page builds its menus and sliders from the read-only
``limits`` trait.
"""
from __future__ import annotations

import math
import numbers

import traitlets

from ..errors import ForceMLPError
from ..toy_data import DATASET_NAMES
from ..toy_mlp import (
    LOSS_GROWTH_LIMIT,
    MAX_HIDDEN_LAYERS,
    MAX_LAYER_WIDTH,
    PLAYGROUND_ACTIVATIONS,
    PLAYGROUND_OPTIMIZERS,
    check_hidden_sizes,
)
from .base import BrowserWidget, InvalidValue, check_choice, check_range

#: The page's sliders: their ends and step (learning rate moves along log10).
SLIDERS = {
    "points": {"min": 20, "max": 500, "step": 10, "log": False},
    "noise": {"min": 0.0, "max": 2.0, "step": 0.05, "log": False},
    "learning_rate": {"min": 1e-4, "max": 10.0, "step": 0.05, "log": True},
    "batch_size": {"min": 1, "max": 50, "step": 1, "log": False},
}
WHOLE_NUMBER_SLIDERS = ("points", "batch_size")
L2_CHOICES = (0.0, 1e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3)  # the page's L2 menu
NEW_LAYER_WIDTH = 4  # neurons of a layer the reader adds
MAX_SEED = 2**31 - 1
MAX_STEP = 2**53  # JavaScript counts steps exactly up to here


def playground_limits() -> dict:
    """What the page offers, as it receives it: menus, slider ranges, sizes, divergence."""
    return {
        "datasets": list(DATASET_NAMES),
        "activations": list(PLAYGROUND_ACTIVATIONS),
        "optimizers": dict(PLAYGROUND_OPTIMIZERS),  # menu entry -> optimizers.js rule
        "optimizer_names": list(PLAYGROUND_OPTIMIZERS),  # the menu's order (JSON sorts keys)
        "l2": list(L2_CHOICES),
        "sliders": {name: dict(spec) for name, spec in SLIDERS.items()},
        "max_layers": MAX_HIDDEN_LAYERS,
        "max_width": MAX_LAYER_WIDTH,
        "new_layer_width": NEW_LAYER_WIDTH,
        "loss_growth_limit": LOSS_GROWTH_LIMIT,
    }


def _number(name: str, value: object, low: float, high: float, whole: bool = False) -> float:
    """``value`` if it is a finite number (whole where asked) in [low, high]; never a bool."""
    if isinstance(value, bool) or (whole and not (
        isinstance(value, numbers.Integral) or (isinstance(value, float) and value.is_integer())
    )):
        kind = "a whole number" if whole else "a number"
        raise InvalidValue(f"{name} must be {kind} from {low:g} to {high:g}, got {value!r}.")
    return check_range(name, value, low, high)


def _slider(name: str, value: object) -> float:
    spec = SLIDERS[name]
    number = _number(name, value, spec["min"], spec["max"], name in WHOLE_NUMBER_SLIDERS)
    return int(number) if name in WHOLE_NUMBER_SLIDERS else number


class Playground(BrowserWidget):
    """A 2-D classification playground whose training runs in JavaScript."""

    _module = "playground.js"
    title = "MLP playground"

    dataset = traitlets.Unicode("spiral").tag(sync=True)
    points = traitlets.Int(400).tag(sync=True)
    noise = traitlets.Float(0.2).tag(sync=True)
    hidden_sizes = traitlets.List(traitlets.Int(), [8, 8]).tag(sync=True)
    activation = traitlets.Unicode("tanh").tag(sync=True)
    learning_rate = traitlets.Float(0.03).tag(sync=True)
    batch_size = traitlets.Int(10).tag(sync=True)
    optimizer = traitlets.Unicode("adam").tag(sync=True)
    l2 = traitlets.Float(0.0).tag(sync=True)
    seed = traitlets.Int(0).tag(sync=True)
    step = traitlets.Int(0).tag(sync=True)
    train_loss = traitlets.Float(None, allow_none=True).tag(sync=True)
    test_loss = traitlets.Float(None, allow_none=True).tag(sync=True)
    diverged = traitlets.Bool(False).tag(sync=True)
    limits = traitlets.Dict(read_only=True).tag(sync=True)

    @traitlets.default("limits")
    def _limits(self) -> dict:
        return playground_limits()

    @traitlets.validate("dataset")
    def _check_dataset(self, proposal):
        return check_choice("dataset", proposal["value"], DATASET_NAMES)

    @traitlets.validate("activation")
    def _check_activation(self, proposal):
        return check_choice("activation", proposal["value"], PLAYGROUND_ACTIVATIONS)

    @traitlets.validate("optimizer")
    def _check_optimizer(self, proposal):
        return check_choice("optimizer", proposal["value"], tuple(PLAYGROUND_OPTIMIZERS))

    @traitlets.validate("points", "noise", "learning_rate", "batch_size")
    def _check_slider(self, proposal):
        return _slider(proposal["trait"].name, proposal["value"])

    @traitlets.validate("l2")
    def _check_l2(self, proposal):
        value = proposal["value"]
        if value not in L2_CHOICES:
            raise InvalidValue(f"l2 must be one of {', '.join(map(str, L2_CHOICES))}"
                               f" (the page's menu), got {value!r}.")
        return float(value)

    @traitlets.validate("hidden_sizes")
    def _check_hidden_sizes(self, proposal):
        try:
            return check_hidden_sizes(proposal["value"])
        except ForceMLPError as error:
            raise InvalidValue(str(error)) from None

    @traitlets.validate("seed")
    def _check_seed(self, proposal):
        return int(_number("seed", proposal["value"], 0, MAX_SEED, whole=True))

    @traitlets.validate("step")
    def _check_step(self, proposal):
        return int(_number("step", proposal["value"], 0, MAX_STEP, whole=True))

    @traitlets.validate("train_loss", "test_loss")
    def _check_loss(self, proposal):
        value, name = proposal["value"], proposal["trait"].name
        if value is None:
            return None
        if isinstance(value, bool) or not (isinstance(value, numbers.Real)
                                           and math.isfinite(value) and value >= 0):
            raise InvalidValue(f"{name} must be a finite cross-entropy >= 0 or None (not yet"
                               f" trained), got {value!r}: the page sends it after a step.")
        return float(value)
