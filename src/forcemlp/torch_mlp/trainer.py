"""PyTorch training: the loop every tutorial writes, and what ``forcemlp train`` runs.

    history = train(model, splits, epochs=5, batch_size=20, learning_rate=1e-3)
    python -m forcemlp train --framework torch --epochs 5

:func:`train_epoch` is the canonical autograd loop (zero_grad, forward, loss, backward, step
with ``torch.optim``). Each epoch shuffles with :func:`epoch_order`, which draws from the seeded
generator exactly what ``DataLoader(dataset, batch_size, shuffle=True, generator=g)`` draws,
so a reader's own DataLoader loop with the same seed gives bit-identical weights and metrics
(on the CPU, run it with ``torch.set_num_threads(1)``: the trainer uses one thread, see
:func:`.models.one_torch_thread`). ``train(..., fast=True)`` takes the NumPy fast path instead
(:mod:`.fast_path`).
"""
from __future__ import annotations

import copy
import functools
import math
from contextlib import nullcontext

import torch
import torch.nn.functional as F
from torch import nn

from ..config import OPTIMIZERS, TrainConfig, check_choice, check_training_numbers, learning_rate_at
from ..data import Splits
from ..errors import ForceMLPError
from ..history import History, RunResult
from ..training import CHECK_EVERY_STEPS, EpochRecorder
from .fast_path import NumpyAdamEpochs, cpu_loop_settings, require_fast_path
from .models import (
    evaluate,
    log_probabilities_of,
    make_optimizer,
    model_for,
    one_torch_thread,
    select_device,
    trained_weights,
)


def epoch_order(count: int, generator: torch.Generator) -> torch.Tensor:
    """This epoch's shuffled indices, drawn as ``DataLoader(shuffle=True, generator=g)`` draws.

    Each pass over such a loader takes from ``g``: one int64 (a base seed for worker
    processes, drawn even with none), the permutation itself, and one more permutation its
    RandomSampler throws away at the end. Drawing the same keeps this trainer and a DataLoader
    loop in step epoch after epoch; a test holds a torch upgrade to it.
    """
    torch.empty((), dtype=torch.int64).random_(generator=generator)
    order = torch.randperm(count, generator=generator)
    torch.randperm(count, generator=generator)
    return order


def train_epoch(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    features: torch.Tensor,
    labels: torch.Tensor,
    order: torch.Tensor,
    batch_size: int,
    recorder: EpochRecorder,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
) -> tuple[float, int]:
    """One epoch of the loop a reader writes; returns the summed per-sample loss and the
    number of correct predictions (the recorder turns them into averages)."""
    model.train()
    loss_sum = torch.zeros((), dtype=torch.float64, device=features.device)
    correct = torch.zeros((), dtype=torch.int64, device=features.device)
    for step, indices in enumerate(order.to(features.device).split(batch_size), start=1):
        images, targets = features[indices], labels[indices]
        optimizer.zero_grad()
        log_probabilities = model(images)
        loss = F.nll_loss(log_probabilities, targets)
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        loss_sum += loss.detach().double() * len(indices)  # per sample: a short batch counts less
        correct += (log_probabilities.detach().argmax(dim=1) == targets).sum()
        if step % CHECK_EVERY_STEPS == 0:  # one device sync every hundred steps, not each one
            recorder.batches_done(step, step * batch_size, loss_sum.item())
    return loss_sum.item(), int(correct.item())


class _AutogradEpochs:
    """The model, its torch.optim optimizer and the training tensors, on the device."""

    def __init__(self, model: nn.Module, splits: Splits, optimizer: str, learning_rate: float,
                 lr_schedule: str, total_steps: int, device: torch.device) -> None:
        self.model = model
        self.optimizer = make_optimizer(optimizer, model.parameters(), learning_rate)
        self.scheduler = None
        if lr_schedule != "constant":
            self.scheduler = torch.optim.lr_scheduler.LambdaLR(
                self.optimizer, functools.partial(learning_rate_at, 1.0, lr_schedule,
                                                  total_steps=total_steps)
            )
        self.features = torch.from_numpy(splits.train.features).to(device)
        self.labels = torch.from_numpy(splits.train.labels).to(device)

    def run_epoch(self, order: torch.Tensor, batch_size: int,
                  recorder: EpochRecorder) -> tuple[float, int]:
        return train_epoch(self.model, self.optimizer, self.features, self.labels, order,
                           batch_size, recorder, self.scheduler)


def check_training_arguments(splits: Splits, epochs: int, batch_size: int, learning_rate: float,
                             optimizer: str) -> None:
    """The checks both trainers share, before anything is built."""
    check_choice("optimizer", optimizer, OPTIMIZERS)
    check_training_numbers(epochs, batch_size, learning_rate)
    if len(splits.train) == 0 or len(splits.val) == 0:
        raise ForceMLPError("the training and validation sets must not be empty.")


def train(
    model: nn.Module,
    splits: Splits,
    *,
    epochs: int,
    batch_size: int,
    learning_rate: float,
    optimizer: str = "adam",
    seed: int = 0,
    device: str = "auto",
    progress: bool = False,
    lr_schedule: str = "constant",
    fast: bool = False,
) -> History:
    """Train ``model`` on ``splits.train``, validating on ``splits.val`` after each epoch.

    Autograd with ``torch.optim`` (:func:`train_epoch`), or with ``fast=True`` the NumPy fast
    path (refused with one line for a model, optimizer or device it cannot train). Metrics
    are per-sample averages over each epoch; the weights of the best validation accuracy
    (earliest on ties) are put back at the end and ``History.best_epoch`` names that epoch.
    ``seed`` fixes the shuffling (:func:`epoch_order`) and, through ``torch.manual_seed``,
    dropout. A diverging loss stops training with a ``ForceMLPError``; ``lr_schedule`` sets
    every step's rate (``config.learning_rate_at``, through ``LambdaLR``). On the CPU torch
    runs on one thread meanwhile (:func:`.models.one_torch_thread`).
    """
    check_training_arguments(splits, epochs, batch_size, learning_rate, optimizer)
    total_steps = epochs * math.ceil(len(splits.train) / batch_size)
    torch_device = select_device(device)
    torch.manual_seed(seed)
    model.to(torch_device)
    if fast:
        rate = functools.partial(learning_rate_at, learning_rate, lr_schedule,
                                 total_steps=total_steps)
        layers = require_fast_path(model, optimizer, torch_device)
        epochs_runner = NumpyAdamEpochs(layers, splits.train, rate)
        settings = cpu_loop_settings()
    else:
        epochs_runner = _AutogradEpochs(model, splits, optimizer, learning_rate, lr_schedule,
                                        total_steps, torch_device)
        settings = one_torch_thread() if torch_device.type == "cpu" else nullcontext()
    val_features = torch.from_numpy(splits.val.features).to(torch_device)
    val_labels = torch.from_numpy(splits.val.labels).to(torch_device)
    generator = torch.Generator().manual_seed(seed)
    recorder = EpochRecorder("torch", epochs, len(splits.train), learning_rate, progress)
    with settings, recorder.overflow_diverges():
        for _ in range(epochs):
            recorder.start_epoch()
            order = epoch_order(len(splits.train), generator)
            loss_sum, correct = epochs_runner.run_epoch(order, batch_size, recorder)
            val_loss, val_accuracy = _loss_and_accuracy(model, val_features, val_labels)
            recorder.end_epoch(loss_sum, correct, val_loss, val_accuracy,
                               snapshot=lambda: copy.deepcopy(model.state_dict()))
    model.load_state_dict(recorder.best_snapshot)
    return recorder.history


def _loss_and_accuracy(
    model: nn.Module, features: torch.Tensor, labels: torch.Tensor
) -> tuple[float, float]:
    log_probabilities = log_probabilities_of(model, features)
    loss = F.nll_loss(log_probabilities, labels, reduction="sum").item() / len(labels)
    accuracy = (log_probabilities.argmax(1) == labels).sum().item() / len(labels)
    return loss, accuracy


def trainer_path(
    model: nn.Module, optimizer: str = "adam", device: str = "auto", fast: bool = False
) -> str:
    """Which path ``train(..., fast=fast)`` takes: ``"autograd"`` or ``"numpy fast path"``.

    With ``fast=True`` on a model the fast path cannot train, the same one-line error as
    ``train`` raises.
    """
    if not fast:
        return "autograd"
    require_fast_path(model, optimizer, select_device(device))
    return "numpy fast path"


def train_run(config: TrainConfig, splits: Splits, progress: bool = False) -> RunResult:
    """Build, train and test the model ``config`` describes (the runner's adapter for torch)."""
    model = model_for(config)
    history = train(model, splits, epochs=config.epochs, batch_size=config.batch_size,
                    learning_rate=config.learning_rate,
                    optimizer=config.optimizer, seed=config.seed, device=config.device,
                    progress=progress, lr_schedule=config.lr_schedule,
                    fast=config.fast)
    test = evaluate(model, splits.test)
    return RunResult.from_training(config.to_dict(), history, test, len(splits.train),
                                   weights=trained_weights(model))
