"""A drawing made MNIST-style, real digits traced as strokes, and exported weights read back."""
import base64
import json

import numpy as np
import pytest
import torch

from forcemlp import model_export
from forcemlp.config import TrainConfig
from forcemlp.digit_drawing import BOX_SIDE, digit_strokes, mnist_style, render_strokes
from forcemlp.errors import ForceMLPError
from forcemlp.runner import run
from forcemlp.weights import LayerWeights, log_probabilities


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    rows, columns = np.indices(image.shape) + 0.5
    return (rows * image).sum() / image.sum(), (columns * image).sum() / image.sum()


SEED_SLICE = TrainConfig(framework="torch", hidden_sizes=(16,), train_size=20_000, epochs=3)


def probabilities(layers, features) -> np.ndarray:
    return np.exp(log_probabilities(layers, "relu", features))


@pytest.fixture(scope="module")
def seed_layers():
    """The article's 784-16-10 network, trained briefly on 20,000 real digits, and its layers."""
    layers = run(SEED_SLICE, cache=False).weights
    return model_export.trained_torch_model(SEED_SLICE, layers), layers


def test_blank_canvas_gives_no_image():
    assert mnist_style(np.zeros((280, 280))) is None


def test_the_digit_fits_20_pixels_and_its_centre_of_mass_sits_where_mnist_s_do():
    ink = np.zeros((300, 200))
    ink[40:250, 60:90] = 1.0  # a tall bar, 210 × 30: its height becomes 20 pixels
    ink[40:70, 60:160] = 0.5
    image = mnist_style(ink)
    assert image.shape == (28, 28) and image.min() >= 0 and image.max() <= 1 + 1e-12
    # the drawing's centre of mass maps exactly onto (14.5, 14.5); counting each output pixel's
    # ink at that pixel's centre moves it by a small fraction of a pixel
    assert centre_of_mass(image) == pytest.approx((14.5, 14.5), abs=0.05)
    rows = np.flatnonzero(image.sum(axis=1) > 1e-12)
    assert rows[-1] - rows[0] + 1 == pytest.approx(BOX_SIDE, abs=1)  # 20 rows, ±1 for a split edge
    scale = BOX_SIDE / 210
    assert image.sum() == pytest.approx(ink.sum() * scale**2, rel=1e-12)  # area averaging keeps ink


def test_an_mnist_digit_blown_up_is_read_as_before(mnist_splits, seed_layers):
    _, layers = seed_layers
    digits = mnist_splits.test.images[:200] / 255.0
    again = np.array([mnist_style(np.kron(digit, np.ones((10, 10)))).ravel() for digit in digits])
    before = probabilities(layers, digits.reshape(200, -1)).argmax(axis=1)
    after = probabilities(layers, again).argmax(axis=1)
    assert np.mean(before == after) >= 0.95  # the same digit, up to a sub-pixel shift


def test_real_digits_traced_as_strokes_are_read_as_their_labels(mnist_splits, seed_layers):
    _, layers = seed_layers
    images, labels = mnist_splits.test.images[:48], mnist_splits.test.labels[:48]
    drawn = np.array([mnist_style(render_strokes(digit_strokes(image))).ravel() for image in images])
    predictions = probabilities(layers, drawn).argmax(axis=1)
    assert np.mean(predictions == labels) >= 0.9  # measured 0.94 with this model


def test_strokes_follow_the_digit(mnist_splits):
    image = mnist_splits.test.images[1]
    strokes = digit_strokes(image)
    assert strokes and all(len(stroke) >= 1 for stroke in strokes)
    for stroke in strokes:
        for x, y in stroke:
            assert image[int(y // 10), int(x // 10)] > 127  # every point lies on the ink
    traced = render_strokes(strokes)[5::10, 5::10] > 0.5
    assert np.mean(traced[image > 127]) > 0.6  # and together they cover most of it


@pytest.mark.parametrize("encoding, tolerance", [("float32", 0.0), ("float16", 2**-11)])
def test_float_encodings_round_trip(seed_layers, encoding, tolerance):
    _, layers = seed_layers
    exported = json.loads(json.dumps(model_export.export_layers(layers, "seed", encoding)))
    for layer, read in zip(layers, model_export.decode_layers(exported)):
        np.testing.assert_allclose(read.weight, layer.weight, rtol=tolerance,
                                   atol=1e-7 * (tolerance > 0))
        np.testing.assert_array_equal(read.bias, layer.bias)


def test_int8_rows_err_by_at_most_half_a_step(seed_layers):
    _, layers = seed_layers
    exported = model_export.export_layers(layers, "seed", "int8")
    for layer, read in zip(layers, model_export.decode_layers(exported)):
        steps = np.abs(layer.weight).max(axis=1, keepdims=True) / 127
        assert np.all(np.abs(read.weight - layer.weight) <= steps * (0.5 + 1e-5))
    float_size = model_export.exported_bytes(model_export.export_layers(layers, "seed"))
    assert model_export.exported_bytes(exported) < 0.3 * float_size


def test_exported_forward_pass_equals_torch(mnist_splits, seed_layers):
    model, layers = seed_layers
    features = mnist_splits.test.features[:500]
    with torch.no_grad():
        expected = model(torch.from_numpy(features)).exp().double().numpy()
    got = probabilities(model_export.decode_layers(
        model_export.export_layers(layers, "seed", "float32")), features)
    assert np.abs(got - expected).max() < 1e-5


@pytest.mark.parametrize("pairs, message", [
    ([], "do not make an MLP"),
    ([(np.zeros((16, 784)), np.zeros(10))], "do not make an MLP"),
    ([(np.zeros((16, 784)), np.zeros(16)), (np.zeros((10, 15)), np.zeros(10))], "do not make"),
    ([(np.full((2, 2), np.nan), np.zeros(2))], "NaN"),
])
def test_bad_layers_raise_one_line(pairs, message):
    layers = [LayerWeights(weight, bias) for weight, bias in pairs]
    with pytest.raises(ForceMLPError, match=message) as error:
        model_export.export_layers(layers, "bad")
    assert "\n" not in str(error.value)


def test_bad_drawings_and_encodings_raise():
    with pytest.raises(ForceMLPError, match="ink values"):
        mnist_style(np.full((10, 10), 2.0))
    with pytest.raises(ForceMLPError, match="unknown encoding"):
        model_export.export_layers([LayerWeights(np.zeros((2, 2)), np.zeros(2))], "x", "int4")
    with pytest.raises(ForceMLPError, match="28×28"):
        digit_strokes(np.zeros((10, 10)))


@pytest.fixture(scope="module")
def quick_drawing(tmp_path_factory):
    """A draw widget holding a 784-16-10 network trained for one epoch on 2,000 digits, and
    that network's layers read back from the run cache it was stored in."""
    from forcemlp.widgets.draw import draw_digit

    config = TrainConfig(framework="torch", hidden_sizes=(16,), train_size=2000, epochs=1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FORCEMLP_RUN_CACHE", str(tmp_path_factory.mktemp("runs")))
        pad = draw_digit([config])
        return config, pad, model_export.trained_layers(config)


def test_draw_widget_carries_the_trained_network(quick_drawing):
    _, pad, layers = quick_drawing
    (exported,) = pad.models
    assert exported["name"] == "PyTorch 784-16-10"
    for layer, read in zip(layers, model_export.decode_layers(exported), strict=True):
        np.testing.assert_array_equal(read.weight, layer.weight)
        np.testing.assert_array_equal(read.bias, layer.bias)
    json.dumps(pad.get_state())
    assert "digits.js" in pad._esm  # bundled in: an anywidget cannot import files


def test_the_drawn_image_reaches_python(quick_drawing, mnist_splits):
    _, pad, _ = quick_drawing
    assert pad.image_array is None  # nothing drawn yet
    pad.image = (mnist_splits.test.images[0].ravel() / 255).tolist()  # as the page sends it
    assert pad.image_array.shape == (28, 28)
    np.testing.assert_allclose(pad.image_array * 255, mnist_splits.test.images[0], atol=1e-3)
    pad.image = []


def test_draw_widget_refuses_bad_settings(quick_drawing):
    from forcemlp.widgets.draw import DigitDrawing, draw_digit

    config, pad, _ = quick_drawing
    with pytest.raises(ForceMLPError, match="model_index"):
        pad.model_index = 3
    with pytest.raises(ForceMLPError, match="pen_width"):
        pad.pen_width = 0.0
    with pytest.raises(ForceMLPError, match="exported networks"):
        DigitDrawing(models=[])
    with pytest.raises(ForceMLPError, match="one encoding per network"):
        draw_digit([config], encodings=["float32", "int8"])
    with pytest.raises(ForceMLPError, match="list of TrainConfigs"):
        draw_digit(config)
    with pytest.raises(ForceMLPError, match="list of TrainConfigs"):
        draw_digit([])


def broken(exported: dict, **changes) -> dict:
    """A copy of an exported network with its first layer changed."""
    return {**exported, "layers": [{**exported["layers"][0], **changes},
                                   *exported["layers"][1:]]}


@pytest.mark.parametrize("change, message", [
    (lambda model: {"name": "x"}, "not an exported ReLU network"),
    (lambda model: {**model, "activation": "tanh"}, "not an exported ReLU network"),
    (lambda model: broken(model, weights="not base64!"), "does not decode"),
    (lambda model: broken(model, outputs=15), "does not decode|do not make an MLP"),
    (lambda model: broken(model, encoding="int4"), "not an exported ReLU network"),
    (lambda model: {**model, "layers": model["layers"][1:]}, "not 784 to 10"),
])
def test_a_drawing_refuses_networks_that_are_not_exported_mlps(quick_drawing, change, message):
    from forcemlp.widgets.draw import DigitDrawing

    _, pad, _ = quick_drawing
    with pytest.raises(ForceMLPError, match=message) as error:
        DigitDrawing(models=[change(pad.models[0])])
    assert "\n" not in str(error.value)


def test_a_drawing_refuses_nan_weights(quick_drawing):
    from forcemlp.widgets.draw import DigitDrawing

    _, pad, _ = quick_drawing
    nan_bias = model_export._pack(np.full(16, np.nan), "float32")
    with pytest.raises(ForceMLPError, match="NaN or infinite"):
        DigitDrawing(models=[broken(pad.models[0], bias=nan_bias)])


@pytest.mark.parametrize("trait, value, message", [
    ("image", [float("nan")] * 784, "finite values in \\[0, 1\\]"),
    ("image", [0.5] * 783, "784 finite values"),
    ("image", [2.0] * 784, "finite values"),
    ("image", [-0.01] * 784, "finite values"),
    ("image", "ink", "image"),
    ("prediction", 10, "digit 0-9"),
    ("prediction", -2, "digit 0-9"),
    ("model_index", -1, "model_index"),
    ("pen_width", float("nan"), "pen_width"),
    ("examples", [{"label": 11, "pixels": ""}], "example_digits"),
])
def test_bad_values_from_the_page_or_python_are_refused(quick_drawing, trait, value, message):
    _, pad, _ = quick_drawing
    before = getattr(pad, trait)
    with pytest.raises(ForceMLPError, match=message) as error:
        setattr(pad, trait, value)
    assert "\n" not in str(error.value) and getattr(pad, trait) == before


def test_an_image_a_rounding_past_one_is_kept_and_clipped(quick_drawing):
    """Area averaging can land a full pixel at 1 + 2e-16: the page's image is accepted."""
    _, pad, _ = quick_drawing
    pad.image = [1 + 2e-16] * 784
    assert pad.image_array.max() == 1.0
    pad.image = []


def test_the_drawing_carries_one_real_test_digit_of_each_class(quick_drawing, mnist_splits):
    _, pad, _ = quick_drawing
    assert [example["label"] for example in pad.examples] == list(range(10))
    for example in pad.examples:
        pixels = np.frombuffer(base64.b64decode(example["pixels"]), dtype=np.uint8)
        first = np.flatnonzero(mnist_splits.test.labels == example["label"])[0]
        np.testing.assert_array_equal(pixels.reshape(28, 28), mnist_splits.test.images[first])
