"""The one contract every framework's trainer keeps, and what each framework supports.

    from forcemlp.contract import check_supported
    check_supported(TrainConfig(framework="tensorflow", optimizer="sgd"))  # one-line error

:func:`forcemlp.runner.run` trains every framework through the same small adapter, and refuses
an option a framework cannot honour *before* importing the framework or loading any data, so
no option is ever silently ignored. Every field of :class:`~forcemlp.config.TrainConfig` means
the same thing everywhere: ``train_size`` is the first N training images, ``seed`` fixes the
initial weights, the shuffling and dropout, ``epochs``/``batch_size``/``learning_rate`` and
``lr_schedule`` (:func:`~forcemlp.config.learning_rate_at`) drive the optimizer steps,
``dropout`` acts after every hidden activation, and ``style`` says how the model is written.

Adding a framework (fastai, for instance) takes three steps:

1. Add its name to ``config.FRAMEWORKS`` and an :class:`Adapter` to ``ADAPTERS`` below: the
   module to import, a title for messages, and its :class:`Capabilities` (everything it
   supports; the defaults are "all of them").
2. Write that module with one entry point::

       def train_run(config: TrainConfig, splits: Splits, progress: bool = False) -> RunResult

   ``splits.train`` already holds ``config.train_size`` images (the runner cuts it), and the
   config already passed :func:`check_supported`. Inside, keep the bookkeeping shared::

       recorder = EpochRecorder(name, config.epochs, len(splits.train),
                                config.learning_rate, progress)
       for each epoch:
           recorder.start_epoch()
           for each batch ...:   # every few steps (it checks divergence, moves the bar)
               recorder.batches_done(step, samples_seen, loss_sum)
           recorder.end_epoch(loss_sum, correct, val_loss, val_accuracy,
                              snapshot=copy_weights)
       put recorder.best_snapshot back into the model
       return RunResult.from_training(config.to_dict(), recorder.history, test_evaluation,
                                      len(splits.train), weights=layer_weights(...))

   where the sums are over the epoch's samples (the recorder divides by the sample count),
   ``test_evaluation`` comes from :func:`forcemlp.history.evaluate_log_probabilities` on
   ``splits.test``, and ``weights`` are the trained layers as (out, in) / (out,) float32 pairs
   (:func:`forcemlp.weights.layer_weights`).
3. Run :func:`check_trainer` on it (``check_trainer("mine", splits, my_module.train_run)``):
   it says in one line which clause of the contract the new trainer breaks. Then
   ``tests/test_contract.py``, parametrised from ``ADAPTERS`` itself, does too: give the new name a
   seed in its ``WOBBLY_SEED`` (one whose best epoch is not the last), and the contract test
   checks per-sample averages, the restored best epoch, same seed ⇒ same metrics,
   ``train_size``, refusals and the divergence message for it too.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from .config import ACTIVATIONS, DEVICES, OPTIMIZERS, PER_STEP_SCHEDULES, STYLES, TrainConfig
from .errors import ForceMLPError

if TYPE_CHECKING:
    from .data import Splits
    from .history import RunResult


@dataclass(frozen=True)
class Capabilities:
    """The values of each option a trainer honours; anything else is refused before training."""

    styles: tuple[str, ...] = STYLES
    activations: tuple[str, ...] = ACTIVATIONS
    optimizers: tuple[str, ...] = OPTIMIZERS
    lr_schedules: tuple[str, ...] = PER_STEP_SCHEDULES  # one_cycle is fastai's alone
    devices: tuple[str, ...] = DEVICES
    dropout: bool = True


@dataclass(frozen=True)
class Adapter:
    """How the runner reaches one framework: the module holding ``train_run``, and its limits.

    ``fast`` lists what ``TrainConfig(fast=True)`` allows, or is None when there is no fast path.
    ``own_random_state`` is True when the trainer draws only from generators of its own, so
    two of its runs may train side by side in one process; otherwise (a framework seeded
    through its global generator) the runner trains one such run at a time.
    """

    module: str
    title: str
    supports: Capabilities = Capabilities()
    fast: Capabilities | None = None
    own_random_state: bool = False


ADAPTERS: dict[str, Adapter] = {
    "torch": Adapter(
        "forcemlp.torch_mlp", "PyTorch",
        fast=Capabilities(
            styles=("sequential",), activations=("relu", "leaky_relu", "sigmoid", "tanh"),
            optimizers=("adam",), devices=("auto", "cpu"), dropout=False,
        ),
    ),
    "keras": Adapter("forcemlp.keras_mlp", "Keras"),
    "numpy": Adapter(
        "forcemlp.numpy_mlp", "the NumPy MLP",
        Capabilities(styles=("sequential",), devices=("auto", "cpu"), dropout=False),
        own_random_state=True,
    ),
    "tensorflow": Adapter(
        "forcemlp.tf_lowlevel", "the GradientTape trainer",
        Capabilities(styles=("sequential",), activations=("relu",), optimizers=("adam",),
                     lr_schedules=("constant",), dropout=False),
    ),
    "fastai": Adapter(
        "forcemlp.fastai_mlp", "fastai",
        Capabilities(optimizers=("adam", "sgd", "momentum", "rmsprop"),
                     lr_schedules=("constant", "cosine", "one_cycle")),
    ),
}

# TrainConfig field -> (Capabilities field, the word messages use)
CHOICES = {
    "style": ("styles", "style"),
    "activation": ("activations", "activation"),
    "optimizer": ("optimizers", "optimizer"),
    "lr_schedule": ("lr_schedules", "learning-rate schedule"),
    "device": ("devices", "device"),
}


def check_supported(config: TrainConfig) -> Adapter:
    """The adapter that trains ``config``, or one line naming the option it cannot honour."""
    adapter = ADAPTERS[config.framework]
    _refuse_unsupported(config, adapter.title, adapter.supports, _frameworks_supporting)
    if config.fast:
        if adapter.fast is None:
            raise ForceMLPError(
                f"{adapter.title} has no fast path: leave out fast (--fast); only"
                f" {' and '.join(name for name, a in ADAPTERS.items() if a.fast)} has one."
            )
        _refuse_unsupported(config, f"the fast path of {adapter.title}", adapter.fast,
                            lambda *_: "leave out fast (--fast) to train with autograd")
    return adapter


def _frameworks_supporting(attribute: str, value: object) -> str:
    names = [
        name for name, adapter in ADAPTERS.items()
        if (value in getattr(adapter.supports, attribute) if attribute != "dropout"
            else adapter.supports.dropout)
    ]
    return f"choose framework {_either(names)} for that"


def _either(words: Iterable[str]) -> str:
    """'a', 'a or b', 'a, b or c'."""
    *others, last = words
    return f"{', '.join(others)} or {last}" if others else last


def _refuse_unsupported(
    config: TrainConfig, title: str, supports: Capabilities, hint: Callable[[str, object], str]
) -> None:
    """Raise for the first option outside ``supports``; ``hint(attribute, value)`` says what to do."""
    for option, (attribute, word) in CHOICES.items():
        value, allowed = getattr(config, option), getattr(supports, attribute)
        if value not in allowed:
            raise ForceMLPError(
                f"{title} supports {word} {_either(map(repr, allowed))} only, not"
                f" {value!r}: {hint(attribute, value)}."
            )
    if config.dropout and not supports.dropout:
        raise ForceMLPError(
            f"{title} has no dropout (asked for {config.dropout:g}): use dropout 0 or"
            f" {hint('dropout', True)}."
        )



class ContractBroken(AssertionError):
    """A trainer that does not keep the contract; the message names the clause it broke."""


TrainRun = Callable[[TrainConfig, "Splits", bool], "RunResult"]


def check_trainer(framework: str, splits: Splits, train_run: TrainRun | None = None) -> None:
    """Check that a framework's ``train_run`` keeps the contract, as a new adapter's own test.

        check_trainer("numpy", load_splits())            # a registered adapter
        check_trainer("mine", splits, my_module.train_run)   # one being written

    Two small runs of 300 images (two epochs, batch 32, its default options) must: record
    epochs numbered 1..n whose accuracies are per-sample averages; name as best the earliest
    epoch of highest validation accuracy and hand back that epoch's weights, as float32
    (out, in) layers that an independent NumPy forward pass scores as the run reported; count
    the images it trained on; and give the same numbers and weights again for the same seed.
    A learning rate of 1e30 must end in the one divergence message. Raises
    :class:`ContractBroken` naming the first clause broken.
    """
    import math
    from importlib import import_module

    import numpy as np

    from .weights import log_probabilities

    if train_run is None:
        train_run = import_module(ADAPTERS[framework].module).train_run
    config = TrainConfig(framework=framework, epochs=2, batch_size=32, train_size=300)
    small = replace(splits, train=splits.train.head(300))
    first, again = train_run(config, small, False), train_run(config, small, False)

    def require(holds: bool, clause: str) -> None:
        if not holds:
            raise ContractBroken(f"{framework} breaks the trainer contract: {clause}.")

    epochs = first.history.epochs
    require([m.epoch for m in epochs] == [1, 2], "one record per epoch, numbered 1..n")
    for metrics in epochs:
        share = metrics.train_accuracy * 300
        require(abs(share - round(share)) < 1e-3, "training accuracy is a per-sample average")
        val_share = metrics.val_accuracy * len(small.val)
        require(abs(val_share - round(val_share)) < 1e-3,
                "validation accuracy is a per-sample average")
        require(math.isfinite(metrics.train_loss) and metrics.seconds > 0,
                "finite losses and a positive time per epoch")
    accuracies = first.history.column("val_accuracy")
    require(first.history.best_epoch == int(np.argmax(accuracies)) + 1,
            "the best epoch is the earliest of highest validation accuracy")
    require(first.train_samples == 300 and first.config == config.to_dict(),
            "the result names its configuration and the images it trained on")
    shapes = [(layer.weight.shape, layer.bias.shape, layer.weight.dtype)
              for layer in first.weights or ()]
    require(shapes == [((16, 784), (16,), np.float32), ((10, 16), (10,), np.float32)],
            "the weights come back as float32 (out, in) and (out,) layers")
    best = epochs[first.history.best_epoch - 1]
    val_log_p = log_probabilities(first.weights, config.activation, small.val.features)
    require(abs(float((val_log_p.argmax(1) == small.val.labels).mean()) - best.val_accuracy)
            <= 1.5 / len(small.val), "the weights handed back are the best epoch's")
    test_log_p = log_probabilities(first.weights, config.activation, small.test.features)
    require(abs(float((test_log_p.argmax(1) == small.test.labels).mean())
                - first.test.accuracy) <= 1.5 / len(small.test),
            "the test score is the kept weights' score")
    require(first.history.column("val_loss") == again.history.column("val_loss")
            and all(np.array_equal(a.weight, b.weight)
                    for a, b in zip(first.weights, again.weights)),
            "the same seed gives the same run")
    try:
        train_run(replace(config, learning_rate=1e30, epochs=1), small, False)
    except ForceMLPError as error:
        require(str(error).startswith("training diverged:"), "a blow-up is the one divergence"
                " message")
    else:
        require(False, "a learning rate of 1e30 ends in the divergence message")
