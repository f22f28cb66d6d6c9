"""The opt-in fast path: the lesson's backprop in NumPy views, and one fused Adam call a step.

    python -m forcemlp train --fast            # TrainConfig(fast=True); train(..., fast=True)

At batch 20 a step pushes 20 images through 12,730 weights: the arithmetic takes
microseconds and per-call overhead takes the rest (the autograd graph, ``optimizer.step()``'s
Python bookkeeping, one eager call per operation). So, for a plain Linear/activation stack
ending in LogSoftmax, trained with Adam on the CPU:

1. the forward and backward passes are the lesson's equations in NumPy, on buffers allocated
   once (a NumPy call costs ~1 µs of overhead, a torch eager call 3-6 µs; a step is ~35
   calls); each batch gathers its uint8 rows and scales them, as ``data.to_features`` does;
2. parameters, gradients and Adam's moments each live in one flat buffer, so the update is
   one call of ``torch._fused_adam_``, the kernel behind ``torch.optim.Adam(fused=True)``,
   whatever the number of layers (``tests/test_torch_mlp.py`` holds that private call to
   ``torch.optim.Adam`` step for step, so a torch upgrade that changes it fails loudly);
3. denormal floats are flushed to zero during the loop (and torch uses one thread, as the
   autograd trainer does): Adam's first moment of rarely lit pixels decays into the denormal
   range, where arithmetic is ~100x slower.

The result follows autograd + ``torch.optim.Adam`` to float32 rounding, not bit for bit
(different summation orders, flushed denormals); the default trainer is autograd, and the
benchmark (``forcemlp bench``) reports what this path buys.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
from threadpoolctl import threadpool_limits
from torch import nn

from .. import backprop
from ..data import Split
from ..errors import ForceMLPError
from ..training import CHECK_EVERY_STEPS, EpochRecorder
from ..weights import layer_views
from .models import SequentialMLP, one_torch_thread

NOT_ELIGIBLE = (
    "the fast path trains a plain stack of Linear layers with relu, leaky_relu, sigmoid or tanh"
    " and no dropout, in the sequential style, with Adam on the CPU"
)


@dataclass
class NumpyActivation:
    """An activation as two NumPy writes: ``forward(pre, post)`` and ``slope(pre, post, out)``."""

    forward: Callable[[np.ndarray, np.ndarray], None]
    slope: Callable[[np.ndarray, np.ndarray, np.ndarray], None]


def _leaky_relu(negative: np.float32) -> NumpyActivation:
    def slope(pre: np.ndarray, post: np.ndarray, out: np.ndarray) -> None:
        np.greater(pre, 0, out=out)
        out *= 1 - negative
        out += negative

    return NumpyActivation(
        forward=lambda pre, post: np.maximum(pre, np.multiply(pre, negative, out=post), out=post),
        slope=slope,
    )


def _sigmoid(pre: np.ndarray, post: np.ndarray) -> None:
    np.negative(pre, out=post)
    np.exp(post, out=post)
    post += 1
    np.reciprocal(post, out=post)


def numpy_activation(module: nn.Module) -> NumpyActivation | None:
    """NumPy twin of a torch activation module, for the activations the fast path knows."""
    if type(module) is nn.ReLU:
        return NumpyActivation(
            forward=lambda pre, post: np.maximum(pre, 0, out=post),
            slope=lambda pre, post, out: np.greater(pre, 0, out=out),
        )
    if type(module) is nn.LeakyReLU and 0 <= module.negative_slope <= 1:
        return _leaky_relu(np.float32(module.negative_slope))
    if type(module) is nn.Sigmoid:
        return NumpyActivation(
            forward=_sigmoid,
            slope=lambda pre, post, out: np.multiply(post, np.subtract(1, post, out=out), out=out),
        )
    if type(module) is nn.Tanh:
        return NumpyActivation(
            forward=lambda pre, post: np.tanh(pre, out=post),
            slope=lambda pre, post, out: np.subtract(1, np.square(post, out=out), out=out),
        )
    return None


def fast_path_layers(
    model: nn.Module, optimizer: str, device: torch.device
) -> list[tuple[nn.Linear, NumpyActivation | None]] | None:
    """The (Linear, activation) pairs the fast path will train, or None if it cannot.

    It can for a ``SequentialMLP`` (``build_mlp``, ``SeedSequential``) made only of biased
    Linear layers and ReLU / LeakyReLU / Sigmoid / Tanh, ending in LogSoftmax, trained with
    Adam on the CPU. A functional-style model hides its layers in ``forward``: not eligible.
    """
    if optimizer != "adam" or device.type != "cpu" or not isinstance(model, SequentialMLP):
        return None
    if type(model).forward is not SequentialMLP.forward:
        return None
    *body, last = model.layers
    if not (isinstance(last, nn.LogSoftmax) and last.dim in (1, -1)):
        return None
    pairs: list[tuple[nn.Linear, NumpyActivation | None]] = []
    for position, module in enumerate(body):
        if position % 2 == 0:
            if type(module) is not nn.Linear or module.bias is None:
                return None
            pairs.append((module, None))
        elif (activation := numpy_activation(module)) is None:
            return None
        else:
            pairs[-1] = (pairs[-1][0], activation)
    if not pairs or pairs[-1][1] is not None:
        return None
    parameters = [p for linear, _ in pairs for p in (linear.weight, linear.bias)]
    if any(p.dtype != torch.float32 or not p.requires_grad for p in parameters):
        return None
    return pairs


def require_fast_path(
    model: nn.Module, optimizer: str, device: torch.device
) -> list[tuple[nn.Linear, NumpyActivation | None]]:
    """``fast_path_layers``, or one line saying why this model cannot take the fast path."""
    if not hasattr(torch, "_fused_adam_"):
        raise ForceMLPError(
            f"this torch ({torch.__version__}) has no _fused_adam_: leave out fast (--fast)."
        )
    layers = fast_path_layers(model, optimizer, device)
    if layers is None:
        raise ForceMLPError(f"{NOT_ELIGIBLE}: leave out fast (--fast) to train with autograd.")
    return layers


def fused_adam_step(
    parameters: torch.Tensor, gradients: torch.Tensor, exp_avg: torch.Tensor,
    exp_avg_sq: torch.Tensor, step_count: torch.Tensor, learning_rate: float,
) -> None:
    """One Adam step (β 0.9/0.999, ε 1e-8, no weight decay) on flat buffers, in place.

    ``step_count`` must already count this step, as ``torch.optim.Adam`` increments it first.
    The private kernel behind ``torch.optim.Adam(fused=True)``; its test compares it with
    ``torch.optim.Adam`` step for step.
    """
    torch._fused_adam_(
        [parameters], [gradients], [exp_avg], [exp_avg_sq], [], [step_count],
        lr=learning_rate, beta1=0.9, beta2=0.999, weight_decay=0.0, eps=1e-8, amsgrad=False,
        maximize=False,
    )


class _Workspace:
    """Preallocated buffers for one batch size, so a step allocates (almost) nothing."""

    def __init__(self, rows: int, layer_sizes: list[int]) -> None:
        self.rows = np.arange(rows)
        self.pixels = np.empty((rows, layer_sizes[0]), np.uint8)
        self.inputs = np.empty((rows, layer_sizes[0]), np.float32)
        self.passes = backprop.Buffers.allocate(rows, layer_sizes, np.float32)
        self.probabilities = np.empty_like(self.passes.logits)
        self.row_max = np.empty((rows, 1), np.float32)
        self.row_sum = np.empty((rows, 1), np.float32)
        self.log_row_sum = np.empty(rows, np.float32)
        self.losses = np.empty(rows, np.float32)
        self.predictions = np.empty(rows, np.int64)
        self.inverse_rows = np.float32(1 / rows)


class NumpyAdamEpochs:
    """Forward, backward and Adam for a Linear/activation stack, as the lesson writes them.

    The hidden layers' passes are :mod:`forcemlp.backprop`'s, as NumpyMLP runs them; the output
    layer is written here, in place: log p = log_softmax(z_L), dE/dz_L = (softmax(z_L) -
    onehot(y)) / B. The update is :func:`fused_adam_step` on flat buffers whose slices the
    gradient views write.
    """

    def __init__(self, layers: list[tuple[nn.Linear, NumpyActivation | None]], split: Split,
                 rate: Callable[[int], float]) -> None:
        self.linears = [linear for linear, _ in layers]
        hidden = [activation for _, activation in layers[:-1]]
        self.activations = [activation.forward for activation in hidden]
        self.slopes = [activation.slope for activation in hidden]
        self.parameters = [p for linear in self.linears for p in (linear.weight, linear.bias)]
        self.flat_parameters = nn.utils.parameters_to_vector(self.parameters).detach().clone()
        self.flat_gradients = torch.zeros_like(self.flat_parameters)
        self.exp_avg = torch.zeros_like(self.flat_parameters)
        self.exp_avg_sq = torch.zeros_like(self.flat_parameters)
        self.step_count = torch.zeros(())
        self.step_count_view = self.step_count.numpy()  # NumPy bumps it 15x faster than torch
        self.rate = rate
        self.layer_sizes = [self.linears[0].in_features]
        self.layer_sizes += [linear.out_features for linear in self.linears]
        self.weights, self.biases = layer_views(self.flat_parameters.numpy(), self.layer_sizes)
        self.weight_gradients, self.bias_gradients = layer_views(
            self.flat_gradients.numpy(), self.layer_sizes)
        self.images = np.ascontiguousarray(split.images.reshape(len(split), -1))
        self.labels = split.labels
        self.workspaces: dict[int, _Workspace] = {}

    def run_epoch(self, order: torch.Tensor, batch_size: int,
                  recorder: EpochRecorder) -> tuple[float, int]:
        """One epoch in ``order``; returns the summed per-sample loss and the correct count."""
        order_np = order.numpy()
        loss_sum, correct = 0.0, 0
        with np.errstate(over="ignore", invalid="ignore"):  # the recorder reports nan/inf
            for step, first in enumerate(range(0, len(order_np), batch_size), start=1):
                indices = order_np[first:first + batch_size]
                work = self._workspace(len(indices))
                labels = self.labels[indices]
                self._step(work, indices, labels)
                loss_sum += float(np.add.reduce(work.losses, dtype=np.float64))
                correct += int(np.count_nonzero(work.predictions == labels))
                if step % CHECK_EVERY_STEPS == 0:
                    recorder.batches_done(step, first + len(indices), loss_sum)
        with torch.no_grad():  # the model's own parameters, for validation and saving
            nn.utils.vector_to_parameters(self.flat_parameters, self.parameters)
        return loss_sum, correct

    def _workspace(self, rows: int) -> _Workspace:
        if rows not in self.workspaces:
            self.workspaces[rows] = _Workspace(rows, self.layer_sizes)
        return self.workspaces[rows]

    def _step(self, work: _Workspace, indices: np.ndarray, labels: np.ndarray) -> None:
        np.take(self.images, indices, axis=0, out=work.pixels)
        np.divide(work.pixels, np.float32(255), out=work.inputs)  # as data.to_features does
        logits = backprop.forward(self.weights, self.biases, work.inputs, work.passes,
                                  self.activations)
        logits.argmax(axis=1, out=work.predictions)
        np.maximum.reduce(logits, axis=1, keepdims=True, out=work.row_max)
        logits -= work.row_max
        np.exp(logits, out=work.probabilities)
        np.add.reduce(work.probabilities, axis=1, keepdims=True, out=work.row_sum)
        np.log(work.row_sum.reshape(-1), out=work.log_row_sum)
        np.subtract(work.log_row_sum, logits[work.rows, labels], out=work.losses)  # -log p(y)
        delta = work.probabilities
        delta /= work.row_sum
        delta[work.rows, labels] -= 1
        delta *= work.inverse_rows
        backprop.backward(self.weights, work.inputs, work.passes, delta,
                          self.slopes,
                          self.weight_gradients, self.bias_gradients)
        learning_rate = self.rate(int(self.step_count_view))
        self.step_count_view[()] += 1
        fused_adam_step(self.flat_parameters, self.flat_gradients, self.exp_avg,
                        self.exp_avg_sq, self.step_count, learning_rate)


def denormals_flushed() -> bool:
    smallest_normal = np.float32(np.finfo(np.float32).tiny)
    return bool(smallest_normal / np.float32(2) == 0)


@contextmanager
def cpu_loop_settings() -> Iterator[None]:
    """One torch thread, one BLAS thread for NumPy's products, and denormals flushed to zero
    while training; restored afterwards.

    NumPy's BLAS splits even these small products over every core, and on a machine busy with
    other work each product then waits for a free core (measured: a 784-256-10 epoch 10-25x
    slower with two BLAS threads than with one).
    """
    flushed = denormals_flushed()
    torch.set_flush_denormal(True)
    try:
        with one_torch_thread(), threadpool_limits(limits=1, user_api="blas"):
            yield
    finally:
        torch.set_flush_denormal(flushed)
