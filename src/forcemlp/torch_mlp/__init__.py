"""PyTorch MLPs for MNIST: models, the autograd trainer, the opt-in fast path, the seed's loop.

    python -m forcemlp train --framework torch --epochs 5    # autograd, torch.optim
    python -m forcemlp train --framework torch --fast        # the NumPy fast path
    python -m forcemlp bench                                 # the seed's loop against both

One module per job, each readable on its own:

- :mod:`.models`: the seed's ``SeedSequential`` / ``SeedFunctional``, ``build_mlp`` in either
  style, devices, optimizers, evaluation, the trained weights in neutral form;
- :mod:`.trainer`: ``train`` and ``train_epoch``, the canonical autograd loop, shuffled in the
  order a seeded ``DataLoader`` draws; ``train_run``, the runner's adapter;
- :mod:`.fast_path`: the lesson's backprop in NumPy with one fused Adam call a step, opt-in
  (``fast=True``) for plain stacks trained with Adam on the CPU;
- :mod:`.seed_loop`: the seed article's per-sample DataLoader loop, for the benchmark.
"""
from .fast_path import denormals_flushed, fast_path_layers, fused_adam_step
from .models import (
    ACTIVATION_FUNCTIONS,
    ACTIVATION_MODULES,
    EVAL_CHUNK,
    FunctionalMLP,
    SeedFunctional,
    SeedSequential,
    SequentialMLP,
    build_mlp,
    evaluate,
    make_optimizer,
    model_for,
    one_torch_thread,
    predict_log_probabilities,
    select_device,
    trained_weights,
)
from .seed_loop import SeedStyleMNIST, seed_style_loaders, train_seed_style
from .trainer import epoch_order, train, train_epoch, train_run, trainer_path

__all__ = [
    "ACTIVATION_FUNCTIONS", "ACTIVATION_MODULES", "EVAL_CHUNK", "FunctionalMLP", "SeedFunctional",
    "SeedSequential", "SeedStyleMNIST", "SequentialMLP", "build_mlp", "denormals_flushed",
    "epoch_order", "evaluate", "fast_path_layers", "fused_adam_step", "make_optimizer",
    "model_for", "one_torch_thread", "predict_log_probabilities", "seed_style_loaders", "select_device", "train",
    "train_epoch", "train_run", "train_seed_style", "trained_weights", "trainer_path",
]
