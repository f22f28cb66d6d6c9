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
``test_loss`` come back to Python whenever training pauses.
"""
from __future__ import annotations

import traitlets

from ..config import check_choice
from ..errors import ForceMLPError
from ..toy_data import DATASET_NAMES
from ..toy_mlp import PLAYGROUND_ACTIVATIONS, PLAYGROUND_OPTIMIZERS, check_hidden_sizes
from .base import BrowserWidget, check_range

L2_CHOICES = (0.0, 1e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3)  # the page's L2 menu


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

    @traitlets.validate("dataset")
    def _check_dataset(self, proposal):
        return check_choice("dataset", proposal["value"], DATASET_NAMES)

    @traitlets.validate("activation")
    def _check_activation(self, proposal):
        return check_choice("activation", proposal["value"], PLAYGROUND_ACTIVATIONS)

    @traitlets.validate("optimizer")
    def _check_optimizer(self, proposal):
        return check_choice("optimizer", proposal["value"], tuple(PLAYGROUND_OPTIMIZERS))

    @traitlets.validate("points")
    def _check_points(self, proposal):
        return int(check_range("points", proposal["value"], 20, 500))

    @traitlets.validate("noise")
    def _check_noise(self, proposal):
        return check_range("noise", proposal["value"], 0, 2)

    @traitlets.validate("learning_rate")
    def _check_learning_rate(self, proposal):
        return check_range("learning_rate", proposal["value"], 1e-4, 10)  # the page's slider

    @traitlets.validate("batch_size")
    def _check_batch_size(self, proposal):
        return int(check_range("batch_size", proposal["value"], 1, 50))

    @traitlets.validate("l2")
    def _check_l2(self, proposal):
        if proposal["value"] not in L2_CHOICES:
            raise ForceMLPError(f"l2 must be one of {', '.join(map(str, L2_CHOICES))}"
                                f" (the page's menu), got {proposal['value']!r}.")
        return float(proposal["value"])

    @traitlets.validate("hidden_sizes")
    def _check_hidden_sizes(self, proposal):
        return check_hidden_sizes(proposal["value"])

    @traitlets.validate("seed")
    def _check_seed(self, proposal):
        return int(check_range("seed", proposal["value"], 0, 2**31 - 1))
