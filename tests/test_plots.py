"""plots.py draws real MNIST digits and hand-built records into titled, labelled figures."""
from __future__ import annotations

import numpy as np
import pytest
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure

from forcemlp import data, diagrams, plots
from forcemlp.errors import ForceMLPError
from forcemlp.history import EpochMetrics, History, evaluate_predictions


@pytest.fixture(scope="module")
def digits() -> data.Digits:
    return data.load()


@pytest.fixture(scope="module")
def evaluation(digits):
    """An evaluation of the first 30 test digits in which every third prediction is wrong."""
    labels = digits.test_labels[:30].astype(np.int64)
    predictions = labels.copy()
    predictions[::3] = (labels[::3] + 1) % 10
    return evaluate_predictions(predictions, labels, loss=0.5)


def make_history(framework: str, epochs: int = 4) -> History:
    history = History(framework)
    for epoch in range(1, epochs + 1):
        history.append(EpochMetrics(epoch, 1 / epoch, 1 - 0.5 / epoch, 1.2 / epoch,
                                    1 - 0.6 / epoch, 1.0))
    history.best_epoch = epochs
    return history


def image_axes(figure: Figure) -> list:
    return [axis for axis in figure.axes if axis.images]


def plot_axes(figure: Figure) -> list:
    """The figure's axes without colour bars, which carry a label but no title of their own."""
    return [axis for axis in figure.axes if axis.get_label() != "<colorbar>"]


def assert_titled(figure: Figure) -> None:
    assert isinstance(figure, Figure)
    suptitle = figure._suptitle.get_text() if figure._suptitle else ""
    assert suptitle or all(axis.get_title() for axis in plot_axes(figure))


def assert_labelled(figure: Figure) -> None:
    for axis in plot_axes(figure):
        assert axis.get_xlabel() and axis.get_ylabel(), axis.get_title()


def test_digit_grid_shows_first_images_titled_with_labels(digits):
    figure = plots.digit_grid(digits.train_images, digits.train_labels, count=20)
    assert_titled(figure)
    panels = image_axes(figure)
    assert len(panels) == 20
    assert [axis.get_title() for axis in panels] == [str(v) for v in digits.train_labels[:20]]
    np.testing.assert_array_equal(panels[7].images[0].get_array(), digits.train_images[7])


def test_digit_grid_accepts_flat_features_and_class_names(digits):
    features = data.to_features(digits.test_images[:12])
    names = [f"digit {d}" for d in range(10)]
    figure = plots.digit_grid(features, digits.test_labels[:12], count=12, class_names=names)
    panels = image_axes(figure)
    assert len(panels) == 12
    assert panels[0].get_title() == f"digit {digits.test_labels[0]}"
    assert panels[0].images[0].get_array().shape == (28, 28)


def test_annotated_digit_writes_every_pixel_in_contrasting_colour(digits):
    image = digits.train_images[0]
    figure = plots.annotated_digit(image, int(digits.train_labels[0]))
    assert_titled(figure)
    assert_labelled(figure)
    texts = figure.axes[0].texts
    assert len(texts) == 784
    for text in texts:
        column, row = (round(value) for value in text.get_position())
        assert text.get_text() == str(image[row, column])
        expected = "white" if image[row, column] < 255 / 2 else "black"
        assert to_rgba(text.get_color()) == to_rgba(expected)
    assert {text.get_color() for text in texts} == {"white", "black"}


def test_class_distribution_draws_each_sets_class_shares(digits):
    sets = {"train": digits.train_labels, "test": digits.test_labels}
    figure = plots.class_distribution(sets, digits.class_names)
    assert_titled(figure)
    assert_labelled(figure)
    bars = figure.axes[0].patches
    assert len(bars) == 20
    train_shares = [bar.get_height() for bar in bars[:10]]
    np.testing.assert_allclose(train_shares, np.bincount(digits.train_labels) / 60000)
    legend = [text.get_text() for text in figure.legends[0].get_texts()]
    assert legend == ["train (60,000)", "test (10,000)"]


def test_class_probabilities_highlight_true_and_wrong_prediction():
    probabilities = np.array([0.05, 0.6, 0.05, 0.3, 0, 0, 0, 0, 0, 0])
    figure = plots.class_probabilities(probabilities, true_label=3)
    assert_titled(figure)
    assert_labelled(figure)
    bars = figure.axes[0].patches
    np.testing.assert_allclose([bar.get_height() for bar in bars], probabilities)
    assert to_rgba(bars[3].get_facecolor()) == to_rgba(plots.RIGHT_COLOR)
    assert to_rgba(bars[1].get_facecolor()) == to_rgba(plots.WRONG_COLOR)
    assert to_rgba(bars[0].get_facecolor()) == to_rgba("tab:gray")


def test_activation_curves_draw_function_and_derivative_per_panel():
    from forcemlp.activations import ACTIVATIONS

    figure = plots.activation_curves(["relu", "sigmoid", "tanh", "elu"], columns=3)
    assert_titled(figure)
    panels = [axis for axis in figure.axes if axis.lines]
    assert [axis.get_title() for axis in panels] == ["ReLU", "Sigmoid", "Tanh", "ELU"]
    for axis in panels:
        assert axis.get_xlabel() and axis.get_ylabel()
    sigmoid_function, sigmoid_derivative = panels[1].lines[:2]
    x = sigmoid_function.get_xdata()
    np.testing.assert_allclose(sigmoid_function.get_ydata(), ACTIVATIONS["sigmoid"].function(x))
    np.testing.assert_allclose(sigmoid_derivative.get_ydata(), ACTIVATIONS["sigmoid"].derivative(x))
    assert max(sigmoid_derivative.get_ydata()) == pytest.approx(0.25)


def test_activation_curves_refuse_unknown_names():
    with pytest.raises(ForceMLPError, match="unknown activation"):
        plots.activation_curves(["relu", "magic"])


def test_gradient_norms_draw_one_log_scaled_line_per_network():
    norms = {"sigmoid": [1e-6, 1e-4, 1e-2], "relu": [0.5, 0.2, 0.1]}
    figure = plots.gradient_norms(norms)
    assert_titled(figure)
    assert_labelled(figure)
    axis = figure.axes[0]
    assert axis.get_yscale() == "log"
    np.testing.assert_allclose(axis.lines[0].get_ydata(), norms["sigmoid"])
    np.testing.assert_allclose(axis.lines[1].get_xdata(), [1, 2, 3])


def test_descent_paths_draw_each_walk_and_mark_divergence():
    from forcemlp.descent import descend

    slow = descend("gd", "ravine", learning_rate=0.1, steps=60)
    wild = descend("gd", "ravine", learning_rate=1.1, steps=200)
    assert wild.diverged
    figure = plots.descent_paths([slow, wild])
    assert_titled(figure)
    assert_labelled(figure)
    contour_axis, loss_axis = figure.axes
    assert loss_axis.get_yscale() == "log"
    np.testing.assert_allclose(contour_axis.lines[0].get_xydata(), slow.points)
    assert len(contour_axis.lines[2].get_xdata()) == wild.diverged_at
    legend = [text.get_text() for text in figure.legends[0].get_texts()]
    assert legend[0] == "Gradient descent, η = 0.1"
    assert legend[1] == f"Gradient descent, η = 1.1 (diverged at step {wild.diverged_at})"
    np.testing.assert_allclose(loss_axis.lines[0].get_ydata(), np.maximum(slow.losses, 1e-12))


def test_descent_paths_refuse_paths_on_different_surfaces():
    from forcemlp.descent import descend

    paths = [descend("gd", "ravine", 0.1, 5), descend("gd", "saddle", 0.1, 5)]
    with pytest.raises(ForceMLPError, match="same surface"):
        plots.descent_paths(paths)


def test_training_curves_plot_train_and_validation_per_metric():
    history = make_history("torch")
    figure = plots.training_curves(history)
    assert_titled(figure)
    assert_labelled(figure)
    accuracy_axis, loss_axis = figure.axes
    assert accuracy_axis.get_ylabel() == "accuracy" and loss_axis.get_ylabel() == "loss"
    solid, dashed = accuracy_axis.lines[:2]
    np.testing.assert_allclose(solid.get_ydata(), history.column("train_accuracy"))
    np.testing.assert_allclose(dashed.get_ydata(), history.column("val_accuracy"))
    np.testing.assert_allclose(solid.get_xdata(), [1, 2, 3, 4])


def test_training_curves_compare_several_runs():
    runs = [make_history("keras", 3), make_history("torch", 5)]
    figure = plots.training_curves(runs, metrics=("loss",), labels=["Keras", "PyTorch"])
    (axis,) = figure.axes
    legend = [text.get_text() for text in axis.get_legend().get_texts()]
    assert legend == ["Keras train", "Keras validation", "PyTorch train", "PyTorch validation"]


def test_training_curves_reject_unknown_metric_and_empty_history():
    with pytest.raises(ForceMLPError, match="unknown metric"):
        plots.training_curves(make_history("torch"), metrics=("f1",))
    with pytest.raises(ForceMLPError, match="at least one epoch"):
        plots.training_curves(History("torch"))


def test_per_class_accuracy_draws_one_bar_per_class(evaluation):
    figure = plots.per_class_accuracy(evaluation, [str(d) for d in range(10)])
    assert_titled(figure)
    assert_labelled(figure)
    heights = [bar.get_height() for bar in figure.axes[0].patches]
    np.testing.assert_allclose(heights, evaluation.per_class_accuracy)
    overall = figure.axes[0].lines[0].get_ydata()
    np.testing.assert_allclose(overall, evaluation.accuracy)


def test_confusion_matrix_writes_every_count(evaluation):
    figure = plots.confusion_matrix(evaluation, [str(d) for d in range(10)])
    assert_titled(figure)
    assert_labelled(figure)
    axis = figure.axes[0]
    np.testing.assert_array_equal(axis.images[0].get_array(), evaluation.confusion)
    written = sorted(int(text.get_text()) for text in axis.texts)
    assert written == sorted(evaluation.confusion.ravel().tolist())
    assert sum(written) == 30


def test_prediction_grid_colours_titles_by_correctness(digits, evaluation):
    figure = plots.prediction_grid(digits.test_images[:30], evaluation, count=20)
    assert_titled(figure)
    panels = image_axes(figure)
    assert len(panels) == 20
    for index, axis in enumerate(panels):
        guess, answer = evaluation.predictions[index], evaluation.labels[index]
        assert axis.get_title() == f"{guess} ({answer})"
        expected = plots.RIGHT_COLOR if guess == answer else plots.WRONG_COLOR
        assert to_rgba(axis.title.get_color()) == to_rgba(expected)
    assert "13 of 20 right" in figure._suptitle.get_text()


def test_prediction_grid_refuses_images_that_do_not_match(digits, evaluation):
    with pytest.raises(ForceMLPError, match="same order"):
        plots.prediction_grid(digits.test_images[:10], evaluation)


def test_figures_save_as_png(digits, tmp_path):
    figure = plots.digit_grid(digits.train_images, digits.train_labels, count=5)
    path = tmp_path / "grid.png"
    figure.savefig(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def circles(figure: Figure) -> list:
    from matplotlib.patches import Circle

    return [patch for patch in figure.axes[0].patches if isinstance(patch, Circle)]


def all_text(figure: Figure) -> str:
    return "\n".join(text.get_text() for axis in figure.axes for text in axis.texts)


def test_network_diagram_draws_shown_neurons_and_matrix_shapes():
    figure = diagrams.network_diagram((784, 16, 10), shown=10)
    assert_titled(figure)
    assert len(circles(figure)) == 10 + 10 + 10  # 784 and 16 cut to 10, all 10 outputs
    text = all_text(figure)
    assert "$W$: 16 × 784" in text and "$O$: 10 × 16" in text
    assert "$b_h$: 16" in text and "$b_o$: 10" in text
    assert text.count("⋮") == 2  # the input and hidden columns are cut, the output is not
    assert "784 pixels" in text and "10 units" in text
    edges = [line for line in figure.axes[0].lines]
    assert len(edges) == 10 * 10 + 10 * 10  # fully connected between drawn neurons


def test_network_diagram_names_deeper_layers_and_refuses_nonsense():
    figure = diagrams.network_diagram((784, 64, 32, 10), shown=6)
    text = all_text(figure)
    assert "$W_1$: 64 × 784" in text and "$W_3$: 10 × 32" in text
    with pytest.raises(ForceMLPError, match="two or more positive layer sizes"):
        diagrams.network_diagram((784,))
    with pytest.raises(ForceMLPError, match="two or more positive layer sizes"):
        diagrams.network_diagram((784, 0, 10))


def test_computational_graph_shows_forward_nodes_and_backward_deltas():
    figure = diagrams.computational_graph()
    assert_titled(figure)
    text = all_text(figure)
    for node in ("W\\mathbf{x} + \\mathbf{b}_h", "g(\\mathbf{h})", "O\\mathbf{a} + \\mathbf{b}_o",
                 "\\mathrm{softmax}", "-\\log"):
        assert node in text
    assert "\\hat{\\mathbf{y}} - \\mathbf{y}" in text  # delta_o
    assert "\\odot g'(\\mathbf{h})" in text  # delta_h
    red = [line for line in figure.axes[0].lines if to_rgba(line.get_color()) == to_rgba("tab:red")]
    assert len(red) == len(diagrams.GRAPH_BACKWARD)
    figure.canvas.draw()  # every label is valid mathtext


def test_hidden_unit_weights_draw_each_unit_as_an_image():
    random = np.random.default_rng(0)
    before, after = random.normal(size=(16, 784)), random.normal(size=(16, 784))
    figure = plots.hidden_unit_weights({"before": before, "after": after})
    assert figure._suptitle.get_text()
    panels = [axis for axis in figure.axes if axis.images]
    assert len(panels) == 32
    np.testing.assert_array_equal(panels[3].images[0].get_array(), before[3].reshape(28, 28))
    np.testing.assert_array_equal(panels[16 + 5].images[0].get_array(),
                                  after[5].reshape(28, 28))
    limit = np.abs(after).max()
    assert panels[20].images[0].get_clim() == (-limit, limit)  # one symmetric scale per set
    assert [subfigure._suptitle.get_text() for subfigure in figure.subfigs] == ["before", "after"]
    colorbars = [axis for axis in figure.axes if axis.get_label() == "<colorbar>"]
    assert len(colorbars) == 2 and all(axis.get_ylabel() for axis in colorbars)


def test_hidden_unit_weights_refuse_non_square_inputs():
    with pytest.raises(ForceMLPError, match="one row of"):
        plots.hidden_unit_weights({"odd": np.zeros((16, 783))})
    with pytest.raises(ForceMLPError, match="at least one"):
        plots.hidden_unit_weights({})
