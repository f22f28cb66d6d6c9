"""The book's charts of data and results: digits, class shares, activation curves, descent
paths, training curves, per-class accuracy, confusion, predictions, hidden units' weights.

    from forcemlp import data, plots
    digits = data.load()
    plots.digit_grid(digits.train_images, digits.train_labels).savefig("digits.png")

Every function takes plain NumPy arrays or forcemlp's History / Evaluation records and returns
a matplotlib Figure with a title and labelled axes, so it works the same for a model trained by
any framework (this module never imports one). Figures are made with pyplot and closed at once:
pyplot wires up Jupyter's inline display, closing stops each figure from also being drawn at
the end of the cell, and the returned Figure still shows, saves or glues exactly once.
Pictures of the network itself are :mod:`forcemlp.diagrams`'.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import PowerNorm
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from .activations import ACTIVATIONS, get_activation
from .descent import Path
from .errors import ForceMLPError
from .history import Evaluation, History
from .optimizers import OPTIMIZER_TITLES
from .surfaces import get_surface

RIGHT_COLOR = "tab:green"
WRONG_COLOR = "tab:red"
PANELS_PER_ROW = 10
METRIC_TITLES = {"accuracy": "Accuracy", "loss": "Loss"}
CONFUSION_GAMMA = 0.3  # < 1 stretches small counts, so the rare mistakes get visible colour


def _as_square_images(images: np.ndarray) -> np.ndarray:
    """(N, 28, 28) or flat (N, 784) images -> (N, side, side), so callers may pass either."""
    images = np.asarray(images)
    if images.ndim == 3:
        return images
    if images.ndim == 2:
        side = math.isqrt(images.shape[1])
        if side * side == images.shape[1]:
            return images.reshape(len(images), side, side)
    raise ForceMLPError(
        f"expected images of shape (N, 28, 28) or (N, 784), got {images.shape}."
    )


def _image_panels(
    images: np.ndarray, titles: Sequence[str], colors: Sequence[str], suptitle: str
) -> Figure:
    """A grid of small images, each with its own coloured title, ten to a row."""
    count = len(titles)
    columns = min(count, PANELS_PER_ROW)
    rows = math.ceil(count / columns)
    figure, axes = plt.subplots(
        rows, columns, figsize=(1.1 * columns, 1.35 * rows + 0.5), squeeze=False,
        layout="constrained",
    )
    for index, axis in enumerate(axes.flat):
        axis.set_xticks([])
        axis.set_yticks([])
        if index >= count:
            axis.set_axis_off()
            continue
        axis.imshow(images[index], cmap="gray", vmin=0, vmax=images.max() or 1)
        axis.set_title(titles[index], color=colors[index], fontsize=10)
    figure.suptitle(suptitle)
    plt.close(figure)
    return figure


def _check_count(count: int, available: int, what: str) -> int:
    if count <= 0:
        raise ForceMLPError(f"count must be positive, got {count}.")
    if available == 0:
        raise ForceMLPError(f"no {what} to draw: pass at least one.")
    return min(count, available)


def _class_name(names: Sequence[str] | None, label: int) -> str:
    return str(names[label]) if names is not None else str(label)


def digit_grid(
    images: np.ndarray,
    labels: np.ndarray,
    count: int = 20,
    class_names: Sequence[str] | None = None,
    title: str | None = None,
) -> Figure:
    """The first ``count`` images, each titled with its label: a first look at the data."""
    images = _as_square_images(images)
    count = _check_count(count, min(len(images), len(labels)), "images")
    titles = [_class_name(class_names, int(label)) for label in labels[:count]]
    return _image_panels(
        images[:count], titles, ["black"] * count,
        title or f"The first {count} images and their labels",
    )


def annotated_digit(image: np.ndarray, label: int | str, fontsize: float = 7.0) -> Figure:
    """One digit drawn large with every pixel's value written on it.

    Text is light on dark pixels and dark on light ones, so each number stays readable; this
    is the picture that shows a digit really is just a grid of numbers.
    """
    image = np.asarray(image)
    if image.ndim == 1:
        image = _as_square_images(image[None])[0]
    if image.ndim != 2:
        raise ForceMLPError(f"expected one image of shape (28, 28) or (784,), got {image.shape}.")
    brightest = 255 if image.dtype == np.uint8 else 1.0
    value_format = "{:d}" if np.issubdtype(image.dtype, np.integer) else "{:.1f}"
    figure, axis = plt.subplots(figsize=(9, 9), layout="constrained")
    axis.imshow(image, cmap="gray", vmin=0, vmax=brightest)
    for (row, column), value in np.ndenumerate(image):
        color = "white" if value < brightest / 2 else "black"
        axis.text(column, row, value_format.format(value.item()), ha="center", va="center",
                  color=color, fontsize=fontsize)
    axis.set_title(f"A '{label}' as the network sees it: one number per pixel")
    axis.set_xlabel("pixel column")
    axis.set_ylabel("pixel row")
    plt.close(figure)
    return figure


def class_distribution(
    label_sets: Mapping[str, np.ndarray],
    class_names: Sequence[str] | None = None,
    title: str = "Share of each class in each set",
) -> Figure:
    """Grouped bars: for every set, the fraction of its samples in each class.

    Shares rather than counts, so sets of very different sizes compare at a glance: a
    stratified split shows bars of equal height within each class.
    """
    if not label_sets:
        raise ForceMLPError("class_distribution needs at least one named set of labels.")
    class_count = len(class_names) if class_names is not None else 1 + max(
        int(np.max(labels)) for labels in label_sets.values()
    )
    names = [_class_name(class_names, label) for label in range(class_count)]
    width = 0.8 / len(label_sets)
    positions = np.arange(class_count)
    figure, axis = plt.subplots(figsize=(9, 4), layout="constrained")
    for index, (set_name, labels) in enumerate(label_sets.items()):
        shares = np.bincount(np.asarray(labels), minlength=class_count) / len(labels)
        axis.bar(positions + (index - (len(label_sets) - 1) / 2) * width, shares, width,
                 label=f"{set_name} ({len(labels):,})")
    axis.set_xticks(positions, names, rotation=30 if max(map(len, names)) > 3 else 0)
    axis.yaxis.set_major_formatter(PercentFormatter(1.0))
    axis.set_title(title)
    axis.set_xlabel("class")
    axis.set_ylabel("share of the set")
    figure.legend(ncols=len(label_sets), loc="outside lower center")
    plt.close(figure)
    return figure


def class_probabilities(
    probabilities: np.ndarray,
    class_names: Sequence[str] | None = None,
    true_label: int | None = None,
    title: str = "What the network believes: one probability per class",
) -> Figure:
    """Bars of a network's output probabilities for one input; the true class is highlighted.

    The bar drawn tallest is the prediction; colour says whether it is the right one.
    """
    probabilities = np.asarray(probabilities, dtype=float).ravel()
    names = [_class_name(class_names, label) for label in range(len(probabilities))]
    colors = ["tab:gray"] * len(probabilities)
    if true_label is not None:
        predicted = int(probabilities.argmax())
        colors[true_label] = RIGHT_COLOR
        if predicted != true_label:
            colors[predicted] = WRONG_COLOR
    figure, axis = plt.subplots(figsize=(8, 3.5), layout="constrained")
    bars = axis.bar(names, probabilities, color=colors)
    axis.bar_label(bars, labels=[f"{value:.2f}" for value in probabilities], fontsize=8)
    axis.set_ylim(0, max(1.0, probabilities.max() * 1.15))
    axis.set_title(title)
    axis.set_xlabel("class" if true_label is None else f"class (true class {names[true_label]} in green)")
    axis.set_ylabel("probability")
    plt.close(figure)
    return figure


def activation_curves(
    names: Sequence[str] | None = None,
    x_limit: float = 4.0,
    columns: int = 3,
    title: str = "Activation functions (solid) and their derivatives (dashed)",
) -> Figure:
    """One small panel per activation: g(x) and g'(x) on [-x_limit, x_limit], default parameters.

    Drawing the derivative next to the function is the point: it is what backpropagation
    multiplies by, so flat stretches of g are where gradients vanish.
    """
    activations = [get_activation(name) for name in (names or list(ACTIVATIONS))]
    rows = math.ceil(len(activations) / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(3.3 * columns, 2.6 * rows),
                                squeeze=False, sharex=True, layout="constrained")
    x = np.linspace(-x_limit, x_limit, 401)
    for axis, activation in zip(axes.flat, activations):
        axis.plot(x, activation.function(x), color="tab:blue", label="g(x)")
        axis.plot(x, activation.derivative(x), "--", color="tab:orange", label="g'(x)")
        axis.axhline(0, color="gray", linewidth=0.5)
        axis.axvline(0, color="gray", linewidth=0.5)
        axis.set_title(activation.title)
        axis.set_xlabel("x")
        axis.set_ylabel("g(x), g'(x)")
        axis.grid(alpha=0.3)
    for axis in axes.flat[len(activations):]:
        axis.set_axis_off()
    axes.flat[0].legend(fontsize=8)
    figure.suptitle(title)
    plt.close(figure)
    return figure


def gradient_norms(
    norms: Mapping[str, Sequence[float]],
    title: str = "How big the gradient of each layer's weights is",
) -> Figure:
    """Size of dE/dW per layer (log scale), one line per network: vanishing gradients at a glance.

    Layer 1 is nearest the input; a line falling towards it means the first layers learn slowest.
    """
    if not norms:
        raise ForceMLPError("gradient_norms needs at least one named list of per-layer norms.")
    figure, axis = plt.subplots(figsize=(8, 4), layout="constrained")
    for name, values in norms.items():
        axis.plot(np.arange(1, len(values) + 1), values, "-o", markersize=4, label=name)
    axis.set_yscale("log")
    axis.xaxis.get_major_locator().set_params(integer=True)
    axis.set_title(title)
    axis.set_xlabel("layer (1 = next to the input)")
    axis.set_ylabel("norm of dE/dW")
    axis.grid(alpha=0.3, which="both")
    axis.legend()
    plt.close(figure)
    return figure


def descent_paths(
    paths: Sequence[Path],
    title: str | None = None,
    grid_size: int = 200,
) -> Figure:
    """Optimizers' walks on one surface: paths over its contour lines, and loss per step.

    The view is the surface's plotting window, so a diverging walk leaves the picture instead
    of stretching it; its legend entry says at which step it diverged. Where the surface has a
    minimum, the loss axis shows the distance to it on a log scale.
    """
    if not paths or len({path.surface for path in paths}) != 1:
        raise ForceMLPError("descent_paths needs at least one path, all on the same surface.")
    surface = get_surface(paths[0].surface)
    figure, (contour_axis, loss_axis) = plt.subplots(
        1, 2, figsize=(10, 5), width_ratios=(1.1, 1), layout="constrained"
    )
    x_grid, y_grid = np.meshgrid(np.linspace(*surface.x_range, grid_size),
                                 np.linspace(*surface.y_range, grid_size))
    heights = surface.function(np.stack([x_grid, y_grid], axis=-1))
    contour_axis.contour(x_grid, y_grid, np.log1p(heights - heights.min()), levels=25,
                         colors="#c8c8c8", linewidths=0.8)
    floor = None if surface.minimum is None else float(surface.function(surface.minimum))
    for path in paths:
        taken = path.diverged_at if path.diverged else len(path.losses)
        label = f"{OPTIMIZER_TITLES.get(path.optimizer, path.optimizer)}, η = {path.learning_rate:.3g}"
        if path.diverged:
            label += f" (diverged at step {path.diverged_at})"
        line, = contour_axis.plot(*path.points[:taken].T, "-", linewidth=1.5, label=label)
        contour_axis.plot(*path.points[taken - 1], "o", color=line.get_color(), markersize=4)
        losses = path.losses[:taken]
        if floor is not None:
            losses = np.maximum(losses - floor, 1e-12)
        loss_axis.plot(np.arange(taken), losses, color=line.get_color())
    contour_axis.plot(*surface.start, "ks", markersize=6, label="start")
    if surface.minimum is not None:
        contour_axis.plot(*surface.minimum, "k*", markersize=12, label="minimum")
    contour_axis.set_xlim(surface.x_range)
    contour_axis.set_ylim(surface.y_range)
    contour_axis.set_title(f"{surface.title}: ${surface.formula}$" if surface.formula
                           else surface.title)
    contour_axis.set_xlabel("x")
    contour_axis.set_ylabel("y")
    if floor is not None:
        loss_axis.set_yscale("log")
        loss_axis.set_ylabel("loss above the minimum")
    else:
        loss_axis.set_ylabel("loss")
    loss_axis.set_title("Loss at each step")
    loss_axis.set_xlabel("step")
    loss_axis.grid(alpha=0.3, which="both")
    figure.legend(loc="outside lower center", ncols=3, fontsize=8)
    figure.suptitle(title or f"Walking down the {surface.title} surface")
    plt.close(figure)
    return figure


def _history_label(history: History, labels: Sequence[str] | None, index: int) -> str:
    return labels[index] if labels is not None else history.framework


def training_curves(
    history: History | Sequence[History],
    metrics: Sequence[str] = ("accuracy", "loss"),
    labels: Sequence[str] | None = None,
    title: str = "Training and validation, epoch by epoch",
) -> Figure:
    """One panel per metric: training (solid) against validation (dashed) for each run.

    The gap between the two lines is the story: validation falling behind training means the
    model starts to memorise. The epoch whose weights were kept is marked with a dot.
    """
    histories = [history] if isinstance(history, History) else list(history)
    if not histories or any(not run.epochs for run in histories):
        raise ForceMLPError("training_curves needs at least one History with at least one epoch.")
    if labels is not None and len(labels) != len(histories):
        raise ForceMLPError(f"{len(labels)} labels for {len(histories)} histories: give one each.")
    for metric in metrics:
        if metric not in METRIC_TITLES:
            raise ForceMLPError(f"unknown metric {metric!r}: choose from {', '.join(METRIC_TITLES)}.")
    figure, axes = plt.subplots(
        1, len(metrics), figsize=(5.5 * len(metrics), 4), squeeze=False, layout="constrained"
    )
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for axis, metric in zip(axes.flat, metrics):
        for index, run in enumerate(histories):
            color = colors[index % len(colors)]
            epochs = [metrics_row.epoch for metrics_row in run.epochs]
            name = _history_label(run, labels, index)
            axis.plot(epochs, run.column(f"train_{metric}"), "-o", color=color, markersize=3,
                      label=f"{name} train")
            validation = run.column(f"val_{metric}")
            axis.plot(epochs, validation, "--s", color=color, markersize=3,
                      label=f"{name} validation")
            if run.best_epoch is not None:
                axis.plot(run.best_epoch, validation[epochs.index(run.best_epoch)], "o",
                          color=color, markersize=9, fillstyle="none")
        axis.set_title(f"{METRIC_TITLES[metric]} per epoch")
        axis.set_xlabel("epoch")
        axis.set_ylabel(metric)
        axis.xaxis.get_major_locator().set_params(integer=True)
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    figure.suptitle(title)
    plt.close(figure)
    return figure


def per_class_accuracy(
    evaluation: Evaluation,
    class_names: Sequence[str] | None = None,
    title: str = "Test accuracy per class",
) -> Figure:
    """Bars of accuracy for each class, each labelled, with the overall accuracy as a line."""
    accuracies = evaluation.per_class_accuracy
    names = [_class_name(class_names, label) for label in range(len(accuracies))]
    figure, axis = plt.subplots(figsize=(8, 4), layout="constrained")
    bars = axis.bar(names, accuracies, color="tab:blue")
    axis.bar_label(bars, labels=[f"{value:.0%}" for value in accuracies], fontsize=8)
    axis.axhline(evaluation.accuracy, color="tab:orange", linestyle="--",
                 label=f"all classes: {evaluation.accuracy:.1%}")
    axis.set_ylim(0, 1.1)
    axis.set_title(title)
    axis.set_xlabel("class")
    axis.set_ylabel("accuracy")
    axis.legend(loc="lower right")
    if max(len(name) for name in names) > 3:
        axis.tick_params(axis="x", labelrotation=30)
    plt.close(figure)
    return figure


def confusion_matrix(
    evaluation: Evaluation,
    class_names: Sequence[str] | None = None,
    title: str = "Confusion matrix: true class against predicted class",
) -> Figure:
    """Counts of (true, predicted) pairs; the colour scale is compressed so mistakes show."""
    confusion = evaluation.confusion
    names = [_class_name(class_names, label) for label in range(len(confusion))]
    figure, axis = plt.subplots(figsize=(7, 6), layout="constrained")
    largest = max(int(confusion.max()), 1)
    image = axis.imshow(confusion, cmap="Blues",
                        norm=PowerNorm(gamma=CONFUSION_GAMMA, vmin=0, vmax=largest))
    white_text_above = largest * 0.5 ** (1 / CONFUSION_GAMMA)
    for (true, predicted), count in np.ndenumerate(confusion):
        axis.text(predicted, true, str(count), ha="center", va="center", fontsize=8,
                  color="white" if count > white_text_above else "black")
    ticks = np.arange(len(names))
    axis.set_xticks(ticks, names, rotation=30 if max(map(len, names)) > 3 else 0)
    axis.set_yticks(ticks, names)
    axis.set_xlabel("predicted class")
    axis.set_ylabel("true class")
    axis.set_title(title)
    figure.colorbar(image, ax=axis, label="number of images")
    plt.close(figure)
    return figure


def prediction_grid(
    images: np.ndarray,
    evaluation: Evaluation,
    count: int = 20,
    class_names: Sequence[str] | None = None,
    title: str | None = None,
) -> Figure:
    """The first ``count`` images titled "pred (true)": green when right, red when wrong.

    ``images`` must be the images ``evaluation`` judged, in the same order.
    """
    images = _as_square_images(images)
    if len(images) != len(evaluation.labels):
        raise ForceMLPError(
            f"{len(images)} images for an evaluation of {len(evaluation.labels)}:"
            " pass the images the model was evaluated on, in the same order."
        )
    count = _check_count(count, len(images), "images")
    predicted, true = evaluation.predictions[:count], evaluation.labels[:count]
    titles = [
        f"{_class_name(class_names, int(guess))} ({_class_name(class_names, int(answer))})"
        for guess, answer in zip(predicted, true)
    ]
    colors = [RIGHT_COLOR if guess == answer else WRONG_COLOR for guess, answer in zip(predicted, true)]
    right = int((predicted == true).sum())
    return _image_panels(
        images[:count], titles, colors,
        title or f"Predicted (true) label: {right} of {count} right, mistakes in red",
    )


def hidden_unit_weights(
    weight_sets: Mapping[str, np.ndarray],
    columns: int = 8,
    title: str = "What each hidden unit looks for: its 784 weights as a 28 × 28 image",
) -> Figure:
    """Each hidden unit's incoming weights drawn as an image, one block of panels per set.

    ``weight_sets`` maps a name ("before training") to a weight matrix of shape (units, 784),
    one row per unit. Blue pixels push the unit up, red ones down; each set has one colour
    scale, symmetric around zero, so units within a set compare fairly.
    """
    if not weight_sets:
        raise ForceMLPError("hidden_unit_weights needs at least one named weight matrix.")
    matrices = {name: np.asarray(weights, dtype=float) for name, weights in weight_sets.items()}
    for name, weights in matrices.items():
        if weights.ndim != 2 or math.isqrt(weights.shape[1]) ** 2 != weights.shape[1]:
            raise ForceMLPError(
                f"weights {name!r} have shape {weights.shape}: pass one row of"
                " 784 (a square number of) input weights per hidden unit."
            )
    units = max(len(weights) for weights in matrices.values())
    rows = math.ceil(units / columns)
    figure = plt.figure(figsize=(1.25 * columns + 1.2, (1.3 * rows + 0.6) * len(matrices) + 0.4),
                        layout="constrained")
    for subfigure, (name, weights) in zip(
        np.atleast_1d(figure.subfigures(len(matrices), 1)), matrices.items()
    ):
        side = math.isqrt(weights.shape[1])
        limit = float(np.abs(weights).max()) or 1.0
        axes = subfigure.subplots(rows, columns, squeeze=False)
        for unit, axis in enumerate(axes.flat):
            axis.set_xticks([])
            axis.set_yticks([])
            if unit >= len(weights):
                axis.set_axis_off()
                continue
            image = axis.imshow(weights[unit].reshape(side, side), cmap="RdBu",
                                vmin=-limit, vmax=limit)
            axis.set_title(f"unit {unit + 1}", fontsize=8)
        subfigure.colorbar(image, ax=axes, shrink=0.8, label="weight (blue +, red −)")
        subfigure.suptitle(name)
    figure.suptitle(title)
    plt.close(figure)
    return figure
