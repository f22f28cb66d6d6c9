"""PyTorch MLPs for MNIST: the seed's two model styles, a general builder, and two trainers.

    python -m forcemlp train --framework torch --epochs 5    # the fast trainer, train()
    python -m forcemlp bench                                 # train() against the seed's loop

``train`` is the library's trainer; ``train_seed_style`` keeps the seed article's loop
(per-sample PIL image + ToTensor, SubsetRandomSampler, DataLoader) so the book can show why it
is slow. Both fix the seed's two mistakes: averages are per sample, and validation uses the
2,000 validation images, never the test set.

Why ``train`` is fast. At batch 20 a step pushes 20 images through 12,730 weights: the
arithmetic takes microseconds and per-call overhead takes the rest (per-sample conversion,
the autograd graph, ``optimizer.step()``'s ~55 µs of Python bookkeeping). So:

1. no per-sample work: each epoch's batches are cut from one permutation of arrays already
   in memory (on the device for autograd; the fast path gathers 20 uint8 rows and scales
   them, which beats converting all 60,000 images up front, 0.24 s, for a 1-epoch run);
2. a plain Linear/activation stack ending in LogSoftmax, trained with Adam on the CPU, runs
   the lesson's backprop equations in NumPy on preallocated buffers (a NumPy call costs ~1 µs
   of overhead, a torch eager call 3-6 µs; a step is ~35 calls). Parameters, gradients and
   Adam's moments each live in one flat buffer, so the update is one call of the kernel
   behind ``torch.optim.Adam(fused=True)`` (~15 µs), whatever the number of layers;
3. denormal floats are flushed to zero during the loop: Adam's first moment of rarely lit
   pixels decays into the denormal range, where arithmetic is ~100x slower (this alone took
   a step from ~200 to ~90 µs); small reductions use ``ufunc.reduce`` / a ones-vector matmul
   instead of ``np.max``/``np.sum``'s Python wrappers (~90 to ~75 µs).

Measured on the 2-core machine, one epoch of the seed model at batch 20: torch autograd with
``Adam(fused=True)`` ~2 s, the NumPy fast path ~0.25 s (~75 µs a step). The test
``test_train_matches_autograd_and_torch_optim_adam`` holds it to autograd + torch.optim.Adam.
Anything else (other optimizers, dropout, other activations, CUDA) takes the autograd path.
"""
from __future__ import annotations

import copy
import functools
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, replace

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from .config import (
    ACTIVATIONS,
    DEVICES,
    OPTIMIZERS,
    TrainConfig,
    check_choice,
    check_training_numbers,
    learning_rate_at,
)
from .data import Split, Splits, to_features
from .errors import ForceMLPError
from .history import EpochMetrics, Evaluation, History, RunResult, evaluate_log_probabilities

INPUT_SIZE = 28 * 28
NUM_CLASSES = 10
CHECK_EVERY_STEPS = 100  # how often the NaN guard looks at the losses (and the bar moves)
EVAL_CHUNK = 10_000  # images per forward pass when evaluating, to bound memory

ACTIVATION_MODULES: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "softplus": nn.Softplus,
}


# --- models ------------------------------------------------------------------------------


class SequentialMLP(nn.Module):
    """An ``nn.Sequential`` of layers inside a Module that flattens images to 784 features."""

    def __init__(self, layers: nn.Sequential) -> None:
        super().__init__()
        self.layers = layers

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.layers(images.flatten(1))


class SeedSequential(SequentialMLP):
    """The seed's "Sequential" model: 784-16-10, ReLU, log-probabilities (12,730 parameters)."""

    def __init__(self) -> None:
        super().__init__(nn.Sequential(
            nn.Linear(INPUT_SIZE, 16),
            nn.ReLU(),
            nn.Linear(16, NUM_CLASSES),
            nn.LogSoftmax(dim=1),
        ))


class SeedFunctional(nn.Module):
    """The seed's "functional" model: the same 784-16-10 net, written with F.relu/F.log_softmax.

    Built with the same seed it starts from the same weights as ``SeedSequential``.
    """

    def __init__(self) -> None:
        super().__init__()
        self.hidden = nn.Linear(INPUT_SIZE, 16)
        self.output = nn.Linear(16, NUM_CLASSES)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        hidden = F.relu(self.hidden(images.flatten(1)))
        return F.log_softmax(self.output(hidden), dim=1)


def build_mlp(
    hidden_sizes: tuple[int, ...] | list[int],
    activation: str = "relu",
    dropout: float = 0.0,
) -> SequentialMLP:
    """Any MLP 784-hidden...-10 ending in LogSoftmax; dropout (if > 0) after each activation."""
    check_choice("activation", activation, ACTIVATIONS)
    hidden_sizes = [int(size) for size in hidden_sizes]
    if not hidden_sizes or any(size <= 0 for size in hidden_sizes):
        raise ForceMLPError(
            f"hidden sizes must be one or more positive numbers, got {hidden_sizes}:"
            " e.g. --hidden 16."
        )
    if not 0.0 <= dropout < 1.0:
        raise ForceMLPError(f"dropout must lie in [0, 1), got {dropout!r}.")
    layers: list[nn.Module] = []
    for fan_in, fan_out in zip([INPUT_SIZE, *hidden_sizes], hidden_sizes):
        layers += [nn.Linear(fan_in, fan_out), ACTIVATION_MODULES[activation]()]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
    layers += [nn.Linear(hidden_sizes[-1], NUM_CLASSES), nn.LogSoftmax(dim=1)]
    return SequentialMLP(nn.Sequential(*layers))


def model_for(config: TrainConfig) -> nn.Module:
    """The model a config asks for, initialised from ``config.seed``.

    The seed's own shape (one hidden layer of 16, ReLU, no dropout) gives the seed's classes,
    in the style asked for; any other shape comes from ``build_mlp``.
    """
    torch.manual_seed(config.seed)
    if config.hidden_sizes == (16,) and config.activation == "relu" and config.dropout == 0:
        return SeedSequential() if config.style == "sequential" else SeedFunctional()
    return build_mlp(config.hidden_sizes, config.activation, config.dropout)


def select_device(name: str = "auto") -> torch.device:
    """``auto``: CUDA when PyTorch sees a GPU, else the CPU; ``cpu``/``cuda`` force one."""
    check_choice("device", name, DEVICES)
    cuda_available = torch.cuda.is_available()
    if name == "cuda" and not cuda_available:
        raise ForceMLPError(
            "--device cuda asked for, but PyTorch sees no CUDA GPU: use --device cpu (or auto),"
            " or install a CUDA build of torch on a machine with an NVIDIA GPU."
        )
    if name == "auto":
        name = "cuda" if cuda_available else "cpu"
    return torch.device(name)


def make_optimizer(name: str, parameters, learning_rate: float) -> torch.optim.Optimizer:
    """The torch.optim optimizer behind each name the CLI accepts (momentum 0.9 where used)."""
    check_choice("optimizer", name, OPTIMIZERS)
    parameters = list(parameters)
    factories: dict[str, Callable[[], torch.optim.Optimizer]] = {
        "adam": lambda: torch.optim.Adam(parameters, lr=learning_rate, fused=True),
        "sgd": lambda: torch.optim.SGD(parameters, lr=learning_rate),
        "momentum": lambda: torch.optim.SGD(parameters, lr=learning_rate, momentum=0.9),
        "nesterov": lambda: torch.optim.SGD(
            parameters, lr=learning_rate, momentum=0.9, nesterov=True
        ),
        "rmsprop": lambda: torch.optim.RMSprop(parameters, lr=learning_rate),
        "adagrad": lambda: torch.optim.Adagrad(parameters, lr=learning_rate),
        "adadelta": lambda: torch.optim.Adadelta(parameters, lr=learning_rate),
    }
    return factories[name]()


# --- evaluation ----------------------------------------------------------------------------


def _model_device(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


def _log_probabilities(model: nn.Module, features: torch.Tensor) -> torch.Tensor:
    """The model's log-probabilities in eval mode, in chunks so 60,000 images fit anywhere."""
    model.eval()
    with torch.no_grad():
        return torch.cat([model(chunk) for chunk in features.split(EVAL_CHUNK)])


def predict_log_probabilities(model: nn.Module, images: np.ndarray) -> np.ndarray:
    """uint8 images (N, 28, 28) -> float32 log-probabilities (N, 10), on the model's device."""
    features = torch.from_numpy(to_features(images)).to(_model_device(model))
    return _log_probabilities(model, features).cpu().numpy()


def evaluate(
    model: nn.Module, split: Split, device: str | torch.device | None = None
) -> Evaluation:
    """Loss, accuracy, predictions and confusion matrix of ``model`` on one labelled set."""
    if device is not None:
        model.to(select_device(device) if isinstance(device, str) else device)
    return evaluate_log_probabilities(predict_log_probabilities(model, split.images), split.labels)


def _loss_and_accuracy(
    model: nn.Module, features: torch.Tensor, labels: torch.Tensor
) -> tuple[float, float]:
    log_probabilities = _log_probabilities(model, features)
    loss = F.nll_loss(log_probabilities, labels, reduction="sum").item() / len(labels)
    accuracy = (log_probabilities.argmax(1) == labels).sum().item() / len(labels)
    return loss, accuracy


# --- the fast trainer ------------------------------------------------------------------------


def _batch_bounds(count: int, batch_size: int) -> Iterator[tuple[int, int, int]]:
    """(step, first, end) of each batch; the last one may be smaller."""
    for step, first in enumerate(range(0, count, batch_size), start=1):
        yield step, first, min(first + batch_size, count)


class _EpochMonitor:
    """The NaN/inf guard and the progress bar, fed every CHECK_EVERY_STEPS steps.

    Losses are written per sample into a tensor, never read back per step (a ``.item()`` per
    step costs more than the step on a GPU), and checked in chunks here.
    """

    def __init__(self, sample_losses: torch.Tensor, batch_size: int, epoch: int,
                 learning_rate: float, bar: tqdm) -> None:
        self.sample_losses = sample_losses
        self.batch_size = batch_size
        self.epoch = epoch
        self.learning_rate = learning_rate
        self.bar = bar
        self.checked = 0

    def __call__(self, done: int) -> None:
        chunk = self.sample_losses[self.checked:done]
        if not bool(torch.isfinite(chunk).all()):
            first_bad = int(torch.nonzero(~torch.isfinite(chunk))[0, 0])
            raise _diverged(float(chunk[first_bad]), self.epoch,
                            (self.checked + first_bad) // self.batch_size + 1, self.learning_rate)
        self.bar.update(done - self.checked)
        self.checked = done


def _diverged(loss: float, epoch: int, step: int, learning_rate: float) -> ForceMLPError:
    return ForceMLPError(
        f"loss became {loss} at epoch {epoch} step {step}: lower the learning rate (now"
        f" {learning_rate:g}) or check the input data for nan/inf values."
    )


@dataclass
class _NumpyActivation:
    """An activation as two NumPy writes: ``forward(pre, post)`` and ``slope(pre, post, out)``."""

    forward: Callable[[np.ndarray, np.ndarray], None]
    slope: Callable[[np.ndarray, np.ndarray, np.ndarray], None]


def _numpy_activation(module: nn.Module) -> _NumpyActivation | None:
    """NumPy twin of a torch activation module, for the activations the fast path knows."""
    if type(module) is nn.ReLU:
        return _NumpyActivation(
            forward=lambda pre, post: np.maximum(pre, 0, out=post),
            slope=lambda pre, post, out: np.greater(pre, 0, out=out),
        )
    if type(module) is nn.LeakyReLU and 0 <= module.negative_slope <= 1:
        negative = np.float32(module.negative_slope)

        def leaky_slope(pre: np.ndarray, post: np.ndarray, out: np.ndarray) -> None:
            np.greater(pre, 0, out=out)
            out *= 1 - negative
            out += negative

        return _NumpyActivation(
            forward=lambda pre, post: np.maximum(
                pre, np.multiply(pre, negative, out=post), out=post
            ),
            slope=leaky_slope,
        )
    if type(module) is nn.Sigmoid:
        def sigmoid(pre: np.ndarray, post: np.ndarray) -> None:
            np.negative(pre, out=post)
            np.exp(post, out=post)
            post += 1
            np.reciprocal(post, out=post)

        return _NumpyActivation(
            forward=sigmoid,
            slope=lambda pre, post, out: np.multiply(post, np.subtract(1, post, out=out), out=out),
        )
    if type(module) is nn.Tanh:
        return _NumpyActivation(
            forward=lambda pre, post: np.tanh(pre, out=post),
            slope=lambda pre, post, out: np.subtract(1, np.square(post, out=out), out=out),
        )
    return None


def fast_path_layers(
    model: nn.Module, optimizer: str, device: torch.device
) -> list[tuple[nn.Linear, _NumpyActivation | None]] | None:
    """The (Linear, activation) pairs the NumPy fast path will train, or None if it can't.

    It can for a ``SequentialMLP`` (``build_mlp``, ``SeedSequential``) made only of biased
    Linear layers and ReLU / LeakyReLU / Sigmoid / Tanh, ending in LogSoftmax, trained with
    Adam on the CPU. ``SeedFunctional`` hides its layers in ``forward``, so it takes autograd.
    """
    if optimizer != "adam" or device.type != "cpu" or not isinstance(model, SequentialMLP):
        return None
    if type(model).forward is not SequentialMLP.forward:
        return None
    *body, last = model.layers
    if not (isinstance(last, nn.LogSoftmax) and last.dim in (1, -1)):
        return None
    pairs: list[tuple[nn.Linear, _NumpyActivation | None]] = []
    for position, module in enumerate(body):
        if position % 2 == 0:
            if type(module) is not nn.Linear or module.bias is None:
                return None
            pairs.append((module, None))
        elif (activation := _numpy_activation(module)) is None:
            return None
        else:
            pairs[-1] = (pairs[-1][0], activation)
    if not pairs or pairs[-1][1] is not None:
        return None
    parameters = [p for linear, _ in pairs for p in (linear.weight, linear.bias)]
    if any(p.dtype != torch.float32 or not p.requires_grad for p in parameters):
        return None
    return pairs


def trainer_path(model: nn.Module, optimizer: str = "adam", device: str = "auto") -> str:
    """Which path ``train`` takes for this model: ``"numpy fast path"`` or ``"autograd"``."""
    layers = fast_path_layers(model, optimizer, select_device(device))
    return "numpy fast path" if layers else "autograd"


class _Workspace:
    """Preallocated buffers for one batch size, so a step allocates (almost) nothing."""

    def __init__(self, rows: int, layer_sizes: list[int]) -> None:
        self.rows = np.arange(rows)
        self.ones = np.ones(rows, np.float32)  # bias gradient = ones @ delta, one BLAS call
        self.pixels = np.empty((rows, layer_sizes[0]), np.uint8)
        self.inputs = np.empty((rows, layer_sizes[0]), np.float32)
        self.pre = [np.empty((rows, size), np.float32) for size in layer_sizes[1:]]
        self.post = [np.empty_like(pre) for pre in self.pre[:-1]]
        self.slope = [np.empty_like(pre) for pre in self.pre[:-1]]
        self.delta = [np.empty_like(pre) for pre in self.pre[:-1]]
        self.probabilities = np.empty_like(self.pre[-1])
        self.row_max = np.empty((rows, 1), np.float32)
        self.row_sum = np.empty((rows, 1), np.float32)
        self.log_row_sum = np.empty(rows, np.float32)
        self.inverse_rows = np.float32(1 / rows)


class _NumpyAdamPath:
    """Forward, backward and Adam for a Linear/activation stack, as the lesson writes them.

    forward:  a_l = h_{l-1} W_l^T + b_l,  h_l = f(a_l),  log p = log_softmax(a_L)
    backward: d_L = (softmax(a_L) - onehot(y)) / B,  dW_l = d_l^T h_{l-1},  db_l = sum_rows d_l,
              d_{l-1} = (d_l W_l) * f'(a_{l-1})
    The update is ``torch._fused_adam_``, the kernel of ``torch.optim.Adam(fused=True)``, on
    flat buffers whose slices the NumPy views above write into.
    """

    def __init__(self, layers: list[tuple[nn.Linear, _NumpyActivation | None]], split: Split,
                 rate: Callable[[int], float]) -> None:
        self.linears = [linear for linear, _ in layers]
        self.activations = [activation for _, activation in layers[:-1]]
        self.parameters = [p for linear in self.linears for p in (linear.weight, linear.bias)]
        self.flat_parameters = nn.utils.parameters_to_vector(self.parameters).detach().clone()
        self.flat_gradients = torch.zeros_like(self.flat_parameters)
        self.exp_avg = torch.zeros_like(self.flat_parameters)
        self.exp_avg_sq = torch.zeros_like(self.flat_parameters)
        self.step_count = torch.zeros(())
        self.step_count_view = self.step_count.numpy()  # NumPy bumps it 15x faster than torch
        self.rate = rate
        self.weights, self.biases = self._views(self.flat_parameters.numpy())
        self.weight_gradients, self.bias_gradients = self._views(self.flat_gradients.numpy())
        self.images = np.ascontiguousarray(split.images.reshape(len(split), -1))
        self.labels = split.labels
        self.layer_sizes = [self.linears[0].in_features]
        self.layer_sizes += [linear.out_features for linear in self.linears]
        self.workspaces: dict[int, _Workspace] = {}

    def _views(self, flat: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        weights, biases, offset = [], [], 0
        for linear in self.linears:
            rows, columns = linear.weight.shape
            weights.append(flat[offset:offset + rows * columns].reshape(rows, columns))
            offset += rows * columns
            biases.append(flat[offset:offset + rows])
            offset += rows
        return weights, biases

    def run_epoch(self, order: torch.Tensor, batch_size: int, sample_losses: torch.Tensor,
                  predictions: torch.Tensor, monitor: _EpochMonitor) -> None:
        order_np = order.numpy()
        labels_in_order = self.labels[order_np]
        losses_np, predictions_np = sample_losses.numpy(), predictions.numpy()
        with np.errstate(over="ignore", invalid="ignore"):  # the monitor reports nan/inf
            for step, first, end in _batch_bounds(len(order_np), batch_size):
                self._step(self._workspace(end - first), order_np[first:end],
                           labels_in_order[first:end], losses_np[first:end],
                           predictions_np[first:end])
                if step % CHECK_EVERY_STEPS == 0 or end == len(order_np):
                    monitor(end)

    def _workspace(self, rows: int) -> _Workspace:
        if rows not in self.workspaces:
            self.workspaces[rows] = _Workspace(rows, self.layer_sizes)
        return self.workspaces[rows]

    def _step(self, work: _Workspace, indices: np.ndarray, labels: np.ndarray,
              losses: np.ndarray, predictions: np.ndarray) -> None:
        np.take(self.images, indices, axis=0, out=work.pixels)
        np.divide(work.pixels, np.float32(255), out=work.inputs)  # as data.to_features does
        layer_input = work.inputs
        for layer, (weight, bias) in enumerate(zip(self.weights, self.biases)):
            np.matmul(layer_input, weight.T, out=work.pre[layer])
            work.pre[layer] += bias
            if layer < len(self.activations):
                self.activations[layer].forward(work.pre[layer], work.post[layer])
                layer_input = work.post[layer]
        logits = work.pre[-1]
        logits.argmax(axis=1, out=predictions)
        np.maximum.reduce(logits, axis=1, keepdims=True, out=work.row_max)
        logits -= work.row_max
        np.exp(logits, out=work.probabilities)
        np.add.reduce(work.probabilities, axis=1, keepdims=True, out=work.row_sum)
        np.log(work.row_sum.reshape(-1), out=work.log_row_sum)
        np.subtract(work.log_row_sum, logits[work.rows, labels], out=losses)  # -log p(label)
        delta = work.probabilities
        delta /= work.row_sum
        delta[work.rows, labels] -= 1
        delta *= work.inverse_rows
        for layer in reversed(range(len(self.weights))):
            layer_input = work.post[layer - 1] if layer else work.inputs
            np.matmul(delta.T, layer_input, out=self.weight_gradients[layer])
            np.matmul(work.ones, delta, out=self.bias_gradients[layer])
            if layer:
                below = layer - 1
                np.matmul(delta, self.weights[layer], out=work.delta[below])
                self.activations[below].slope(work.pre[below], work.post[below], work.slope[below])
                work.delta[below] *= work.slope[below]
                delta = work.delta[below]
        learning_rate = self.rate(int(self.step_count_view))
        self.step_count_view[()] += 1
        torch._fused_adam_(
            [self.flat_parameters], [self.flat_gradients], [self.exp_avg], [self.exp_avg_sq], [],
            [self.step_count], lr=learning_rate, beta1=0.9, beta2=0.999, weight_decay=0.0,
            eps=1e-8, amsgrad=False, maximize=False,
        )

    def sync_model(self) -> None:
        """Copy the trained flat weights into the torch model (for validation and saving)."""
        with torch.no_grad():
            nn.utils.vector_to_parameters(self.flat_parameters, self.parameters)


class _AutogradPath:
    """The usual torch loop, minus per-sample work: batches are cut from device tensors."""

    def __init__(self, model: nn.Module, split: Split, optimizer: str,
                 rate: Callable[[int], float], device: torch.device) -> None:
        self.model = model
        self.optimizer = make_optimizer(optimizer, model.parameters(), rate(0))
        self.rate, self.steps_taken = rate, 0
        self.features = torch.from_numpy(split.features).to(device)
        self.labels = torch.from_numpy(split.labels).to(device)

    def run_epoch(self, order: torch.Tensor, batch_size: int, sample_losses: torch.Tensor,
                  predictions: torch.Tensor, monitor: _EpochMonitor) -> None:
        order = order.to(self.features.device)
        self.model.train()
        for step, first, end in _batch_bounds(len(order), batch_size):
            indices = order[first:end]
            inputs = self.features.index_select(0, indices)
            labels = self.labels.index_select(0, indices)
            self.optimizer.zero_grad(set_to_none=True)
            log_probabilities = self.model(inputs)
            losses = F.nll_loss(log_probabilities, labels, reduction="none")
            losses.mean().backward()
            for group in self.optimizer.param_groups:
                group["lr"] = self.rate(self.steps_taken)
            self.optimizer.step()
            self.steps_taken += 1
            sample_losses[first:end] = losses.detach()
            predictions[first:end] = log_probabilities.detach().argmax(1)
            if step % CHECK_EVERY_STEPS == 0 or end == len(order):
                monitor(end)

    def sync_model(self) -> None:
        """Nothing to do: autograd trains the model's own parameters."""


def _denormals_flushed() -> bool:
    smallest_normal = np.float32(np.finfo(np.float32).tiny)
    return bool(smallest_normal / np.float32(2) == 0)


@contextmanager
def _cpu_loop_settings() -> Iterator[None]:
    """One torch thread and denormals flushed to zero while training; restored afterwards.

    Small batches make tiny matrix products that lose more to thread hand-offs than they gain;
    flushing denormals changes results by less than 1e-30 and avoids ~100x slower arithmetic.
    """
    threads, flushed = torch.get_num_threads(), _denormals_flushed()
    torch.set_num_threads(1)
    torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
        torch.set_flush_denormal(flushed)


def _metrics_text(metrics: EpochMetrics) -> str:
    return (f"loss {metrics.train_loss:.4f} acc {metrics.train_accuracy:.4f}"
            f" val_loss {metrics.val_loss:.4f} val_acc {metrics.val_accuracy:.4f}")


def _check_training_arguments(splits: Splits, epochs: int, batch_size: int, learning_rate: float,
                              optimizer: str) -> None:
    check_choice("optimizer", optimizer, OPTIMIZERS)
    check_training_numbers(epochs, batch_size, learning_rate)
    if len(splits.train) == 0 or len(splits.val) == 0:
        raise ForceMLPError("the training and validation sets must not be empty.")


def train(
    model: nn.Module,
    splits: Splits,
    epochs: int,
    batch_size: int,
    learning_rate: float,
    optimizer: str = "adam",
    seed: int = 0,
    device: str = "auto",
    progress: bool = True,
    lr_schedule: str = "constant",
) -> History:
    """Train ``model`` on ``splits.train``, validating on ``splits.val`` after each epoch.

    Losses and accuracies are per-sample averages over the epoch. The weights of the epoch
    with the best validation accuracy (the earliest on ties) are restored at the end and
    ``History.best_epoch`` names it. ``seed`` fixes the shuffling (``torch.randperm`` with its
    own generator, the order a ``RandomSampler`` with that generator draws first) and dropout.
    A nan/inf loss stops training with a ``ForceMLPError``. ``lr_schedule`` sets the rate of
    every step (see ``config.learning_rate_at``).
    """
    _check_training_arguments(splits, epochs, batch_size, learning_rate, optimizer)
    total_steps = epochs * math.ceil(len(splits.train) / batch_size)
    rate = functools.partial(learning_rate_at, learning_rate, lr_schedule, total_steps=total_steps)
    torch_device = select_device(device)
    torch.manual_seed(seed)
    model.to(torch_device)
    layers = fast_path_layers(model, optimizer, torch_device)
    path = (_NumpyAdamPath(layers, splits.train, rate) if layers
            else _AutogradPath(model, splits.train, optimizer, rate, torch_device))
    train_labels = torch.from_numpy(splits.train.labels).to(torch_device)
    val_features = torch.from_numpy(splits.val.features).to(torch_device)
    val_labels = torch.from_numpy(splits.val.labels).to(torch_device)
    sample_losses = torch.empty(len(train_labels), device=torch_device)
    predictions = torch.empty(len(train_labels), dtype=torch.int64, device=torch_device)
    generator = torch.Generator().manual_seed(seed)
    history = History(framework="torch")
    best_accuracy, best_state = -1.0, None
    settings = _cpu_loop_settings() if torch_device.type == "cpu" else nullcontext()
    with settings:
        for epoch in range(1, epochs + 1):
            start = time.perf_counter()
            order = torch.randperm(len(train_labels), generator=generator)
            with tqdm(total=len(train_labels), desc=f"epoch {epoch}/{epochs}", unit="img",
                      disable=not progress) as bar:
                monitor = _EpochMonitor(sample_losses, batch_size, epoch, learning_rate, bar)
                path.run_epoch(order, batch_size, sample_losses, predictions, monitor)
                path.sync_model()
                labels_in_order = train_labels[order.to(torch_device)]
                val_loss, val_accuracy = _loss_and_accuracy(model, val_features, val_labels)
                metrics = EpochMetrics(
                    epoch=epoch,
                    train_loss=sample_losses.double().mean().item(),
                    train_accuracy=(predictions == labels_in_order).double().mean().item(),
                    val_loss=val_loss,
                    val_accuracy=val_accuracy,
                    seconds=time.perf_counter() - start,
                )
                bar.set_postfix_str(_metrics_text(metrics))
            history.append(metrics)
            if val_accuracy > best_accuracy:
                best_accuracy, history.best_epoch = val_accuracy, epoch
                best_state = copy.deepcopy(model.state_dict())
    model.load_state_dict(best_state)
    return history


# --- the seed article's loop ------------------------------------------------------------------


class SeedStyleMNIST(torch.utils.data.Dataset):
    """What ``torchvision.datasets.MNIST`` does per sample, over our arrays.

    torchvision's class wants its own folder layout (and writes there); this keeps its
    per-sample path: a PIL image from one uint8 array, then ``transform`` (ToTensor), one
    image at a time. That per-sample work is what makes the seed's loop slow.
    """

    def __init__(self, images: np.ndarray, labels: np.ndarray, transform: Callable) -> None:
        self.images = images
        self.labels = labels
        self.transform = transform

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        from PIL import Image

        return self.transform(Image.fromarray(self.images[index])), int(self.labels[index])


def seed_style_loaders(splits: Splits, batch_size: int = 20, seed: int = 0) -> dict:
    """The seed's DataLoaders: shuffled training set; validation drawn from the 10,000 test
    images with a SubsetRandomSampler (here: the 2,000 validation images only).

    The training sampler has its own generator seeded with ``seed``, so its first epoch visits
    the images in the order ``train`` uses.
    """
    from torch.utils.data import DataLoader, RandomSampler, SubsetRandomSampler
    from torchvision import transforms

    to_tensor = transforms.ToTensor()
    train_data = SeedStyleMNIST(splits.train.images, splits.train.labels, to_tensor)
    official_test = SeedStyleMNIST(
        np.concatenate([splits.val.images, splits.test.images]),
        np.concatenate([splits.val.labels, splits.test.labels]),
        to_tensor,
    )
    train_sampler = RandomSampler(train_data, generator=torch.Generator().manual_seed(seed))
    val_sampler = SubsetRandomSampler(
        range(len(splits.val)), generator=torch.Generator().manual_seed(seed)
    )
    return {
        "train": DataLoader(train_data, batch_size, sampler=train_sampler, num_workers=0),
        "val": DataLoader(official_test, batch_size, sampler=val_sampler, num_workers=0),
    }


def train_seed_style(
    model: nn.Module,
    splits: Splits,
    epochs: int,
    batch_size: int = 20,
    learning_rate: float = 1e-3,
    seed: int = 0,
    device: str = "auto",
    progress: bool = True,
) -> History:
    """The seed article's training loop, faithfully, with its two mistakes fixed.

    Per epoch a train and a val phase over DataLoaders, ``NLLLoss`` and ``Adam``, running loss
    and correct counts, a deep copy of the best validation weights restored at the end.
    Fixed: averages divide by the samples seen (not batches x batch size), and the val phase
    reads the 2,000 validation images (not all 10,000 test images).
    """
    _check_training_arguments(splits, epochs, batch_size, learning_rate, "adam")
    torch_device = select_device(device)
    torch.manual_seed(seed)
    model.to(torch_device)
    loaders = seed_style_loaders(splits, batch_size, seed)
    criterion = nn.NLLLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
    history = History(framework="torch-seed-style")
    best_accuracy, best_weights = -1.0, None
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        phase_results = {}
        for phase in ("train", "val"):
            model.train(phase == "train")
            running_loss, running_corrects, seen = 0.0, 0, 0
            batches = tqdm(loaders[phase], desc=f"epoch {epoch}/{epochs} {phase}",
                           disable=not progress, leave=False)
            for step, (images, labels) in enumerate(batches, start=1):
                images, labels = images.to(torch_device), labels.to(torch_device)
                optimizer.zero_grad()
                with torch.set_grad_enabled(phase == "train"):
                    output = model(images)
                    loss = criterion(output, labels)
                    _, predictions = torch.max(output, 1)
                    if phase == "train":
                        loss.backward()
                        optimizer.step()
                if not math.isfinite(loss.item()):
                    raise _diverged(loss.item(), epoch, step, learning_rate)
                running_loss += loss.item() * images.size(0)
                running_corrects += torch.sum(predictions == labels.data).item()
                seen += images.size(0)
            phase_results[phase] = (running_loss / seen, running_corrects / seen)
        (train_loss, train_accuracy), (val_loss, val_accuracy) = phase_results.values()
        history.append(EpochMetrics(epoch, train_loss, train_accuracy, val_loss, val_accuracy,
                                    time.perf_counter() - start))
        if progress:
            tqdm.write(f"epoch {epoch}/{epochs}: {_metrics_text(history.epochs[-1])}")
        if val_accuracy > best_accuracy:
            best_accuracy, history.best_epoch = val_accuracy, epoch
            best_weights = copy.deepcopy(model.state_dict())
    model.load_state_dict(best_weights)
    return history


# --- one configured run -----------------------------------------------------------------------


def train_run(config: TrainConfig, splits: Splits, progress: bool = False) -> RunResult:
    """Build, train and test the model ``config`` describes: what ``forcemlp train`` runs."""
    if config.train_size is not None and config.train_size < len(splits.train):
        splits = replace(splits, train=splits.train.head(config.train_size))
    model = model_for(config)
    history = train(model, splits, config.epochs, config.batch_size, config.learning_rate,
                    config.optimizer, config.seed, config.device, progress, config.lr_schedule)
    test = evaluate(model, splits.test)
    return RunResult.from_training(config.to_dict(), history, test, len(splits.train))
