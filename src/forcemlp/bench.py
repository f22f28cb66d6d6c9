"""How much faster forcemlp's trainers are than the seed article's DataLoader loop.

    python -m forcemlp bench [--epochs N] [--json]

In one process, on the same data, from the same initial weights and in the same batch order,
it trains the seed's PyTorch model (784-16-10, batch 20, Adam 1e-3) three times: with
``torch_mlp.train_seed_style`` (the article's per-sample PIL image + ToTensor through a
DataLoader, with its training mistakes fixed), with ``torch_mlp.train`` (autograd and
torch.optim on tensors converted once) and with ``torch_mlp.train(..., fast=True)`` (the
NumPy fast path). Seconds per epoch are each trainer's whole wall time (data preparation and
validation included) divided by the epochs; every model is then tested on the same 8,000 test
images. Other work on the same cores skews the timings, the seed loop's (two torch threads
waiting on each other) most: the table shows the load average.
"""
from __future__ import annotations

import functools
import os
import time
from typing import Any

from .config import TrainConfig
from .data import load_splits


def run_benchmark(
    epochs: int = 1,
    data_dir: str | os.PathLike | None = None,
    seed: int = 0,
    device: str = "auto",
    train_size: int | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Time the three trainers on the seed model; ``ratio`` = seed-style seconds / fast-path
    seconds, ``autograd_ratio`` = seed-style seconds / autograd seconds.

    ``train_size`` keeps only the first N training images (for quick checks; the ratio is
    only meaningful on the full 60,000).
    """
    import torch

    from . import torch_mlp

    _import_before_the_clocks()

    config = TrainConfig(epochs=epochs, seed=seed, device=device, train_size=train_size)
    splits = load_splits(data_dir=data_dir, train_size=train_size)
    trainers = {
        "seed": torch_mlp.train_seed_style,
        "autograd": torch_mlp.train,
        "forcemlp": functools.partial(torch_mlp.train, fast=True),
    }
    result: dict[str, Any] = {
        "model": "784-16-10 relu, log-softmax (12,730 parameters)",
        "epochs": epochs,
        "train_samples": len(splits.train),
        "batch_size": config.batch_size,
        "learning_rate": config.learning_rate,
        "device": str(torch_mlp.select_device(device)),
        "torch_threads": torch.get_num_threads(),
        "torch_version": torch.__version__,
        "cpu_count": os.cpu_count(),
        "load_average": os.getloadavg()[0],  # other work on the cores skews both timings
    }
    for name, trainer in trainers.items():
        model = torch_mlp.model_for(config)
        if name == "forcemlp":
            result["forcemlp_path"] = torch_mlp.trainer_path(model, config.optimizer, device,
                                                             fast=True)
        start = time.perf_counter()
        trainer(model, splits, epochs=epochs, batch_size=config.batch_size,
                learning_rate=config.learning_rate, seed=seed, device=device, progress=progress)
        seconds_per_epoch = (time.perf_counter() - start) / epochs
        test = torch_mlp.evaluate(model, splits.test)
        result[f"{name}_seconds_per_epoch"] = seconds_per_epoch
        result[f"{name}_samples_per_second"] = len(splits.train) / seconds_per_epoch
        result[f"{name}_test_accuracy"] = test.accuracy
    result["ratio"] = result["seed_seconds_per_epoch"] / result["forcemlp_seconds_per_epoch"]
    result["autograd_ratio"] = (
        result["seed_seconds_per_epoch"] / result["autograd_seconds_per_epoch"]
    )
    accuracies = [result[f"{name}_test_accuracy"] for name in trainers]
    result["accuracy_gap_points"] = 100 * (max(accuracies) - min(accuracies))
    return result


def _import_before_the_clocks() -> None:
    """Pay one-off import costs (seconds each) outside the timings.

    The seed loop imports torchvision, and the first ``torch.optim`` optimizer imports
    ``torch._dynamo``; neither is part of training an epoch.
    """
    import torch
    import torchvision.transforms  # noqa: F401

    torch.optim.Adam([torch.zeros(1, requires_grad=True)])


def format_benchmark(result: dict[str, Any]) -> str:
    """The benchmark as a small table, the way ``forcemlp bench`` prints it."""
    rows = [
        ("seed-style DataLoader loop", "seed"),
        ("forcemlp train (autograd)", "autograd"),
        (f"forcemlp train --fast ({result['forcemlp_path']})", "forcemlp"),
    ]
    width = max(len(label) for label, _ in rows)
    title = (
        f"PyTorch seed model {result['model']}, batch {result['batch_size']},"
        f" Adam {result['learning_rate']:g}, {result['epochs']} epoch(s) of"
        f" {result['train_samples']:,} images on {result['device']}"
        f" (torch {result['torch_version']}, {result['torch_threads']} threads;"
        f" {result['cpu_count']} cores, load average {result['load_average']:.1f} at the start)"
    )
    lines = [
        title,
        f"{'trainer':<{width}}  {'s/epoch':>8}  {'samples/s':>10}  {'test accuracy':>13}",
    ]
    for label, key in rows:
        lines.append(
            f"{label:<{width}}  {result[f'{key}_seconds_per_epoch']:>8.2f}"
            f"  {result[f'{key}_samples_per_second']:>10,.0f}"
            f"  {result[f'{key}_test_accuracy']:>13.4f}"
        )
    lines.append(
        f"speed ratio {result['autograd_ratio']:.1f}x (autograd), {result['ratio']:.1f}x (fast"
        f" path); test accuracies differ by up to {result['accuracy_gap_points']:.2f} points"
    )
    return "\n".join(lines)
