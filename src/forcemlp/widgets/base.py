"""The base of every forcemlp widget: an anywidget whose front-end is the package's ES modules.

    class Counter(BrowserWidget):
        _module = "counter.js"                       # src/forcemlp/widgets/js/counter.js
        count = traitlets.Int(0).tag(sync=True)

        @traitlets.validate("count")
        def _check_count(self, proposal):
            return check_integer("count", proposal["value"], 0, 100)
            # or check_range (numbers), check_seed, check_subset, check_choice

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

def as_pairs(table: dict, widget: object = None) -> list[list]:
    """A menu's table as ``[name, entry]`` pairs, in the order Python wrote it: notebook files
    store JSON objects with sorted keys, so a cached build would reorder a dict's menu. The
    page reads the pairs back with widget.js's ``table``."""
    return [[name, entry] for name, entry in table.items()]


# A read-only table whose order is a menu's: ``traitlets.Dict(read_only=True).tag(**IN_ORDER)``.
IN_ORDER = {"sync": True, "to_json": as_pairs}

# The widget kit's look (js/ui.js builds what it styles), shared by every widget on a page.
STYLESHEET = JS_FOLDER / "widget.css"

# What a notebook front-end without widget support shows instead (text/plain).
NO_FRONT_END = ("{title}: an interactive widget; it needs a notebook with Jupyter widgets "
                "(JupyterLab, Notebook 7, VS Code, Colab) or the book's web page.")


class InvalidValue(ForceMLPError, traitlets.TraitError):
    """A trait value a check refused: a ForceMLPError for the reader, and a TraitError so that
    traitlets undoes it when it arrived with others (a state update from the page)."""


class Number(traitlets.Float):
    """A float trait that refuses bools (traitlets.Float would read True as 1.0)."""

    def validate(self, obj: Any, value: Any) -> float:
        if isinstance(value, bool):
            self.error(obj, value)
        return super().validate(obj, value)


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


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def check_range(name: str, value: float, low: float, high: float) -> float:
    """``value`` if it is a finite number in [low, high] (not a bool), else a one-line
    InvalidValue."""
    if not (_is_number(value) and math.isfinite(value) and low <= value <= high):
        raise InvalidValue(f"{name} must be a number from {low:g} to {high:g}, got {value!r}.")
    return float(value)


def check_integer(name: str, value: int, low: int, high: int) -> int:
    """``value`` if it is a whole number in [low, high] (not a bool, not 2.5), else a one-line
    InvalidValue."""
    whole = _is_number(value) and math.isfinite(value) and value == int(value)
    if not (whole and low <= value <= high):
        raise InvalidValue(f"{name} must be a whole number from {low} to {high}, got {value!r}.")
    return int(value)


# The browser's generator (js/random.js, mulberry32) keeps 32 bits of a seed: so must Python.
MAX_SEED = 2**32 - 1


def check_seed(value: int) -> int:
    """A seed both languages draw the same numbers from: a whole number in [0, 2**32 - 1]."""
    return check_integer("seed", value, 0, MAX_SEED)


def check_subset(
    name: str, values: Sequence[str], choices: Sequence[str], *, allow_empty: bool = True,
) -> list[str]:
    """``values`` if each is one of ``choices`` (in any order, each once; at least one unless
    ``allow_empty``), else a one-line InvalidValue."""
    if isinstance(values, str) or not isinstance(values, Sequence):
        raise InvalidValue(f"{name} must be a list of names from {', '.join(choices)}, "
                           f"got {values!r}.")
    unknown = [value for value in values if value not in choices]
    if unknown:
        raise InvalidValue(f"unknown {name} {unknown}: choose from {', '.join(choices)}.")
    repeated = sorted({value for value in values if list(values).count(value) > 1})
    if repeated:
        raise InvalidValue(f"{name} names {', '.join(repeated)} more than once: name each once.")
    if not values and not allow_empty:
        raise InvalidValue(f"{name} must name at least one of {', '.join(choices)}.")
    return list(values)


def check_choice(kind: str, value: str, choices: tuple[str, ...]) -> str:
    """:func:`forcemlp.config.check_choice`, its error an InvalidValue."""
    try:
        return config.check_choice(kind, value, choices)
    except ForceMLPError as error:
        raise InvalidValue(str(error)) from None
