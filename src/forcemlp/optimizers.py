"""Gradient descent and its famous variants in NumPy, step for step as ``torch.optim``.

    from forcemlp.optimizers import make_optimizer
    adam = make_optimizer("adam", learning_rate=0.05)
    params = adam.step(params, gradient)

Every optimizer follows ``torch.optim``'s update rule and default hyper-parameters exactly
(the tests replay each one against torch step for step), so what the explorer shows is what
PyTorch does. Notation: θ the parameters, g the gradient, η the learning rate, t the step
count starting at 1; products, squares and square roots are element-wise. The Python twin of
``widgets/js/optimizers.js``.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .config import check_learning_rate
from .errors import ForceMLPError
from .random import SeededNormal

OPTIMIZER_NAMES = ("gd", "sgd", "momentum", "nesterov", "adagrad", "adadelta", "rmsprop", "adam")
OPTIMIZER_TITLES = {
    "gd": "Gradient descent",
    "sgd": "SGD (noisy gradients)",
    "momentum": "Momentum",
    "nesterov": "Nesterov (NAG)",
    "adagrad": "Adagrad",
    "adadelta": "Adadelta",
    "rmsprop": "RMSprop",
    "adam": "Adam",
}


class GradientDescent:
    """Vanilla gradient descent: θ ← θ − η g."""

    def __init__(self, learning_rate: float):
        self.learning_rate = learning_rate

    def step(self, params: np.ndarray, gradient: np.ndarray) -> np.ndarray:
        return params - self.learning_rate * gradient


class NoisyGradientDescent(GradientDescent):
    """SGD as the explorer shows it: gradient descent on a noisy gradient, θ ← θ − η (g + σ ξ).

    ξ is fresh standard Gaussian noise each step, from :class:`SeededNormal` (the browser
    draws the same). It stands in for the error a mini-batch makes when it estimates the full
    gradient from a few samples.
    """

    def __init__(self, learning_rate: float, noise_scale: float = 1.0, seed: int = 0):
        super().__init__(learning_rate)
        self.noise_scale = noise_scale
        self.random = SeededNormal(seed)

    def step(self, params: np.ndarray, gradient: np.ndarray) -> np.ndarray:
        noise = self.random.standard_normal(np.shape(gradient))
        return super().step(params, gradient + self.noise_scale * noise)


class Momentum:
    """Heavy ball, as torch.optim.SGD(momentum=μ): v ← μ v + g (v = g at t = 1); θ ← θ − η v.

    With ``nesterov=True`` (torch's Nesterov form) the step looks ahead: θ ← θ − η (g + μ v).
    """

    def __init__(self, learning_rate: float, momentum: float = 0.9, nesterov: bool = False):
        self.learning_rate, self.momentum, self.nesterov = learning_rate, momentum, nesterov
        self.velocity: np.ndarray | None = None

    def step(self, params: np.ndarray, gradient: np.ndarray) -> np.ndarray:
        if self.velocity is None:
            self.velocity = np.array(gradient, dtype=float)
        else:
            self.velocity = self.momentum * self.velocity + gradient
        direction = gradient + self.momentum * self.velocity if self.nesterov else self.velocity
        return params - self.learning_rate * direction


class Adagrad:
    """Adagrad: s ← s + g²; θ ← θ − η g / (√s + ε), ε = 1e-10.

    Each coordinate's step shrinks with all the gradient it has seen, so steep directions slow
    down, and in the end every direction does.
    """

    def __init__(self, learning_rate: float, eps: float = 1e-10):
        self.learning_rate, self.eps = learning_rate, eps
        self.sum_of_squares: np.ndarray | float = 0.0

    def step(self, params: np.ndarray, gradient: np.ndarray) -> np.ndarray:
        self.sum_of_squares = self.sum_of_squares + gradient * gradient
        return params - self.learning_rate * gradient / (np.sqrt(self.sum_of_squares) + self.eps)


class Adadelta:
    """Adadelta (ρ = 0.9, ε = 1e-6): a running average of g² and of the steps themselves.

    s ← ρ s + (1−ρ) g²;  Δ = √(u + ε) / √(s + ε) · g;  u ← ρ u + (1−ρ) Δ²;  θ ← θ − η Δ.
    The step's size comes from past steps, so the original method needs no learning rate:
    torch keeps η as a plain multiplier with default 1.0.
    """

    def __init__(self, learning_rate: float, rho: float = 0.9, eps: float = 1e-6):
        self.learning_rate, self.rho, self.eps = learning_rate, rho, eps
        self.square_average: np.ndarray | float = 0.0
        self.step_average: np.ndarray | float = 0.0

    def step(self, params: np.ndarray, gradient: np.ndarray) -> np.ndarray:
        rho = self.rho
        self.square_average = rho * self.square_average + (1 - rho) * gradient * gradient
        delta = np.sqrt(self.step_average + self.eps) / np.sqrt(self.square_average + self.eps)
        delta = delta * gradient
        self.step_average = rho * self.step_average + (1 - rho) * delta * delta
        return params - self.learning_rate * delta


class RMSprop:
    """RMSprop (α = 0.99, ε = 1e-8): s ← α s + (1−α) g²; θ ← θ − η g / (√s + ε).

    Like Adagrad, but the average forgets old gradients, so steps do not shrink to nothing.
    """

    def __init__(self, learning_rate: float, alpha: float = 0.99, eps: float = 1e-8):
        self.learning_rate, self.alpha, self.eps = learning_rate, alpha, eps
        self.square_average: np.ndarray | float = 0.0

    def step(self, params: np.ndarray, gradient: np.ndarray) -> np.ndarray:
        alpha = self.alpha
        self.square_average = alpha * self.square_average + (1 - alpha) * gradient * gradient
        return params - self.learning_rate * gradient / (np.sqrt(self.square_average) + self.eps)


class Adam:
    """Adam (β1 = 0.9, β2 = 0.999, ε = 1e-8): momentum on g, RMSprop's scale from g².

    m ← β1 m + (1−β1) g;  v ← β2 v + (1−β2) g²;
    θ ← θ − η/(1−β1^t) · m / (√v / √(1−β2^t) + ε)   (the bias corrections undo the zero start).
    """

    def __init__(
        self, learning_rate: float, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8
    ):
        self.learning_rate, self.beta1, self.beta2, self.eps = learning_rate, beta1, beta2, eps
        self.mean: np.ndarray | float = 0.0
        self.square_mean: np.ndarray | float = 0.0
        self.t = 0

    def step(self, params: np.ndarray, gradient: np.ndarray) -> np.ndarray:
        self.t += 1
        beta1, beta2 = self.beta1, self.beta2
        self.mean = beta1 * self.mean + (1 - beta1) * gradient
        self.square_mean = beta2 * self.square_mean + (1 - beta2) * gradient * gradient
        step_size = self.learning_rate / (1 - beta1**self.t)
        denominator = np.sqrt(self.square_mean) / np.sqrt(1 - beta2**self.t) + self.eps
        return params - step_size * self.mean / denominator


Optimizer = GradientDescent | Momentum | Adagrad | Adadelta | RMSprop | Adam


def make_optimizer(
    name: str,
    learning_rate: float,
    momentum: float = 0.9,
    seed: int = 0,
    noise_scale: float = 1.0,
) -> Optimizer:
    """A fresh optimizer with torch.optim's defaults: ``.step(params, gradient)`` -> new params.

    ``momentum`` is μ for "momentum" and "nesterov"; ``seed`` and ``noise_scale`` (σ) drive the
    noise of "sgd". Every other hyper-parameter is torch's default.
    """
    if name not in OPTIMIZER_NAMES:
        raise ForceMLPError(
            f"unknown optimizer {name!r}: choose one of {', '.join(OPTIMIZER_NAMES)}."
        )
    check_learning_rate(learning_rate)
    if not 0 <= momentum < 1:
        raise ForceMLPError(f"momentum must lie in [0, 1), got {momentum!r}.")
    builders: dict[str, Callable[[], Optimizer]] = {
        "gd": lambda: GradientDescent(learning_rate),
        "sgd": lambda: NoisyGradientDescent(learning_rate, noise_scale, seed),
        "momentum": lambda: Momentum(learning_rate, momentum),
        "nesterov": lambda: Momentum(learning_rate, momentum, nesterov=True),
        "adagrad": lambda: Adagrad(learning_rate),
        "adadelta": lambda: Adadelta(learning_rate),
        "rmsprop": lambda: RMSprop(learning_rate),
        "adam": lambda: Adam(learning_rate),
    }
    return builders[name]()
