"""Widgets whose arithmetic runs in the reader's browser: in the book's static pages (no kernel,
no CDN) and live in JupyterLab, Notebook 7, VS Code and Colab.

    from forcemlp import widgets
    widgets.optimizer_explorer("rosenbrock")       # lesson 4: see optimizer_explorer.py
    widgets.activation_explorer(images, labels)    # lesson 3: see activation_explorer.py

How a widget is made (the infrastructure the explorers, and any new widget, stand on):

- **Python** (:mod:`forcemlp.widgets.base`): subclass ``BrowserWidget``, name the ES module of
  its front-end in ``_module`` (a file in ``src/forcemlp/widgets/js/``), declare its state as
  traitlets tagged ``sync=True`` and validate them with ``@traitlets.validate`` using
  ``check_range`` / ``check_subset`` / ``forcemlp.config.check_choice``: bad values raise one-line
  ``ForceMLPError``\\ s. A reader's moves sync back into those traits in a live kernel.
- **JavaScript** (``js/``): the widget's module ``export default { render({ model, el }) }``
  (anywidget's API); it imports shared modules by relative path (``import { descend } from
  "./descent.js";``). ``widget.js`` has the shared pieces: ``sync(model, name, value)``, DOM
  controls, ``crispCanvas`` (scaled by ``devicePixelRatio``), ``Axes``, ``guarded(render)`` (an
  error shows as one line in place of the widget), ``frameScheduler``. The maths modules
  (``random.js``, ``surfaces.js``, ``optimizers.js``, ``descent.js``, ``activations.js``,
  ``mlp.js``) mirror :mod:`forcemlp.optimizers`, :mod:`forcemlp.activations` and the lessons'
  NumPy MLP operation for operation, and the browser tests hold them to 1e-9 of NumPy.
- **Bundling** (:mod:`forcemlp.widgets.bundle`): an anywidget front-end is one ES module in
  the widget's state, so when the class is defined ``bundle(_module)`` inlines every module it
  imports, each in its own scope, into the class's ``_esm``.
- **The page**: ``conf.py`` loads RequireJS and ``_static/widget-loader.js`` on pages with
  widgets; the loader renders them with the ipywidgets HTML manager's AMD build and anywidget's
  front-end from ``_static/widgets/`` (``tools/fetch_widget_js.py``: npm, pinned, hash-checked),
  relative to its own URL so a sub-path works, never from a CDN; until a widget draws, a
  one-line notice stands in its place, and says so if the JavaScript cannot load.
- **Testing in a browser** (``tests/test_browser.py``): fixtures serve folders on 127.0.0.1
  under a sub-path, open pages in Debian's headless Chromium that record and block off-site
  requests and collect console errors, and ``run_js(module, function, *arguments)`` calls a
  function exported by any package ES module in the browser and returns its result to Python.
"""
from __future__ import annotations

from ..optimizers import base_learning_rate
from .activation_explorer import ActivationExplorer, activation_explorer
from .base import BrowserWidget
from .optimizer_explorer import OptimizerExplorer, optimizer_explorer

__all__ = [
    "ActivationExplorer", "BrowserWidget", "OptimizerExplorer", "activation_explorer",
    "base_learning_rate", "optimizer_explorer",
]
