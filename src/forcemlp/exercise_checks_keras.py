"""Checks for the write-it-yourself exercises of lessons 5 (Keras) and 7 (TensorFlow by hand).

    from forcemlp.exercise_checks_keras import check_keras_model, check_tape_model
    print(check_keras_model(model, history))    # lesson 5: a Keras model after one epoch
    print(check_tape_model(forward, variables))  # lesson 7: your variables and forward pass

Both exercises train the article's Keras network, 784-784-16-10, for one epoch on the first
2,000 Fashion-MNIST training images. A check says line by line what is right and what is
not: the shapes, the parameter count, and the validation loss against the spread of the same
network trained here from several seeds (measured when you run the check, never typed in).
"""
from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from .data import Splits, load_splits

DATASET = "fashion-mnist"
TRAIN_SIZE = 2000
BATCH_SIZE = 32
HIDDEN_SIZES = (784, 16)
SIZES = (784, *HIDDEN_SIZES, 10)
SPREAD_SEEDS = (0, 1, 2, 3, 4)
PARAMETERS = sum((fan_in + 1) * fan_out for fan_in, fan_out in itertools.pairwise(SIZES))
PROBABILITY_FLOOR = 1e-7  # Keras' epsilon: log(0) of a confident mistake stays finite


@dataclass(frozen=True)
class Check:
    """One verdict: what was checked, whether it holds, and what was found or what to do."""

    name: str
    passed: bool
    detail: str

    def __str__(self) -> str:
        return f"{'✓' if self.passed else '✗'} {self.name}: {self.detail}"


@dataclass(frozen=True)
class Report:
    """All verdicts on one exercise; prints one line per check and a last line of totals."""

    checks: tuple[Check, ...]
    val_loss: float | None = None  # the model's validation loss, when its shapes allowed one

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)

    def __str__(self) -> str:
        right = sum(check.passed for check in self.checks)
        lines = [str(check) for check in self.checks]
        return "\n".join([*lines, f"{right} of {len(self.checks)} checks passed."])

    def __repr__(self) -> str:
        return str(self)


@cache
def exercise_splits() -> Splits:
    """Fashion-MNIST with its first 2,000 training images: what both exercises train on."""
    return load_splits(DATASET, train_size=TRAIN_SIZE)


def _keras_val_loss(seed: int) -> float:
    from . import keras_mlp

    model = keras_mlp.build_mlp(HIDDEN_SIZES, seed=seed)
    history = keras_mlp.fit(model, exercise_splits(), epochs=1, batch_size=BATCH_SIZE,
                            seed=seed, progress=False)
    return history.epochs[0].val_loss


def _tape_val_loss(seed: int) -> float:
    from . import tf_lowlevel

    run = tf_lowlevel.train_gradient_tape(exercise_splits(), hidden_sizes=HIDDEN_SIZES, epochs=1,
                                          batch_size=BATCH_SIZE, seed=seed, progress=False)
    return run.history.epochs[0].val_loss


REFERENCES: dict[str, Callable[[int], float]] = {"keras": _keras_val_loss,
                                                 "tensorflow": _tape_val_loss}


@cache
def seed_spread(framework: str, seeds: tuple[int, ...] = SPREAD_SEEDS) -> tuple[float, float]:
    """Lowest and highest validation loss of the reference network after one epoch."""
    losses = [REFERENCES[framework](seed) for seed in seeds]
    return min(losses), max(losses)


def cross_entropy(outputs: np.ndarray, labels: np.ndarray) -> tuple[float, str]:
    """Mean cross-entropy of probabilities or logits (told apart by their rows), and which."""
    outputs = np.asarray(outputs, dtype=np.float64)
    rows_are_probabilities = bool(
        (outputs >= 0).all() and np.allclose(outputs.sum(axis=1), 1.0, atol=1e-3)
    )
    if rows_are_probabilities:
        log_probabilities = np.log(np.clip(outputs, PROBABILITY_FLOOR, 1.0))
    else:
        shifted = outputs - outputs.max(axis=1, keepdims=True)
        log_probabilities = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = float(-log_probabilities[np.arange(len(labels)), labels].mean())
    return loss, "probabilities" if rows_are_probabilities else "logits"


def _count_check(count: int) -> Check:
    expected = PARAMETERS
    if count == expected:
        return Check("parameters", True, f"{count:,}, the article's 784-784-16-10 network")
    return Check("parameters", False,
                 f"{count:,}, but 784-784-16-10 has {expected:,}: check each layer's size"
                 " (784 inputs, then 784, 16 and 10 units, each with its biases)")


def _loss_check(loss: float, framework: str, seeds: tuple[int, ...], kind: str) -> Check:
    low, high = seed_spread(framework, seeds)
    margin = high - low  # a new seed is one more draw: allow the spread's width each side
    spread = (f"{len(seeds)} seeds of the reference gave {low:.3f} to {high:.3f},"
              f" so {low - margin:.3f} to {high + margin:.3f} passes")
    found = f"{loss:.3f} from your model's {kind}"
    if not math.isfinite(loss):
        return Check("validation loss", False, f"{found}: the training diverged")
    if loss > high + margin:
        return Check("validation loss", False,
                     f"{found}, too high ({spread}): was it trained one epoch on the"
                     " 2,000 images, with Adam at 1e-3 and categorical cross-entropy?")
    if loss < low - margin:
        return Check("validation loss", False,
                     f"{found}, lower than one epoch gives ({spread}): more than one"
                     " epoch, or more than 2,000 images?")
    return Check("validation loss", True, f"{found} ({spread})")


def _shape_check(name: str, found: Any, expected: Any, hint: str) -> Check:
    found, expected = tuple(found), tuple(expected)
    if found == expected:
        return Check(name, True, str(found))
    return Check(name, False, f"{found}, expected {expected}: {hint}")


def check_keras_model(model: Any, history: Any = None,
                      seeds: Sequence[int] = SPREAD_SEEDS) -> Report:
    """Judge lesson 5's exercise: a Keras 784-784-16-10 model trained one epoch on 2,000
    Fashion-MNIST images (pass ``fit``'s History too, to check the epochs and steps)."""
    val = exercise_splits().val
    checks = [
        _shape_check("input shape", model.input_shape, (None, 784),
                     "give keras.Input(shape=(784,)) the flat images"),
        _shape_check("output shape", model.output_shape, (None, 10),
                     "end with Dense(10, ...), one unit per class"),
        _count_check(model.count_params()),
    ]
    if history is not None:
        steps = math.ceil(TRAIN_SIZE / BATCH_SIZE)
        trained = (history.params.get("epochs"), history.params.get("steps"))
        checks.append(_shape_check("epochs and steps", trained, (1, steps),
                                   "fit one epoch on the 2,000 images at batch 32"))
    if not checks[0].passed or not checks[1].passed:
        return Report(tuple(checks))
    outputs = np.asarray(model.predict(val.features, verbose=0))
    loss, kind = cross_entropy(outputs, val.labels)
    checks.append(Check("softmax output", kind == "probabilities",
                        "each row sums to 1" if kind == "probabilities" else
                        "rows do not sum to 1: end with Dense(10, activation='softmax')"))
    checks.append(_loss_check(loss, "keras", tuple(seeds), kind))
    return Report(tuple(checks), loss)


def check_tape_model(forward: Callable[[Any], Any], variables: Sequence[Any],
                     seeds: Sequence[int] = SPREAD_SEEDS) -> Report:
    """Judge lesson 7's exercise: ``variables`` (W1, b1, W2, b2, W3, b3) and ``forward``
    (images -> logits or probabilities) after one epoch by hand on 2,000 Fashion-MNIST images."""
    val = exercise_splits().val
    shapes = [tuple(int(size) for size in variable.shape) for variable in variables]
    expected = [shape for fan_in, fan_out in itertools.pairwise(SIZES)
                for shape in ((fan_in, fan_out), (fan_out,))]
    checks = [
        Check("variable shapes", shapes == expected,
              str(shapes) if shapes == expected else
              f"{shapes}, expected {expected}: a weight (inputs, units) and a bias (units,)"
              " for each layer, in order"),
        _count_check(sum(math.prod(shape) for shape in shapes)),
    ]
    outputs = np.asarray(forward(val.features))  # an error here is the reader's to read
    checks.append(_shape_check("forward output shape", outputs.shape, (len(val), 10),
                               "one row of 10 scores per image"))
    if checks[-1].passed:
        loss, kind = cross_entropy(outputs, val.labels)
        checks.append(_loss_check(loss, "tensorflow", tuple(seeds), kind))
        return Report(tuple(checks), loss)
    return Report(tuple(checks))
