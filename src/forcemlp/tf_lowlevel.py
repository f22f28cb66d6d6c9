"""The same MLP, trained by hand in TensorFlow: variables, a GradientTape, an Adam step.

No Keras model and no ``fit``: ``DenseMLP`` holds its weights as ``tf.Variable`` objects and
computes logits, ``loss_and_gradients`` records the forward pass on a tape and asks it for
the gradients, an optimizer applies them, and ``make_train_step`` joins the two into one
function that ``tf.function`` compiles into a graph::

    with tf.GradientTape() as tape:
        logits = model(features)
        loss = mean softmax cross-entropy(labels, logits)
    gradients = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(gradients, model.trainable_variables))

``train_gradient_tape`` wraps it in epochs over shuffled batches, validates after each epoch,
and records them with the same bookkeeping every framework uses (per-sample averages, the
divergence rule, the best validation weights kept), returning forcemlp's shared History and
a test Evaluation. It steps with ``keras.optimizers.Adam``, as lesson 7 writes it, so the
lesson's run and this trainer's are the same run; ``Adam`` here is PyTorch's formula on
``tf.Variable`` objects, for the Rosetta page, where every framework must take the same step.
"""
from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .config import TrainConfig, check_hidden_sizes, check_training_numbers
from .data import Split, Splits, to_features
from .frameworks import import_keras, import_tensorflow, keras_device
from .history import Evaluation, History, RunResult, evaluate_log_probabilities
from .training import CHECK_EVERY_STEPS, EpochRecorder
from .weights import LayerWeights, layer_weights

tf = import_tensorflow()

INPUT_SIZE = 784
NUM_CLASSES = 10


class DenseMLP(tf.Module):
    """784 -> hidden_sizes (ReLU) -> 10 logits, as plain ``tf.Variable`` weights and biases.

    Hidden layers start He-normal (ReLU halves the variance, so the weights double it back);
    the output layer starts Glorot-uniform; biases start at zero. The seed fixes every draw.
    """

    def __init__(self, hidden_sizes: tuple[int, ...] = (16,), seed: int = 0) -> None:
        super().__init__(name="dense_mlp")
        sizes = [INPUT_SIZE, *hidden_sizes, NUM_CLASSES]
        self.weights: list[tf.Variable] = []
        self.biases: list[tf.Variable] = []
        for index, (fan_in, fan_out) in enumerate(itertools.pairwise(sizes)):
            draw_seed = tf.constant([seed, index], dtype=tf.int64)
            if index < len(sizes) - 2:
                initial = tf.random.stateless_normal(
                    (fan_in, fan_out), draw_seed, stddev=math.sqrt(2.0 / fan_in)
                )
            else:
                limit = math.sqrt(6.0 / (fan_in + fan_out))
                initial = tf.random.stateless_uniform(
                    (fan_in, fan_out), draw_seed, minval=-limit, maxval=limit
                )
            self.weights.append(tf.Variable(initial, name=f"W{index + 1}"))
            self.biases.append(tf.Variable(tf.zeros((fan_out,)), name=f"b{index + 1}"))

    def __call__(self, features: tf.Tensor) -> tf.Tensor:
        """Logits (N, 10): affine, ReLU, ..., affine. Softmax lives in the loss."""
        activations = features
        for weight, bias in zip(self.weights[:-1], self.biases[:-1]):
            activations = tf.nn.relu(activations @ weight + bias)
        return activations @ self.weights[-1] + self.biases[-1]

    @property
    def trainable_variables(self) -> tuple[tf.Variable, ...]:
        """W1, b1, W2, b2, ...: layer by layer (tf.Module alone would sort them by name)."""
        return tuple(variable for pair in zip(self.weights, self.biases) for variable in pair)

    def get_weights(self) -> list[np.ndarray]:
        return [variable.numpy() for variable in self.trainable_variables]

    def set_weights(self, values: list[np.ndarray]) -> None:
        for variable, value in zip(self.trainable_variables, values):
            variable.assign(value)


def loss_and_gradients(
    model: DenseMLP, features: tf.Tensor, labels: tf.Tensor
) -> tuple[tf.Tensor, tf.Tensor, list[tf.Tensor]]:
    """Logits, per-sample losses, and the gradients of their mean for each variable."""
    with tf.GradientTape() as tape:
        logits = model(features)
        losses = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
        loss = tf.reduce_mean(losses)
    return logits, losses, tape.gradient(loss, model.trainable_variables)


class Adam:
    """Adam as Kingma and Ba wrote it (and torch.optim.Adam computes it), on tf.Variables.

    Each variable keeps a running mean of its gradients (m) and of their squares (v); the
    step divides the bias-corrected m by the root of the bias-corrected v, so every weight
    moves by about ``learning_rate`` whatever its gradient's scale.
    """

    def __init__(
        self,
        variables: Iterable[tf.Variable],
        learning_rate: float = 1e-3,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
    ) -> None:
        variables = list(variables)
        # A rate past float32's range is inf there: the run diverges (NumPy would warn).
        too_large = learning_rate > float(np.finfo(np.float32).max)
        self.learning_rate = math.inf if too_large else learning_rate
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.step = tf.Variable(0.0, trainable=False)
        self.means = [tf.Variable(tf.zeros_like(v), trainable=False) for v in variables]
        self.squares = [tf.Variable(tf.zeros_like(v), trainable=False) for v in variables]

    def apply_gradients(self, pairs: Iterable[tuple[tf.Tensor, tf.Variable]]) -> None:
        """One step for each (gradient, variable) pair, in the order the variables were given."""
        self.step.assign_add(1.0)
        mean_correction = 1.0 - self.beta_1 ** self.step
        square_correction = 1.0 - self.beta_2 ** self.step
        for (gradient, variable), mean, square in zip(pairs, self.means, self.squares):
            mean.assign(self.beta_1 * mean + (1.0 - self.beta_1) * gradient)
            square.assign(self.beta_2 * square + (1.0 - self.beta_2) * tf.square(gradient))
            corrected_root = tf.sqrt(square / square_correction)
            variable.assign_sub(
                self.learning_rate * (mean / mean_correction) / (corrected_root + self.epsilon)
            )


def make_train_step(model: DenseMLP, optimizer: Any) -> Callable:
    """One graph-compiled optimisation step on a batch; returns (summed loss, correct count).

    ``optimizer`` is anything with ``apply_gradients(pairs)``: ``Adam`` or a Keras optimizer.
    """

    @tf.function
    def train_step(features: tf.Tensor, labels: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        logits, losses, gradients = loss_and_gradients(model, features, labels)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables))
        correct = tf.reduce_sum(tf.cast(tf.argmax(logits, axis=1) == labels, tf.float32))
        return tf.reduce_sum(losses), correct

    return train_step


def evaluate(model: DenseMLP, split: Split) -> Evaluation:
    """Mean cross-entropy, accuracy, per-class view and confusion of ``model`` on ``split``."""
    log_probabilities = tf.nn.log_softmax(model(tf.constant(to_features(split.images))))
    return evaluate_log_probabilities(log_probabilities.numpy(), split.labels)


@dataclass
class GradientTapeRun:
    """What ``train_gradient_tape`` gives back: the trained model, its history and test score."""

    model: DenseMLP
    history: History
    test: Evaluation


def train_gradient_tape(
    splits: Splits,
    *,
    hidden_sizes: tuple[int, ...] = (16,),
    epochs: int = 5,
    batch_size: int = 32,
    learning_rate: float = 1e-3,
    seed: int = 0,
    device: str = "auto",
    progress: bool = False,
) -> GradientTapeRun:
    """Train a DenseMLP with Keras' Adam by hand: shuffled batches, a validation pass per epoch.

    The shared :class:`~forcemlp.training.EpochRecorder` turns the sums into per-sample
    averages, stops a diverging run, and keeps the best validation weights, put back at the end.
    """
    check_training_numbers(epochs, batch_size, learning_rate)
    train_count = len(splits.train)
    tf.random.set_seed(seed)  # the shuffle's order must not depend on what ran before
    with tf.device(keras_device(device, backend="tensorflow")):
        model = DenseMLP(check_hidden_sizes(hidden_sizes), seed)
        optimizer = import_keras().optimizers.Adam(learning_rate)  # lesson 7's optimizer
        optimizer.build(model.trainable_variables)  # its m and v, made before tracing
        train_step = make_train_step(model, optimizer)
        batches = (
            tf.data.Dataset.from_tensor_slices((splits.train.features, splits.train.labels))
            .shuffle(train_count, seed=seed, reshuffle_each_iteration=True)
            .batch(batch_size)
            .prefetch(tf.data.AUTOTUNE)
        )
        recorder = EpochRecorder("tensorflow", epochs, train_count, learning_rate, progress)
        for _ in range(epochs):
            recorder.start_epoch()
            loss_sum, correct = tf.constant(0.0), tf.constant(0.0)
            for step, (features, labels) in enumerate(batches, start=1):
                batch_loss_sum, batch_correct = train_step(features, labels)
                loss_sum += batch_loss_sum
                correct += batch_correct
                if step % CHECK_EVERY_STEPS == 0:
                    recorder.batches_done(step, step * batch_size, float(loss_sum))
            val = evaluate(model, splits.val)
            recorder.end_epoch(float(loss_sum), float(correct), val.loss, val.accuracy,
                               snapshot=model.get_weights)
        model.set_weights(recorder.best_snapshot)
        test = evaluate(model, splits.test)
    return GradientTapeRun(model=model, history=recorder.history, test=test)


def trained_weights(model: DenseMLP) -> tuple[LayerWeights, ...]:
    """The layers as framework-neutral float32 (out, in) weights: W is stored (in, out) here."""
    return layer_weights(
        (weight.numpy().T, bias.numpy()) for weight, bias in zip(model.weights, model.biases)
    )


def train_run(config: TrainConfig, splits: Splits, progress: bool = False) -> RunResult:
    """What ``forcemlp train --framework tensorflow`` runs: the GradientTape loop (ReLU layers,
    Keras' Adam, constant rate; the runner refuses any other option before this runs)."""
    run = train_gradient_tape(
        splits, hidden_sizes=config.hidden_sizes, epochs=config.epochs,
        batch_size=config.batch_size, learning_rate=config.learning_rate,
        seed=config.seed, progress=progress, device=config.device,
    )
    return RunResult.from_training(config.to_dict(), run.history, run.test, len(splits.train),
                                   weights=trained_weights(run.model))
