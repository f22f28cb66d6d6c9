"""Find, verify, parse and split MNIST and Fashion-MNIST from the four original IDX ``.gz`` files.

    python -m forcemlp data            # where the data is, and whether every file verifies

Where the files are looked for, in order: an explicit folder (``data_dir``); ``$FORCEMLP_DATA/<name>``;
the system folder Debian's ``dataset-fashion-mnist`` installs; the per-user cache
(``$XDG_CACHE_HOME/forcemlp/<name>``). Only when all are empty are the files downloaded, into
the cache, each checked against its checksum before it is kept. Folders given by the user are
only read, never written to.
"""
from __future__ import annotations

import errno
import hashlib
import math
import os
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import BinaryIO

import numpy as np

from .config import pick, whole_number
from .errors import ForceMLPError
from .fileio import ensure_writable_folder, fix_for, reason, shown

IMAGE_MAGIC = 2051
LABEL_MAGIC = 2049
ROLES = ("train_images", "train_labels", "test_images", "test_labels")
# The shapes both MNIST and Fashion-MNIST promise in their IDX headers.
TRAIN_IMAGES, TRAIN_LABELS = (60_000, 28, 28), (60_000,)
TEST_IMAGES, TEST_LABELS = (10_000, 28, 28), (10_000,)
READ_CHUNK = 1 << 20  # compressed bytes read at a time
DECOMPRESS_CHUNK = 4 << 20  # most bytes one decompression step may produce


@dataclass(frozen=True)
class DataFile:
    """One of a dataset's four files: its name, checksums of the .gz and of its contents, and
    the array shape its IDX header must promise.

    The content checksum is the one that always holds: redistributions (Debian's, for one)
    recompress the files, which changes the .gz bytes but not what is inside. The shape bounds
    everything read from the file before a byte of it is trusted.
    """

    filename: str
    download_hash: str
    content_sha256: str
    shape: tuple[int, ...]

    @property
    def magic(self) -> int:
        return IMAGE_MAGIC if len(self.shape) == 3 else LABEL_MAGIC

    @property
    def header_size(self) -> int:
        return 4 + 4 * len(self.shape)

    @property
    def content_size(self) -> int:
        """Bytes of the uncompressed file: header, then one byte per pixel or label."""
        return self.header_size + math.prod(self.shape)


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    title: str
    files: dict[str, DataFile]
    mirrors: tuple[str, ...]
    class_names: tuple[str, ...]
    system_dirs: tuple[str, ...] = ()


DATASETS: dict[str, DatasetSpec] = {
    "mnist": DatasetSpec(
        name="mnist",
        title="MNIST",
        files={
            "train_images": DataFile(
                "train-images-idx3-ubyte.gz",
                "sha256:440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
                "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
                TRAIN_IMAGES,
            ),
            "train_labels": DataFile(
                "train-labels-idx1-ubyte.gz",
                "sha256:3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
                "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
                TRAIN_LABELS,
            ),
            "test_images": DataFile(
                "t10k-images-idx3-ubyte.gz",
                "sha256:8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
                "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
                TEST_IMAGES,
            ),
            "test_labels": DataFile(
                "t10k-labels-idx1-ubyte.gz",
                "sha256:f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
                "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
                TEST_LABELS,
            ),
        },
        mirrors=(
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
        ),
        class_names=tuple(str(digit) for digit in range(10)),
    ),
    "fashion-mnist": DatasetSpec(
        name="fashion-mnist",
        title="Fashion-MNIST",
        files={
            "train_images": DataFile(
                "train-images-idx3-ubyte.gz",
                "md5:8d4fb7e6c68d591d4c3dfef9ec88bf0d",
                "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
                TRAIN_IMAGES,
            ),
            "train_labels": DataFile(
                "train-labels-idx1-ubyte.gz",
                "md5:25c81989df183df01b3e8a0aad5dffbe",
                "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
                TRAIN_LABELS,
            ),
            "test_images": DataFile(
                "t10k-images-idx3-ubyte.gz",
                "md5:bef4ecab320f06d8554ea6380940ec79",
                "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
                TEST_IMAGES,
            ),
            "test_labels": DataFile(
                "t10k-labels-idx1-ubyte.gz",
                "md5:bb300cfdad3c16e7a12a480ee83cd310",
                "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
                TEST_LABELS,
            ),
        },
        mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
        class_names=(
            "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
        ),
        system_dirs=("/usr/share/datasets/fashion-mnist",),
    ),
}


def dataset_spec(name: str) -> DatasetSpec:
    """The spec of a dataset by name, or a clear error listing the names that exist."""
    return pick("dataset", name, DATASETS)


def cache_dir(name: str) -> Path:
    """The per-user folder downloads go to (``$XDG_CACHE_HOME/forcemlp/<name>``).

    As the XDG specification asks, a relative ``$XDG_CACHE_HOME`` is ignored (it would mean a
    different folder in every working directory) and ``~/.cache`` is used instead.
    """
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):
        try:
            home = Path.home()
        except RuntimeError:  # no $HOME and no passwd entry
            home = Path()
        if not home.is_absolute() or home == Path(home.anchor):  # HOME="" or HOME=/
            raise ForceMLPError(
                f"no home folder to keep downloads in (HOME is {shown(repr(str(home)))}): set"
                " HOME or XDG_CACHE_HOME to an absolute path, or pass --data-dir."
            )
        base = str(home / ".cache")
    return Path(base) / "forcemlp" / name


def candidate_dirs(name: str, data_dir: str | os.PathLike | None = None) -> list[Path]:
    """Folders searched for a dataset's files, in order (see the module docstring)."""
    spec = dataset_spec(name)
    if data_dir is not None:
        return [Path(data_dir)]
    candidates = []
    if root := os.environ.get("FORCEMLP_DATA"):
        candidates.append(_data_root_folder(Path(root), spec))
    candidates += [Path(folder) for folder in spec.system_dirs]
    candidates.append(cache_dir(name))
    return candidates


def _data_root_folder(root: Path, spec: DatasetSpec) -> Path:
    """``$FORCEMLP_DATA/<name>``, refused in one line when the variable is wrong: a root that
    is not a folder, or a dataset folder in it that lacks a file, is a mistake to fix, not a
    reason to go looking elsewhere (or to download)."""
    try:
        if not root.is_dir():
            what = "is not a folder" if root.exists() else "does not exist"
            raise ForceMLPError(
                f"FORCEMLP_DATA={shown(root)} {what}: point it at the folder that holds"
                f" '{spec.name}/' with the four IDX .gz files, or unset it."
            )
        folder = root / spec.name
        if folder.is_dir() and (missing := _missing_files(folder, spec)):
            raise ForceMLPError(
                f"{spec.title} in {shown(folder)} (from FORCEMLP_DATA) lacks"
                f" {', '.join(missing)}: put {'it' if len(missing) == 1 else 'them'} there,"
                " or unset FORCEMLP_DATA."
            )
    except OSError as error:
        raise ForceMLPError(
            f"cannot look into FORCEMLP_DATA={shown(root)} ({reason(error)}): {fix_for(error)}."
        ) from None
    return folder


def _missing_files(folder: Path, spec: DatasetSpec) -> list[str]:
    return [f.filename for f in spec.files.values() if not (folder / f.filename).is_file()]


def _has_all_files(folder: Path, spec: DatasetSpec) -> bool:
    """Whether ``folder`` holds every file; a folder that cannot be looked into is an error."""
    try:
        return all(
            (folder / data_file.filename).is_file() for data_file in spec.files.values()
        )
    except PermissionError as error:
        raise ForceMLPError(
            f"cannot look into {folder} ({reason(error)}): make it readable, or point"
            " FORCEMLP_DATA / --data-dir at another folder."
        ) from None
    except OSError:  # not a folder, a dangling link, ...: not where the files are
        return False


def locate(name: str = "mnist", data_dir: str | os.PathLike | None = None,
           download: bool = True) -> Path:
    """The folder holding all four files of ``name``, downloading into the cache if needed."""
    spec = dataset_spec(name)
    candidates = candidate_dirs(name, data_dir)
    for folder in candidates:
        if _has_all_files(folder, spec):
            return folder
    if data_dir is not None:
        try:
            missing = _missing_files(Path(data_dir), spec)
        except OSError as error:
            raise ForceMLPError(
                f"cannot look into {shown(data_dir)} ({reason(error)}): {fix_for(error)}."
            ) from None
        raise ForceMLPError(
            f"{spec.title} files missing in {data_dir}: {', '.join(missing)}."
            " Put the four IDX .gz files there, or leave out --data-dir to download them."
        )
    if not download:
        raise ForceMLPError(
            f"{spec.title} not found in {', '.join(map(str, candidates))}:"
            " set FORCEMLP_DATA to a folder holding a "
            f"'{name}' folder with the four IDX .gz files, or allow the download."
        )
    return fetch(name, cache_dir(name))


# Errors that say the local disk, not the mirror, is at fault: trying another mirror won't help.
LOCAL_WRITE_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.EROFS}


def fetch(name: str, destination: Path, mirrors: Sequence[str] | None = None) -> Path:
    """Download the four files into ``destination`` from the first mirror that serves them.

    pooch writes each download to a temporary file and moves it into place only after its
    checksum matched, so a broken or interrupted download never leaves half a file behind.
    A destination that cannot be written is reported before anything is downloaded.
    """
    import pooch

    spec = dataset_spec(name)
    ensure_writable_folder(
        destination, "set XDG_CACHE_HOME to a writable folder, or put the four IDX .gz files"
        " in a folder and pass --data-dir"
    )
    errors = []
    for mirror in mirrors or spec.mirrors:
        try:
            for data_file in spec.files.values():
                pooch.retrieve(
                    mirror + data_file.filename,
                    known_hash=data_file.download_hash,
                    fname=data_file.filename,
                    path=destination,
                    progressbar=False,
                )
            return destination
        except OSError as error:
            if error.errno in LOCAL_WRITE_ERRORS:
                raise ForceMLPError(
                    f"cannot save the download in {destination} ({reason(error)}): free some"
                    " space or set XDG_CACHE_HOME to another folder."
                ) from None
            errors.append(f"{mirror}: {_first_line(error)}")
        except Exception as error:  # noqa: BLE001 - any mirror failure means: try the next one
            errors.append(f"{mirror}: {_first_line(error)}")
    raise ForceMLPError(
        f"could not download {spec.title} ({'; '.join(errors)})."
        " Without a network, put the four IDX .gz files in a folder and pass --data-dir"
        " (or set FORCEMLP_DATA)."
    )


def _first_line(error: BaseException) -> str:
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def _idx_shape(raw: bytes, expected_magic: int, source: str) -> tuple[int, ...]:
    """The dimensions an IDX header promises, after checking its magic number."""
    if len(raw) < 8:
        raise ForceMLPError(f"{source} is too short to be an IDX file: replace it with a good copy.")
    magic = int.from_bytes(raw[:4], "big")
    if magic != expected_magic:
        kind = "image" if expected_magic == IMAGE_MAGIC else "label"
        raise ForceMLPError(
            f"{source} has IDX magic number {magic}, not {expected_magic} for {kind} files:"
            " check that the right file sits under this name."
        )
    ndim = raw[3]
    if len(raw) < 4 + 4 * ndim:
        raise ForceMLPError(f"{source} ends inside its IDX header: replace it with a good copy.")
    return tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))


def _gunzip_bounded(handle: BinaryIO, limit: int, source: str) -> Iterator[bytes]:
    """Decompress a .gz stream piece by piece, stopping with an error past ``limit`` bytes.

    Reads ``READ_CHUNK`` compressed bytes at a time and lets no step produce more than
    ``DECOMPRESS_CHUNK`` bytes, so a small file that expands to gigabytes costs a few
    megabytes of memory before it is refused. Follows gzip members one after another (as
    ``gzip`` does), ignoring zero padding after the last.
    """
    produced = 0
    decompressor = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    started = False
    while compressed := handle.read(READ_CHUNK):
        while compressed:
            if decompressor.eof:
                compressed = compressed.lstrip(b"\0")
                if not compressed:
                    break
                decompressor = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
            started = True
            piece = decompressor.decompress(compressed, DECOMPRESS_CHUNK)
            produced += len(piece)
            if produced > limit:
                raise ForceMLPError(
                    f"{source} expands to more than the {limit:,} bytes this file holds:"
                    " it is not the original (perhaps a decompression bomb); replace it."
                )
            yield piece
            compressed = decompressor.unused_data if decompressor.eof else decompressor.unconsumed_tail
    if not started or not decompressor.eof:
        raise ForceMLPError(
            f"{source} is not a readable .gz file (it ends before its compressed data does):"
            " it is truncated or corrupt; replace it with a fresh copy."
        )


def read_verified(path: Path, data_file: DataFile) -> np.ndarray:
    """The uint8 array of one data file, read in bounded chunks and checked on the way.

    Before anything is allocated: the .gz is no bigger than its contents could compress to,
    and its IDX header promises exactly ``data_file.shape``. While reading: decompression
    stops past the expected size, and the contents' sha256 is computed piece by piece, then
    compared with the known one. Every failure is one :class:`ForceMLPError` saying what to do.
    """
    limit = data_file.content_size
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > limit + limit // 100 + 4096:  # stored deflate blocks add ~0.01 %
                raise ForceMLPError(
                    f"{path} is {size:,} bytes, more than any .gz of this {limit:,}-byte file"
                    " can be: it is not the original; replace it."
                )
            return _read_idx_stream(handle, data_file, str(path))
    except OSError as error:
        raise ForceMLPError(
            f"cannot read {path} ({reason(error)}): check its permissions, or replace it."
        ) from None
    except zlib.error as error:
        raise ForceMLPError(
            f"{path} is not a readable .gz file ({error}): it is truncated or corrupt;"
            " replace it with a fresh copy."
        ) from None


def _read_idx_stream(handle: BinaryIO, data_file: DataFile, source: str) -> np.ndarray:
    """Stream-decompress, check the header, fill a preallocated array, check the sha256."""
    digest = hashlib.sha256()
    header = b""
    contents: np.ndarray | None = None
    filled = 0
    for piece in _gunzip_bounded(handle, data_file.content_size, source):
        digest.update(piece)
        if contents is None:
            header += piece
            if len(header) < data_file.header_size:
                continue
            shape = _idx_shape(header, data_file.magic, source)
            if shape != data_file.shape:
                raise ForceMLPError(
                    f"{source} promises an array of shape {shape}, not {data_file.shape}:"
                    " it is not this dataset's file; replace it with the original."
                )
            contents = np.empty(math.prod(shape), dtype=np.uint8)
            piece, header = header[data_file.header_size:], header[:data_file.header_size]
        contents[filled:filled + len(piece)] = np.frombuffer(piece, dtype=np.uint8)
        filled += len(piece)
    if contents is None or filled != contents.size:
        raise ForceMLPError(
            f"{source} holds {filled:,} bytes of data where its header promises"
            f" {math.prod(data_file.shape):,}: the file is truncated or corrupt; replace it."
        )
    if (found := digest.hexdigest()) != data_file.content_sha256:
        raise ForceMLPError(
            f"{source} fails its checksum (sha256 of contents {found[:12]}…, expected"
            f" {data_file.content_sha256[:12]}…): it is corrupt or another dataset's file;"
            " replace it with the original."
        )
    return contents.reshape(data_file.shape)


@dataclass(frozen=True)
class Digits:
    """A dataset as the original files give it: uint8 images (N, 28, 28) and uint8 labels."""

    name: str
    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    class_names: tuple[str, ...]
    folder: Path


@lru_cache(maxsize=4)
def _load_cached(name: str, folder: Path) -> Digits:
    spec = dataset_spec(name)
    arrays = {
        role: read_verified(folder / data_file.filename, data_file)
        for role, data_file in spec.files.items()
    }
    return Digits(name=name, class_names=spec.class_names, folder=folder, **arrays)


def load(name: str = "mnist", data_dir: str | os.PathLike | None = None) -> Digits:
    """Load a dataset's four files, verified; repeated calls in one process reuse the arrays."""
    return _load_cached(name, locate(name, data_dir).resolve())


def verify(name: str = "mnist", data_dir: str | os.PathLike | None = None) -> list[tuple[str, str]]:
    """(path, "ok" or the error) for each file, without downloading: what ``forcemlp data`` shows."""
    spec = dataset_spec(name)
    folder = locate(name, data_dir, download=False)
    report = []
    for data_file in spec.files.values():
        path = folder / data_file.filename
        try:
            read_verified(path, data_file)
            report.append((str(path), "ok"))
        except ForceMLPError as error:
            report.append((str(path), str(error)))
    return report


def to_features(images: np.ndarray) -> np.ndarray:
    """uint8 images (N, 28, 28) -> float32 (N, 784) scaled from [0, 255] to [0, 1]."""
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim < 2:
        raise ForceMLPError(
            f"expected uint8 images of shape (N, height, width), got {images.dtype} {images.shape}."
        )
    return images.reshape(len(images), -1).astype(np.float32) / np.float32(255)


def one_hot(labels: np.ndarray, num_classes: int = 10) -> np.ndarray:
    """Integer labels (N,) -> float32 one-hot rows (N, num_classes), as Keras' losses want."""
    labels = np.asarray(labels, dtype=np.int64)
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ForceMLPError(f"labels must lie in 0..{num_classes - 1} for {num_classes} classes.")
    encoded = np.zeros((len(labels), num_classes), dtype=np.float32)
    encoded[np.arange(len(labels)), labels] = 1.0
    return encoded


def stratified_split(labels: np.ndarray, first_size: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Indices splitting ``labels`` into two parts with the same class proportions.

    Each class gives ``first_size * share`` of its samples to the first part (largest
    remainders settle the rounding so the first part has exactly ``first_size``), chosen at
    random with ``seed``. Both index arrays come back sorted, so order follows the file.
    """
    labels = np.asarray(labels)
    if not 0 < first_size < len(labels):
        raise ForceMLPError(
            f"cannot split {len(labels)} samples into parts of {first_size} and"
            f" {len(labels) - first_size}: choose a size between 1 and {len(labels) - 1}."
        )
    classes, counts = np.unique(labels, return_counts=True)
    exact = counts * first_size / len(labels)
    quota = np.floor(exact).astype(int)
    shortfall = first_size - quota.sum()
    quota[np.argsort(-(exact - quota), kind="stable")[:shortfall]] += 1
    rng = np.random.default_rng(seed)
    first = [
        rng.permutation(np.flatnonzero(labels == cls))[:take] for cls, take in zip(classes, quota)
    ]
    first_indices = np.sort(np.concatenate(first))
    mask = np.ones(len(labels), dtype=bool)
    mask[first_indices] = False
    return first_indices, np.flatnonzero(mask)


@dataclass(frozen=True)
class Split:
    """One labelled set: uint8 images (N, 28, 28) and int64 labels (N,)."""

    images: np.ndarray
    labels: np.ndarray

    @cached_property
    def features(self) -> np.ndarray:
        """float32 (N, 784) in [0, 1]: what the models eat, computed once per Split."""
        return to_features(self.images)

    def __len__(self) -> int:
        return len(self.labels)

    def head(self, count: int) -> Split:
        """The first ``count`` samples: a small slice for quick runs and tests."""
        return Split(self.images[:count], self.labels[:count])


@dataclass(frozen=True)
class Splits:
    """Train (the 60,000), validation and test (a stratified split of the official 10,000)."""

    name: str
    train: Split
    val: Split
    test: Split
    class_names: tuple[str, ...]


def load_splits(
    name: str = "mnist",
    data_dir: str | os.PathLike | None = None,
    val_size: int = 2000,
    seed: int = 0,
    train_size: int | None = None,
) -> Splits:
    """The seed article's sets: all training images; the test set split, stratified, 2,000/8,000.

    ``train_size`` keeps only the first N training images (for quick runs); the validation
    and test sets stay whole so numbers remain comparable.
    """
    digits = load(name, data_dir)
    val_indices, test_indices = stratified_split(digits.test_labels, val_size, seed)
    train_images, train_labels = digits.train_images, digits.train_labels
    if train_size is not None:
        whole_number("train_size", train_size, maximum=len(train_labels))
        train_images, train_labels = train_images[:train_size], train_labels[:train_size]
    as_int = np.int64
    return Splits(
        name=name,
        train=Split(train_images, train_labels.astype(as_int)),
        val=Split(digits.test_images[val_indices], digits.test_labels[val_indices].astype(as_int)),
        test=Split(digits.test_images[test_indices], digits.test_labels[test_indices].astype(as_int)),
        class_names=digits.class_names,
    )
