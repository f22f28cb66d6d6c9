"""Explorers for the activation and optimizer lessons, that move with or without a kernel.

    from forcemlp import widgets
    widgets.optimizer_explorer(static=True)     # built page: precomputed frames, no kernel needed
    widgets.activation_explorer(static=False)   # Jupyter: recomputes for any slider value
    widgets.activation_explorer()               # static while the book builds, live elsewhere

A published page has no Python behind it, so `interact` sliders there render and do nothing.
Static mode therefore draws every picture at build time on a grid of control values and puts
the pictures in `Stack`s whose `selected_index` is `jslink`ed to the controls: the page's
embedded widget state carries everything and the browser alone switches frames. The optimizer
view is three layers stacked: contour lines (one per surface) under transparent paths and loss
curves (one per learning rate and momentum) under where each optimizer is at the chosen step
(one per step position: a few dots), so a step position costs ~1.5 kB instead of a whole
picture. Pictures are palette PNGs at screen resolution: the default grids make ~2 MB of page
for the optimizer explorer and ~0.2 MB for the activation explorer. Live mode (`static=False`)
shows the same pictures and redraws them from Python observers.
"""
from __future__ import annotations

import io
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from matplotlib.figure import Figure
from PIL import Image as PillowImage
from PIL import ImageColor, ImageDraw

from ..activations import ACTIVATIONS, get_activation
from ..errors import ForceMLPError
from ..optimizers import (
    OPTIMIZER_NAMES,
    OPTIMIZER_TITLES,
    SURFACES,
    Path,
    Surface,
    base_learning_rate,
    descend,
)

try:
    import ipywidgets
except ImportError as error:  # the widgets extra is optional for the rest of forcemlp
    raise ForceMLPError(
        "forcemlp.widgets needs ipywidgets: pip install 'forcemlp[widgets]'."
    ) from error

STATIC_ENVIRONMENT = "FORCEMLP_STATIC_WIDGETS"  # the book's conf.py sets it to 1
DPI = 72
GRAY_LEVELS = 9
RACE_LAYER_COLORS = 64  # coloured paths and text over a transparent background
STEP_LAYER_COLORS = 16  # dots and a line: few colours are enough
SUPERSAMPLE = 3  # the step layer is drawn this many times larger, then shrunk: smooth dots

OPTIMIZER_FIGSIZE = (8.0, 3.5)  # 576 x 252 px: about the width of the book's text column
# Fixed axes rectangles (left, bottom, width, height): the step layer is drawn from the same
# pixel positions, so it lines up exactly with the picture below it.
CONTOUR_AXES = (0.075, 0.14, 0.40, 0.77)
LOSS_AXES = (0.585, 0.14, 0.40, 0.77)
LEGEND_SEPARATOR = "\n"
OPTIMIZER_COLORS = {
    "gd": "#1f77b4", "sgd": "#7f7f7f", "momentum": "#ff7f0e", "nesterov": "#d62728",
    "adagrad": "#2ca02c", "adadelta": "#8c564b", "rmsprop": "#9467bd", "adam": "#e377c2",
}
CONTOUR_RESOLUTION = 160
CONTOUR_COLOR = "#cfcfcf"
LOSS_LINEAR_BELOW = 1e-3  # the loss axis is logarithmic above this, linear below (symlog)

ACTIVATION_FIGSIZE = (8.0, 3.2)
ACTIVATION_INPUTS = np.linspace(-5.0, 5.0, 401)
VANISHING_GRADIENT = 0.05  # where g'(x) is below this, backpropagation barely moves the weights
FUNCTION_COLOR, DERIVATIVE_COLOR, VANISHING_COLOR = "#1f77b4", "#d62728", "#f8dcdc"


@dataclass(frozen=True)
class OptimizerGrid:
    """The control values a static optimizer explorer precomputes.

    `learning_rate_scales` multiply each optimizer's base learning rate (`base_learning_rate`);
    `step_positions` are where the step slider stops, on paths `steps` steps long.
    """

    surfaces: tuple[str, ...]
    learning_rate_scales: tuple[float, ...]
    momenta: tuple[float, ...]
    steps: int
    step_positions: tuple[int, ...]

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """Choices per control: (surface, learning rate, momentum, step)."""
        return (
            len(self.surfaces), len(self.learning_rate_scales), len(self.momenta),
            len(self.step_positions),
        )

    @property
    def picture_count(self) -> int:
        """Pictures of paths and loss curves: one per (surface, learning rate, momentum)."""
        return math.prod(self.shape[:3])

    @property
    def frame_count(self) -> int:
        """Views a reader can reach: every picture at every step position."""
        return math.prod(self.shape)

    @property
    def image_count(self) -> int:
        """PNG images in the widget: a contour layer per surface, a race layer per picture and
        a step layer per view."""
        return len(self.surfaces) + self.picture_count + self.frame_count


@dataclass(frozen=True)
class ActivationGrid:
    """The activations a static activation explorer precomputes, with the parameter values of
    those that have one (leaky ReLU's slope, ELU's alpha)."""

    activations: tuple[str, ...]
    parameters: dict[str, tuple[float, ...]] = field(default_factory=dict)

    @property
    def frame_count(self) -> int:
        """Views a reader can reach: one per activation, or one per parameter value."""
        return sum(len(self.parameters.get(name, (None,))) for name in self.activations)

    @property
    def image_count(self) -> int:
        """PNG images in the widget: one per view."""
        return self.frame_count


DEFAULT_OPTIMIZER_GRID = OptimizerGrid(
    surfaces=("ravine", "rosenbrock", "beale", "saddle"),
    learning_rate_scales=(0.1, 0.3, 1.0, 1.9, 4.0),
    momenta=(0.5, 0.9, 0.99),
    steps=150,
    step_positions=(0, 2, 5, 10, 20, 50, 100, 150),
)
DEFAULT_ACTIVATION_GRID = ActivationGrid(
    activations=tuple(ACTIVATIONS),
    parameters={"leaky_relu": (0.0, 0.01, 0.05, 0.1, 0.2, 0.3), "elu": (0.1, 0.5, 1.0, 1.5, 2.0)},
)


@dataclass
class Explorer:
    """What an explorer function returns: the widget, its controls by name, its images and
    captions (static: every precomputed one; live: those the observers redraw). It shows as
    its widget."""

    widget: ipywidgets.Widget
    controls: dict[str, ipywidgets.Widget]
    images: list[ipywidgets.Image]
    captions: list[ipywidgets.HTML] = field(default_factory=list)

    def _repr_mimebundle_(self, **kwargs) -> dict:
        return self.widget._repr_mimebundle_(**kwargs)


def _palette(inks: Sequence[str]) -> PillowImage.Image:
    """The colours a figure drawn in `inks` is made of: grays for text and axes, each ink at
    full strength and blended half into the white background (antialiased edges)."""
    grays = [(level,) * 3 for level in np.linspace(0, 255, GRAY_LEVELS).round().astype(int)]
    colors = grays + [
        tuple(round(255 + (channel - 255) * strength) for channel in ImageColor.getrgb(ink))
        for ink in inks for strength in (1.0, 0.5)
    ]
    palette = PillowImage.new("P", (1, 1))
    palette.putpalette([channel for color in colors for channel in color])
    return palette


def _png(picture: PillowImage.Image) -> bytes:
    output = io.BytesIO()
    picture.save(output, format="png", optimize=True)
    return output.getvalue()


def figure_png(figure: Figure, inks: Sequence[str]) -> bytes:
    """A matplotlib figure as a small palette PNG: every pixel snaps to the nearest of a few
    known colours, without dithering, which compresses several times better than RGBA."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    picture = PillowImage.open(buffer).convert("RGB")
    return _png(picture.quantize(palette=_palette(inks), dither=PillowImage.Dither.NONE))


def transparent_png(picture: PillowImage.Image, colors: int) -> bytes:
    """An RGBA picture as a palette PNG of `colors` colours that keeps its transparency."""
    return _png(picture.quantize(colors, method=PillowImage.Quantize.FASTOCTREE))


# ----------------------------------------------------------------------------- optimizers
@dataclass(frozen=True)
class Race:
    """Every chosen optimizer's path from the same start on one surface."""

    surface: Surface
    learning_rate_scale: float
    momentum: float
    paths: dict[str, Path]


@dataclass(frozen=True)
class RacePicture:
    """A race drawn once: the PNG, its caption (the HTML legend), and where every step of every
    path landed in the picture's pixels, so the step layer is drawn without matplotlib."""

    png: bytes
    caption: str
    size: tuple[int, int]
    contour_box: tuple[float, float, float, float]
    loss_box: tuple[float, float, float, float]
    contour_pixels: dict[str, np.ndarray]
    loss_pixels: dict[str, np.ndarray]
    last_steps: dict[str, int]


def run_race(
    surface_name: str, learning_rate_scale: float, momentum: float, steps: int,
    optimizer_names: Sequence[str] = OPTIMIZER_NAMES, seed: int = 0,
) -> Race:
    """Every optimizer from the surface's start, at learning_rate_scale x its base rate."""
    paths = {
        name: descend(
            name, surface_name, learning_rate_scale * base_learning_rate(surface_name, name),
            steps, momentum=momentum, seed=seed,
        )
        for name in optimizer_names
    }
    return Race(SURFACES[surface_name], learning_rate_scale, momentum, paths)


def last_step_taken(path: Path) -> int:
    """The last step the optimizer really took (a diverged path repeats its last good point)."""
    return path.diverged_at - 1 if path.diverged else len(path.losses) - 1


def path_status(path: Path, surface: Surface) -> str:
    """What the legend and caption say about how a path ended ("" when it stayed in view)."""
    if path.diverged:
        return f"diverged at step {path.diverged_at}"
    x_low, x_high = sorted(surface.x_range)
    y_low, y_high = sorted(surface.y_range)
    x, y = path.points.T
    outside = (x < x_low) | (x > x_high) | (y < y_low) | (y > y_high)
    return f"left the view at step {int(np.argmax(outside))}" if outside.any() else ""


def loss_limits(race: Race) -> tuple[float, float]:
    """The loss axis: from the lowest loss reached to a little above the start, so an exploding
    loss is clipped at the top instead of squashing every other curve flat."""
    start_loss = abs(float(race.surface.function(np.asarray(race.surface.start, dtype=float))))
    top = 4 * start_loss + 1
    lowest = min(float(path.losses[: last_step_taken(path) + 1].min()) for path in race.paths.values())
    bottom = max(lowest, -10 * top)
    return bottom - 0.1 * abs(bottom), top


def _view_axes(figure: Figure, surface: Surface):
    """The contour panel's axes: the same rectangle and limits in every layer."""
    axes = figure.add_axes(CONTOUR_AXES)
    axes.set_xlim(sorted(surface.x_range))
    axes.set_ylim(sorted(surface.y_range))
    return axes


def draw_surface(surface: Surface) -> bytes:
    """The bottom layer: the surface's contour lines (at quantiles of its heights, evenly
    spread on every surface) with their axes, the same for every race on that surface."""
    figure = Figure(figsize=OPTIMIZER_FIGSIZE, dpi=DPI)
    axes = _view_axes(figure, surface)
    xs = np.linspace(*sorted(surface.x_range), CONTOUR_RESOLUTION)
    ys = np.linspace(*sorted(surface.y_range), CONTOUR_RESOLUTION)
    grid_x, grid_y = np.meshgrid(xs, ys)
    heights = surface.function(np.stack([grid_x, grid_y], axis=-1))
    levels = np.unique(np.quantile(heights, np.linspace(0.01, 0.97, 14)))
    axes.contour(grid_x, grid_y, heights, levels=levels, colors=CONTOUR_COLOR, linewidths=0.5,
                 antialiased=False)
    axes.set_xlabel("x")
    axes.set_ylabel("y")
    marks = "start ●, minimum ★" if surface.minimum is not None else "start ●"
    axes.set_title(f"{surface.title}: paths ({marks})", fontsize=10)
    return figure_png(figure, [CONTOUR_COLOR])


def _pixel_positions(axes, xy: np.ndarray, height: float) -> np.ndarray:
    """Data coordinates -> picture pixels (origin top left, as PIL counts)."""
    with np.errstate(invalid="ignore", over="ignore"):
        display = axes.transData.transform(xy)
    return np.column_stack([display[:, 0], height - display[:, 1]])


def _pixel_box(axes, height: float) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = axes.bbox.extents
    return (x0, height - y1, x1, height - y0)


def race_legend(race: Race) -> str:
    """The race's legend as HTML text under the picture: each optimizer's colour, its actual
    learning rate and how its path ended. Text stays sharp at any width, costs less than
    pixels, and a screen reader can read it."""
    entries = []
    for name, path in race.paths.items():
        status = path_status(path, race.surface)
        ending = f": <b>{status}</b>" if status else ""
        entries.append(
            f'<span style="white-space:nowrap"><span style="color:{OPTIMIZER_COLORS[name]}">'
            f"&#9632;</span> {OPTIMIZER_TITLES[name]}, lr {path.learning_rate:.2g}{ending}</span>"
        )
    heading = (f"Learning rates: ×{race.learning_rate_scale:.3g} each optimizer's base rate; "
               f"momentum β = {race.momentum:.3g}.")
    return (f'<div style="font-size:0.85em;line-height:1.35">{heading}<div style="display:flex;'
            f'flex-wrap:wrap;column-gap:1.2em">{LEGEND_SEPARATOR.join(entries)}</div></div>')


def draw_race(race: Race) -> RacePicture:
    """The middle layer: paths and loss curves of one race, on a transparent background that
    lets the surface's contour lines show through; an X marks where a path diverged."""
    surface = race.surface
    figure = Figure(figsize=OPTIMIZER_FIGSIZE, dpi=DPI)
    contour_axes = _view_axes(figure, surface)
    contour_axes.set_axis_off()  # its ticks and labels are in the surface layer
    loss_axes = figure.add_axes(LOSS_AXES)
    limits = loss_limits(race)
    x_low, x_high = sorted(surface.x_range)
    y_low, y_high = sorted(surface.y_range)
    for name, path in race.paths.items():
        last = last_step_taken(path)
        color = OPTIMIZER_COLORS[name]
        contour_axes.plot(*path.points[: last + 1].T, color=color, linewidth=1.3)
        loss_axes.plot(np.arange(last + 1), path.losses[: last + 1], color=color, linewidth=1.3)
        if path.diverged:  # an X where it left for good, pinned to the edge of the view
            x_end, y_end = path.points[last]
            contour_axes.plot(np.clip(x_end, x_low, x_high), np.clip(y_end, y_low, y_high), "X",
                              color=color, markersize=9, clip_on=False)
            loss_axes.plot(last, np.clip(path.losses[last], *limits), "X", color=color,
                           markersize=9, clip_on=False)
    contour_axes.plot(*surface.start, "o", color="black", markersize=5)
    if surface.minimum is not None:
        contour_axes.plot(*surface.minimum, "*", color="black", markersize=11)
    steps = len(next(iter(race.paths.values())).losses) - 1
    loss_axes.set_yscale("symlog", linthresh=LOSS_LINEAR_BELOW)
    loss_axes.set_ylim(*limits)
    loss_axes.set_xlim(0, steps)
    loss_axes.set_xlabel("step")
    loss_axes.set_ylabel("loss (log scale)")
    loss_axes.set_title("Loss along the path", fontsize=10)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, transparent=True)  # also fixes the transforms
    picture = PillowImage.open(buffer)
    png = transparent_png(picture, RACE_LAYER_COLORS)
    height = figure.bbox.height
    step_numbers = np.arange(steps + 1, dtype=float)
    return RacePicture(
        png=png,
        caption=race_legend(race),
        size=picture.size,
        contour_box=_pixel_box(contour_axes, height),
        loss_box=_pixel_box(loss_axes, height),
        contour_pixels={
            name: _pixel_positions(contour_axes, path.points, height)
            for name, path in race.paths.items()
        },
        loss_pixels={
            name: _pixel_positions(
                loss_axes, np.column_stack([step_numbers, np.clip(path.losses, *limits)]), height
            )
            for name, path in race.paths.items()
        },
        last_steps={name: last_step_taken(path) for name, path in race.paths.items()},
    )


def draw_step_layer(picture: RacePicture, step: int) -> bytes:
    """The top layer: a dot where each optimizer is at `step` (or where it stopped), on the
    contour and on its loss curve, and a line at `step`. Drawn from the pixel positions the
    race layer recorded, without matplotlib, so each of the many step layers is cheap."""
    width, height = picture.size
    layer = PillowImage.new("RGBA", (width * SUPERSAMPLE, height * SUPERSAMPLE), (0, 0, 0, 0))
    pen = ImageDraw.Draw(layer)
    _, top, _, bottom = (value * SUPERSAMPLE for value in picture.loss_box)
    line_x = next(iter(picture.loss_pixels.values()))[step, 0] * SUPERSAMPLE
    pen.line([(line_x, top), (line_x, bottom)], fill=(60, 60, 60, 200), width=SUPERSAMPLE)
    radius = 4 * SUPERSAMPLE
    for name, last in picture.last_steps.items():
        index = min(step, last)
        for pixels, box in (
            (picture.contour_pixels[name], picture.contour_box),
            (picture.loss_pixels[name], picture.loss_box),
        ):
            x, y = pixels[index]
            inside = box[0] <= x <= box[2] and box[1] <= y <= box[3]
            if np.isfinite([x, y]).all() and inside:
                x, y = x * SUPERSAMPLE, y * SUPERSAMPLE
                pen.ellipse([x - radius, y - radius, x + radius, y + radius],
                            fill=OPTIMIZER_COLORS[name], outline="black", width=SUPERSAMPLE)
    smooth = layer.reduce(SUPERSAMPLE)  # box-filter average: antialiased edges, and fast
    return transparent_png(smooth, STEP_LAYER_COLORS)


# ----------------------------------------------------------------------------- activations
def draw_activation(name: str, parameter: float | None = None) -> bytes:
    """The activation and its derivative side by side, with the derivative's maximum marked
    and the inputs where the gradient (nearly) vanishes shaded."""
    activation = get_activation(name)
    if parameter is None:
        parameter = activation.default_parameter
    arguments = () if activation.parameter_name is None else (parameter,)
    inputs = ACTIVATION_INPUTS
    outputs = activation.function(inputs, *arguments)
    slopes = activation.derivative(inputs, *arguments)
    figure = Figure(figsize=ACTIVATION_FIGSIZE, dpi=DPI, layout="constrained")
    function_axes, derivative_axes = figure.subplots(1, 2)
    setting = "" if activation.parameter_name is None else f", {activation.parameter_name} = {parameter:g}"
    function_axes.plot(inputs, outputs, color=FUNCTION_COLOR, linewidth=2)
    function_axes.set_ylim(-2.2, 5.2)
    function_axes.set_title(f"{activation.title}{setting}", fontsize=11)
    function_axes.set_ylabel("g(x)")
    derivative_axes.plot(inputs, slopes, color=DERIVATIVE_COLOR, linewidth=2)
    derivative_axes.fill_between(
        inputs, -0.1, 1.3, where=np.abs(slopes) < VANISHING_GRADIENT, color=VANISHING_COLOR,
        linewidth=0, label=f"|g′(x)| < {VANISHING_GRADIENT}: gradient vanishes",
    )
    peak = int(np.argmax(slopes))
    derivative_axes.axhline(slopes[peak], color="gray", linestyle=":", linewidth=1)
    derivative_axes.plot(inputs[peak], slopes[peak], "o", color=DERIVATIVE_COLOR)
    derivative_axes.annotate(
        f"max g′ = {slopes[peak]:.3g}", (inputs[peak], slopes[peak]), textcoords="offset points",
        xytext=(8, 6), fontsize=9,
    )
    derivative_axes.set_ylim(-0.1, 1.3)
    derivative_axes.set_title("Derivative g′(x), the factor backprop applies", fontsize=10)
    derivative_axes.set_ylabel("g′(x)")
    if (np.abs(slopes) < VANISHING_GRADIENT).any():
        derivative_axes.legend(loc="lower right", fontsize=8.5, framealpha=0.9)
    for axes in (function_axes, derivative_axes):
        axes.set_xlabel("x")
        axes.axhline(0, color="black", linewidth=0.6)
        axes.axvline(0, color="black", linewidth=0.6)
        axes.set_xlim(inputs[0], inputs[-1])
    figure.suptitle(activation.note, fontsize=10)
    return figure_png(figure, [FUNCTION_COLOR, DERIVATIVE_COLOR, VANISHING_COLOR])


# ----------------------------------------------------------------------------- widget parts
def _choice(description: str, options: Sequence[tuple[str, object]], index: int,
            dropdown: bool = False) -> ipywidgets.Widget:
    """A control whose `index` says which option is chosen (what the Stacks follow)."""
    kind = ipywidgets.Dropdown if dropdown else ipywidgets.SelectionSlider
    return kind(
        options=list(options), index=index, description=description,
        style={"description_width": "initial"},
    )


def _linked_stack(control: ipywidgets.Widget, children: Sequence[ipywidgets.Widget],
                  layout: ipywidgets.Layout) -> ipywidgets.Stack:
    """A Stack showing the child the control points at, in the browser alone (jslink)."""
    stack = ipywidgets.Stack(children=list(children), selected_index=control.index, layout=layout)
    ipywidgets.jslink((control, "index"), (stack, "selected_index"))
    return stack


def _nested_stacks(controls: Sequence[ipywidgets.Widget],
                   leaf: Callable[[tuple[int, ...]], ipywidgets.Widget],
                   root_layout: ipywidgets.Layout, inner_layout: ipywidgets.Layout,
                   ) -> ipywidgets.Stack:
    """Stacks within Stacks, one level per control; leaf(indices) gives the innermost views."""
    def build(prefix: tuple[int, ...]) -> ipywidgets.Widget:
        if len(prefix) == len(controls):
            return leaf(prefix)
        control = controls[len(prefix)]
        children = [build((*prefix, index)) for index in range(len(control.options))]
        return _linked_stack(control, children, root_layout if not prefix else inner_layout)
    return build(())


def _layered(*layers: ipywidgets.Widget) -> ipywidgets.GridBox:
    """The layers exactly on top of each other, the last on top: all fill one CSS grid cell."""
    for layer in layers:
        layer.layout.grid_area = "frame"
    return ipywidgets.GridBox(
        list(layers),
        layout=ipywidgets.Layout(grid_template_areas='"frame"', grid_template_columns="100%",
                                 width="100%"),
    )


def _image(png: bytes, layout: ipywidgets.Layout) -> ipywidgets.Image:
    # No tooltip: html-manager 1.0.15 fails to draw an Image that has one (it reads the
    # description that Images lack), so captions are HTML widgets of their own.
    return ipywidgets.Image(value=png, format="png", layout=layout)


# ----------------------------------------------------------------------------- explorers
def static_by_default(static: bool | None) -> bool:
    """None means: static when the book is being built (its conf.py sets STATIC_ENVIRONMENT),
    live anywhere else, so one lesson cell serves the published page and Jupyter alike."""
    if static is None:
        return os.environ.get(STATIC_ENVIRONMENT, "") not in ("", "0")
    return static


def optimizer_explorer(
    static: bool | None = None,
    grid: OptimizerGrid = DEFAULT_OPTIMIZER_GRID,
    optimizers: Sequence[str] = OPTIMIZER_NAMES,
    seed: int = 0,
) -> Explorer:
    """Optimizers racing from one start on a chosen surface: learning rate, momentum β and a
    step slider that walks along the paths, with the loss curves beside them.

    static=True precomputes `grid` (what the built book shows, no kernel needed);
    static=False recomputes for any value in Jupyter; None picks (`static_by_default`).
    """
    if not optimizers or not set(optimizers) <= set(OPTIMIZER_NAMES):
        raise ForceMLPError(
            f"optimizers {list(optimizers)} invalid: choose from {', '.join(OPTIMIZER_NAMES)}."
        )
    if not set(grid.surfaces) <= set(SURFACES):
        raise ForceMLPError(
            f"surfaces {list(grid.surfaces)} invalid: choose from {', '.join(SURFACES)}."
        )
    if static_by_default(static):
        return _static_optimizer_explorer(grid, tuple(optimizers), seed)
    return _live_optimizer_explorer(grid, tuple(optimizers), seed)


def _static_optimizer_explorer(grid: OptimizerGrid, optimizers: tuple[str, ...],
                               seed: int) -> Explorer:
    surface = _choice("surface", [(SURFACES[name].title, name) for name in grid.surfaces], 0,
                      dropdown=True)
    learning_rate = _choice(
        "learning rate", [(f"×{scale:g}", scale) for scale in grid.learning_rate_scales],
        grid.learning_rate_scales.index(1.0) if 1.0 in grid.learning_rate_scales else 0,
    )
    momentum = _choice("momentum β", [(f"{value:g}", value) for value in grid.momenta],
                       len(grid.momenta) // 2)
    # No Play button here: on a sphinx-book-theme page its FontAwesome script swaps the
    # button's <i> icon for an <svg>, and html-manager's Play view then fails on every click.
    step = _choice("step", [(str(position), position) for position in grid.step_positions], 0)
    image_layout = ipywidgets.Layout(width="100%")
    inner_layout = ipywidgets.Layout()
    images: list[ipywidgets.Image] = []
    captions: list[ipywidgets.HTML] = []
    pictures: dict[tuple[int, ...], RacePicture] = {}

    def add_image(png: bytes) -> ipywidgets.Image:
        images.append(_image(png, image_layout))
        return images[-1]

    def race_view(indices: tuple[int, ...]) -> ipywidgets.Image:
        surface_index, rate_index, momentum_index = indices
        race = run_race(grid.surfaces[surface_index], grid.learning_rate_scales[rate_index],
                        grid.momenta[momentum_index], grid.steps, optimizers, seed)
        pictures[indices] = draw_race(race)
        return add_image(pictures[indices].png)

    def caption_view(indices: tuple[int, ...]) -> ipywidgets.HTML:
        captions.append(ipywidgets.HTML(pictures[indices].caption, layout=inner_layout))
        return captions[-1]

    def step_view(indices: tuple[int, ...]) -> ipywidgets.Image:
        return add_image(draw_step_layer(pictures[indices[:3]], grid.step_positions[indices[3]]))

    def surface_view(indices: tuple[int, ...]) -> ipywidgets.Image:
        return add_image(draw_surface(SURFACES[grid.surfaces[indices[0]]]))

    controls = [surface, learning_rate, momentum, step]
    layers = [
        _nested_stacks(controls[:1], surface_view, ipywidgets.Layout(), inner_layout),
        _nested_stacks(controls[:3], race_view, ipywidgets.Layout(), inner_layout),
        _nested_stacks(controls, step_view, ipywidgets.Layout(), inner_layout),
    ]
    widget = ipywidgets.VBox([
        ipywidgets.HBox([surface, learning_rate, momentum]),
        step,
        _layered(*layers),
        _nested_stacks(controls[:3], caption_view, ipywidgets.Layout(), inner_layout),
    ])
    named = {"surface": surface, "learning_rate": learning_rate, "momentum": momentum,
             "step": step}
    return Explorer(widget, named, images, captions)


def _live_optimizer_explorer(grid: OptimizerGrid, optimizers: tuple[str, ...],
                             seed: int) -> Explorer:
    style = {"description_width": "initial"}
    surface = ipywidgets.Dropdown(
        options=[(surface.title, name) for name, surface in SURFACES.items()],
        value=grid.surfaces[0], description="surface", style=style,
    )
    scales = grid.learning_rate_scales
    learning_rate = ipywidgets.FloatLogSlider(
        value=1.0, min=math.log10(min(scales)), max=math.log10(max(scales)), step=0.05,
        description="learning rate ×", style=style, continuous_update=False,
    )
    momentum = ipywidgets.FloatSlider(value=0.9, min=0.0, max=0.99, step=0.01,
                                      description="momentum β", style=style,
                                      continuous_update=False)
    racing = ipywidgets.SelectMultiple(
        options=[(OPTIMIZER_TITLES[name], name) for name in OPTIMIZER_NAMES], value=optimizers,
        rows=len(OPTIMIZER_NAMES), description="racing", style=style,
    )
    step = ipywidgets.IntSlider(value=0, min=0, max=grid.steps, description="step", style=style)
    play = ipywidgets.Play(min=0, max=grid.steps, interval=100, description="walk along the paths")
    ipywidgets.jslink((play, "value"), (step, "value"))
    surface_image, race_image, step_image = (
        ipywidgets.Image(format="png", layout=ipywidgets.Layout(width="100%")) for _ in range(3)
    )
    caption = ipywidgets.HTML()
    current: dict[str, RacePicture] = {}

    def redraw_step(_change=None) -> None:
        step_image.value = draw_step_layer(current["race"], step.value)

    def redraw_race(_change=None) -> None:
        race = run_race(surface.value, learning_rate.value, momentum.value, grid.steps,
                        racing.value or optimizers, seed)
        current["race"] = draw_race(race)
        race_image.value = current["race"].png
        caption.value = current["race"].caption
        redraw_step()

    def redraw_surface(_change=None) -> None:
        surface_image.value = draw_surface(SURFACES[surface.value])
        redraw_race()

    surface.observe(redraw_surface, names="value")
    for control in (learning_rate, momentum, racing):
        control.observe(redraw_race, names="value")
    step.observe(redraw_step, names="value")
    redraw_surface()
    widget = ipywidgets.HBox([
        ipywidgets.VBox([
            ipywidgets.HBox([surface, learning_rate, momentum]),
            ipywidgets.HBox([play, step]),
            _layered(surface_image, race_image, step_image),
            caption,
        ], layout=ipywidgets.Layout(width="85%")),
        racing,
    ])
    named = {"surface": surface, "learning_rate": learning_rate, "momentum": momentum,
             "step": step, "play": play, "racing": racing}
    return Explorer(widget, named, [surface_image, race_image, step_image], [caption])


def activation_explorer(static: bool | None = None,
                        grid: ActivationGrid = DEFAULT_ACTIVATION_GRID) -> Explorer:
    """Each activation with its derivative, and the parameter of those that have one.

    static=True precomputes `grid` (what the built book shows, no kernel needed);
    static=False recomputes for any parameter value in Jupyter; None picks
    (`static_by_default`).
    """
    unknown = [name for name in grid.activations if name not in ACTIVATIONS]
    if unknown:
        raise ForceMLPError(
            f"unknown activations {unknown}: choose from {', '.join(ACTIVATIONS)}."
        )
    if static_by_default(static):
        return _static_activation_explorer(grid)
    return _live_activation_explorer(grid)


def _static_activation_explorer(grid: ActivationGrid) -> Explorer:
    choice = _choice("activation", [(ACTIVATIONS[name].title, name) for name in grid.activations],
                     0, dropdown=True)
    image_layout = ipywidgets.Layout(width="100%")
    inner_layout = ipywidgets.Layout()
    images: list[ipywidgets.Image] = []
    controls: dict[str, ipywidgets.Widget] = {"activation": choice}
    views = []
    for name in grid.activations:
        activation = ACTIVATIONS[name]
        values = grid.parameters.get(name, ()) if activation.parameter_name else ()
        if not values:
            images.append(_image(draw_activation(name), image_layout))
            views.append(images[-1])
            continue
        default = activation.default_parameter
        start = values.index(default) if default in values else 0
        parameter = _choice(activation.parameter_name, [(f"{value:g}", value) for value in values],
                            start)
        controls[f"{name}.{activation.parameter_name}"] = parameter
        frames = [_image(draw_activation(name, value), image_layout) for value in values]
        images.extend(frames)
        views.append(ipywidgets.VBox([parameter, _linked_stack(parameter, frames, inner_layout)],
                                     layout=inner_layout))
    stack = _linked_stack(choice, views, ipywidgets.Layout(width="100%"))
    return Explorer(ipywidgets.VBox([choice, stack]), controls, images)


def _live_activation_explorer(grid: ActivationGrid) -> Explorer:
    style = {"description_width": "initial"}
    choice = ipywidgets.Dropdown(
        options=[(ACTIVATIONS[name].title, name) for name in grid.activations],
        description="activation", style=style,
    )
    parameter = ipywidgets.FloatSlider(description="parameter", style=style, step=0.01,
                                       continuous_update=False)
    image = ipywidgets.Image(format="png", layout=ipywidgets.Layout(width="100%"))

    def redraw(_change=None) -> None:
        activation = ACTIVATIONS[choice.value]
        value = parameter.value if activation.parameter_name else None
        image.value = draw_activation(choice.value, value)

    def choose_activation(_change=None) -> None:
        activation = ACTIVATIONS[choice.value]
        parameter.unobserve(redraw, names="value")  # one redraw below, not one per setting
        if activation.parameter_name is None:
            parameter.disabled, parameter.description = True, "(no parameter)"
        else:
            low, high = activation.parameter_range
            parameter.min = min(low, parameter.min)  # widen first: min may never exceed max
            parameter.max, parameter.min = high, low
            parameter.value = activation.default_parameter
            parameter.disabled, parameter.description = False, activation.parameter_name
        parameter.observe(redraw, names="value")
        redraw()

    choice.observe(choose_activation, names="value")
    choose_activation()
    widget = ipywidgets.VBox([ipywidgets.HBox([choice, parameter]), image])
    return Explorer(widget, {"activation": choice, "parameter": parameter}, [image])
