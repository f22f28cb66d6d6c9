"""The base of every forcemlp widget: an anywidget whose front-end is the package's ES modules.

    class Counter(BrowserWidget):
        _module = "counter.js"                       # src/forcemlp/widgets/js/counter.js
        count = traitlets.Int(0).tag(sync=True)

        @traitlets.validate("count")
        def _check_count(self, proposal):
            return check_range("count", proposal["value"], 0, 100)   # or check_subset, check_choice

Declaring ``_module`` bundles that file with the modules it imports (forcemlp.widgets.bundle)
into the class's ``_esm``, and the kit's stylesheet (js/widget.css) into its ``_css``, once, when
the class is defined. Traits tagged ``sync=True`` travel
with the widget's state: into the built page, and back to Python in a live kernel when the
reader moves a control. Bad values from Python raise one-line ForceMLPErrors, whether a
validator rejects them or traitlets does (a string for a number).
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, ClassVar

import traitlets

from .. import config
from ..errors import ForceMLPError
from .bundle import JS_FOLDER, bundle

try:
    import anywidget
except ImportError as error:  # the widgets extra is optional for the rest of forcemlp
    raise ForceMLPError(
        "forcemlp.widgets needs anywidget: pip install 'forcemlp[widgets]'."
    ) from error

# The widget kit's look (js/ui.js builds what it styles), shared by every widget on a page.
STYLESHEET = JS_FOLDER / "widget.css"

# What a notebook front-end without widget support shows instead (text/plain).
NO_FRONT_END = ("{title}: an interactive widget; it needs a notebook with Jupyter widgets "
                "(JupyterLab, Notebook 7, VS Code, Colab) or the book's web page.")


class InvalidValue(ForceMLPError, traitlets.TraitError):
    """A trait value a check refused: a ForceMLPError for the reader, and a TraitError so that
    traitlets undoes it when it arrived with others (a state update from the page)."""


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())


class BrowserWidget(anywidget.AnyWidget):
    """An anywidget whose ``_esm`` is the bundle of the package ES module named ``_module``.

    Subclasses set ``_module`` and ``title`` and declare their traits; the JavaScript reads and
    sets them through anywidget's ``model.get`` / ``model.set`` + ``model.save_changes``.
    """

    _module: ClassVar[str] = ""
    title: ClassVar[str] = "forcemlp widget"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        if cls.__dict__.get("_module"):
            cls._esm = bundle(cls._module)
            cls._css = STYLESHEET.read_text()
        super().__init_subclass__(**kwargs)

    def __init__(self, **kwargs: Any) -> None:
        try:
            super().__init__(**kwargs)
        except InvalidValue as error:
            raise InvalidValue(str(error)) from None
        except traitlets.TraitError as error:
            raise ForceMLPError(f"{self.title}: {_one_line(error)}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        try:
            super().__setattr__(name, value)
        except InvalidValue as error:
            raise InvalidValue(str(error)) from None
        except traitlets.TraitError as error:
            raise ForceMLPError(f"{self.title}: {_one_line(error)}") from None

    def __repr__(self) -> str:
        return NO_FRONT_END.format(title=self.title)


def check_range(name: str, value: float, low: float, high: float) -> float:
    """``value`` if it is a finite number in [low, high], else a one-line InvalidValue."""
    if not (isinstance(value, int | float) and math.isfinite(value) and low <= value <= high):
        raise InvalidValue(f"{name} must be a number from {low:g} to {high:g}, got {value!r}.")
    return float(value)


def check_subset(name: str, values: Sequence[str], choices: Sequence[str]) -> list[str]:
    """``values`` if each is one of ``choices`` (in any order), else a one-line InvalidValue."""
    unknown = [value for value in values if value not in choices]
    if unknown:
        raise InvalidValue(f"unknown {name} {unknown}: choose from {', '.join(choices)}.")
    return list(values)


def check_choice(kind: str, value: str, choices: tuple[str, ...]) -> str:
    """:func:`forcemlp.config.check_choice`, its error an InvalidValue."""
    try:
        return config.check_choice(kind, value, choices)
    except ForceMLPError as error:
        raise InvalidValue(str(error)) from None
