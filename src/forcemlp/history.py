"""The one History / Evaluation type every framework returns.

PyTorch, Keras and NumPy training all end in these plain-NumPy records, so plots, the CLI and
the book never need to know which framework trained a model.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from .errors import ForceMLPError
from .weights import LayerWeights


@dataclass
class EpochMetrics:
    """What one epoch measured: averages are per sample, over the whole epoch."""

    epoch: int
    train_loss: float
    train_accuracy: float
    val_loss: float
    val_accuracy: float
    seconds: float


@dataclass
class History:
    """Per-epoch metrics of one training run, plus which epoch's weights were kept."""

    framework: str
    epochs: list[EpochMetrics] = field(default_factory=list)
    best_epoch: int | None = None

    def append(self, metrics: EpochMetrics) -> None:
        self.epochs.append(metrics)

    def column(self, name: str) -> list[float]:
        """One metric across epochs, e.g. ``history.column("val_accuracy")``."""
        return [getattr(metrics, name) for metrics in self.epochs]

    @property
    def seconds(self) -> float:
        return float(sum(metrics.seconds for metrics in self.epochs))

    def to_dict(self) -> dict[str, Any]:
        return {
            "framework": self.framework,
            "best_epoch": self.best_epoch,
            "epochs": [asdict(metrics) for metrics in self.epochs],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> History:
        return cls(
            framework=data["framework"],
            epochs=[EpochMetrics(**metrics) for metrics in data["epochs"]],
            best_epoch=data.get("best_epoch"),
        )


@dataclass
class Evaluation:
    """A model judged on one labelled set: loss, accuracy, per-class view, confusion matrix."""

    loss: float
    accuracy: float
    labels: np.ndarray
    predictions: np.ndarray
    confusion: np.ndarray

    @property
    def per_class_correct(self) -> np.ndarray:
        return np.diag(self.confusion).copy()

    @property
    def per_class_count(self) -> np.ndarray:
        return self.confusion.sum(axis=1)

    @property
    def per_class_accuracy(self) -> np.ndarray:
        counts = self.per_class_count
        return np.divide(self.per_class_correct, counts, out=np.zeros(len(counts)), where=counts > 0)

    @property
    def correct(self) -> int:
        return int(self.per_class_correct.sum())

    def to_dict(self) -> dict[str, Any]:
        return {
            "loss": self.loss,
            "accuracy": self.accuracy,
            "labels": self.labels.tolist(),
            "predictions": self.predictions.tolist(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Evaluation:
        return evaluate_predictions(
            np.asarray(data["predictions"]), np.asarray(data["labels"]), data["loss"]
        )


def evaluate_predictions(
    predictions: np.ndarray, labels: np.ndarray, loss: float, num_classes: int = 10
) -> Evaluation:
    """Build an Evaluation from predicted and true labels and an already averaged loss."""
    predictions = np.asarray(predictions, dtype=np.int64)
    labels = np.asarray(labels, dtype=np.int64)
    if predictions.shape != labels.shape:
        raise ForceMLPError(
            f"{len(predictions)} predictions for {len(labels)} labels: pass one prediction per label."
        )
    confusion = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(confusion, (labels, predictions), 1)
    accuracy = float((predictions == labels).mean()) if len(labels) else float("nan")
    return Evaluation(float(loss), accuracy, labels, predictions, confusion)


def evaluate_log_probabilities(log_probabilities: np.ndarray, labels: np.ndarray) -> Evaluation:
    """Judge a model from its log-probabilities (N, classes): mean NLL loss, argmax predictions."""
    log_probabilities = np.asarray(log_probabilities, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.int64)
    if log_probabilities.ndim != 2 or len(log_probabilities) != len(labels):
        raise ForceMLPError(
            f"log-probabilities of shape {log_probabilities.shape} do not fit {len(labels)} labels:"
            " pass one row of class scores per label."
        )
    loss = float(-log_probabilities[np.arange(len(labels)), labels].mean())
    return evaluate_predictions(
        log_probabilities.argmax(axis=1), labels, loss, num_classes=log_probabilities.shape[1]
    )


@dataclass
class RunResult:
    """Everything one training run produced that the CLI, the book and the run cache keep.

    ``weights`` are the trained layers in framework-neutral form (see :mod:`forcemlp.weights`);
    the run cache stores them beside the JSON record, and a cached result may lack them
    (``runner.run(config, keep_weights=True)`` retrains then).
    """

    config: dict[str, Any]
    history: History
    test: Evaluation
    seconds: float
    samples_per_second: float
    train_samples: int
    weights: tuple[LayerWeights, ...] | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_training(
        cls, config: dict[str, Any], history: History, test: Evaluation, train_count: int,
        weights: tuple[LayerWeights, ...] | None = None,
    ) -> RunResult:
        """The one timing rule every framework shares, so their speeds compare fairly.

        ``seconds`` is the epochs' wall time, validation included (not model building, data
        transfer or device start-up); ``samples_per_second`` is training images per second of it.
        """
        seconds = history.seconds
        return cls(config, history, test, seconds, train_count * len(history.epochs) / seconds,
                   train_count, weights)

    def summary(self) -> dict[str, Any]:
        """The flat record the CLI prints with ``--json``: the config, then what the run measured.

        ``epochs`` counts the epochs recorded; ``val_accuracy`` is the kept (best) epoch's.
        """
        last = self.history.epochs[-1] if self.history.epochs else None
        best = (
            self.history.epochs[self.history.best_epoch - 1]
            if self.history.best_epoch
            else last
        )
        return {
            **self.config,
            "framework": self.history.framework,
            "epochs": len(self.history.epochs),
            "train_samples": self.train_samples,
            "test_accuracy": self.test.accuracy,
            "test_loss": self.test.loss,
            "test_correct": self.test.correct,
            "test_count": len(self.test.labels),
            "val_accuracy": best.val_accuracy if best else float("nan"),
            "best_epoch": self.history.best_epoch,
            "seconds": self.seconds,
            "samples_per_second": self.samples_per_second,
        }

    def to_dict(self) -> dict[str, Any]:
        """Everything but the weights, as JSON-ready data."""
        return {
            "config": self.config,
            "history": self.history.to_dict(),
            "test": self.test.to_dict(),
            "seconds": self.seconds,
            "samples_per_second": self.samples_per_second,
            "train_samples": self.train_samples,
        }

    @classmethod
    def from_dict(
        cls, data: dict[str, Any], weights: tuple[LayerWeights, ...] | None = None
    ) -> RunResult:
        return cls(
            config=data["config"],
            history=History.from_dict(data["history"]),
            test=Evaluation.from_dict(data["test"]),
            seconds=data["seconds"],
            samples_per_second=data["samples_per_second"],
            train_samples=data["train_samples"],
            weights=weights,
        )
