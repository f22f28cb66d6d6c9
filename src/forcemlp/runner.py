"""Train one configuration in any framework, and remember the result so no model trains twice.

    python -m forcemlp train --framework keras --hidden 784 16 --batch-size 32
    result = run(recipes.SEED_KERAS)               # from the run cache when it was trained
    result = run(recipes.BEST_MLP, keep_weights=True); result.weights   # trained layers

:func:`run` enforces the contract of :mod:`forcemlp.contract`: an option the framework cannot
honour is refused in one line before any framework is imported or any data is loaded; with a
run cache (``$FORCEMLP_RUN_CACHE``, see :mod:`forcemlp.run_cache`) the folder is checked
before training, and the result and trained weights are stored after it. :func:`remember`
stores a run a lesson trained in its own cells, so later pages reuse it.
"""
from __future__ import annotations

import os
import threading
import warnings
from contextlib import nullcontext
from dataclasses import replace
from importlib import import_module
from pathlib import Path

from . import run_cache
from .config import TrainConfig
from .contract import check_supported
from .data import Splits, load_splits
from .errors import ForceMLPError
from .fileio import reason
from .history import RunResult
from .run_cache import cache_key, source_fingerprint

__all__ = ["cache_key", "cached_path", "remember", "run", "source_fingerprint", "train_on"]

# Frameworks seeded through a global generator (torch.manual_seed, keras' seed) train one run
# at a time, so a run started beside another in a thread gives what it gives alone.
GLOBAL_RANDOM_STATE = threading.RLock()


def _cache_folder(cache: bool | str | os.PathLike) -> Path | None:
    if cache is True:
        return run_cache.folder_from_environment()
    if cache is False or cache is None:
        return None
    if not isinstance(cache, str | os.PathLike) or isinstance(os.fspath(cache), bytes):
        raise ForceMLPError(
            f"cache must be True, False or a folder path such as '_build/runs', got {cache!r}."
        )
    if os.fspath(cache) == "":
        raise ForceMLPError(
            "the run cache folder is an empty name: give a folder (e.g. _build/runs), or"
            " cache=False / leave out --run-cache to train without one."
        )
    return Path(cache).expanduser().absolute()


def _check_arguments(config: object, data_dir: object) -> None:
    """The package's one-line error for a wrong type, before anything is imported or read."""
    if not isinstance(config, TrainConfig):
        raise ForceMLPError(
            f"config must be a TrainConfig, got {type(config).__name__}: build one, e.g."
            " TrainConfig(**settings) or recipes.SEED_TORCH."
        )
    if data_dir is not None and (
        not isinstance(data_dir, str | os.PathLike) or isinstance(os.fspath(data_dir), bytes)
    ):
        raise ForceMLPError(f"data_dir must be a folder path or None, got {data_dir!r}.")


def cached_path(config: TrainConfig, cache: bool | str | os.PathLike = True) -> Path | None:
    """Where this run's record is (or would be) stored; None when no cache folder is set."""
    folder = _cache_folder(cache)
    return None if folder is None else run_cache.entry_paths(folder, config)[0]


def run(
    config: TrainConfig,
    data_dir: str | os.PathLike | None = None,
    progress: bool = False,
    cache: bool | str | os.PathLike = True,
    keep_weights: bool = False,
) -> RunResult:
    """Train ``config`` on its dataset and evaluate on the 8,000 test images.

    ``cache``: True uses ``$FORCEMLP_RUN_CACHE`` when set, a folder uses that folder, False
    trains without one. A stored run of this exact configuration and package source comes
    back without training; ``keep_weights=True`` guarantees ``result.weights`` (a stored run
    without them trains again). Fresh results always carry their weights.
    """
    _check_arguments(config, data_dir)
    check_supported(config)
    folder = _cache_folder(cache)
    if folder is not None:
        if (stored := run_cache.load(folder, config, need_weights=keep_weights)) is not None:
            return stored
        run_cache.ensure_writable(folder)
    splits = load_splits(config.dataset, data_dir, train_size=config.train_size)
    result = train_on(config, splits, progress)
    if folder is not None:
        try:
            run_cache.store(folder, config, result)
        except OSError as error:  # the disk filled up during training: keep the result
            warnings.warn(
                f"could not store the run in {folder} ({reason(error)}): the result is"
                " returned but not cached.", RuntimeWarning, stacklevel=2,
            )
        except ForceMLPError as error:  # a result the cache would refuse to serve
            warnings.warn(f"{error} The result is returned but not cached.", RuntimeWarning,
                          stacklevel=2)
    return result


def train_on(config: TrainConfig, splits: Splits, progress: bool = False) -> RunResult:
    """Train ``config`` on ``splits`` through its framework's adapter (no cache).

    ``splits.train`` is cut to ``config.train_size`` images here, once for every framework.
    A framework seeded through global state trains under :data:`GLOBAL_RANDOM_STATE`, so
    runs in threads give the results they give one after the other.
    """
    _check_arguments(config, None)
    adapter = check_supported(config)
    if config.train_size is not None:
        if config.train_size > len(splits.train):
            raise ForceMLPError(
                f"train_size {config.train_size} is more than the {len(splits.train)} training"
                " images given: ask for fewer."
            )
        splits = replace(splits, train=splits.train.head(config.train_size))
    with nullcontext() if adapter.own_random_state else GLOBAL_RANDOM_STATE:
        return import_module(adapter.module).train_run(config, splits, progress)


def remember(
    config: TrainConfig, result: RunResult, cache: bool | str | os.PathLike = True
) -> Path | None:
    """Store a run trained elsewhere (a lesson's own cells) under ``config``'s key.

    Later ``run(config)`` calls, on any page, then return it without training. Returns the
    record's path, or None when no cache folder is set. ``result.config`` must be
    ``config.to_dict()``: a result is never filed under another run's name.
    """
    _check_arguments(config, None)
    if not isinstance(result, RunResult):
        raise ForceMLPError(f"result must be a RunResult, got {type(result).__name__}.")
    if result.config != config.to_dict():
        raise ForceMLPError(
            "this result was trained with another configuration than the one given: pass the"
            " config it was trained with (result.config)."
        )
    folder = _cache_folder(cache)
    if folder is None:
        return None
    run_cache.ensure_writable(folder)
    try:
        return run_cache.store(folder, config, result)
    except OSError as error:
        raise ForceMLPError(
            f"could not store the run in {folder} ({reason(error)}): free some space, or set"
            " FORCEMLP_RUN_CACHE to another folder."
        ) from None
