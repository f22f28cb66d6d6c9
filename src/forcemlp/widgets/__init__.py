"""Widgets whose arithmetic runs in the reader's browser: in the book's static pages (no kernel,
no CDN) and live in JupyterLab, Notebook 7, VS Code and Colab.

    from forcemlp import widgets
    widgets.optimizer_explorer("rosenbrock")       # lesson 4: see optimizer_explorer.py
    widgets.activation_explorer(images, labels)    # lesson 3: see activation_explorer.py
    widgets.Playground(dataset="xor")              # lessons 3 and 9: see playground.py
    widgets.draw_digit([recipes.SEED_TORCH])       # lesson 6: see draw.py

How a widget is made (the infrastructure the explorers, and any new widget, stand on):

- **Python** (:mod:`forcemlp.widgets.base`): subclass ``BrowserWidget``, name the ES module of
  its front-end in ``_module`` (a file in ``src/forcemlp/widgets/js/``), declare its state as
  traitlets tagged ``sync=True`` and validate them with ``@traitlets.validate`` using
  ``check_range`` / ``check_subset`` / ``forcemlp.config.check_choice``: bad values raise one-line
  ``ForceMLPError``\\ s. A reader's moves sync back into those traits in a live kernel.
- **JavaScript** (``js/``): the widget's module ``export default { render({ model, el }) }``
  (anywidget's API); it imports shared modules by relative path (``import { descend } from
  "./descent.js";``). The widget kit gives every widget one look (its API is in each file's
  header): ``ui.js`` the controls (``button``, ``menu``, ``slider``, ``toggle``), layout
  (``controls``, ``columns``, ``column``), ``legend`` and ``statusLine`` (a visible state for
  every stop, and a live region spoken at most once a second); ``plot.js`` canvases in the
  page theme's colours (``plot``, ``themeColors``, ``followTheme``), ``Axes.fit`` (labels
  that never collide) and haloed markers (``marker``); ``widget.css`` (every widget's ``_css``) the
  styles, from the book theme's ``--pst-color-*`` so dark mode follows; ``widget.js`` what
  lies beneath: ``sync(model, name, value)``, ``element``, ``crispCanvas``, ``followWidth``,
  ``guarded(render)`` (an error shows as one line in place of the widget), ``frameScheduler``
  (one redraw per animation frame). Give the widget's root element
  ``data-*`` attributes for what tests and readers' scripts may check (the explorers keep
  ``data-draws``, ``data-draw-ms`` and their state there). The maths modules
  (``random.js``, ``surfaces.js``, ``optimizers.js``, ``descent.js``, ``activations.js``,
  ``mlp.js``) mirror :mod:`forcemlp.random`, :mod:`forcemlp.surfaces`,
  :mod:`forcemlp.optimizers`, :mod:`forcemlp.descent`, :mod:`forcemlp.activations` and the
  lessons' NumPy MLP operation for operation, and the browser tests hold them to 1e-9 of NumPy.
- **Bundling** (:mod:`forcemlp.widgets.bundle`): an anywidget front-end is one ES module in
  the widget's state, so when the class is defined ``bundle(_module)`` inlines every module it
  imports, each in its own scope, into the class's ``_esm``.
- **The page**: ``conf.py`` loads RequireJS and ``_static/widget-loader.js`` on pages with
  widgets; the loader renders them with the ipywidgets HTML manager's AMD build and anywidget's
  front-end from ``_static/widgets/`` (``tools/fetch_widget_js.py``: npm, pinned, hash-checked),
  relative to its own URL so a sub-path works, never from a CDN; until a widget draws, a
  one-line notice stands in its place, and says so if the JavaScript cannot load.
- **Testing in a browser** (``tests/test_browser.py``): ``serve`` puts folders on 127.0.0.1
  under a sub-path; ``open_page`` opens a page in Debian's headless Chromium that records and
  blocks off-site requests and collects console errors; the ``js`` fixture's
  ``js.call(module, function, *arguments)`` / ``js.evaluate(modules, arrow_function, ...)``
  run any package ES module in the browser and return the result to Python (parity tests);
  ``widget_pages(name, widgets)`` serves widgets on a static page without building the book.
  ``tools/bench_widgets.py`` times control -> redrawn.
"""
from __future__ import annotations

from ..descent import base_learning_rate
from .activation_explorer import ActivationExplorer, activation_explorer
from .base import BrowserWidget
from .draw import DigitDrawing, draw_digit
from .optimizer_explorer import OptimizerExplorer, optimizer_explorer
from .playground import Playground

__all__ = [
    "ActivationExplorer", "BrowserWidget", "DigitDrawing", "OptimizerExplorer", "Playground",
    "activation_explorer", "base_learning_rate", "draw_digit", "optimizer_explorer",
]
