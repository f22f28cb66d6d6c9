"""fastai, the article's fourth notebook: a ``Learner`` trains lesson 6's PyTorch MLP.

    python -m forcemlp train --framework fastai --batch-size 256 --lr 1e-2 --lr-schedule one_cycle

fastai is a layer over PyTorch, so the model is ``forcemlp.torch_mlp``'s (the same classes and,
for one seed, the same initial weights as ``--framework torch``); fastai adds the
``DataLoaders``, the ``Learner`` with its callbacks, ``lr_find``, ``fit_one_cycle`` and
``ClassificationInterpretation``.

Nothing is downloaded: where fastai's tutorials call ``untar_data(URLs.MNIST)``, the
``DataLoaders`` here are built from forcemlp's verified arrays. Their items are row numbers
into one tensor of images and one of labels, and a batch is gathered in one ``index_select``:
fastai's usual path asks its ``Datasets`` for one item at a time, which costs about 160 µs an
image here (10 s an epoch), against 0.5 s an epoch for whole batches. The typed batches
(``TensorImageBW``, ``TensorCategory``) keep ``show_batch``, ``test_dl`` and the
interpretation tools working as on any fastai image data.

"adam" means torch.optim.Adam's settings (β2 = 0.999, ε = 1e-8, no weight decay), not
fastai's own defaults (β2 = 0.99, ε = 1e-5, weight decay 0.01), so a run compares with the
other frameworks'. Training on the CPU uses one torch thread: at these sizes the second thread
costs more in hand-offs than it brings (the same choice as ``forcemlp.torch_mlp``).
"""
from __future__ import annotations

import copy
import math
import tempfile
import time
import warnings
from collections.abc import Callable
from contextlib import nullcontext
from functools import partial
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .config import LR_SCHEDULES, TrainConfig, check_choice, check_training_numbers
from .data import Splits
from .errors import ForceMLPError
from .history import EpochMetrics, Evaluation, History, RunResult, evaluate_log_probabilities
from .torch_mlp import _cpu_loop_settings, model_for, select_device

with warnings.catch_warnings():
    # fastai.layers compiles two activations with torch.jit.script, which torch 2.14 deprecates.
    warnings.filterwarnings("ignore", message=".*torch.jit.script.*", category=FutureWarning)
    # fastai.tabular (imported by fastai.interpret) sets a pandas option pandas 3 deprecates.
    warnings.filterwarnings("ignore", message=".*mode.chained_assignment.*")
    import fastai.interpret  # loaded here so that a lesson importing it later stays quiet
    import fastai.vision.learner  # noqa: F401 - teaches plot_top_losses to draw image batches
    from fastai.callback.core import Callback, CancelFitException
    from fastai.callback.progress import ProgressCallback
    from fastai.callback.schedule import ParamScheduler, SchedCos
    from fastai.data.core import DataLoaders, Datasets, TfmdDL
    from fastai.data.transforms import Category, CategoryMap, IntToFloatTensor
    from fastai.learner import Learner
    from fastai.losses import BaseLoss
    from fastai.metrics import accuracy
    from fastai.optimizer import SGD, Adam, RMSProp
    from fastai.torch_core import TensorCategory, TensorImageBW, set_seed
    from fasttransform import Transform

# The config's optimizer names, with torch.optim's default settings (see the module docstring).
OPTIMIZERS: dict[str, Callable] = {
    "adam": partial(Adam, mom=0.9, sqr_mom=0.999, eps=1e-8, wd=0.0),
    "sgd": partial(SGD, mom=0.0, wd=0.0),
    "momentum": partial(SGD, mom=0.9, wd=0.0),
    "rmsprop": partial(RMSProp, sqr_mom=0.99, eps=1e-8, wd=0.0),
}
TEST_LOADER = 2  # dls[0] trains, dls[1] validates, dls[2] holds the 8,000 test images
SCRATCH = Path(tempfile.gettempdir()) / "forcemlp-fastai"  # where lr_find parks the weights


def _take(values: torch.Tensor, rows: int | torch.Tensor) -> torch.Tensor:
    """One row for one row number, a stacked batch for a tensor of them."""
    return values[rows] if isinstance(rows, int) else values.index_select(0, rows)


class PixelRows(Transform):
    """Row numbers -> grey images (…, 1, 28, 28) of uint8, typed so fastai can show them."""

    def __init__(self, images: torch.Tensor) -> None:
        super().__init__()
        self.images = images

    def encodes(self, rows):
        return TensorImageBW(_take(self.images, rows).unsqueeze(-3))


class LabelRows(Transform):
    """Row numbers -> class numbers; decodes to the class name, as fastai's ``Categorize`` does."""

    def __init__(self, labels: torch.Tensor, class_names: tuple[str, ...]) -> None:
        super().__init__()
        self.labels = labels
        self.vocab = CategoryMap(list(class_names))

    def encodes(self, rows):
        return TensorCategory(_take(self.labels, rows))

    def decodes(self, label):
        return Category(self.vocab[label])


class WholeBatchLoader(TfmdDL):
    """fastai's ``TfmdDL``, but each batch is gathered at once (see the module docstring)."""

    def __init__(self, dataset=None, **kwargs) -> None:
        super().__init__(dataset, **kwargs)
        self.rows = torch.as_tensor(list(dataset.items)) if dataset is not None else None

    def create_item(self, position):
        return position or 0  # fastai's own probe asks for item None: show it the first

    def create_batch(self, positions):
        rows = self.rows.index_select(0, torch.as_tensor(positions))
        return tuple(items.tfms(rows) for items in self.dataset.tls)


def dataloaders(
    splits: Splits, batch_size: int = 64, device: str = "auto"
) -> DataLoaders:
    """fastai DataLoaders over forcemlp's splits: shuffled training batches, then the
    validation and the test images in order (``dls.train``, ``dls.valid``, ``dls[2]``).

    Every training image is used each epoch (fastai would drop the last short batch).
    Shuffling follows Python's ``random``: call ``fastai.torch_core.set_seed`` first.
    """
    parts = (splits.train, splits.val, splits.test)
    images = torch.from_numpy(np.concatenate([part.images for part in parts]))
    labels = torch.from_numpy(np.concatenate([part.labels for part in parts]))
    ends = np.cumsum([len(part) for part in parts])
    row_sets = [list(range(start, end)) for start, end in zip((0, *ends[:-1]), ends)]
    digits = Datasets(
        range(len(labels)),
        tfms=[[PixelRows(images)], [LabelRows(labels, splits.class_names)]],
        splits=row_sets,
    )
    return digits.dataloaders(
        bs=batch_size, dl_type=WholeBatchLoader, after_batch=[IntToFloatTensor()],
        drop_last=False, num_workers=0, device=select_device(device),
    )


class NLLLossFlat(BaseLoss):
    """PyTorch's ``NLLLoss`` for models that end in ``LogSoftmax`` (lesson 6's), made a fastai
    loss: ``activation`` turns log-probabilities into probabilities, ``decodes`` picks the class.
    """

    def __init__(self, *args, axis: int = -1, **kwargs) -> None:
        super().__init__(nn.NLLLoss, *args, axis=axis, **kwargs)

    def activation(self, log_probabilities: torch.Tensor) -> torch.Tensor:
        return log_probabilities.exp()

    def decodes(self, log_probabilities: torch.Tensor) -> torch.Tensor:
        return log_probabilities.argmax(dim=self.axis)


def optimizer_function(name: str) -> Callable:
    """fastai's optimizer for a config optimizer name, or one line naming those it has."""
    if name not in OPTIMIZERS:
        raise ForceMLPError(
            f"fastai supports optimizer {', '.join(map(repr, OPTIMIZERS))} only, not {name!r}:"
            " choose framework torch for that."
        )
    return OPTIMIZERS[name]


def learner(dls: DataLoaders, model: nn.Module, optimizer: str = "adam") -> Learner:
    """A Learner for a model ending in LogSoftmax: accuracy as its metric, torch's Adam
    settings, and two callbacks of ours (EpochHistory and OneThreadOnCPU)."""
    return Learner(
        dls, model, loss_func=NLLLossFlat(), opt_func=optimizer_function(optimizer),
        metrics=accuracy, path=SCRATCH, cbs=[EpochHistory(), OneThreadOnCPU()],
    )


def seeded_learner(splits: Splits, config: TrainConfig) -> Learner:
    """DataLoaders and lesson 6's model for ``config``, in one Learner; the same config gives
    the same first weights and the same batches, in a lesson as in ``forcemlp train``."""
    optimizer_function(config.optimizer)
    set_seed(config.seed)
    dls = dataloaders(splits, config.batch_size, config.device)
    return learner(dls, model_for(config), config.optimizer)


class EpochHistory(Callback):
    """Writes each epoch of a fit into forcemlp's ``History`` and keeps the best weights.

    After ``learn.fit(...)`` (or ``fit_one_cycle``) ``learn.epoch_history.history`` holds the
    epochs: loss and accuracy are per-sample averages (batch means weighted by batch size),
    seconds run from the epoch's start to the end of its validation. The weights of the best
    validation accuracy are put back when the fit ends. A loss that stops being finite cancels
    the fit and is kept in ``bad_loss`` (:func:`fit` raises it as a ForceMLPError). It sits
    out ``lr_find``, whose loss is meant to blow up, and ``get_preds``, which fastai runs as a
    fit of one validation epoch.
    """

    order = 60  # after fastai's Recorder (50)

    def before_fit(self) -> None:
        # get_preds and lr_find announce themselves as fits too: stay out of both.
        self.run = not any(hasattr(self.learn, name) for name in ("lr_finder", "gather_preds"))
        if self.run:
            self.history = History(framework="fastai")
            self.best_accuracy, self.best_state = -math.inf, None
            self.bad_loss: str | None = None

    def before_epoch(self) -> None:
        self.started = time.perf_counter()
        self.totals = {True: [0.0, 0, 0], False: [0.0, 0, 0]}  # training? -> loss, right, seen

    def after_batch(self) -> None:
        loss, labels = float(self.learn.loss.detach()), self.learn.yb[0]
        if not math.isfinite(loss):
            phase = "training" if self.training else "validation"
            self.bad_loss = f"became {loss} in epoch {self.epoch + 1} ({phase})"
            raise CancelFitException
        totals = self.totals[self.training]
        totals[0] += loss * len(labels)
        totals[1] += int((self.learn.pred.argmax(dim=-1) == labels).sum())
        totals[2] += len(labels)

    def after_epoch(self) -> None:
        (train_loss, train_right, seen), (val_loss, val_right, val_seen) = self.totals.values()
        metrics = EpochMetrics(
            epoch=self.epoch + 1,
            train_loss=train_loss / seen,
            train_accuracy=train_right / seen,
            val_loss=val_loss / val_seen,
            val_accuracy=val_right / val_seen,
            seconds=time.perf_counter() - self.started,
        )
        self.history.append(metrics)
        if metrics.val_accuracy > self.best_accuracy:
            self.best_accuracy, self.history.best_epoch = metrics.val_accuracy, metrics.epoch
            self.best_state = copy.deepcopy(self.learn.model.state_dict())

    def after_fit(self) -> None:
        if self.best_state is not None and self.bad_loss is None:
            self.learn.model.load_state_dict(self.best_state)


class OneThreadOnCPU(Callback):
    """One torch thread while fitting on the CPU (see the module docstring), restored after."""

    def before_fit(self) -> None:
        device = self.learn.dls.device
        self.settings = _cpu_loop_settings() if device is None or device.type == "cpu" else None
        if self.settings is not None:
            self.settings.__enter__()

    def after_fit(self) -> None:
        if self.settings is not None:
            self.settings.__exit__(None, None, None)


def fit(
    learn: Learner,
    epochs: int,
    learning_rate: float,
    lr_schedule: str = "constant",
    progress: bool = False,
) -> History:
    """Train ``learn`` and return forcemlp's History; the best validation epoch's weights stay.

    ``constant`` is ``learn.fit``; ``cosine`` shrinks the rate as ``config.learning_rate_at``
    does; ``one_cycle`` is ``learn.fit_one_cycle``: the rate climbs from lr/25 to lr over the
    first quarter of the steps and falls to lr/100,000, while Adam's β1 dips from 0.95 to 0.85
    and back. ``progress=False`` hides fastai's bar and table.
    """
    check_training_numbers(epochs, 1, learning_rate)
    check_choice("learning-rate schedule", lr_schedule, LR_SCHEDULES)
    runs = {
        "constant": lambda: learn.fit(epochs, learning_rate),
        "cosine": lambda: learn.fit(epochs, learning_rate, cbs=ParamScheduler(
            {"lr": SchedCos(learning_rate, 0.0)})),
        "one_cycle": lambda: learn.fit_one_cycle(epochs, learning_rate),
    }
    quiet = learn.removed_cbs(learn.cbs.filter(lambda cb: isinstance(cb, ProgressCallback)))
    recorder = learn.epoch_history
    try:
        with nullcontext() if progress else quiet, nullcontext() if progress else learn.no_logging():
            runs[lr_schedule]()
    except RuntimeError as error:  # fastai's Adam scales the rate by 1/(1-β1) in float32
        if "overflow" not in str(error):
            raise
        recorder.bad_loss = f"could not be computed: a step overflowed float32 ({error})"
    if recorder.bad_loss is not None:
        raise ForceMLPError(
            f"training diverged: the loss {recorder.bad_loss}; lower the learning rate"
            f" (it was {learning_rate:g})."
        )
    return recorder.history


def evaluate(learn: Learner, loader: int = TEST_LOADER) -> Evaluation:
    """Loss, accuracy, predictions and confusion on ``learn.dls[loader]`` (the test images)."""
    with learn.no_bar():
        log_probabilities, labels = learn.get_preds(ds_idx=loader, act=lambda output: output)
    return evaluate_log_probabilities(log_probabilities.numpy(), labels.numpy())


def run_result(config: TrainConfig, learn: Learner, train_count: int) -> RunResult:
    """The shared record of a fit that ``learn`` has just finished, tested on the 8,000."""
    history = learn.epoch_history.history
    return RunResult.from_training(config.to_dict(), history, evaluate(learn), train_count)


def train_run(config: TrainConfig, splits: Splits, progress: bool = False) -> RunResult:
    """Build, train and test the model ``config`` describes, with fastai: what
    ``forcemlp train --framework fastai`` runs."""
    if config.train_size is not None and config.train_size < len(splits.train):
        splits = Splits(splits.name, splits.train.head(config.train_size), splits.val,
                        splits.test, splits.class_names)
    learn = seeded_learner(splits, config)
    fit(learn, config.epochs, config.learning_rate, config.lr_schedule, progress)
    return run_result(config, learn, len(splits.train))
