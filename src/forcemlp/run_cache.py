"""The run cache: each trained run's result and weights, stored once under its config's key.

    FORCEMLP_RUN_CACHE=_build/runs python -m forcemlp train --run-cache _build/runs ...

An entry is two files named ``<framework>-<key>``: a ``.json`` record (the configuration, the
:class:`~forcemlp.history.RunResult`, the sha256 of the weights) and an ``.npz`` of the trained
weights (:mod:`forcemlp.weights`). The key hashes the configuration and every file of the
package, so any change to forcemlp trains again. The rules that keep it safe:

- an entry is used only if its JSON parses, its stored configuration equals the one asked for,
  and its weights (when wanted) match the digest its JSON names; anything else (truncated,
  malformed, another run's, a weights file from a different writer) is deleted and retrained,
  never returned and never a crash on a later call;
- each file is written under a unique temporary name and moved into place (``os.replace``),
  so two builds writing one key at once never splice their files;
- :func:`ensure_writable` proves the folder takes files *before* the run trains;
- :func:`prune_other_sources` deletes the entries of earlier package sources, whose keys can
  never be asked for again (the book's build calls it, so ``_build/runs`` does not grow with
  every change to forcemlp).
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
from functools import lru_cache
from pathlib import Path

from .config import INPUT_SIZE, NUM_CLASSES, TrainConfig
from .errors import ForceMLPError
from .fileio import ensure_writable_folder, write_atomically
from .history import RunResult
from .weights import LayerWeights, read_npz, write_npz

FORMAT = 2  # bump when the record's layout changes (2: the record names its package source)
PACKAGE = Path(__file__).resolve().parent


@lru_cache(maxsize=1)
def source_fingerprint() -> str:
    """A hash of every file of the forcemlp package, subpackages and data files included:
    a changed trainer must not reuse old results."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE.rglob("*")):
        if path.is_dir() or "__pycache__" in path.parts or path.suffix == ".pyc":
            continue
        digest.update(path.relative_to(PACKAGE).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def source_tag() -> str:
    """The short form of :func:`source_fingerprint` that names caches and records."""
    return source_fingerprint()[:16]


def execution_cache_folder(root: Path) -> Path:
    """``root/<source tag>``: where the book keeps executed notebooks for this package
    source, so a package change re-executes every lesson. Folders of earlier sources are
    deleted here, so they do not pile up build after build."""
    current = root / source_tag()
    if root.is_dir():
        for sibling in root.iterdir():
            if sibling != current and sibling.is_dir():
                shutil.rmtree(sibling, ignore_errors=True)
    return current


def cache_key(config: TrainConfig) -> str:
    record = json.dumps(config.to_dict(), sort_keys=True) + source_fingerprint()
    return hashlib.sha256(record.encode()).hexdigest()[:20]


def folder_from_environment() -> Path | None:
    """``$FORCEMLP_RUN_CACHE`` as an absolute folder, or None when it is unset or empty."""
    root = os.environ.get("FORCEMLP_RUN_CACHE")
    return Path(root).expanduser().absolute() if root else None


def entry_paths(folder: Path, config: TrainConfig) -> tuple[Path, Path]:
    """The (.json, .npz) files of ``config``'s entry in ``folder``."""
    stem = f"{config.framework}-{cache_key(config)}"
    return folder / f"{stem}.json", folder / f"{stem}.npz"


def ensure_writable(folder: Path) -> Path:
    """Create ``folder`` if needed and prove it takes files, else one line (before training)."""
    return ensure_writable_folder(
        folder, "set FORCEMLP_RUN_CACHE (or --run-cache) to a writable folder, or unset it"
        " to train without a cache"
    )


def load(folder: Path, config: TrainConfig, need_weights: bool = False) -> RunResult | None:
    """The stored run of ``config``, or None to train it (a bad entry is deleted first).

    The result carries its weights when they are stored and intact; with ``need_weights`` an
    entry without them counts as missing.
    """
    record_path, weights_path = entry_paths(folder, config)
    try:
        record = json.loads(record_path.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, ValueError):  # unreadable, truncated, not JSON
        _discard(record_path, weights_path)
        return None
    try:
        if record["format"] != FORMAT or record["config"] != config.to_dict():
            raise ValueError("another run's record")
        result = RunResult.from_dict(record["result"])
        if result.config != config.to_dict():
            raise ValueError("a result trained with another configuration")
    except (KeyError, IndexError, AttributeError, TypeError, ValueError, ForceMLPError):
        _discard(record_path, weights_path)
        return None
    result.weights = _stored_weights(weights_path, record.get("weights_sha256"), config)
    if need_weights and result.weights is None:
        return None
    return result


def _stored_weights(path: Path, sha256: str | None, config: TrainConfig
                    ) -> tuple[LayerWeights, ...] | None:
    """The weights in ``path`` if they are the ones the record names, else None."""
    if not sha256:
        return None
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if hashlib.sha256(data).hexdigest() != sha256:
        return None  # missing, or written by another writer of this key: retrain, not splice
    try:
        return read_npz(data, (INPUT_SIZE, *config.hidden_sizes, NUM_CLASSES))
    except ForceMLPError:
        return None


def store(folder: Path, config: TrainConfig, result: RunResult) -> Path:
    """Write ``result`` (and its weights, if any) as ``config``'s entry; returns the JSON path.

    Raises OSError when the disk refuses (full, read-only); nothing half-written stays behind.
    """
    record_path, weights_path = entry_paths(folder, config)
    sha256 = None
    if result.weights is not None:
        buffer = io.BytesIO()
        write_npz(result.weights, buffer)
        data = buffer.getvalue()
        sha256 = hashlib.sha256(data).hexdigest()
        write_atomically(weights_path, lambda handle: handle.write(data))
    record = {"format": FORMAT, "source": source_tag(), "config": config.to_dict(),
              "weights_sha256": sha256, "result": result.to_dict()}
    encoded = json.dumps(record).encode()
    write_atomically(record_path, lambda handle: handle.write(encoded))
    return record_path


def prune_other_sources(folder: Path) -> None:
    """Delete every entry in ``folder`` not stored by this package source (or unreadable).

    Their keys hash an earlier source, so no call can reach them again; left alone, each
    change to forcemlp would add a full set of runs and weights beside the old ones.
    """
    if not folder.is_dir():
        return
    for record_path in folder.glob("*.json"):
        try:
            source = json.loads(record_path.read_bytes()).get("source")
        except (OSError, ValueError, AttributeError):  # unreadable, not JSON, not a record
            source = None
        if source != source_tag():
            _discard(record_path, record_path.with_suffix(".npz"))


def _discard(*paths: Path) -> None:
    for path in paths:
        try:
            path.unlink(missing_ok=True)
        except OSError:
            pass  # a read-only cache: the entry is ignored all the same
