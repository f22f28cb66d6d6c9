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
import tempfile
import warnings
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .config import LR_SCHEDULES, TrainConfig, check_choice, check_training_numbers
from .data import Splits
from .errors import ForceMLPError
from .history import Evaluation, History, RunResult, evaluate_log_probabilities
from .torch_mlp import model_for, select_device, trained_weights
from .training import EpochRecorder, diverged

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
    """Records each epoch of a fit with forcemlp's shared :class:`~forcemlp.training.EpochRecorder`.

    After ``learn.fit(...)`` (or ``fit_one_cycle``) ``learn.epoch_history.history`` holds the
    epochs, as every framework of the book records them: loss and accuracy are per-sample
    averages, seconds run from an epoch's start to the end of its validation, the weights of
    the best validation accuracy are put back when the fit ends, and one rule says when the
    loss has diverged. A divergence cancels the fit and is kept in ``error`` (:func:`fit`
    raises it; fastai would wrap an exception raised inside a callback). It sits out
    ``lr_find``, whose loss is meant to blow up, and ``get_preds``, which fastai runs as a
    fit of one validation epoch. ``show_bar`` shows the book's progress bar.
    """

    order = 60  # after fastai's Recorder (50)

    def __init__(self, show_bar: bool = False) -> None:
        super().__init__()
        self.show_bar = show_bar
        self.book_recorder: EpochRecorder | None = None
        self.error: ForceMLPError | None = None

    @property
    def history(self) -> History:
        return self.book_recorder.history

    def before_fit(self) -> None:
        # get_preds and lr_find announce themselves as fits too: stay out of both.
        self.run = not any(hasattr(self.learn, name) for name in ("lr_finder", "gather_preds"))
        if self.run:
            top_rate = max(hyper["lr"] for hyper in self.learn.opt.hypers)
            self.book_recorder = EpochRecorder(
                "fastai", self.learn.n_epoch, len(self.learn.dls.train.dataset), top_rate,
                self.show_bar,
            )
            self.error = None

    def before_epoch(self) -> None:
        self.book_recorder.start_epoch()
        self.sums = {True: [0.0, 0, 0, 0], False: [0.0, 0, 0, 0]}  # loss, right, seen, steps

    def after_batch(self) -> None:
        labels = self.learn.yb[0]
        sums = self.sums[self.training]
        sums[0] += float(self.learn.loss.detach()) * len(labels)
        sums[1] += int((self.learn.pred.argmax(dim=-1) == labels).sum())
        sums[2] += len(labels)
        sums[3] += 1
        if self.training:  # the loss is on the CPU already: look at every step
            self._guarded(lambda: self.book_recorder.batches_done(sums[3], sums[2], sums[0]))

    def after_epoch(self) -> None:
        (loss_sum, correct, _, _), (val_loss, val_correct, val_seen, _) = self.sums.values()
        self._guarded(lambda: self.book_recorder.end_epoch(
            loss_sum, correct, val_loss / val_seen, val_correct / val_seen,
            snapshot=lambda: copy.deepcopy(self.learn.model.state_dict())))

    def after_fit(self) -> None:
        if self.book_recorder.best_snapshot is not None and self.error is None:
            self.learn.model.load_state_dict(self.book_recorder.best_snapshot)

    def _guarded(self, record: Callable[[], object]) -> None:
        try:
            record()
        except ForceMLPError as error:
            self.error = error
            raise CancelFitException from None


class OneThreadOnCPU(Callback):
    """One torch thread while fitting on the CPU (see the module docstring), restored after."""

    def before_fit(self) -> None:
        self.threads = torch.get_num_threads()
        if self.learn.dls.device is None or self.learn.dls.device.type == "cpu":
            torch.set_num_threads(1)

    def after_fit(self) -> None:
        torch.set_num_threads(self.threads)


def fit(
    learn: Learner,
    *,
    epochs: int,
    learning_rate: float,
    lr_schedule: str = "constant",
    progress: bool = False,
) -> History:
    """Train ``learn`` and return forcemlp's History; the best validation epoch's weights stay.

    ``constant`` is ``learn.fit``; ``cosine`` shrinks the rate as ``config.learning_rate_at``
    does; ``one_cycle`` is ``learn.fit_one_cycle``: the rate climbs from lr/25 to lr over the
    first quarter of the steps and falls to lr/100,000, while Adam's β1 dips from 0.95 to 0.85
    and back. fastai's own bar and table give way to the book's progress bar (``progress``).
    """
    check_training_numbers(epochs, 1, learning_rate)
    check_choice("learning-rate schedule", lr_schedule, LR_SCHEDULES)
    runs = {
        "constant": lambda: learn.fit(epochs, learning_rate),
        "cosine": lambda: learn.fit(epochs, learning_rate, cbs=ParamScheduler(
            {"lr": SchedCos(learning_rate, 0.0)})),
        "one_cycle": lambda: learn.fit_one_cycle(epochs, learning_rate),
    }
    recorder = learn.epoch_history
    recorder.show_bar = progress
    fastai_bar = learn.cbs.filter(lambda callback: isinstance(callback, ProgressCallback))
    try:
        with learn.removed_cbs(fastai_bar), learn.no_logging():
            runs[lr_schedule]()
    except RuntimeError as error:  # fastai's Adam scales the rate by 1/(1-β1) in float32
        if "overflow" not in str(error):
            raise
        raise diverged(float("inf"), f"in epoch {learn.epoch + 1}", learning_rate) from None
    finally:
        recorder.show_bar = False
    if recorder.error is not None:
        raise recorder.error
    return recorder.history


def evaluate(learn: Learner, loader: int = TEST_LOADER) -> Evaluation:
    """Loss, accuracy, predictions and confusion on ``learn.dls[loader]`` (the test images)."""
    with learn.no_bar():
        log_probabilities, labels = learn.get_preds(ds_idx=loader, act=lambda output: output)
    return evaluate_log_probabilities(log_probabilities.numpy(), labels.numpy())


def run_result(config: TrainConfig, learn: Learner, train_count: int) -> RunResult:
    """The shared record of the fit ``learn`` has just finished, tested on the 8,000, with
    the kept weights; a fit that diverged raises its one-line error here."""
    if learn.epoch_history.error is not None:
        raise learn.epoch_history.error
    return RunResult.from_training(config.to_dict(), learn.epoch_history.history,
                                   evaluate(learn), train_count,
                                   weights=trained_weights(learn.model))


def train_run(config: TrainConfig, splits: Splits, progress: bool = False) -> RunResult:
    """Build, train and test the model ``config`` describes, with fastai: what
    ``forcemlp train --framework fastai`` runs (the runner has cut ``splits.train``)."""
    learn = seeded_learner(splits, config)
    fit(learn, epochs=config.epochs, learning_rate=config.learning_rate,
        lr_schedule=config.lr_schedule, progress=progress)
    return run_result(config, learn, len(splits.train))
