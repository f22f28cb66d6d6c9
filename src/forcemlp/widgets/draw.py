"""Draw a digit and watch the book's trained networks read it, in the reader's browser.

    from forcemlp import recipes
    from forcemlp.widgets.draw import draw_digit
    pad = draw_digit([recipes.SEED_TORCH, recipes.BEST_MLP], encodings=["float32", "float16"])
    pad                  # in a live kernel, after drawing:
    pad.image_array      # the 28×28 image the networks saw (None while the canvas is blank)

The networks are exported when the page is built (forcemlp.model_export: float32, or float16
where the page budget asks for it) and run by mlp.js's forward pass: the drawing is
preprocessed the way MNIST was made (digits.js), then every network answers at once, while
the reader draws. Ten real test digits (one of each class) travel with the widget, so a reader
without a mouse, pen or finger can put one on the pad and edit it from the keyboard.
"""
from __future__ import annotations

import base64
import math
import numbers
from collections.abc import Sequence

import numpy as np
import traitlets

from ..config import TrainConfig
from ..digit_drawing import IMAGE_SIDE, PEN_WIDTH
from ..errors import ForceMLPError
from ..model_export import ENCODINGS, check_exported, export_layers, trained_layers
from .base import BrowserWidget, InvalidValue, check_range

PEN_WIDTHS = (4.0, 60.0)  # canvas pixels: from a hairline to a marker
CLASSES = 10
ROUNDING = 1e-9  # area averaging can land a pixel a few ulps past 1: kept, clipped to 1


def model_title(config: TrainConfig) -> str:
    """The framework and the layer sizes a reader recognises, e.g. "PyTorch 784-16-10"."""
    sizes = "-".join(str(size) for size in (784, *config.hidden_sizes, 10))
    return f"{config.framework.capitalize().replace('Torch', 'PyTorch')} {sizes}"


def example_digits(images: np.ndarray, labels: np.ndarray) -> list[dict]:
    """The first image of each class 0-9, as the page receives them: {"label", "pixels"}, the
    pixels 784 uint8 row-major in base64 (about 1 KB a digit)."""
    images, labels = np.asarray(images), np.asarray(labels)
    if images.ndim != 3 or images.shape[1:] != (IMAGE_SIDE, IMAGE_SIDE) or len(images) != len(
        labels
    ):
        raise ForceMLPError(f"example digits must be (N, 28, 28) images with N labels, got"
                            f" {images.shape} and {labels.shape}.")
    examples = []
    for label in range(CLASSES):
        found = np.flatnonzero(labels == label)
        if found.size:
            pixels = np.clip(images[found[0]], 0, 255).astype(np.uint8)
            examples.append({"label": label,
                             "pixels": base64.b64encode(pixels.tobytes()).decode("ascii")})
    return examples


def _check_image(values: object) -> list[float]:
    if not isinstance(values, list | tuple):
        raise InvalidValue(f"image must be a list of {IMAGE_SIDE ** 2} values, got {values!r}.")
    if len(values) not in (0, IMAGE_SIDE**2) or not all(
        isinstance(value, numbers.Real) and not isinstance(value, bool)
        and math.isfinite(value) and -ROUNDING <= value <= 1 + ROUNDING for value in values
    ):
        raise InvalidValue(f"image must be empty (blank pad) or {IMAGE_SIDE ** 2} finite values"
                           f" in [0, 1] (28×28, row-major); got {len(values)} values.")
    return [min(1.0, max(0.0, float(value))) for value in values]


class DigitDrawing(BrowserWidget):
    """A canvas to draw on, the 28×28 image the networks see, and each network's answer."""

    _module = "draw_digit.js"
    title = "Draw a digit"

    models = traitlets.List(traitlets.Dict()).tag(sync=True)
    model_index = traitlets.Int(0).tag(sync=True)
    pen_width = traitlets.Float(PEN_WIDTH).tag(sync=True)
    image = traitlets.List(traitlets.Float()).tag(sync=True)
    prediction = traitlets.Int(-1).tag(sync=True)
    examples = traitlets.List(traitlets.Dict()).tag(sync=True)

    @traitlets.validate("models")
    def _check_models(self, proposal):
        models = proposal["value"]
        if not models:
            raise InvalidValue("models must be one or more exported networks"
                               " (forcemlp.model_export.export_layers).")
        try:
            return [check_exported(model) for model in models]
        except ForceMLPError as error:
            raise InvalidValue(str(error)) from None

    @traitlets.validate("model_index")
    def _check_model_index(self, proposal):
        value = proposal["value"]
        if isinstance(value, bool):
            raise InvalidValue(f"model_index must be a whole number, got {value!r}.")
        return int(check_range("model_index", value, 0, len(self.models) - 1))

    @traitlets.validate("pen_width")
    def _check_pen_width(self, proposal):
        return check_range("pen_width", proposal["value"], *PEN_WIDTHS)

    @traitlets.validate("image")
    def _check_image(self, proposal):
        return _check_image(proposal["value"])

    @traitlets.validate("prediction")
    def _check_prediction(self, proposal):
        value = proposal["value"]
        if isinstance(value, bool) or value not in range(-1, CLASSES):
            raise InvalidValue(f"prediction must be a digit 0-9, or -1 while the pad is blank;"
                               f" got {value!r}.")
        return value

    @traitlets.validate("examples")
    def _check_examples(self, proposal):
        for example in proposal["value"]:
            try:
                pixels = base64.b64decode(example["pixels"], validate=True)
                valid = example["label"] in range(CLASSES) and len(pixels) == IMAGE_SIDE**2
            except (KeyError, TypeError, ValueError):
                valid = False
            if not valid:
                raise InvalidValue("examples must come from example_digits(images, labels).")
        return proposal["value"]

    @property
    def image_array(self) -> np.ndarray | None:
        """What the reader drew, as the networks saw it: (28, 28) in [0, 1], or None."""
        if not self.image:
            return None
        return np.asarray(self.image, dtype=np.float32).reshape(IMAGE_SIDE, IMAGE_SIDE)


def draw_digit(
    configs: Sequence[TrainConfig], encodings: Sequence[str] | None = None
) -> DigitDrawing:
    """A draw-a-digit widget holding the trained networks of ``configs`` (from the run cache)
    and one real test digit of each class (for the keyboard route).

    ``encodings`` (one per config, default float32) shrink big networks: see model_export.
    """
    from ..data import load_splits

    if isinstance(configs, TrainConfig) or not configs:
        raise ForceMLPError("draw_digit needs a list of TrainConfigs, e.g."
                            " [recipes.SEED_TORCH].")
    encodings = list(encodings or ["float32"] * len(configs))
    if len(encodings) != len(configs) or not all(name in ENCODINGS for name in encodings):
        raise ForceMLPError(
            f"give one encoding per network, each one of {', '.join(ENCODINGS)}; got {encodings}."
        )
    models = [export_layers(trained_layers(config), model_title(config), encoding)
              for config, encoding in zip(configs, encodings)]
    test = load_splits().test
    return DigitDrawing(models=models, examples=example_digits(test.images, test.labels))
