"""One place that says what a training run is, checked before any framework is imported.

A :class:`TrainConfig` is plain, hashable data: it keys the run cache, and every framework
reads each field the same way (see :mod:`forcemlp.contract` for which framework supports what).
"""
from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from dataclasses import asdict, dataclass
from typing import Any, TypeVar

from .errors import ForceMLPError

FRAMEWORKS = ("torch", "keras", "numpy", "tensorflow", "fastai")
STYLES = ("sequential", "functional")
OPTIMIZERS = ("adam", "sgd", "momentum", "nesterov", "rmsprop", "adagrad", "adadelta")
ACTIVATIONS = ("relu", "sigmoid", "tanh", "leaky_relu", "elu", "gelu", "silu", "softplus")
DEVICES = ("auto", "cpu", "cuda")
LR_SCHEDULES = ("constant", "cosine", "one_cycle")
# What learning_rate_at computes; "one_cycle" is fastai's fit_one_cycle (see forcemlp.contract).
PER_STEP_SCHEDULES = ("constant", "cosine")
INPUT_SIZE = 28 * 28
NUM_CLASSES = 10
MAX_SEED = 2**32 - 1  # what NumPy's and TensorFlow's seeding accept
# Far beyond any MLP the book trains (the largest has 670k), and small enough that the weights,
# their gradients and Adam's two moments (4 x 4 bytes each) fit in a laptop's memory.
MAX_PARAMETERS = 50_000_000
# Far deeper than any MLP the book trains (two hidden layers); a deeper stack of tiny layers
# would pass the parameter limit yet take minutes per step through Python's per-layer calls.
MAX_HIDDEN_LAYERS = 100
T = TypeVar("T")


def check_choice(kind: str, value: str, choices: tuple[str, ...]) -> str:
    """Return ``value`` if it is one of ``choices``, else raise a one-line error listing them."""
    if not isinstance(value, str) or value not in choices:
        raise ForceMLPError(f"unknown {kind} {value!r}: choose one of {', '.join(choices)}.")
    return value


def whole_number(name: str, value: Any, minimum: int = 1, maximum: int | None = None) -> int:
    """``value`` as an int if it is a whole number in [minimum, maximum]; bools are refused."""
    if maximum is not None:
        wanted = f"a whole number from {minimum} to {maximum}"
    else:
        wanted = "a positive whole number" if minimum == 1 else f"a whole number of {minimum} or more"
    is_whole = not isinstance(value, bool) and isinstance(value, numbers.Integral)
    if not is_whole or value < minimum or (maximum is not None and value > maximum):
        raise ForceMLPError(f"{name} must be {wanted}, got {value!r}.")
    return int(value)


def real_number(name: str, value: Any) -> float:
    """``value`` as a float if it is a real number (not a bool, not a string)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ForceMLPError(f"{name} must be a number, got {value!r}.")
    return float(value)


def check_learning_rate(learning_rate: float) -> None:
    """A learning rate must be a finite number above zero."""
    valid = not isinstance(learning_rate, bool) and isinstance(learning_rate, numbers.Real)
    if not (valid and math.isfinite(learning_rate) and learning_rate > 0):
        raise ForceMLPError(f"learning rate must be a positive number, got {learning_rate!r}.")


def check_training_numbers(epochs: int, batch_size: int, learning_rate: float) -> None:
    """The checks every trainer shares, whether called through TrainConfig or directly."""
    for name, value in (("epochs", epochs), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
            raise ForceMLPError(f"{name} must be a positive whole number, got {value!r}.")
    check_learning_rate(learning_rate)


def check_dropout(dropout: Any) -> float:
    """The share of units dropped while training, a number in [0, 1), as a float."""
    dropout = real_number("dropout", dropout)
    if not 0.0 <= dropout < 1.0:
        raise ForceMLPError(f"dropout must lie in [0, 1), got {dropout!r}.")
    return dropout


def check_hidden_sizes(hidden_sizes: Any) -> tuple[int, ...]:
    """A non-empty sequence of positive whole numbers, as a tuple; "16" or 16 alone is refused."""
    example = "e.g. (16,) or [784, 16]"
    if isinstance(hidden_sizes, str | bytes) or not hasattr(hidden_sizes, "__iter__"):
        raise ForceMLPError(
            f"hidden_sizes must be a sequence of layer sizes, {example}; got {hidden_sizes!r}."
        )
    if isinstance(hidden_sizes, AbstractSet | Mapping):
        raise ForceMLPError(
            f"hidden_sizes must be an ordered sequence of layer sizes, {example}; a"
            f" {type(hidden_sizes).__name__} has no order: got {hidden_sizes!r}."
        )
    sizes = tuple(hidden_sizes)
    if not sizes:
        raise ForceMLPError("hidden_sizes is empty: give at least one hidden layer, e.g. --hidden 16.")
    if len(sizes) > MAX_HIDDEN_LAYERS:
        raise ForceMLPError(
            f"hidden_sizes asks for {len(sizes):,} hidden layers: forcemlp trains at most"
            f" {MAX_HIDDEN_LAYERS} hidden layers and {MAX_PARAMETERS:,} parameters; choose"
            " fewer layers."
        )
    if any(isinstance(size, bool) or not isinstance(size, numbers.Integral) for size in sizes):
        raise ForceMLPError(f"hidden layer sizes must be whole numbers, {example}; got {sizes!r}.")
    if any(size <= 0 for size in sizes):
        raise ForceMLPError(f"hidden layer sizes must be positive, got {[int(s) for s in sizes]}.")
    sizes = tuple(int(size) for size in sizes)
    if (parameters := parameter_count(sizes)) > MAX_PARAMETERS:
        raise ForceMLPError(
            f"hidden sizes {list(sizes)} make {parameters:,} parameters, more than the"
            f" {MAX_PARAMETERS:,} forcemlp trains (with at most {MAX_HIDDEN_LAYERS} hidden"
            " layers): choose smaller layers."
        )
    return sizes


def parameter_count(hidden_sizes: tuple[int, ...]) -> int:
    """Weights and biases of the MLP 784 -> hidden_sizes -> 10."""
    sizes = (INPUT_SIZE, *hidden_sizes, NUM_CLASSES)
    return sum((fan_in + 1) * fan_out for fan_in, fan_out in itertools.pairwise(sizes))


def pick(kind: str, name: str, table: Mapping[str, T]) -> T:
    """``table[name]``, or the same one-line error as :func:`check_choice` listing the names."""
    check_choice(kind, name, tuple(table))
    return table[name]


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a run's result; equal configs give equal metrics on one machine.

    The defaults are the seed article's PyTorch model: 784-16-10, ReLU, Adam 1e-3, batch 20,
    5 epochs. Every framework reads each field the same way: ``train_size`` keeps the first N
    training images; ``seed`` fixes the initial weights, the shuffling and dropout;
    ``lr_schedule="cosine"`` shrinks the learning rate along :func:`learning_rate_at`,
    ``"one_cycle"`` is fastai's ``fit_one_cycle`` (framework fastai only);
    ``fast`` asks PyTorch for its NumPy-and-fused-Adam path (see ``forcemlp.torch_mlp``).
    A framework that cannot honour a field refuses the run (see :mod:`forcemlp.contract`).
    """

    framework: str = "torch"
    style: str = "sequential"
    hidden_sizes: tuple[int, ...] = (16,)
    activation: str = "relu"
    optimizer: str = "adam"
    learning_rate: float = 1e-3
    epochs: int = 5
    batch_size: int = 20
    seed: int = 0
    dataset: str = "mnist"
    device: str = "auto"
    train_size: int | None = None
    dropout: float = 0.0
    lr_schedule: str = "constant"
    fast: bool = False

    def __post_init__(self) -> None:
        check_choice("framework", self.framework, FRAMEWORKS)
        check_choice("style", self.style, STYLES)
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        check_choice("activation", self.activation, ACTIVATIONS)
        check_choice("device", self.device, DEVICES)
        check_choice("learning-rate schedule", self.lr_schedule, LR_SCHEDULES)
        if not isinstance(self.dataset, str):
            raise ForceMLPError(f"dataset must be a name such as 'mnist', got {self.dataset!r}.")
        numbers_checked = {
            "hidden_sizes": check_hidden_sizes(self.hidden_sizes),
            "learning_rate": real_number("learning rate", self.learning_rate),
            "epochs": whole_number("epochs", self.epochs),
            "batch_size": whole_number("batch_size", self.batch_size),
            "seed": whole_number("seed", self.seed, minimum=0, maximum=MAX_SEED),
            "dropout": check_dropout(self.dropout),
        }
        if self.train_size is not None:
            numbers_checked["train_size"] = whole_number("train_size", self.train_size)
        for name, value in numbers_checked.items():
            object.__setattr__(self, name, value)
        check_learning_rate(self.learning_rate)
        if not isinstance(self.fast, bool):
            raise ForceMLPError(f"fast must be True or False, got {self.fast!r}.")

    def to_dict(self) -> dict[str, Any]:
        record = asdict(self)
        record["hidden_sizes"] = list(self.hidden_sizes)
        return record


def learning_rate_at(
    learning_rate: float, schedule: str, step: int, total_steps: int
) -> float:
    """The learning rate for optimizer step ``step`` (0-based) of ``total_steps``.

    ``constant`` keeps it; ``cosine`` shrinks it along half a cosine, lr·½(1 + cos(π·step/T)),
    from the full rate at the first step towards zero at the last, so the final epochs take
    small, careful steps near the minimum (Keras' ``CosineDecay`` with ``alpha=0``).
    """
    check_choice("learning-rate schedule", schedule, PER_STEP_SCHEDULES)
    if schedule == "constant":
        return learning_rate
    return learning_rate * 0.5 * (1.0 + math.cos(math.pi * min(step, total_steps) / total_steps))
