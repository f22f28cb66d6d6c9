"""The playground's network in Python: lesson 2's NumPy MLP on 2-D points, with L2.

    from forcemlp import toy_data, toy_mlp
    data = toy_data.make_dataset("xor", noise=0.2, seed=0)
    run = toy_mlp.train_toy(data, hidden_sizes=(4,), activation="relu", steps=500)
    run.test_accuracy

The playground widget trains the same network in the reader's browser (playground_mlp.js,
driven by playground_run.js); the browser test holds one of its steps to :func:`training_step`
on the same weights and batch, and tests/test_playground.py a whole page run (under Node.js)
to :func:`train_toy`. The network is :class:`forcemlp.numpy_mlp.NumpyMLP` with two inputs and two classes;
L2 regularisation adds λ/2 Σ W² to the loss (weights, not biases; ``NumpyMLP.backward(...,
l2)``), so λ W to each weight's gradient, before the optimizer of :mod:`forcemlp.optimizers`
takes its step.
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .config import check_choice, check_learning_rate, pick
from .errors import ForceMLPError
from .numpy_mlp import NumpyMLP
from .optimizers import Optimizer, make_optimizer
from .random import SeededNormal
from .toy_data import ToyData

#: The playground's optimizers -> forcemlp.optimizers: "sgd" is plain mini-batch SGD.
PLAYGROUND_OPTIMIZERS = {"sgd": "gd", "momentum": "momentum", "adam": "adam"}
PLAYGROUND_ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear", "leaky_relu")
MAX_HIDDEN_LAYERS = 4
MAX_LAYER_WIDTH = 8
CLASSES = 2
# A toy run has diverged when its loss is not finite or has grown this many times past its own
# start (the widget receives the same number): a cross-entropy of ~70 nats, where ln 2 is a coin
# toss. Not training.DIVERGENCE_FACTOR, which scales ln(classes) for the MNIST trainers.
LOSS_GROWTH_LIMIT = 100.0


def check_hidden_sizes(hidden_sizes: Sequence[int]) -> list[int]:
    """1-4 hidden layers of 1-8 neurons (the playground's limits), or a one-line error."""
    if isinstance(hidden_sizes, str | bytes) or not isinstance(
        hidden_sizes, Sequence | np.ndarray
    ):
        raise ForceMLPError(
            f"hidden_sizes must be a list of layer widths, e.g. [8, 8], got {hidden_sizes!r}."
        )
    if not all(isinstance(size, numbers.Integral) and not isinstance(size, bool)
               for size in hidden_sizes):
        raise ForceMLPError(f"hidden_sizes must hold whole numbers, got {list(hidden_sizes)!r}.")
    sizes = [int(size) for size in hidden_sizes]
    if not 1 <= len(sizes) <= MAX_HIDDEN_LAYERS or not all(
        1 <= size <= MAX_LAYER_WIDTH for size in sizes
    ):
        raise ForceMLPError(
            f"the playground takes 1-{MAX_HIDDEN_LAYERS} hidden layers of 1-{MAX_LAYER_WIDTH}"
            f" neurons, got {sizes}: e.g. hidden_sizes=(8, 8)."
        )
    return sizes


def toy_network(
    hidden_sizes: Sequence[int], activation: str = "relu", seed: int = 0
) -> NumpyMLP:
    """A 2-input, 2-class network with 1-4 hidden layers of 1-8 neurons (the playground's),
    initialised from SeededNormal(seed) exactly as the page's playground initialises it."""
    check_choice("activation", activation, PLAYGROUND_ACTIVATIONS)
    sizes = (2, *check_hidden_sizes(hidden_sizes), CLASSES)
    return NumpyMLP(sizes, activation, seed, generator=SeededNormal(seed))


def check_l2(l2: float) -> None:
    if not (math.isfinite(l2) and l2 >= 0):
        raise ForceMLPError(f"l2 must be a number >= 0, got {l2!r}.")


def training_step(
    model: NumpyMLP, optimizer: Optimizer, points: np.ndarray, labels: np.ndarray, l2: float = 0.0
) -> float:
    """One step on one batch: forward, backward, + λ W, the optimizer's update.

    Returns the batch's cross-entropy before the step, without the L2 penalty.
    """
    forward = model.forward(points)
    loss = model.loss(forward, labels)
    gradients = model.backward(forward, labels, l2)
    model.parameters[...] = optimizer.step(model.parameters, gradients.vector)
    return loss


@dataclass
class ToyRun:
    """A trained playground network and how its losses went (one entry per ``record_every``)."""

    model: NumpyMLP
    steps: list[int] = field(default_factory=list)
    train_losses: list[float] = field(default_factory=list)
    test_losses: list[float] = field(default_factory=list)
    train_accuracy: float = float("nan")
    test_accuracy: float = float("nan")


def _loss_and_accuracy(model: NumpyMLP, points: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    forward = model.forward(points)
    accuracy = float((forward.log_probabilities.argmax(axis=1) == labels).mean())
    return model.loss(forward, labels), accuracy


def _shuffled(count: int, random: SeededNormal) -> list[int]:
    """0..count-1 in the order playground_run.js's Fisher-Yates shuffle puts them."""
    order = list(range(count))
    for index in range(count - 1, 0, -1):
        other = math.floor(random.uniform() * (index + 1))
        order[index], order[other] = order[other], order[index]
    return order


def train_toy(
    data: ToyData,
    hidden_sizes: Sequence[int] = (4,),
    activation: str = "relu",
    optimizer: str = "adam",
    learning_rate: float = 0.03,
    batch_size: int = 10,
    l2: float = 0.0,
    steps: int = 500,
    seed: int = 0,
    record_every: int = 10,
) -> ToyRun:
    """Train a playground network on ``data.train`` for ``steps`` mini-batch steps.

    Batches are cut in order from a fresh shuffle of the training points each pass, drawn from
    SeededNormal(seed + 1) as the playground draws them, so with the playground's settings this
    is the run the page makes when the reader presses Play (to rounding).
    A loss that stops being finite or grows past ``LOSS_GROWTH_LIMIT`` times its start
    raises ForceMLPError.
    """
    model = toy_network(hidden_sizes, activation, seed)
    check_learning_rate(learning_rate)
    check_l2(l2)
    if not isinstance(batch_size, int) or batch_size <= 0:
        raise ForceMLPError(f"batch_size must be a positive whole number, got {batch_size!r}.")
    stepper = make_optimizer(pick("optimizer", optimizer, PLAYGROUND_OPTIMIZERS), learning_rate)
    train, test = data.train, data.test
    shuffle = SeededNormal(seed + 1)
    run = ToyRun(model)
    order: list[int] = []
    for step in range(steps + 1):
        if step % record_every == 0 or step == steps:
            train_loss, run.train_accuracy = _loss_and_accuracy(model, train.points, train.labels)
            test_loss, run.test_accuracy = _loss_and_accuracy(model, test.points, test.labels)
            start = run.train_losses[0] if run.train_losses else train_loss
            if not (math.isfinite(train_loss) and train_loss <= LOSS_GROWTH_LIMIT * start):
                raise ForceMLPError(
                    f"the loss became {train_loss} at step {step}: training diverged;"
                    f" lower the learning rate (now {learning_rate:g})."
                )
            run.steps.append(step)
            run.train_losses.append(train_loss)
            run.test_losses.append(test_loss)
        if step == steps:
            break
        if len(order) < batch_size:
            order += _shuffled(len(train), shuffle)
        batch, order = order[:batch_size], order[batch_size:]
        with np.errstate(over="ignore", invalid="ignore"):
            training_step(model, stepper, train.points[batch], train.labels[batch], l2)
    return run
