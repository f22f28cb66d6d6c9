"""The optimizer explorer of lesson 4: optimizers racing down a 2-D surface, in the browser.

    from forcemlp.widgets import optimizer_explorer
    explorer = optimizer_explorer("rosenbrock", learning_rate_scale=1.9)
    explorer                      # in a notebook: move the controls, click a start point
    explorer.start, explorer.paths()   # what the reader chose, and the paths it drew, in NumPy

Every path is computed in the page (``js/optimizer_explorer.js`` on ``js/descent.js``), for any
learning rate, momentum, step count and start, so nothing is precomputed and the page stays
small. The learning rate is a multiple of each optimizer's base rate
(:func:`forcemlp.descent.base_learning_rate`): ×2 is plain gradient descent's stability
limit 2/L on a bowl of curvature L.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import traitlets

from ..descent import ESCAPE_WINDOWS, Path, base_learning_rate, descend
from ..optimizers import OPTIMIZER_NAMES, OPTIMIZER_TITLES
from ..surfaces import SURFACES
from .base import (
    IN_ORDER,
    BrowserWidget,
    InvalidValue,
    Number,
    check_choice,
    check_integer,
    check_range,
    check_seed,
    check_subset,
)

# Okabe & Ito's colour-blind-safe hues, darkened where needed so that each line keeps 3:1
# contrast on the book's light (#fff) and dark (#14181e) backgrounds; the marker shapes
# tell the optimizers apart without colour too.
OPTIMIZER_COLORS = {
    "gd": "#0072B2", "sgd": "#888888", "momentum": "#D55E00", "nesterov": "#AA7700",
    "adagrad": "#009E73", "adadelta": "#999933", "rmsprop": "#8E6BBF", "adam": "#CC79A7",
}
OPTIMIZER_MARKERS = {  # shapes js/plot.js draws
    "gd": "circle", "sgd": "square", "momentum": "triangle", "nesterov": "down",
    "adagrad": "diamond", "adadelta": "pentagon", "rmsprop": "hexagon", "adam": "star",
}
LEARNING_RATE_SCALES = (0.01, 10.0)  # the slider's ends: from a crawl to certain divergence
MOMENTUMS = (0.0, 0.99)  # the slider's ends (Python accepts up to MAX_MOMENTUM)
MAX_MOMENTUM = 0.999
MAX_STEPS = 1000
# The sliders' ranges, as the page builds them (the learning-rate slider moves along log10).
SLIDERS = {
    "learning_rate_scale": {"min": LEARNING_RATE_SCALES[0], "max": LEARNING_RATE_SCALES[1],
                            "step": 0.01},
    "momentum": {"min": MOMENTUMS[0], "max": MOMENTUMS[1], "step": 0.005},
    "steps": {"min": 10, "max": MAX_STEPS, "step": 1},
}


def surface_state(name: str) -> dict:
    """What the page needs to know about a surface (its formula lives in js/surfaces.js)."""
    surface = SURFACES[name]
    minima = [] if surface.minimum is None else [surface.minimum.tolist()]
    return {
        "name": name, "title": surface.title, "note": surface.note,
        "x_range": list(surface.x_range), "y_range": list(surface.y_range),
        "start": surface.start.tolist(), "gradient_noise": surface.gradient_noise,
        "minima": minima + [list(point) for point in surface.other_minima],
    }


class OptimizerExplorer(BrowserWidget):
    """Optimizers from one start on one surface; every trait syncs with the page."""

    _module = "optimizer_explorer.js"
    title = "Optimizer explorer"

    surface = traitlets.Unicode("ravine").tag(sync=True)
    learning_rate_scale = Number(1.0).tag(sync=True)
    momentum = Number(0.9).tag(sync=True)
    steps = traitlets.Int(150).tag(sync=True)
    position = traitlets.Int(150).tag(sync=True)  # the step the picture shows (Play walks it)
    start = traitlets.List(default_value=[-7.0, 2.0]).tag(sync=True)  # [x, y], checked below
    optimizers = traitlets.List(traitlets.Unicode(), default_value=list(OPTIMIZER_NAMES)).tag(
        sync=True)
    seed = traitlets.Int(0).tag(sync=True)
    surfaces = traitlets.Dict(read_only=True).tag(**IN_ORDER)
    optimizer_titles = traitlets.Dict(read_only=True).tag(**IN_ORDER)
    optimizer_colors = traitlets.Dict(read_only=True).tag(sync=True)
    optimizer_markers = traitlets.Dict(read_only=True).tag(sync=True)
    limits = traitlets.Dict(read_only=True).tag(sync=True)

    @traitlets.default("surfaces")
    def _surfaces(self) -> dict:
        return {name: surface_state(name) for name in SURFACES}

    @traitlets.default("optimizer_titles")
    def _titles(self) -> dict:
        return dict(OPTIMIZER_TITLES)

    @traitlets.default("optimizer_colors")
    def _colors(self) -> dict:
        return dict(OPTIMIZER_COLORS)

    @traitlets.default("optimizer_markers")
    def _markers(self) -> dict:
        return dict(OPTIMIZER_MARKERS)

    @traitlets.default("limits")
    def _limits(self) -> dict:
        return {name: dict(limits) for name, limits in SLIDERS.items()}

    @traitlets.validate("surface")
    def _check_surface(self, proposal):
        return check_choice("surface", proposal["value"], tuple(SURFACES))

    @traitlets.validate("learning_rate_scale")
    def _check_learning_rate_scale(self, proposal):
        return check_range("learning_rate_scale", proposal["value"], *LEARNING_RATE_SCALES)

    @traitlets.validate("momentum")
    def _check_momentum(self, proposal):
        return check_range("momentum", proposal["value"], 0.0, MAX_MOMENTUM)

    @traitlets.validate("steps")
    def _check_steps(self, proposal):
        return check_integer("steps", proposal["value"], 1, MAX_STEPS)

    @traitlets.validate("position")
    def _check_position(self, proposal):
        return check_integer("position", proposal["value"], 0, MAX_STEPS)

    @traitlets.validate("optimizers")
    def _check_optimizers(self, proposal):
        return check_subset("optimizers", proposal["value"], OPTIMIZER_NAMES, allow_empty=False)

    @traitlets.validate("seed")
    def _check_seed(self, proposal):
        return check_seed(proposal["value"])

    @traitlets.validate("start")
    def _check_start(self, proposal):
        value = proposal["value"]
        surface = SURFACES[self.surface]
        numbers = isinstance(value, list | tuple) and len(value) == 2 and all(isinstance(number, int | float)
                                          and not isinstance(number, bool) for number in value)
        point = np.asarray(value if numbers else [np.nan], dtype=float)
        ranges = np.array([surface.x_range, surface.y_range])
        reach = ESCAPE_WINDOWS * (ranges[:, 1] - ranges[:, 0])
        if point.shape != (2,) or not np.all(np.abs(point - ranges.mean(axis=1)) < reach):
            raise InvalidValue(
                f"start must be a point [x, y] near the {surface.title} surface, got "
                f"{proposal['value']!r}."
            )
        return point.tolist()

    def paths(self) -> dict[str, Path]:
        """The paths the page draws for the current state, computed in NumPy."""
        return {
            name: descend(
                name, self.surface,
                self.learning_rate_scale * base_learning_rate(self.surface, name, self.start),
                self.steps, momentum=self.momentum, seed=self.seed, start=np.array(self.start),
            )
            for name in self.optimizers
        }


def optimizer_explorer(
    surface: str = "ravine", optimizers: Sequence[str] = OPTIMIZER_NAMES, **traits,
) -> OptimizerExplorer:
    """An optimizer explorer on ``surface`` from its classic start; ``traits`` set the rest
    (``learning_rate_scale``, ``momentum``, ``steps``, ``start``, ``seed``)."""
    check_choice("surface", surface, tuple(SURFACES))
    traits.setdefault("start", SURFACES[surface].start.tolist())
    steps = traits.setdefault("steps", 150)
    whole = isinstance(steps, int) and not isinstance(steps, bool) and 0 <= steps <= MAX_STEPS
    traits.setdefault("position", steps if whole else 0)
    chosen = check_subset("optimizers", optimizers, OPTIMIZER_NAMES, allow_empty=False)
    return OptimizerExplorer(surface=surface, optimizers=chosen, **traits)
