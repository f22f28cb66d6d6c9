"""Pictures of the network itself, not of its data or results: the layers as circles and
lines, and lesson 2's computational graph with the gradients flowing back.

    from forcemlp import diagrams
    diagrams.network_diagram((784, 16, 10)).savefig("mlp.png")

Like :mod:`forcemlp.plots`, each function returns a matplotlib Figure already closed by pyplot.
"""
from __future__ import annotations

import itertools
from collections.abc import Sequence

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.patches import Circle

from .errors import ForceMLPError

NEURON_RADIUS = 0.13
DIAGRAM_EDGE_COLOR = "#b8b8b8"
BACKWARD_COLOR = "tab:red"


def _shown_neurons(size: int, shown: int) -> tuple[list[int], bool]:
    """Which neurons of a layer to draw (first and last ones) and whether some are left out."""
    if size <= shown:
        return list(range(size)), False
    head = shown // 2
    return list(range(head)) + list(range(size - (shown - head), size)), True


def _matrix_names(layer_count: int) -> list[tuple[str, str]]:
    """(weight, bias) names of each layer in the book's notation: W, b_h then O, b_o."""
    if layer_count == 2:
        return [("W", "b_h"), ("O", "b_o")]
    return [(f"W_{index}", f"b_{index}") for index in range(1, layer_count + 1)]


def network_diagram(
    layer_sizes: Sequence[int] = (784, 16, 10),
    shown: int = 10,
    title: str | None = None,
) -> Figure:
    """The MLP as circles and lines: each layer's neurons, and each weight matrix's shape.

    Layers wider than ``shown`` draw their first and last neurons with a gap marked "⋮"
    between; every drawn neuron is joined to every drawn neuron of the next layer, the
    picture of "fully connected". Between the columns, the weight matrix and bias vector
    of that layer with their shapes (W is 16 × 784 for 784 inputs and 16 hidden units).
    """
    sizes = [int(size) for size in layer_sizes]
    if len(sizes) < 2 or min(sizes) <= 0 or shown < 2:
        raise ForceMLPError(
            f"network_diagram needs two or more positive layer sizes and shown >= 2,"
            f" got {list(layer_sizes)} and {shown}."
        )
    figure, axis = plt.subplots(figsize=(2.4 + 2.6 * len(sizes), 6), layout="constrained")
    spacing = 2.6
    tallest = min(max(sizes), shown) + 1
    positions: list[list[tuple[float, float]]] = []
    for column, size in enumerate(sizes):
        drawn, gapped = _shown_neurons(size, shown)
        slots = len(drawn) + (1 if gapped else 0)
        top = (slots - 1) / 2 * 0.5
        heights = [top - 0.5 * slot for slot in range(slots)]
        if gapped:
            gap_height = heights.pop(len(drawn) // 2)
            axis.text(column * spacing, gap_height, "⋮", ha="center", va="center", fontsize=16)
        positions.append([(column * spacing, height) for height in heights])
    for left, right in itertools.pairwise(positions):
        for start in left:
            for end in right:
                axis.plot(*zip(start, end), color=DIAGRAM_EDGE_COLOR, linewidth=0.4, zorder=1)
    layer_titles = (
        ["input layer $\\mathbf{x}$"]
        + ["hidden layer $\\mathbf{h}$, $\\mathbf{a}$"] * (len(sizes) - 2)
        + ["output layer $\\hat{\\mathbf{y}}$"]
    )
    bottom = -tallest * 0.25 - 0.35
    for column, (size, centres, layer_title) in enumerate(zip(sizes, positions, layer_titles)):
        face = "tab:blue" if column == 0 else ("tab:orange" if column < len(sizes) - 1
                                                else "tab:green")
        for centre in centres:
            axis.add_patch(Circle(centre, NEURON_RADIUS, facecolor=face, edgecolor="black",
                                  linewidth=0.6, zorder=2))
        unit_word = "pixels" if column == 0 else "units"
        axis.text(column * spacing, bottom, f"{layer_title}\n{size:,} {unit_word}",
                  ha="center", va="top", fontsize=10)
    drawn_output, _ = _shown_neurons(sizes[-1], shown)
    for (x, y), label in zip(positions[-1], drawn_output):
        axis.text(x + 0.25, y, str(label), ha="left", va="center", fontsize=8)
    for column, ((weight, bias), (fan_in, fan_out)) in enumerate(
        zip(_matrix_names(len(sizes) - 1), itertools.pairwise(sizes))
    ):
        axis.text((column + 0.5) * spacing, tallest * 0.25 + 0.25,
                  f"${weight}$: {fan_out:,} × {fan_in:,}\n${bias}$: {fan_out:,}",
                  ha="center", va="bottom", fontsize=10,
                  bbox={"boxstyle": "round", "facecolor": "white", "edgecolor": "#888888"})
    axis.set_xlim(-spacing / 2, (len(sizes) - 0.5) * spacing)
    axis.set_ylim(bottom - 0.9, tallest * 0.25 + 1.0)
    axis.set_aspect("equal")
    axis.set_axis_off()
    shape = "-".join(str(size) for size in sizes)
    axis.set_title(title or f"The {shape} network: every neuron sees every output of the"
                   " layer before")
    plt.close(figure)
    return figure


# (label, x) of each node of the one-hidden-layer graph, left to right.
GRAPH_NODES = (
    (r"$\mathbf{x}$", 0.0),
    (r"$\mathbf{h} = W\mathbf{x} + \mathbf{b}_h$", 2.2),
    (r"$\mathbf{a} = g(\mathbf{h})$", 4.4),
    (r"$\mathbf{z} = O\mathbf{a} + \mathbf{b}_o$", 6.6),
    (r"$\hat{\mathbf{y}} = \mathrm{softmax}(\mathbf{z})$", 8.8),
    (r"$E = -\log\,\hat{y}_c$", 11.0),
)
# (from node, to node, label) of each backward arrow: the loss's gradient, carried back.
DELTA_O = r"$\boldsymbol{\delta}_o = \partial E / \partial \mathbf{z} = \hat{\mathbf{y}} - \mathbf{y}$"
DELTA_A = r"$\partial E / \partial \mathbf{a} = O^{\top} \boldsymbol{\delta}_o$"
DELTA_H = r"$\boldsymbol{\delta}_h = (O^{\top} \boldsymbol{\delta}_o) \odot g'(\mathbf{h})$"
GRAPH_BACKWARD = ((5, 3, DELTA_O), (3, 2, DELTA_A), (2, 1, DELTA_H))
# (parameters, node they feed, lines of their gradients) for the boxes above the graph.
GRAPH_PARAMETERS = (
    (r"$W,\ \mathbf{b}_h$", 1, (
        r"$\partial E/\partial W = \boldsymbol{\delta}_h \mathbf{x}^{\top}$,",
        r"$\partial E/\partial \mathbf{b}_h = \boldsymbol{\delta}_h$",
    )),
    (r"$O,\ \mathbf{b}_o$", 3, (
        r"$\partial E/\partial O = \boldsymbol{\delta}_o \mathbf{a}^{\top}$,",
        r"$\partial E/\partial \mathbf{b}_o = \boldsymbol{\delta}_o$",
    )),
    (r"target $\mathbf{y}$", 5, ()),
)


def computational_graph(
    title: str = "The forward pass (black) and the backward pass (red) as a graph",
) -> Figure:
    """x → Wx + b_h → g → Oa + b_o → softmax → loss, with the δ's flowing back underneath.

    Each box is one operation of lesson 2's forward pass; black arrows carry values forward,
    red arrows carry the loss's gradient back, labelled with the equation that computes it,
    and the parameters above the boxes receive their gradients in red.
    """
    figure, axis = plt.subplots(figsize=(13, 4.4), layout="constrained")
    box = {"boxstyle": "round,pad=0.4", "facecolor": "#eef3fb", "edgecolor": "tab:blue"}
    for label, x in GRAPH_NODES:
        axis.text(x, 0, label, ha="center", va="center", fontsize=11, bbox=box, zorder=3)
    forward = {"arrowstyle": "-|>", "color": "black", "linewidth": 1.2,
               "shrinkA": 48, "shrinkB": 48}
    for (_, start), (_, end) in itertools.pairwise(GRAPH_NODES):
        axis.annotate("", xy=(end, 0.05), xytext=(start, 0.05), arrowprops=forward)
    for start, end, label in GRAPH_BACKWARD:
        start_x, end_x = GRAPH_NODES[start][1] - 0.15, GRAPH_NODES[end][1] + 0.15
        axis.plot([start_x, start_x, end_x], [-0.35, -1.0, -1.0], color=BACKWARD_COLOR,
                  linewidth=1.4)
        axis.annotate("", xy=(end_x, -0.35), xytext=(end_x, -1.0),
                      arrowprops={"arrowstyle": "-|>", "color": BACKWARD_COLOR,
                                  "linewidth": 1.4, "shrinkA": 0, "shrinkB": 0})
        axis.text((start_x + end_x) / 2, -1.2, label, ha="center", va="top", fontsize=10.5,
                  color=BACKWARD_COLOR)
    parameter_box = {"boxstyle": "round,pad=0.3", "facecolor": "#fff4e6",
                     "edgecolor": "tab:orange"}
    for label, node, gradient_lines in GRAPH_PARAMETERS:
        x = GRAPH_NODES[node][1]
        axis.text(x, 1.6, label, ha="center", va="center", fontsize=11, bbox=parameter_box)
        axis.annotate("", xy=(x, 0.4), xytext=(x, 1.3), arrowprops={**forward, "shrinkA": 0,
                                                                   "shrinkB": 0})
        if gradient_lines:
            axis.text(x + 0.25, 2.05, "\n".join(gradient_lines), ha="left", va="bottom",
                      fontsize=10, color=BACKWARD_COLOR)
    axis.text(GRAPH_NODES[0][1], 0.9, "forward:\nvalues flow right", ha="center",
              va="center", fontsize=9)
    axis.text(GRAPH_NODES[0][1], -1.0, "backward:\ngradients flow left", ha="center",
              va="center", fontsize=9, color=BACKWARD_COLOR)
    axis.set_xlim(-1.0, 12.2)
    axis.set_ylim(-1.9, 2.9)
    axis.set_axis_off()
    axis.set_title(title)
    plt.close(figure)
    return figure
