"""Walking a 2-D surface with an optimizer, and the learning rate the explorer's "x1" means.

    from forcemlp.descent import descend
    path = descend("adam", "rosenbrock", learning_rate=0.05, steps=200)
    path.points, path.losses, path.diverged

The Python twin of ``widgets/js/descent.js``: the explorer's paths in the page are the paths
:func:`descend` returns here.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .errors import ForceMLPError
from .optimizers import OPTIMIZER_NAMES, make_optimizer
from .surfaces import Surface, get_surface

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
