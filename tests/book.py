"""Build the book the way `make html` does, into a folder of its own, and time it."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
from make_notebooks import lesson_notebook, notebook_pages  # tools/: found through sys.path

__all__ = [
    "BOOK_ROOT", "LESSONS", "WIDGET_LESSONS", "BuiltSite", "build_book", "lesson_notebook",
    "notebook_pages",
]

BOOK_ROOT = Path(__file__).resolve().parents[1]
TEST_BUILD = BOOK_ROOT / "_build" / "test"
LESSONS = (
    "01_data", "02_feel_the_force", "03_activations", "04_gradient_descent", "05_keras",
    "06_pytorch", "07_tensorflow_low_level", "08_fastai", "09_your_turn", "10_recap",
)
WIDGET_LESSONS = ("03_activations", "04_gradient_descent", "06_pytorch", "09_your_turn")


@dataclass(frozen=True)
class BuiltSite:
    html: Path
    cache: Path
    seconds: float


def build_book(cache: Path, clean: bool) -> BuiltSite:
    """sphinx-build -W of the whole book; ``clean`` empties the execution and run caches first."""
    if clean:
        shutil.rmtree(TEST_BUILD, ignore_errors=True)
    output = TEST_BUILD / ("html" if clean else "html-cached")
    shutil.rmtree(output, ignore_errors=True)
    environment = {**os.environ, "FORCEMLP_RUN_CACHE": str(cache / "runs")}
    command = [
        sys.executable, "-m", "sphinx", "-W", "--keep-going", "-E", "-b", "html",
        "-d", str(output.with_name(output.name + "-doctrees")),
        "-D", f"nb_execution_cache_path={cache / 'jupyter_cache'}",
        str(BOOK_ROOT), str(output),
    ]
    started = time.perf_counter()
    result = subprocess.run(
        command, cwd=BOOK_ROOT, env=environment, check=False, capture_output=True, text=True
    )
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise AssertionError(f"book build failed:\n{result.stdout[-4000:]}\n{result.stderr[-8000:]}")
    print(f"book build ({'clean' if clean else 'cached'}): {seconds:.0f} s")
    return BuiltSite(output, cache, seconds)
