"""One place that says what a training run is, checked before any framework is imported."""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

from .errors import ForceMLPError

FRAMEWORKS = ("torch", "keras", "numpy", "tensorflow", "fastai")
STYLES = ("sequential", "functional")
OPTIMIZERS = ("adam", "sgd", "momentum", "nesterov", "rmsprop", "adagrad", "adadelta")
ACTIVATIONS = ("relu", "sigmoid", "tanh", "leaky_relu", "elu", "gelu", "silu", "softplus")
DEVICES = ("auto", "cpu", "cuda")
T = TypeVar("T")
LR_SCHEDULES = ("constant", "cosine", "one_cycle")
PER_STEP_SCHEDULES = ("constant", "cosine")  # what learning_rate_at computes


def check_choice(kind: str, value: str, choices: tuple[str, ...]) -> str:
    """Return ``value`` if it is one of ``choices``, else raise a one-line error listing them."""
    if value not in choices:
        raise ForceMLPError(f"unknown {kind} {value!r}: choose one of {', '.join(choices)}.")
    return value


def check_learning_rate(learning_rate: float) -> None:
    """A learning rate must be a finite number above zero."""
    if not (math.isfinite(learning_rate) and learning_rate > 0):
        raise ForceMLPError(f"learning rate must be a positive number, got {learning_rate!r}.")


def check_training_numbers(epochs: int, batch_size: int, learning_rate: float) -> None:
    """The checks every trainer shares, whether called through TrainConfig or directly."""
    for name, value in (("epochs", epochs), ("batch_size", batch_size)):
        if not isinstance(value, int) or value <= 0:
            raise ForceMLPError(f"{name} must be a positive whole number, got {value!r}.")
    check_learning_rate(learning_rate)


def pick(kind: str, name: str, table: Mapping[str, T]) -> T:
    """``table[name]``, or the same one-line error as :func:`check_choice` listing the names."""
    check_choice(kind, name, tuple(table))
    return table[name]


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a run's result; equal configs give equal metrics on one machine.

    The defaults are the seed article's PyTorch model: 784-16-10, ReLU, Adam 1e-3, batch 20,
    5 epochs. ``train_size`` keeps the first N training images, for quick runs.
    ``lr_schedule="cosine"`` shrinks the learning rate along :func:`learning_rate_at`;
    ``"one_cycle"`` is fastai's ``fit_one_cycle`` (framework fastai only).
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
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_choice("framework", self.framework, FRAMEWORKS)
        check_choice("style", self.style, STYLES)
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        check_choice("activation", self.activation, ACTIVATIONS)
        check_choice("device", self.device, DEVICES)
        check_choice("learning-rate schedule", self.lr_schedule, LR_SCHEDULES)
        object.__setattr__(self, "hidden_sizes", tuple(int(size) for size in self.hidden_sizes))
        if not self.hidden_sizes:
            raise ForceMLPError("hidden_sizes is empty: give at least one hidden layer, e.g. --hidden 16.")
        if any(size <= 0 for size in self.hidden_sizes):
            raise ForceMLPError(f"hidden layer sizes must be positive, got {list(self.hidden_sizes)}.")
        check_training_numbers(self.epochs, self.batch_size, self.learning_rate)
        if self.train_size is not None and self.train_size <= 0:
            raise ForceMLPError(f"train_size must be positive, got {self.train_size!r}.")
        if not 0.0 <= self.dropout < 1.0:
            raise ForceMLPError(f"dropout must lie in [0, 1), got {self.dropout!r}.")
        if self.lr_schedule == "one_cycle" and self.framework != "fastai":
            raise ForceMLPError(
                "learning-rate schedule 'one_cycle' is fastai's fit_one_cycle: use framework"
                " fastai, or schedule constant or cosine."
            )

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
