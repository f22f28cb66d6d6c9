"""Draw a digit and watch the book's trained networks read it, in the reader's browser.

    from forcemlp import recipes
    from forcemlp.widgets.draw import draw_digit
    pad = draw_digit([recipes.SEED_TORCH, recipes.BEST_MLP], encodings=["float32", "float16"])
    pad                  # in a live kernel, after drawing:
    pad.image_array      # the 28×28 image the networks saw (None while the canvas is blank)

The networks are exported when the page is built (forcemlp.model_export: float32, or float16
where the page budget asks for it) and run by digits.js: the drawing is preprocessed the
way MNIST was made, then every network answers at once, while the reader draws.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import traitlets

from ..config import TrainConfig
from ..digit_drawing import IMAGE_SIDE, PEN_WIDTH
from ..errors import ForceMLPError
from ..model_export import ENCODINGS, export_layers, trained_layers
from .base import BrowserWidget, check_range


def model_title(config: TrainConfig) -> str:
    """The framework and the layer sizes a reader recognises, e.g. "PyTorch 784-16-10"."""
    sizes = "-".join(str(size) for size in (784, *config.hidden_sizes, 10))
    return f"{config.framework.capitalize().replace('Torch', 'PyTorch')} {sizes}"


class DigitDrawing(BrowserWidget):
    """A canvas to draw on, the 28×28 image the networks see, and each network's answer."""

    _module = "draw_digit.js"
    title = "Draw a digit"

    models = traitlets.List(traitlets.Dict()).tag(sync=True)
    model_index = traitlets.Int(0).tag(sync=True)
    pen_width = traitlets.Float(PEN_WIDTH).tag(sync=True)
    image = traitlets.List(traitlets.Float()).tag(sync=True)
    prediction = traitlets.Int(-1).tag(sync=True)

    @traitlets.validate("models")
    def _check_models(self, proposal):
        models = proposal["value"]
        if not models or not all({"name", "layers"} <= set(model) for model in models):
            raise ForceMLPError("models must be one or more exported networks"
                                " (forcemlp.model_export.export_layers).")
        return models

    @traitlets.validate("model_index")
    def _check_model_index(self, proposal):
        return int(check_range("model_index", proposal["value"], 0, len(self.models) - 1))

    @traitlets.validate("pen_width")
    def _check_pen_width(self, proposal):
        return check_range("pen_width", proposal["value"], 4, 60)

    @property
    def image_array(self) -> np.ndarray | None:
        """What the reader drew, as the networks saw it: (28, 28) in [0, 1], or None."""
        if not self.image:
            return None
        return np.asarray(self.image, dtype=np.float32).reshape(IMAGE_SIDE, IMAGE_SIDE)


def draw_digit(
    configs: Sequence[TrainConfig], encodings: Sequence[str] | None = None
) -> DigitDrawing:
    """A draw-a-digit widget holding the trained networks of ``configs`` (from the run cache).

    ``encodings`` (one per config, default float32) shrink big networks: see model_export.
    """
    encodings = list(encodings or ["float32"] * len(configs))
    if len(encodings) != len(configs) or not all(name in ENCODINGS for name in encodings):
        raise ForceMLPError(
            f"give one encoding per network, each one of {', '.join(ENCODINGS)}; got {encodings}."
        )
    models = [export_layers(trained_layers(config), model_title(config), encoding)
              for config, encoding in zip(configs, encodings)]
    return DigitDrawing(models=models)

