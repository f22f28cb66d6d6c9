"""The bookkeeping every trainer shares: one epoch record, one divergence rule, one progress bar.

A trainer's loop, in short::

    recorder = EpochRecorder("numpy", epochs=5, train_count=len(splits.train), learning_rate=1e-3)
    for _ in range(5):
        recorder.start_epoch()
        ...  # every CHECK_EVERY_STEPS steps: recorder.batches_done(step, seen, loss_sum)
        recorder.end_epoch(loss_sum, correct, val.loss, val.accuracy, snapshot=copy_weights)
    restore(recorder.best_snapshot)

PyTorch, Keras, TensorFlow and NumPy trainers all record their epochs here, so they agree on
what a run means: training loss and accuracy are averages per *sample* over the epoch (sums
divided by the number of images, whatever the last batch's size); the epoch's ``seconds``
run from :meth:`EpochRecorder.start_epoch` to :meth:`EpochRecorder.end_epoch`, validation
included; the kept weights are those of the best validation accuracy, the earliest epoch on
ties.

**Divergence.** A run has diverged when the running mean training loss is not finite, or
exceeds ``GUESSING_LOSS_MULTIPLE`` times ln(classes), the cross-entropy of guessing uniformly at
random, which is where every freshly initialised classifier starts (2.30 for ten classes, so
the limit is about 230). A learning rate that is merely too high makes the loss wobble around
a few units; a loss of hundreds per image means the weights have blown up, even while every
number is still finite (a loss of 1e18 is). The reference is the loss of guessing rather than
the first batches' measured loss because a trainer that reports every 64 steps (Keras) may
first see a loss that has already exploded. One message says so, for every framework.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from tqdm.auto import tqdm

from .errors import ForceMLPError
from .history import EpochMetrics, History

GUESSING_LOSS_MULTIPLE = 100
CHECK_EVERY_STEPS = 100  # how often loops that keep losses on a device look at them


def divergence_limit(num_classes: int = 10) -> float:
    """The mean loss past which a run has diverged (see the module docstring)."""
    return GUESSING_LOSS_MULTIPLE * math.log(num_classes)


def diverged(loss: float, where: str, learning_rate: float, num_classes: int = 10) -> ForceMLPError:
    """The one divergence message, for a mean loss ``loss`` seen ``where`` ("by epoch 2 step 300")."""
    if math.isfinite(loss):
        what = (f"reached {loss:.3g} {where}, far above the {math.log(num_classes):.2f} of"
                " guessing at random")
    else:
        what = f"became {loss} {where}"
    return ForceMLPError(
        f"training diverged: the loss {what}; lower the learning rate (it was"
        f" {learning_rate:g}), or check the data and initial weights for nan/inf."
    )


class EpochRecorder:
    """Records one run's epochs into a :class:`History`, watches for divergence, shows progress.

    ``snapshot`` (given to :meth:`end_epoch`) copies the model's weights; it is called only
    when an epoch beats the best validation accuracy so far, and its value is kept as
    ``best_snapshot`` for the trainer to put back at the end.
    """

    def __init__(self, framework: str, epochs: int, train_count: int, learning_rate: float,
                 progress: bool = False, num_classes: int = 10) -> None:
        self.history = History(framework=framework)
        self.epochs = epochs
        self.train_count = train_count
        self.learning_rate = learning_rate
        self.progress = progress
        self.num_classes = num_classes
        self.limit = divergence_limit(num_classes)
        self.best_accuracy = -math.inf
        self.best_snapshot: Any = None
        self.epoch = 0
        self._started = 0.0
        self._bar: tqdm | None = None

    def start_epoch(self) -> int:
        """Start the next epoch's clock and progress bar; returns its number (from 1)."""
        self.epoch += 1
        self._bar = tqdm(total=self.train_count, desc=f"epoch {self.epoch}/{self.epochs}",
                         unit="img", disable=not self.progress)
        self._started = time.perf_counter()
        return self.epoch

    def batches_done(self, step: int, samples_seen: int, loss_sum: float) -> None:
        """After ``step`` steps of this epoch: check the running mean loss, move the bar.

        ``samples_seen`` may be counted as ``step * batch_size``: it is capped at the epoch's size.
        """
        samples_seen = min(samples_seen, self.train_count)
        self._check(loss_sum / max(samples_seen, 1), f"by epoch {self.epoch} step {step}")
        if self._bar is not None:
            self._bar.update(samples_seen - self._bar.n)

    def end_epoch(self, loss_sum: float, correct: float, val_loss: float, val_accuracy: float,
                  snapshot: Callable[[], Any]) -> EpochMetrics:
        """Record the epoch from its training sums and validation means; keep the best weights."""
        seconds = time.perf_counter() - self._started
        self._check(loss_sum / self.train_count, f"in epoch {self.epoch}")
        self._check(val_loss, f"on the validation set after epoch {self.epoch}")
        metrics = EpochMetrics(
            epoch=self.epoch,
            train_loss=float(loss_sum) / self.train_count,
            train_accuracy=float(correct) / self.train_count,
            val_loss=float(val_loss),
            val_accuracy=float(val_accuracy),
            seconds=seconds,
        )
        self.history.append(metrics)
        if self._bar is not None:
            self._bar.update(self.train_count - self._bar.n)
            self._bar.set_postfix_str(
                f"loss {metrics.train_loss:.4f} acc {metrics.train_accuracy:.4f}"
                f" val_loss {metrics.val_loss:.4f} val_acc {metrics.val_accuracy:.4f}"
            )
            self._close_bar()
        if metrics.val_accuracy > self.best_accuracy:
            self.best_accuracy = metrics.val_accuracy
            self.history.best_epoch = self.epoch
            self.best_snapshot = snapshot()
        return metrics

    @contextmanager
    def overflow_diverges(self) -> Iterator[None]:
        """Turn a framework's float overflow in an optimizer step (PyTorch's "value cannot be
        converted to type float without overflow", for a learning rate past float32's range)
        into the one divergence message."""
        try:
            yield
        except RuntimeError as error:
            if "overflow" not in str(error):
                raise
            self._close_bar()
            raise diverged(math.inf, f"in epoch {self.epoch}", self.learning_rate) from None

    def _check(self, mean_loss: float, where: str) -> None:
        mean_loss = float(mean_loss)
        if not math.isfinite(mean_loss) or mean_loss > self.limit:
            self._close_bar()  # so the error starts on a line of its own
            raise diverged(mean_loss, where, self.learning_rate, self.num_classes)

    def _close_bar(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
