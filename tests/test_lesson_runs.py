"""Shown = run: the framework lessons' own code computes what forcemlp's runner computes.

Lessons 5, 6 and 7 train the article's models in their visible cells, with plain Keras,
PyTorch and TensorFlow code, and hand the results to later pages with ``runner.remember`` (a
hidden cell). The recap's ``run(recipes.SEED_TORCH)`` therefore returns the lesson's run, or,
with an empty run cache, one that forcemlp's own trainer computes. That is honest only if
both compute the same run. So each lesson's notebook is executed here on the first
``TRAIN_SIZE`` training images (a first, injected cell cuts ``load_splits``), and every run it
remembered is compared, epoch by epoch, with the runner's training of the same configuration
on the same images. Lesson 7's cells make their own ``tf.Variable``s (He and Glorot draws
from stateless seeds) and step with ``keras.optimizers.Adam``; they are compared with
``forcemlp.tf_lowlevel``'s GradientTape trainer, which draws the same variables and steps
with the same Keras optimizer (not with its own PyTorch-formula ``Adam``, whose epsilon sits
elsewhere and would give another run).
"""
from __future__ import annotations

from dataclasses import replace

import jupytext
import nbformat
import pytest
from nbclient import NotebookClient

from forcemlp import recipes, runner

from .book import BOOK_ROOT

# Keras compiles with XLA from 2,000 steps on, as the lesson does: 12,800 images are 2,000
# steps of 32 in five epochs, so the runner takes the same path as the lesson's cells.
LESSON_RUNS = {
    "05_keras": (12_800, (recipes.SEED_KERAS, replace(recipes.SEED_KERAS, style="functional"))),
    "06_pytorch": (2_000, (recipes.SEED_TORCH, recipes.SEED_TORCH_FUNCTIONAL)),
    "07_tensorflow_low_level": (2_000, (recipes.SEED_TENSORFLOW,)),
}
CUT_SPLITS = """\
# Injected by tests/test_lesson_runs.py: every split of this lesson keeps TRAIN_SIZE images.
import forcemlp.data
import forcemlp.runner

_load_splits = forcemlp.data.load_splits


def _cut_splits(*args, train_size=None, **options):
    return _load_splits(*args, train_size=train_size or {train_size}, **options)


forcemlp.data.load_splits = forcemlp.runner.load_splits = _cut_splits
"""


def execute_lesson(lesson: str, train_size: int) -> None:
    notebook = jupytext.read(BOOK_ROOT / "lessons" / f"{lesson}.md")
    notebook.cells.insert(0, nbformat.v4.new_code_cell(CUT_SPLITS.format(train_size=train_size)))
    NotebookClient(
        notebook, timeout=900, kernel_name="python3",
        resources={"metadata": {"path": str(BOOK_ROOT / "lessons")}},
    ).execute()


@pytest.fixture(scope="module")
def lesson_cache(tmp_path_factory):
    """The three lessons executed in order on their slices, into one fresh run cache."""
    folder = tmp_path_factory.mktemp("runs")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FORCEMLP_RUN_CACHE", str(folder))
        for lesson, (train_size, _) in LESSON_RUNS.items():
            execute_lesson(lesson, train_size)
    return folder


@pytest.mark.parametrize(
    ("lesson", "config"),
    [(lesson, config) for lesson, (_, configs) in LESSON_RUNS.items() for config in configs],
    ids=lambda value: value if isinstance(value, str) else f"{value.framework}-{value.style}",
)
def test_lesson_code_and_runner_compute_the_same_run(lesson_cache, lesson, config):
    train_size = LESSON_RUNS[lesson][0]
    stored_path = runner.cached_path(config, lesson_cache)
    assert stored_path is not None and stored_path.is_file(), f"{lesson} did not remember {config}"
    shown = runner.run(config, cache=lesson_cache)  # the lesson's own run, from the cache
    assert shown.config == config.to_dict() and shown.train_samples == train_size
    ran = runner.run(replace(config, train_size=train_size), cache=False)
    assert len(shown.history.epochs) == len(ran.history.epochs) == config.epochs
    for mine, theirs in zip(shown.history.epochs, ran.history.epochs):
        assert mine.train_loss == pytest.approx(theirs.train_loss, rel=1e-5)
        assert mine.train_accuracy == pytest.approx(theirs.train_accuracy, abs=1e-6)
        assert mine.val_loss == pytest.approx(theirs.val_loss, rel=1e-5)
        assert mine.val_accuracy == pytest.approx(theirs.val_accuracy, abs=1e-9)
    assert shown.history.best_epoch == ran.history.best_epoch
    assert shown.test.accuracy == pytest.approx(ran.test.accuracy, abs=1e-9)
    assert shown.test.loss == pytest.approx(ran.test.loss, rel=1e-5)
