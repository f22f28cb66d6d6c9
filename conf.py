"""Sphinx configuration of the Force of MLP book.

    make html      # or: sphinx-build -W --keep-going -b html . _build/html

The lessons are MyST Markdown notebooks executed by myst-nb through jupyter-cache, so an
unchanged lesson is never run twice. Nothing on a built page is fetched from a CDN: MathJax
and the widget manager are served from ``_static/``.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from forcemlp.run_cache import execution_cache_folder, prune_other_sources

ROOT = Path(__file__).resolve().parent
BUILD = ROOT / "_build"
REPOSITORY_URL = "https://github.com/forcemlp/forcemlp"  # placeholder until the book is hosted
NOTEBOOK_FOLDER = "notebooks"  # where `make notebooks` writes the paired .ipynb files

# Lesson kernels inherit this environment: every lesson, and the paired notebooks run from the
# same checkout, then share one store of trained models instead of training each twice.
# Runs trained by earlier versions of forcemlp can never be asked for again: delete them.
os.environ.setdefault("FORCEMLP_RUN_CACHE", str(BUILD / "runs"))
prune_other_sources(Path(os.environ["FORCEMLP_RUN_CACHE"]))

project = "Force of MLP"
author = "The forcemlp authors"
copyright = "the forcemlp authors"

root_doc = "index"
include_patterns = ["index.md", "docs/**", "lessons/*.md"]
exclude_patterns = ["_build", ".venv", "notebooks", "src", "tests", "**/.ipynb_checkpoints"]

extensions = [
    "myst_nb",
    "sphinx_design",
    "sphinx_exercise",  # exercises with solutions hidden until clicked
    "sphinx_togglebutton",  # the dropdown the solutions fold into
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
    "sphinx.ext.mathjax",
]

# --- MyST and notebook execution -------------------------------------------------------------
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3

nb_execution_mode = "cache"
# The package's source is part of the cache's name: when forcemlp changes, every lesson runs
# again instead of showing outputs the new code would not produce. Only the current folder is
# kept: those of earlier sources are deleted here.
nb_execution_cache_path = str(execution_cache_folder(BUILD / ".jupyter_cache"))
nb_execution_timeout = 900  # seconds per cell: a full-MNIST training cell takes minutes
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_merge_streams = True
nb_render_markdown_format = "myst"  # Markdown outputs may hold tables, which CommonMark lacks
# Widgets render with no kernel and no CDN. widget-loader.js (loaded async: it starts once the
# page is parsed, without waiting for MathJax or the theme's icons) draws anywidget-only pages
# by itself, from the embedded state, and loads RequireJS and the ipywidgets HTML manager only
# for a page that holds a core ipywidget. Those, and anywidget's front-end for that case, are
# fetched from npm, pinned and integrity-checked (a no-op when _static/widgets/ is there and
# unchanged); the loader finds them relative to its own URL (so any sub-path works) and never
# falls back to a CDN.
subprocess.run([sys.executable, str(ROOT / "tools" / "fetch_widget_js.py")], check=True)
nb_ipywidgets_js: dict[str, dict[str, str]] = {"widget-loader.js": {"async": "async"}}
# After MathJax (priority 500) and before any widget renders: see the file for why.
html_js_files = [("mathjax-hub-shim.js", {"defer": "defer", "priority": 800})]
html_css_files = ["widget-loader.css", "code-column.css", "site.css"]
templates_path = ["_templates"]

# --- API reference ---------------------------------------------------------------------------
autodoc_default_options = {"members": True, "member-order": "bysource"}
autodoc_typehints = "description"
# No autodoc_mock_imports: Sphinx's source analyser then imports the mocked frameworks for
# real anyway (in whatever order it meets them). Importing the real modules instead keeps
# forcemlp.frameworks in charge of the one import order that does not crash.
napoleon_google_docstring = True
napoleon_numpy_docstring = True

# --- HTML ------------------------------------------------------------------------------------
MATHJAX_FOLDER = ROOT / "_static" / "mathjax"
if not (MATHJAX_FOLDER / "tex-chtml.js").is_file():
    subprocess.run([str(ROOT / "tools" / "fetch_mathjax.sh"), str(MATHJAX_FOLDER)], check=True)
mathjax_path = "mathjax/tex-chtml.js"

html_theme = "sphinx_book_theme"
html_title = "Force of MLP"
html_static_path = ["_static"]
html_last_updated_fmt = ""
html_favicon = "_static/favicon.svg"
# Light by default: the figures are drawn on white. Also silences the theme's console error
# about an empty mode.
html_context = {"default_mode": "light"}
html_theme_options = {
    "repository_url": REPOSITORY_URL,
    "repository_branch": "main",
    "path_to_docs": "",
    "use_repository_button": True,
    "use_download_button": True,
    "use_fullscreen_button": False,
    "home_page_in_toc": True,
    # One search box: the sidebar's field on a wide screen, the article header's magnifier on a
    # narrow one (the theme shows one or the other); not a second field in a header bar.
    # _templates/search-button-field.html names the field by its visible text.
    "navbar_persistent": [],
    "show_toc_level": 2,
    "launch_buttons": {
        "colab_url": "https://colab.research.google.com",
        "binderhub_url": "https://mybinder.org",
        "notebook_interface": "jupyterlab",
    },
}


def point_launch_buttons_at_notebooks(app, pagename, templatename, context, doctree) -> None:
    """Make Colab and Binder open ``notebooks/<lesson>.ipynb``: neither can open MyST Markdown.

    sphinx-book-theme builds the launch links from the page's source path (``lessons/x.md``);
    this runs right after it and swaps in the paired notebook's path.
    """
    markdown_path = f"/{pagename}.md"
    notebook_path = f"/{NOTEBOOK_FOLDER}/{Path(pagename).name}.ipynb"
    for group in context.get("header_buttons", []):
        if group.get("label") != "launch-buttons":
            continue
        for button in group["buttons"]:
            if "url" in button:
                button["url"] = button["url"].replace(markdown_path, notebook_path)


def setup(app) -> None:
    # The theme adds its launch buttons at priority 501; ours must see them.
    app.connect("html-page-context", point_launch_buttons_at_notebooks, priority=502)
