"""The 2-D loss surfaces that the optimizers descend, with their hand-derived gradients.

    from forcemlp.surfaces import get_surface
    surface = get_surface("rosenbrock")
    surface.function(surface.start), surface.gradient(surface.start)

The Python twin of ``widgets/js/surfaces.js`` (same operations in the same order).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .config import pick

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
