"""Check a reader's PyTorch exercise: the article's 784-16-10 network and a training loop.

    report = check_network(FashionNet, train_one_epoch)   # prints one line per check

``make_model()`` must build the network; ``train_one_epoch(model, loader, optimizer)`` must
train it for one pass over ``loader``. The checks say what is right and what is not: the
output's shape, that it holds log-probabilities, the parameter count, that training moved the
weights, and the validation loss after one epoch on 2,000 Fashion-MNIST images, against the
spread of a reference network trained the same way from several seeds.
"""
from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from . import data

#: 784·16 + 16 weights and biases into the hidden layer, 16·10 + 10 into the output.
ARTICLE_PARAMETERS = 784 * 16 + 16 + 16 * 10 + 10
TRAIN_IMAGES = 2000
REFERENCE_SEEDS = (0, 1, 2, 3, 4)


@dataclass
class CheckReport:
    """One line per check, and the numbers behind the loss check."""

    lines: list[str] = field(default_factory=list)
    passed: bool = True
    loss: float | None = None
    reference_losses: list[float] = field(default_factory=list)

    def add(self, ok: bool, text: str) -> None:
        self.passed &= ok
        # Lines of at most 72 columns: they also print inside an exercise's folded solution.
        self.lines.append(textwrap.fill(("ok    " if ok else "WRONG ") + text, width=72,
                                        subsequent_indent=" " * 6))

    def __str__(self) -> str:
        return "\n".join(self.lines)


def _loaders(dataset: str, seed: int, batch_size: int = 20):
    """Shuffled training batches of the first 2,000 images; the 2,000 validation images."""
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    splits = data.load_splits(dataset, train_size=TRAIN_IMAGES)

    def tensors(split: data.Split) -> TensorDataset:  # what ToTensor gives: (N, 1, 28, 28)
        images = torch.from_numpy(split.features).reshape(-1, 1, 28, 28)
        return TensorDataset(images, torch.from_numpy(split.labels))

    train = DataLoader(tensors(splits.train), batch_size=batch_size, shuffle=True,
                       generator=torch.Generator().manual_seed(seed))
    return train, tensors(splits.val).tensors


def _reference_model():
    from torch import nn

    return nn.Sequential(nn.Flatten(), nn.Linear(784, 16), nn.ReLU(), nn.Linear(16, 10),
                         nn.LogSoftmax(dim=1))


def _reference_epoch(model, loader, optimizer) -> None:
    import torch.nn.functional as F

    model.train()
    for images, labels in loader:
        optimizer.zero_grad()
        F.nll_loss(model(images), labels).backward()
        optimizer.step()


def _loss_after_one_epoch(make_model: Callable, train_one_epoch: Callable, seed: int,
                          dataset: str, device) -> float:
    """Seeded model, Adam 1e-3, one epoch; the cross-entropy on the validation images."""
    import torch
    import torch.nn.functional as F

    torch.manual_seed(seed)
    model = make_model().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    train, (val_images, val_labels) = _loaders(dataset, seed)
    train_one_epoch(model, train, optimizer)
    model.eval()
    with torch.no_grad():  # cross_entropy applies log_softmax: right for scores and log-probs
        output = model(val_images.to(device)).cpu()
    return F.cross_entropy(output, val_labels).item()


def check_network(make_model: Callable, train_one_epoch: Callable,
                  dataset: str = "fashion-mnist") -> CheckReport:
    """Run every check on the reader's network and loop, print the report, return it."""
    import torch

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    report = CheckReport()
    model = make_model().to(device)
    batch = torch.rand(20, 1, 28, 28, device=device)
    try:
        with torch.no_grad():
            output = model(batch)
    except Exception as error:  # noqa: BLE001 - the reader's code may fail in any way
        report.add(False, f"a batch of shape (20, 1, 28, 28) fails: {error}")
        print(report)
        return report
    shape_ok = tuple(output.shape) == (20, 10)
    report.add(shape_ok, f"a batch (20, 1, 28, 28) gives an output of shape"
                         f" {tuple(output.shape)}; expected (20, 10)")
    if shape_ok:
        log_probabilities = bool(np.allclose(output.exp().sum(dim=1).cpu(), 1, atol=1e-4))
        report.add(log_probabilities,
                   "the outputs are log-probabilities (their exponentials sum to 1)"
                   if log_probabilities else
                   "the outputs are not log-probabilities: end with nn.LogSoftmax(dim=1)"
                   " (NLLLoss expects them)")
    count = sum(parameter.numel() for parameter in model.parameters())
    report.add(count == ARTICLE_PARAMETERS,
               f"{count:,} parameters; the article's 784-16-10 has {ARTICLE_PARAMETERS:,}")
    if not shape_ok:  # no loss to compare: fix the shape first
        print(report)
        return report
    before = [parameter.detach().clone() for parameter in model.parameters()]
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    train, _ = _loaders(dataset, seed=0)
    train_one_epoch(model, train, optimizer)
    moved = any(not torch.equal(old, new.detach())
                for old, new in zip(before, model.parameters()))
    report.add(moved, "training moved the weights" if moved else
               "train_one_epoch left every weight as it was: call optimizer.step()")
    report.reference_losses = [
        _loss_after_one_epoch(_reference_model, _reference_epoch, seed, dataset, device)
        for seed in REFERENCE_SEEDS
    ]
    report.loss = _loss_after_one_epoch(make_model, train_one_epoch, 0, dataset, device)
    low, high = min(report.reference_losses), max(report.reference_losses)
    margin = max(high - low, 0.01)
    report.add(low - margin <= report.loss <= high + margin,
               f"validation loss after one epoch on {TRAIN_IMAGES:,} images: {report.loss:.4f};"
               f" the reference's seeds give {low:.4f} to {high:.4f}")
    print(report)
    return report


def _fashion_dataloaders(seed: int, batch_size: int = 64):
    """fastai DataLoaders over the first 2,000 Fashion-MNIST training images and the 2,000
    validation images, as lesson 8 builds them (``DataLoaders.from_dsets``)."""
    import torch
    from fastai.data.core import DataLoaders
    from fastai.torch_core import set_seed

    splits = data.load_splits("fashion-mnist", train_size=TRAIN_IMAGES)

    def pairs(split: data.Split) -> list:
        images = torch.from_numpy(split.features).reshape(-1, 1, 28, 28)
        return list(zip(images, torch.from_numpy(split.labels)))

    set_seed(seed)
    return DataLoaders.from_dsets(pairs(splits.train), pairs(splits.val), bs=batch_size,
                                  num_workers=0)


def _reference_learner(dls):
    from fastai.learner import Learner
    from fastai.losses import CrossEntropyLossFlat
    from fastai.metrics import accuracy
    from torch import nn

    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 16), nn.ReLU(), nn.Linear(16, 10))
    return Learner(dls, model, loss_func=CrossEntropyLossFlat(), metrics=accuracy)


def _validation_loss_after_one_cycle(make_learner: Callable, seed: int) -> float:
    """One epoch of ``fit_one_cycle`` at 1e-2 on 2,000 images; the cross-entropy after it."""
    import fastai.callback.progress  # gives Learner no_bar
    import fastai.callback.schedule  # noqa: F401 - gives Learner fit_one_cycle
    import torch.nn.functional as F

    learn = make_learner(_fashion_dataloaders(seed))
    with learn.no_bar(), learn.no_logging():
        learn.fit_one_cycle(1, 1e-2)
        outputs, labels = learn.get_preds(ds_idx=1, act=lambda output: output)
    return F.cross_entropy(outputs.float(), labels.long()).item()


def check_learner(make_learner: Callable) -> CheckReport:
    """Check the reader's ``make_learner(dls)`` for lesson 8: print the report, return it."""
    import torch
    import torch.nn.functional as F

    report = CheckReport()
    learn = make_learner(_fashion_dataloaders(seed=0))
    images, labels = learn.dls.one_batch()
    model = learn.model.to(images.device)
    try:
        with torch.no_grad():
            output = model.eval()(images)
    except Exception as error:  # noqa: BLE001 - the reader's code may fail in any way
        report.add(False, f"a batch of shape {tuple(images.shape)} fails: {error}")
        print(report)
        return report
    expected = (len(labels), 10)
    shape_ok = tuple(output.shape) == expected
    report.add(shape_ok, f"a batch {tuple(images.shape)} gives an output of shape"
                         f" {tuple(output.shape)}; expected {expected}")
    count = sum(parameter.numel() for parameter in model.parameters())
    report.add(count == ARTICLE_PARAMETERS,
               f"{count:,} parameters; the article's 784-16-10 has {ARTICLE_PARAMETERS:,}")
    if shape_ok:
        theirs = float(learn.loss_func(output, labels))
        cross_entropy = F.cross_entropy(output, labels).item()
        fits = abs(theirs - cross_entropy) <= 1e-4 * max(1.0, abs(cross_entropy))
        report.add(fits, "loss_func computes the cross-entropy of the model's outputs" if fits
                   else f"loss_func gives {theirs:.4f} where the cross-entropy of the outputs"
                   f" is {cross_entropy:.4f}: end the model in scores (or LogSoftmax) and use"
                   " CrossEntropyLossFlat()")
    metric_names = [getattr(metric, "name", "") for metric in learn.metrics]
    report.add("accuracy" in metric_names,
               f"metrics: {metric_names}" + ("" if "accuracy" in metric_names
                                             else "; pass metrics=accuracy"))
    report.reference_losses = [_validation_loss_after_one_cycle(_reference_learner, seed)
                               for seed in REFERENCE_SEEDS]
    report.loss = _validation_loss_after_one_cycle(make_learner, 0)
    low, high = min(report.reference_losses), max(report.reference_losses)
    margin = max(high - low, 0.01)
    report.add(low - margin <= report.loss <= high + margin,
               f"validation loss after one epoch of fit_one_cycle(1, 1e-2) on"
               f" {TRAIN_IMAGES:,} images: {report.loss:.4f}; the reference's seeds give"
               f" {low:.4f} to {high:.4f}")
    print(report)
    return report
