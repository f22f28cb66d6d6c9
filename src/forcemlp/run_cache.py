"""The run cache: each trained run's result and weights, stored once under its config's key.

    FORCEMLP_RUN_CACHE=_build/runs python -m forcemlp train --run-cache _build/runs ...

An entry is two files named ``<framework>-<key>``: a ``.json`` record (the configuration, the
:class:`~forcemlp.history.RunResult`, the sha256 of the weights) and an ``.npz`` of the trained
weights (:mod:`forcemlp.weights`). The key hashes the configuration and every file of the
package, so any change to forcemlp trains again. The rules that keep it safe:

- an entry is used only if it is a regular file of bounded size (never a FIFO, a link or a
  device), its JSON parses, its digest matches and every field passes the schema of
  :mod:`forcemlp.run_record`, its stored configuration equals the one asked for, and its
  weights (when wanted) match the digest its JSON names; anything else (truncated, edited,
  malformed, another run's) is deleted with a one-line warning and retrained, never returned
  and never a crash on a later call; weights from a different writer are simply not used;
- each file is written under a unique temporary name and moved into place (``os.replace``),
  so two builds writing one key at once never splice their files;
- :func:`ensure_writable` proves the folder takes files *before* the run trains;
- what an interrupted write leaves (a temporary file, weights without their record) is
  removed by the next :func:`store` or :func:`prune_other_sources` (:func:`remove_orphans`);
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
import warnings
from functools import lru_cache
from pathlib import Path

from .config import INPUT_SIZE, NUM_CLASSES, TrainConfig, parameter_count
from .errors import ForceMLPError
from .fileio import (
    NotARegularFile,
    ensure_writable_folder,
    is_abandoned,
    read_regular_file,
    reason,
    shown,
    write_atomically,
)
from .history import RunResult
from .run_record import FORMAT, DamagedRecord, check_record, check_result, sealed
from .weights import LayerWeights, read_npz, write_npz

MAX_RECORD_BYTES = 4 << 20  # a record of 10,000 test predictions and 1,000 epochs is < 1 MiB
ORPHAN_GRACE_SECONDS = 60  # a temporary file younger than this may be a live writer's
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
    entry without them counts as missing. A damaged record (see :mod:`forcemlp.run_record`)
    is deleted with a one-line warning and never served.
    """
    record_path, weights_path = entry_paths(folder, config)
    try:
        record = json.loads(read_regular_file(record_path, MAX_RECORD_BYTES))
        result = check_record(record, config, source_tag())
    except NotARegularFile as error:  # a FIFO, a link, a device, a huge file: never ours
        return _damaged(record_path, weights_path, reason(error))
    except OSError:  # nothing there, or a folder that cannot be read: ensure_writable says so
        return None
    except (ValueError, RecursionError) as error:  # not JSON, or damaged
        why = str(error) if isinstance(error, DamagedRecord) else "not a JSON record"
        return _damaged(record_path, weights_path, why)
    result.weights = _stored_weights(weights_path, record["weights_sha256"], config)
    if need_weights and result.weights is None:
        return None
    return result


def _damaged(record_path: Path, weights_path: Path, why: str) -> None:
    """Delete a damaged entry and say so in one line; the caller trains the run again."""
    _discard(record_path, weights_path)
    warnings.warn(f"the stored run {shown(record_path)} is damaged ({shown(why)}): it was"
                  " deleted and the run trains again.", RuntimeWarning, stacklevel=4)


def _stored_weights(path: Path, sha256: str | None, config: TrainConfig
                    ) -> tuple[LayerWeights, ...] | None:
    """The weights in ``path`` if they are the ones the record names, else None."""
    if not sha256:
        return None
    try:
        data = read_regular_file(path, _weights_limit(config))
    except NotARegularFile:
        _discard(path)  # never one of ours: a link, a FIFO, a device, or far too big
        return None
    except OSError:
        return None
    if hashlib.sha256(data).hexdigest() != sha256:
        return None  # missing, or written by another writer of this key: retrain, not splice
    try:
        return read_npz(data, (INPUT_SIZE, *config.hidden_sizes, NUM_CLASSES))
    except ForceMLPError:
        return None


def _weights_limit(config: TrainConfig) -> int:
    """The most bytes an .npz of ``config``'s float32 layers can take (headers included)."""
    return 4 * parameter_count(config.hidden_sizes) + 4096 * (len(config.hidden_sizes) + 2)


def store(folder: Path, config: TrainConfig, result: RunResult) -> Path:
    """Write ``result`` (and its weights, if any) as ``config``'s entry; returns the JSON path.

    Only a result :func:`~forcemlp.run_record.check_result` accepts is stored (else a
    :class:`~forcemlp.errors.ForceMLPError`), so nothing is written that a later read would
    refuse. Raises OSError when the disk refuses (full, read-only); nothing half-written stays
    behind, and the orphans of earlier interrupted writes are removed first.
    """
    record_path, weights_path = entry_paths(folder, config)
    try:
        data = json.loads(json.dumps(result.to_dict(), allow_nan=False))
        check_result(data, config)
    except (TypeError, ValueError) as error:  # DamagedRecord, or a number JSON cannot hold
        raise ForceMLPError(
            f"this run cannot be stored: {error}; only a finished run's own result can be."
        ) from None
    remove_orphans(folder)
    sha256 = None
    if result.weights is not None:
        buffer = io.BytesIO()
        write_npz(result.weights, buffer)
        weights = buffer.getvalue()
        sha256 = hashlib.sha256(weights).hexdigest()
        write_atomically(weights_path, lambda handle: handle.write(weights))
    encoded = sealed({"format": FORMAT, "source": source_tag(), "config": config.to_dict(),
                      "weights_sha256": sha256, "result": data})
    try:
        write_atomically(record_path, lambda handle: handle.write(encoded))
    except BaseException:
        if sha256 is not None:
            _discard(weights_path)  # weights without a record: litter
        raise
    return record_path


def remove_orphans(folder: Path) -> None:
    """Delete what interrupted or failed writes left in ``folder``: temporary files no writer
    holds, and weights whose record never came (both older than ``ORPHAN_GRACE_SECONDS``, so a
    writer at work beside this one keeps its files)."""
    try:
        names = [path for path in folder.iterdir() if path.name.startswith(".")]
        weights = list(folder.glob("*.npz"))
    except OSError:
        return
    for path in names:
        if (path.suffix == ".tmp" or path.name.startswith(".write-test-")) and is_abandoned(
            path, ORPHAN_GRACE_SECONDS
        ):
            _discard(path)
    for path in weights:
        if not path.with_suffix(".json").exists() and is_abandoned(path, ORPHAN_GRACE_SECONDS):
            _discard(path)


def prune_other_sources(folder: Path) -> None:
    """Delete every entry in ``folder`` not stored by this package source (or unreadable),
    and the orphans of interrupted writes (:func:`remove_orphans`).

    Their keys hash an earlier source, so no call can reach them again; left alone, each
    change to forcemlp would add a full set of runs and weights beside the old ones.
    """
    if not folder.is_dir():
        return
    for record_path in folder.glob("*.json"):
        try:
            source = json.loads(read_regular_file(record_path, MAX_RECORD_BYTES)).get("source")
        except (OSError, ValueError, AttributeError, RecursionError):  # unreadable, not a record
            source = None
        if source != source_tag():
            _discard(record_path, record_path.with_suffix(".npz"))
    remove_orphans(folder)


def _discard(*paths: Path) -> None:
    for path in paths:
        try:
            path.unlink(missing_ok=True)
        except OSError:
            pass  # a read-only cache: the entry is ignored all the same
