"""The MLP of the lessons in plain NumPy: forward pass, backpropagation and a gradient check.

    python -m forcemlp train --framework numpy --epochs 3

The forward and backward passes are the lesson's equations, line for line. For a batch of N
inputs X (N, 784) and layers l = 1..L with weights W_l (out, in) and biases b_l, as in
PyTorch's nn.Linear:

    z_l = h_{l-1} W_lᵀ + b_l,   h_0 = X,   h_l = g(z_l) for hidden layers,   logits = z_L
    p = softmax(logits),   E = -(1/N) Σ_n log p_{n, y_n}                  (cross-entropy)

and, backwards, with Y the one-hot targets:

    dE/dz_L = (p - Y) / N
    dE/dW_l = (dE/dz_l)ᵀ h_{l-1},   dE/db_l = Σ_n dE/dz_l
    dE/dh_{l-1} = dE/dz_l W_l,      dE/dz_{l-1} = dE/dh_{l-1} ⊙ g'(z_{l-1})

The two passes below the softmax are :mod:`forcemlp.backprop`'s, the functions the PyTorch fast
path runs too; this module adds the softmax and its loss, the gradient check and training.
All parameters live in one flat float64 vector (``parameters``); the per-layer weights and
biases are views into it, so an optimizer from :mod:`forcemlp.optimizers` updates them all at
once and the gradient check can nudge any single number.
"""
from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from . import backprop
from .activations import get_activation
from .config import TrainConfig, check_training_numbers, learning_rate_at, pick
from .data import Split, Splits, one_hot
from .errors import ForceMLPError
from .history import Evaluation, History, RunResult, evaluate_log_probabilities
from .optimizers import make_optimizer
from .training import EpochRecorder
from .weights import LayerWeights, layer_views, layer_weights

# Activations that saturate (or do nothing) keep Xavier's variance; the ReLU family zeroes about
# half of its inputs, so He doubles the variance to keep signals the same size layer to layer.
XAVIER_ACTIVATIONS = ("sigmoid", "tanh", "linear")
# The config's optimizer names -> forcemlp.optimizers. "sgd" is plain mini-batch SGD: the noise
# comes from sampling the batch, so no extra noise is added ("gd" rule on batch gradients).
CONFIG_OPTIMIZERS = {
    "sgd": "gd", "momentum": "momentum", "nesterov": "nesterov", "adagrad": "adagrad",
    "adadelta": "adadelta", "rmsprop": "rmsprop", "adam": "adam",
}
EVALUATION_BATCH = 2000



class StandardNormalSource(Protocol):
    """What the initialisation draws from: NumPy's Generator, or forcemlp's SeededNormal."""

    def standard_normal(self, shape: tuple[int, ...]) -> np.ndarray: ...


@dataclass
class Forward:
    """What the forward pass computed, kept for the backward pass.

    ``layer_inputs[l]`` is h_l (h_0 = X); ``pre_activations[l]`` is z_{l+1}; the last one is
    the logits.
    """

    inputs: np.ndarray
    buffers: backprop.Buffers = field(repr=False)
    log_probabilities: np.ndarray

    @property
    def layer_inputs(self) -> list[np.ndarray]:
        return [self.inputs, *self.buffers.post]

    @property
    def pre_activations(self) -> list[np.ndarray]:
        return self.buffers.pre

    @property
    def logits(self) -> np.ndarray:
        return self.buffers.logits

    @property
    def probabilities(self) -> np.ndarray:
        return np.exp(self.log_probabilities)


@dataclass
class Gradients:
    """dE/dW_l and dE/db_l per layer, as views into one flat ``vector`` laid out like the
    model's ``parameters``."""

    vector: np.ndarray
    weights: list[np.ndarray]
    biases: list[np.ndarray]


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """log p = z - log Σ_k e^{z_k}, with the largest logit subtracted first so e^z never
    overflows (the log-sum-exp trick)."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


class NumpyMLP:
    """A fully connected network with one activation for all hidden layers and a softmax output.

    Weights start random with zero biases: He (normal, variance 2 / fan_in) before ReLU-like
    activations, Xavier/Glorot (normal, variance 2 / (fan_in + fan_out)) before sigmoid, tanh
    and linear ones and for the output layer; seeded, so equal seeds give equal networks.
    ``generator`` (anything with ``standard_normal(shape)``) replaces NumPy's seeded generator,
    e.g. :class:`~forcemlp.random.SeededNormal`, the one the browser widgets have too.
    """

    def __init__(
        self,
        layer_sizes: Sequence[int] = (784, 16, 10),
        activation: str = "relu",
        seed: int = 0,
        activation_parameter: float | None = None,
        generator: StandardNormalSource | None = None,
    ):
        self.layer_sizes = tuple(int(size) for size in layer_sizes)
        if len(self.layer_sizes) < 2 or min(self.layer_sizes) <= 0:
            raise ForceMLPError(
                f"layer_sizes must be two or more positive sizes (inputs ... classes),"
                f" got {list(layer_sizes)}."
            )
        self.activation = get_activation(activation)
        self.activation_parameter = (
            self.activation.default_parameter if activation_parameter is None
            else activation_parameter
        )
        pairs = itertools.pairwise(self.layer_sizes)
        self.parameters = np.zeros(sum((fan_in + 1) * fan_out for fan_in, fan_out in pairs))
        self.weights, self.biases = layer_views(self.parameters, self.layer_sizes)
        random = np.random.default_rng(seed) if generator is None else generator
        for layer, weight in enumerate(self.weights):
            fan_out, fan_in = weight.shape
            is_output = layer == len(self.weights) - 1
            if is_output or self.activation.name in XAVIER_ACTIVATIONS:
                variance = 2.0 / (fan_in + fan_out)
            else:
                variance = 2.0 / fan_in
            weight[...] = np.sqrt(variance) * random.standard_normal(weight.shape)

    def _check_inputs(self, features: np.ndarray) -> np.ndarray:
        features = np.asarray(features)
        if features.ndim != 2 or features.shape[1] != self.layer_sizes[0]:
            raise ForceMLPError(
                f"inputs of shape {features.shape} do not fit a network with"
                f" {self.layer_sizes[0]} inputs: pass rows of {self.layer_sizes[0]} features"
                " (e.g. split.features)."
            )
        return features

    def forward(self, features: np.ndarray) -> Forward:
        """z_l = h_{l-1} W_lᵀ + b_l, h_l = g(z_l), ..., log p = log_softmax(z_L)."""
        inputs = self._check_inputs(features)
        buffers = backprop.Buffers.allocate(len(inputs), self.layer_sizes)
        hidden_layers = len(buffers.post)
        logits = backprop.forward(self.weights, self.biases, inputs, buffers,
                                  [self._activate] * hidden_layers)
        return Forward(inputs, buffers, log_softmax(logits))

    def _activate(self, pre: np.ndarray, out: np.ndarray) -> None:
        np.copyto(out, self.activation.function(pre, self.activation_parameter))

    def _slope(self, pre: np.ndarray, post: np.ndarray, out: np.ndarray) -> None:
        np.copyto(out, self.activation.derivative(pre, self.activation_parameter))

    def _check_labels(self, forward: Forward, labels: np.ndarray) -> np.ndarray:
        labels = np.asarray(labels, dtype=np.int64)
        classes = self.layer_sizes[-1]
        if labels.shape != (len(forward.log_probabilities),):
            raise ForceMLPError(
                f"{labels.size} labels for {len(forward.log_probabilities)} inputs:"
                " pass one integer label per input row."
            )
        if labels.size and (labels.min() < 0 or labels.max() >= classes):
            raise ForceMLPError(f"labels must lie in 0..{classes - 1} for {classes} classes.")
        return labels

    def loss(self, forward: Forward, labels: np.ndarray) -> float:
        """Mean cross-entropy E = -(1/N) Σ_n log p_{n, y_n}, read from the log-probabilities so
        a tiny p never becomes log 0."""
        labels = self._check_labels(forward, labels)
        return float(-forward.log_probabilities[np.arange(len(labels)), labels].mean())

    def backward(self, forward: Forward, labels: np.ndarray, l2: float = 0.0) -> Gradients:
        """Backpropagation: the chain rule from the output back to every W_l and b_l.

        dE/dz_L = (p - Y)/N;  dE/dW_l = (dE/dz_l)ᵀ h_{l-1};  dE/db_l = Σ_n dE/dz_l;
        dE/dh_{l-1} = dE/dz_l W_l;  dE/dz_{l-1} = dE/dh_{l-1} ⊙ g'(z_{l-1}).
        With ``l2`` = λ > 0 the loss also carries L2's λ/2 Σ_l ‖W_l‖² (:meth:`l2_penalty`; biases
        go free), so each dE/dW_l gains λ W_l.
        """
        labels = self._check_labels(forward, labels)
        classes = self.layer_sizes[-1]
        vector = np.empty_like(self.parameters)
        gradients = Gradients(vector, *layer_views(vector, self.layer_sizes))
        output_delta = (forward.probabilities - one_hot(labels, classes)) / len(labels)
        backprop.backward(self.weights, forward.inputs, forward.buffers, output_delta,
                          [self._slope] * len(forward.buffers.slope), gradients.weights,
                          gradients.biases)
        if l2:
            for gradient, weight in zip(gradients.weights, self.weights):
                gradient += l2 * weight
        return gradients

    def l2_penalty(self, l2: float) -> float:
        """λ/2 Σ_l ‖W_l‖²: what L2 regularisation adds to the loss."""
        return 0.5 * l2 * sum(float(np.sum(weight * weight)) for weight in self.weights)

    def loss_and_gradients(
        self, features: np.ndarray, labels: np.ndarray
    ) -> tuple[float, Gradients]:
        """One forward and one backward pass: E and dE/dθ for a batch."""
        forward = self.forward(features)
        return self.loss(forward, labels), self.backward(forward, labels)

    def numeric_gradient(
        self, features: np.ndarray, labels: np.ndarray, index: int, epsilon: float = 1e-5
    ) -> float:
        """dE/dθ_i by central differences: (E(θ_i + ε) - E(θ_i - ε)) / (2ε)."""
        original = self.parameters[index]
        losses = []
        for nudge in (epsilon, -epsilon):
            self.parameters[index] = original + nudge
            losses.append(self.loss(self.forward(features), labels))
        self.parameters[index] = original
        return (losses[0] - losses[1]) / (2 * epsilon)

    def gradient_check(
        self,
        features: np.ndarray,
        labels: np.ndarray,
        epsilon: float = 1e-5,
        samples: int | None = None,
        seed: int = 0,
    ) -> float:
        """Largest relative error between backprop and finite differences, over all W_l, b_l.

        For each weight matrix and bias vector: ‖analytic - numeric‖ / (‖analytic‖ +
        ‖numeric‖) over its entries (``samples`` random ones of each, or all when None). In
        float64 a right backward pass gives about 1e-9; a wrong term gives errors near 1.
        Per tensor rather than per entry, because entries of 1e-7 or less are swamped by the
        1e-11 rounding error every finite difference carries.
        """
        features, labels = self._check_inputs(features), np.asarray(labels)
        analytic = self.loss_and_gradients(features, labels)[1].vector
        weight_indices, bias_indices = layer_views(
            np.arange(self.parameters.size), self.layer_sizes)
        random = np.random.default_rng(seed)
        errors = []
        for indices in weight_indices + bias_indices:
            indices = indices.ravel()
            if samples is not None and samples < indices.size:
                indices = random.choice(indices, samples, replace=False)
            numeric = np.array(
                [self.numeric_gradient(features, labels, index, epsilon) for index in indices]
            )
            difference = np.linalg.norm(analytic[indices] - numeric)
            scale = np.linalg.norm(analytic[indices]) + np.linalg.norm(numeric)
            errors.append(difference / max(scale, 1e-8))
        return float(max(errors))

    def predict_log_probabilities(self, features: np.ndarray) -> np.ndarray:
        """log p for many inputs, in slices so a big set never needs a big float64 copy."""
        features = self._check_inputs(features)
        return np.concatenate([
            self.forward(features[start:start + EVALUATION_BATCH]).log_probabilities
            for start in range(0, len(features), EVALUATION_BATCH)
        ])


def evaluate(model: NumpyMLP, split: Split) -> Evaluation:
    """Loss, accuracy, predictions and confusion matrix of ``model`` on one labelled set."""
    return evaluate_log_probabilities(model.predict_log_probabilities(split.features), split.labels)


def train(
    model: NumpyMLP,
    splits: Splits,
    *,
    epochs: int,
    batch_size: int,
    learning_rate: float,
    optimizer: str = "adam",
    seed: int = 0,
    progress: bool = False,
    lr_schedule: str = "constant",
) -> History:
    """Mini-batch training: shuffle, then per batch forward, backward and one optimizer step.

    ``optimizer`` is one of config.OPTIMIZERS. After each epoch the model is judged on the
    validation set; at the end the weights of the best validation epoch are put back. A
    diverging loss raises ForceMLPError (the shared rule of :mod:`forcemlp.training`).
    """
    check_training_numbers(epochs, batch_size, learning_rate)
    stepper = make_optimizer(pick("optimizer", optimizer, CONFIG_OPTIMIZERS), learning_rate)
    steps_per_epoch = math.ceil(len(splits.train) / batch_size)
    train_features, train_labels = splits.train.features, splits.train.labels
    shuffle = np.random.default_rng(seed)
    recorder = EpochRecorder("numpy", epochs, len(train_labels), learning_rate, progress)
    for epoch in range(epochs):
        recorder.start_epoch()
        order = shuffle.permutation(len(train_labels))
        loss_sum, correct = 0.0, 0
        with np.errstate(over="ignore", invalid="ignore"):  # a blow-up shows in the loss
            for step, start in enumerate(range(0, len(order), batch_size), start=1):
                batch = order[start:start + batch_size]
                labels = train_labels[batch]
                forward = model.forward(train_features[batch])
                loss_sum += model.loss(forward, labels) * len(batch)
                recorder.batches_done(step, start + len(batch), loss_sum)
                gradient = model.backward(forward, labels).vector
                stepper.learning_rate = learning_rate_at(
                    learning_rate, lr_schedule, epoch * steps_per_epoch + step - 1,
                    epochs * steps_per_epoch,
                )
                model.parameters[...] = stepper.step(model.parameters, gradient)
                correct += int((forward.log_probabilities.argmax(axis=1) == labels).sum())
            val = evaluate(model, splits.val)
        recorder.end_epoch(loss_sum, correct, val.loss, val.accuracy,
                           snapshot=model.parameters.copy)
    model.parameters[...] = recorder.best_snapshot
    return recorder.history


def trained_weights(model: NumpyMLP) -> tuple[LayerWeights, ...]:
    """The model's layers as framework-neutral float32 (out, in) weights and biases."""
    return layer_weights(zip(model.weights, model.biases))


def train_run(config: TrainConfig, splits: Splits, progress: bool = False) -> RunResult:
    """Build, train and test the NumPy MLP a TrainConfig describes (the runner's adapter)."""
    model = NumpyMLP(
        (splits.train.images[0].size, *config.hidden_sizes, len(splits.class_names)),
        activation=config.activation,
        seed=config.seed,
    )
    history = train(
        model, splits, epochs=config.epochs, batch_size=config.batch_size,
        learning_rate=config.learning_rate,
        optimizer=config.optimizer, seed=config.seed, progress=progress,
        lr_schedule=config.lr_schedule,
    )
    test = evaluate(model, splits.test)
    return RunResult.from_training(config.to_dict(), history, test, len(splits.train),
                                   weights=trained_weights(model))
