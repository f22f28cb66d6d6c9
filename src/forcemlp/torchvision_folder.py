"""The folder ``torchvision.datasets.MNIST(root, download=False)`` reads, made from the verified files.

    root = prepare()                      # then: datasets.MNIST(root, download=False, ...)
    root = prepare("fashion-mnist")       # datasets.FashionMNIST(root, download=False, ...)

torchvision looks for the four files uncompressed in ``<root>/<ClassName>/raw/``. forcemlp's
copies stay where they are (the data folder may be read-only): ``prepare`` loads them through
:func:`forcemlp.data.load_splits`, which checks every checksum, and writes their contents into
a cache folder, each file whole or not at all. A file already there is kept only if it holds
exactly the verified bytes, so torchvision never reads anything forcemlp has not checked.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from . import data
from .errors import ForceMLPError
from .fileio import ensure_writable_folder, reason, write_atomically

#: The class torchvision reads each dataset with: its name is the folder it looks in.
TORCHVISION_CLASSES = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST"}


def idx_bytes(array: np.ndarray) -> bytes:
    """An uint8 array as an IDX file: magic number, dimensions, then the bytes."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        size.to_bytes(4, "big") for size in array.shape
    )
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def default_root(train_count: int) -> Path:
    """Where the folder goes: the per-user cache, one folder per training-set size."""
    if train_count == data.TRAIN_LABELS[0]:
        return data.cache_dir("torchvision")
    return data.cache_dir(f"torchvision-first-{train_count}")


def prepare(name: str = "mnist", root: str | os.PathLike | None = None) -> Path:
    """The root folder to hand torchvision, holding ``name``'s verified files uncompressed.

    The training images are those :func:`forcemlp.data.load_splits` gives (all 60,000; a
    quick run's cut keeps its own folder), the test images the official 10,000.
    """
    spec = data.dataset_spec(name)
    if name not in TORCHVISION_CLASSES:
        raise ForceMLPError(
            f"torchvision has no class for {spec.title}: use one of"
            f" {', '.join(TORCHVISION_CLASSES)}."
        )
    digits = data.load(name)
    train = data.load_splits(name).train
    contents = {
        "train-images-idx3-ubyte": train.images,
        "train-labels-idx1-ubyte": train.labels.astype(np.uint8),
        "t10k-images-idx3-ubyte": digits.test_images,
        "t10k-labels-idx1-ubyte": digits.test_labels,
    }
    folder = Path(root) if root is not None else default_root(len(train))
    raw = ensure_writable_folder(
        folder / TORCHVISION_CLASSES[name] / "raw",
        "pass prepare(root=...) a folder you can write in, or set XDG_CACHE_HOME",
    )
    for filename, array in contents.items():
        _write_if_different(raw / filename, idx_bytes(array))
    return folder


def _write_if_different(path: Path, expected: bytes) -> None:
    try:
        if path.is_file() and path.stat().st_size == len(expected) and path.read_bytes() == expected:
            return
        write_atomically(path, lambda handle: handle.write(expected))
    except OSError as error:
        raise ForceMLPError(
            f"cannot write {path} ({reason(error)}): free some space, or pass"
            " prepare(root=...) another folder."
        ) from None
