"""Train one configuration in any framework, and remember the result so no model trains twice.

    python -m forcemlp train --framework keras --hidden 784 16 --batch-size 32

The book asks for the same runs from several lessons (the recap table, for one) and from the
paired notebooks; with ``$FORCEMLP_RUN_CACHE`` set, a result is stored as JSON under a key made
of the configuration and the package's own source, so any code change retrains.
"""
from __future__ import annotations

import hashlib
import json
import os
from functools import lru_cache
from importlib import import_module
from pathlib import Path

from .config import TrainConfig
from .data import load_splits
from .history import RunResult

TRAINERS = {
    "torch": "forcemlp.torch_mlp",
    "keras": "forcemlp.keras_mlp",
    "numpy": "forcemlp.numpy_mlp",
    "tensorflow": "forcemlp.tf_lowlevel",
    "fastai": "forcemlp.fastai_mlp",
}


@lru_cache(maxsize=1)
def source_fingerprint() -> str:
    """A hash of forcemlp's own source files: a changed trainer must not reuse old results."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def cache_key(config: TrainConfig) -> str:
    record = json.dumps(config.to_dict(), sort_keys=True) + source_fingerprint()
    return hashlib.sha256(record.encode()).hexdigest()[:20]


def cached_path(config: TrainConfig) -> Path | None:
    """Where this run's result is (or would be) stored; None when no cache folder is set."""
    root = os.environ.get("FORCEMLP_RUN_CACHE")
    if not root:
        return None
    return Path(root) / f"{config.framework}-{cache_key(config)}.json"


def run(
    config: TrainConfig,
    data_dir: str | os.PathLike | None = None,
    progress: bool = False,
    cache: bool = True,
) -> RunResult:
    """Train ``config`` on its dataset and evaluate on the 8,000 test images.

    Returns the stored result instead when the run cache already holds this exact run.
    """
    path = cached_path(config) if cache else None
    if path is not None and path.is_file():
        return RunResult.from_dict(json.loads(path.read_text()))
    splits = load_splits(config.dataset, data_dir, train_size=config.train_size)
    trainer = import_module(TRAINERS[config.framework])
    result = trainer.train_run(config, splits, progress)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part")
        partial.write_text(json.dumps(result.to_dict()))
        partial.replace(path)
    return result
