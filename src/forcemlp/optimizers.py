"""Gradient descent and its famous variants in NumPy, and 2-D surfaces to watch them walk.

    from forcemlp.optimizers import descend
    path = descend("adam", "rosenbrock", learning_rate=0.05, steps=200)
    path.points, path.losses, path.diverged

Every optimizer follows ``torch.optim``'s update rule and default hyper-parameters exactly
(the tests replay each one against torch step for step), so what the explorer shows is what
PyTorch does. Notation: θ the parameters, g the gradient, η the learning rate, t the step
count starting at 1; products, squares and square roots are element-wise.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .config import check_learning_rate, pick
from .errors import ForceMLPError

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
# torch.optim's default learning rates, for reference: the explorer always passes one.
TORCH_DEFAULT_LEARNING_RATES = {
    "gd": 1e-3, "sgd": 1e-3, "momentum": 1e-3, "nesterov": 1e-3,
    "adagrad": 1e-2, "adadelta": 1.0, "rmsprop": 1e-2, "adam": 1e-3,
}


UINT32 = 0xFFFFFFFF


class SeededNormal:
    """Standard normal numbers from a seed, the same in Python and in the browser.

    mulberry32 (a 32-bit generator that JavaScript computes exactly) and Box–Muller, written
    operation for operation like ``SeededNormal`` in ``widgets/js/random.js``: the explorer's
    SGD noise in the page is the noise ``descend("sgd", ...)`` adds here.
    """

    def __init__(self, seed: int = 0):
        self.state = int(seed) & UINT32

    def next_uint32(self) -> int:
        """The next 32-bit unsigned integer of mulberry32."""
        self.state = (self.state + 0x6D2B79F5) & UINT32
        t = self.state
        t = ((t ^ (t >> 15)) * (t | 1)) & UINT32
        t ^= (t + (((t ^ (t >> 7)) * (t | 61)) & UINT32)) & UINT32
        return (t ^ (t >> 14)) & UINT32

    def uniform(self) -> float:
        """Uniform in (0, 1): never 0, so its logarithm is finite."""
        return (self.next_uint32() + 0.5) / 4294967296.0

    def normal(self) -> float:
        """Box–Muller on two uniforms (the sine half is not used)."""
        radius = math.sqrt(-2.0 * math.log(self.uniform()))
        return radius * math.cos(2.0 * math.pi * self.uniform())

    def standard_normal(self, shape: int | tuple[int, ...] = ()) -> np.ndarray:
        """An array of standard normal numbers, drawn in C order."""
        values = np.empty(shape)
        for index in np.ndindex(values.shape):
            values[index] = self.normal()
        return values


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


# Surfaces take points of shape (..., 2) and use only arithmetic, so the same function also
# runs on torch tensors: the tests check every hand-derived gradient against autograd.

def _ravine(points):
    x, y = points[..., 0], points[..., 1]
    return x**2 / 20 + y**2


def _ravine_gradient(points):
    x, y = points[..., 0], points[..., 1]
    return np.stack([x / 10, 2 * y], axis=-1)


def _rosenbrock(points):
    x, y = points[..., 0], points[..., 1]
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def _rosenbrock_gradient(points):
    x, y = points[..., 0], points[..., 1]
    return np.stack([-2 * (1 - x) - 400 * x * (y - x**2), 200 * (y - x**2)], axis=-1)


BEALE_CONSTANTS = (1.5, 2.25, 2.625)


def _beale(points):
    x, y = points[..., 0], points[..., 1]
    return sum((c - x + x * y**power) ** 2 for power, c in enumerate(BEALE_CONSTANTS, start=1))


def _beale_gradient(points):
    x, y = points[..., 0], points[..., 1]
    residuals = [(power, c - x + x * y**power) for power, c in enumerate(BEALE_CONSTANTS, start=1)]
    d_x = sum(2 * r * (y**power - 1) for power, r in residuals)
    d_y = sum(2 * r * x * power * y ** (power - 1) for power, r in residuals)
    return np.stack([d_x, d_y], axis=-1)


def _himmelblau(points):
    x, y = points[..., 0], points[..., 1]
    return (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2


def _himmelblau_gradient(points):
    x, y = points[..., 0], points[..., 1]
    return np.stack([
        4 * x * (x**2 + y - 11) + 2 * (x + y**2 - 7),
        2 * (x**2 + y - 11) + 4 * y * (x + y**2 - 7),
    ], axis=-1)


def _saddle(points):
    x, y = points[..., 0], points[..., 1]
    return x**2 - y**2


def _saddle_gradient(points):
    x, y = points[..., 0], points[..., 1]
    return np.stack([2 * x, -2 * y], axis=-1)


@dataclass(frozen=True)
class Surface:
    """A loss surface f(x, y) to descend: f and its gradient take points of shape (..., 2).

    ``start`` is the classic starting point, ``x_range``/``y_range`` a good plotting window,
    ``minimum`` the global minimum (None when there is none) and ``other_minima`` any others
    as low, ``gradient_noise`` the σ that "sgd" adds to the gradient on this surface (about the
    size of its gradients near the end).
    """

    name: str
    title: str
    function: Callable[[np.ndarray], np.ndarray]
    gradient: Callable[[np.ndarray], np.ndarray]
    start: np.ndarray
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    minimum: np.ndarray | None
    formula: str = ""
    gradient_noise: float = 1.0
    note: str = ""
    other_minima: tuple[tuple[float, float], ...] = ()


SURFACES: dict[str, Surface] = {
    surface.name: surface
    for surface in (
        Surface(
            "ravine", "Ravine", _ravine, _ravine_gradient,
            start=np.array([-7.0, 2.0]), x_range=(-10.0, 10.0), y_range=(-5.0, 5.0),
            minimum=np.array([0.0, 0.0]), formula=r"x^2/20 + y^2", gradient_noise=0.5,
            note="20 times steeper across than along: plain descent zig-zags and crawls",
        ),
        Surface(
            "rosenbrock", "Rosenbrock", _rosenbrock, _rosenbrock_gradient,
            start=np.array([-1.2, 1.0]), x_range=(-2.0, 2.0), y_range=(-1.0, 3.0),
            minimum=np.array([1.0, 1.0]), formula=r"(1 - x)^2 + 100 (y - x^2)^2",
            gradient_noise=2.0,
            note="a curved, nearly flat valley: easy to reach, slow to follow to (1, 1)",
        ),
        Surface(
            "beale", "Beale", _beale, _beale_gradient,
            start=np.array([1.0, 1.5]), x_range=(-4.5, 4.5), y_range=(-4.5, 4.5),
            minimum=np.array([3.0, 0.5]),
            formula=r"\sum_{k=1}^{3} (c_k - x + x y^k)^2,\ c = (1.5, 2.25, 2.625)",
            gradient_noise=0.5,
            note="flat plateaus and sharp ridges: gradients differ by orders of magnitude",
        ),
        Surface(
            "saddle", "Saddle point", _saddle, _saddle_gradient,
            start=np.array([-1.5, 1e-3]), x_range=(-2.0, 2.0), y_range=(-2.0, 2.0),
            minimum=None, formula=r"x^2 - y^2", gradient_noise=0.1,
            note="the gradient vanishes at (0, 0) without a minimum there: escaping takes a push",
        ),
        Surface(
            "himmelblau", "Himmelblau", _himmelblau, _himmelblau_gradient,
            start=np.array([-0.5, -0.5]), x_range=(-5.0, 5.0), y_range=(-5.0, 5.0),
            minimum=np.array([3.0, 2.0]),
            other_minima=((-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848126)),
            formula=r"(x^2 + y - 11)^2 + (x + y^2 - 7)^2", gradient_noise=2.0,
            note="four equally deep valleys: where a walk starts decides where it ends",
        ),
    )
}


def get_surface(name: str) -> Surface:
    """The surface called ``name``, or a one-line error listing the names that exist."""
    return pick("surface", name, SURFACES)


# Optimizers whose step is learning rate x gradient: their "x1" is 1/L, half of plain gradient
# descent's stability limit 2/L (L: the largest curvature at the start).
CURVATURE_SCALED = ("gd", "sgd", "momentum", "nesterov")
# Adaptive optimizers move about learning_rate per step whatever the gradient's size, so their
# "x1" is a fraction of the view's width (Adagrad's steps shrink, Adadelta's start tiny).
VIEW_FRACTION = {"adagrad": 0.1, "adadelta": 2.0, "rmsprop": 0.01, "adam": 0.02}
CURVATURE_OFFSET = 1e-4


def largest_curvature(surface_name: str, point: np.ndarray | Sequence[float]) -> float:
    """Largest absolute eigenvalue of the surface's Hessian at point, by central differences."""
    surface = get_surface(surface_name)
    point = np.asarray(point, dtype=float)
    rows = [
        (surface.gradient(point + CURVATURE_OFFSET * unit)
         - surface.gradient(point - CURVATURE_OFFSET * unit)) / (2 * CURVATURE_OFFSET)
        for unit in np.eye(2)
    ]
    hessian = np.array(rows)
    return float(np.abs(np.linalg.eigvalsh((hessian + hessian.T) / 2)).max())


def base_learning_rate(
    surface_name: str, optimizer_name: str, start: np.ndarray | Sequence[float] | None = None,
) -> float:
    """The learning rate that the explorer's "x1" stands for, from ``start`` (default: the
    surface's own).

    No single value suits every optimizer on every surface: plain gradient descent needs about
    1/curvature (0.5 on the ravine, 0.0007 on Rosenbrock), Adam a fraction of the distance to go.
    """
    surface = get_surface(surface_name)
    if optimizer_name in CURVATURE_SCALED:
        return 1.0 / largest_curvature(surface_name, surface.start if start is None else start)
    if optimizer_name not in VIEW_FRACTION:
        raise ForceMLPError(
            f"unknown optimizer {optimizer_name!r}: choose one of {', '.join(OPTIMIZER_NAMES)}."
        )
    view_width = min(np.ptp(surface.x_range), np.ptp(surface.y_range))
    return VIEW_FRACTION[optimizer_name] * float(view_width)


@dataclass(frozen=True)
class Path:
    """Where an optimizer walked: ``points`` (steps+1, 2) from the start, ``losses`` (steps+1,).

    If the walk diverged, ``diverged_at`` is the first step that was not taken and every later
    entry repeats the last good point, so arrays always have steps+1 rows.
    """

    points: np.ndarray
    losses: np.ndarray
    diverged: bool
    diverged_at: int | None
    optimizer: str = ""
    surface: str = ""
    learning_rate: float = float("nan")


# A step counts as divergence when it gives a non-finite value or leaves a box this many
# plotting windows wide around the window's centre (past that, the walk only runs away).
ESCAPE_WINDOWS = 100.0


def _escaped(surface: Surface, point: np.ndarray) -> bool:
    if not np.all(np.isfinite(point)) or not np.isfinite(surface.function(point)):
        return True
    ranges = np.array([surface.x_range, surface.y_range])
    centre, width = ranges.mean(axis=1), ranges[:, 1] - ranges[:, 0]
    return bool(np.any(np.abs(point - centre) > ESCAPE_WINDOWS * width))


def descend(
    optimizer_name: str,
    surface_name: str,
    learning_rate: float,
    steps: int,
    momentum: float = 0.9,
    seed: int = 0,
    start: np.ndarray | None = None,
) -> Path:
    """Walk ``steps`` optimizer steps down a surface; divergence is recorded, never raised.

    On the saddle, every walk that escapes eventually counts as diverged: x² − y² has no
    bottom, so its loss runs off to −∞.
    """
    surface = get_surface(surface_name)
    optimizer = make_optimizer(
        optimizer_name, learning_rate, momentum, seed, noise_scale=surface.gradient_noise
    )
    if not isinstance(steps, int | np.integer) or steps < 0:
        raise ForceMLPError(f"steps must be a whole number >= 0, got {steps!r}.")
    point = np.array(surface.start if start is None else start, dtype=float)
    if point.shape != (2,) or _escaped(surface, point):
        raise ForceMLPError(f"start must be a finite point (x, y) near the surface, got {start!r}.")
    points = np.empty((steps + 1, 2))
    points[0] = point
    diverged_at = None
    with np.errstate(all="ignore"):  # a runaway step may overflow; it is caught just below
        for step in range(1, steps + 1):
            candidate = optimizer.step(point, surface.gradient(point))
            if _escaped(surface, candidate):
                diverged_at = step
                points[step:] = point
                break
            points[step] = point = candidate
    return Path(
        points=points,
        losses=surface.function(points),
        diverged=diverged_at is not None,
        diverged_at=diverged_at,
        optimizer=optimizer_name,
        surface=surface_name,
        learning_rate=learning_rate,
    )
