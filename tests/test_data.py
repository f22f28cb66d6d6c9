"""forcemlp.data on the real MNIST files: parsing, checksums, lookup order, download, splits."""
from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest

from forcemlp import data
from forcemlp.errors import ForceMLPError


def test_full_mnist_shapes_and_counts():
    digits = data.load("mnist")
    assert digits.train_images.shape == (60000, 28, 28)
    assert digits.test_images.shape == (10000, 28, 28)
    assert digits.train_images.dtype == np.uint8
    assert digits.train_labels[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert np.bincount(digits.test_labels).tolist() == [
        980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009
    ]


def test_features_are_flat_float32_in_unit_range(mnist_splits):
    features = mnist_splits.train.features
    assert features.shape == (60000, 784) and features.dtype == np.float32
    assert features.min() == 0.0 and features.max() == 1.0
    assert features.mean() == pytest.approx(0.1306604763, abs=1e-6)


def test_features_are_computed_once_per_split(mnist_splits):
    assert mnist_splits.train.features is mnist_splits.train.features  # not 188 MB per access
    head = mnist_splits.train.head(10)
    assert np.array_equal(head.features, mnist_splits.train.features[:10])


def test_split_sizes_stratified_disjoint_and_reproducible(mnist_splits):
    digits = data.load("mnist")
    assert len(mnist_splits.val) == 2000 and len(mnist_splits.test) == 8000
    test_share = np.bincount(digits.test_labels) / len(digits.test_labels)
    val_share = np.bincount(mnist_splits.val.labels) / 2000
    assert np.abs(val_share - test_share).max() < 0.001
    val_indices, test_indices = data.stratified_split(digits.test_labels, 2000, seed=0)
    assert len(np.intersect1d(val_indices, test_indices)) == 0
    assert len(val_indices) + len(test_indices) == 10000
    again, _ = data.stratified_split(digits.test_labels, 2000, seed=0)
    other, _ = data.stratified_split(digits.test_labels, 2000, seed=1)
    assert np.array_equal(val_indices, again) and not np.array_equal(val_indices, other)


def test_one_hot_matches_labels():
    encoded = data.one_hot(np.array([0, 3, 9]))
    assert encoded.shape == (3, 10) and encoded.dtype == np.float32
    assert encoded.argmax(axis=1).tolist() == [0, 3, 9] and encoded.sum() == 3
    with pytest.raises(ForceMLPError, match="0..9"):
        data.one_hot(np.array([10]))


def test_train_size_keeps_the_first_images():
    splits = data.load_splits(train_size=500)
    assert len(splits.train) == 500 and len(splits.test) == 8000
    with pytest.raises(ForceMLPError, match="train_size"):
        data.load_splits(train_size=0)


def test_fashion_mnist_is_selectable_by_name():
    fashion = data.load_splits("fashion-mnist")
    assert fashion.class_names[0] == "T-shirt/top"
    assert np.bincount(fashion.val.labels).tolist() == [200] * 10


def test_unknown_dataset_names_the_choices():
    with pytest.raises(ForceMLPError, match="choose one of mnist, fashion-mnist"):
        data.load("cifar")


def copy_dataset(source: Path, target: Path) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    for path in source.glob("*.gz"):
        shutil.copy(path, target / path.name)
    return target


def test_explicit_folder_missing_files(tmp_path):
    with pytest.raises(ForceMLPError, match="missing in .*--data-dir"):
        data.load("mnist", tmp_path)


def test_truncated_gz_is_reported(mnist_dir, tmp_path):
    folder = copy_dataset(mnist_dir, tmp_path / "mnist")
    labels = folder / "t10k-labels-idx1-ubyte.gz"
    labels.write_bytes(labels.read_bytes()[:2000])
    with pytest.raises(ForceMLPError, match="truncated or corrupt"):
        data.load("mnist", folder)


def test_wrong_checksum_is_reported(mnist_dir, tmp_path):
    folder = copy_dataset(mnist_dir, tmp_path / "mnist")
    raw = bytearray(gzip.decompress((folder / "t10k-labels-idx1-ubyte.gz").read_bytes()))
    raw[100] = (raw[100] + 1) % 10
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(bytes(raw)))
    with pytest.raises(ForceMLPError, match="fails its checksum"):
        data.load("mnist", folder)
    report = dict(data.verify("mnist", folder))
    assert report[str(folder / "t10k-labels-idx1-ubyte.gz")].startswith(str(folder))
    assert report[str(folder / "train-labels-idx1-ubyte.gz")] == "ok"


def test_fashion_files_under_mnist_names_fail_the_checksum(tmp_path):
    """Fashion-MNIST has MNIST's file names and shapes: only the checksums tell them apart."""
    folder = copy_dataset(data.locate("fashion-mnist", download=False), tmp_path / "x")
    assert len(list(folder.iterdir())) == 4
    with pytest.raises(ForceMLPError, match="another dataset's file"):
        data.load("mnist", folder)


def test_idx_reader_checks_magic_and_length(tmp_path):
    three_labels = data.DataFile("labels.gz", "", hashlib.sha256(
        (2049).to_bytes(4, "big") + (3).to_bytes(4, "big") + bytes([1, 2, 3])).hexdigest(), (3,))
    three_images = data.DataFile("images.gz", "", "", (3, 1, 1))
    path = tmp_path / "idx.gz"

    def read(raw: bytes, data_file: data.DataFile = three_labels):
        path.write_bytes(gzip.compress(raw))
        return data.read_verified(path, data_file)

    header = (2049).to_bytes(4, "big") + (3).to_bytes(4, "big")
    assert read(header + bytes([1, 2, 3])).tolist() == [1, 2, 3]
    with pytest.raises(ForceMLPError, match="magic number 2049, not 2051"):
        read(header + bytes(8) + bytes([1, 2, 3]), three_images)
    with pytest.raises(ForceMLPError, match="truncated"):
        read(header + bytes([1, 2]))
    with pytest.raises(ForceMLPError, match="truncated"):
        read(b"\x00\x00")


@pytest.mark.parametrize("labels", [
    "mnist test labels",
    np.repeat(np.arange(10), [500, 5, 37, 2, 120, 120, 7, 64, 300, 2]),
    np.repeat(np.arange(3), [333, 333, 334]),
])
def test_the_stratified_split_takes_what_scikit_learns_takes_from_each_class(labels):
    """scikit-learn's StratifiedShuffleSplit as the oracle of the per-class counts (it
    settles rounding by largest remainders too, breaking exact ties at random: at most one
    sample apart then)."""
    from sklearn.model_selection import StratifiedShuffleSplit

    if isinstance(labels, str):
        labels = data.load("mnist").test_labels
    for first_size in (12, 17, 200, len(labels) // 5, len(labels) - 12):
        first, rest = data.stratified_split(labels, first_size, seed=0)
        splitter = StratifiedShuffleSplit(n_splits=1, train_size=first_size,
                                          test_size=len(labels) - first_size, random_state=0)
        oracle, _ = next(splitter.split(np.zeros(len(labels)), labels))
        ours = np.bincount(labels[first], minlength=10)
        theirs = np.bincount(labels[oracle], minlength=10)
        assert ours.sum() == theirs.sum() == first_size
        assert np.abs(ours - theirs).max() <= 1, (first_size, ours, theirs)
        assert len(np.union1d(first, rest)) == len(labels)

def test_lookup_order_env_then_cache(tmp_path, monkeypatch, mnist_dir):
    monkeypatch.setenv("FORCEMLP_DATA", str(mnist_dir.parent))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert data.locate("mnist") == mnist_dir.parent / "mnist"
    candidates = data.candidate_dirs("mnist")
    assert candidates == [mnist_dir.parent / "mnist", tmp_path / "cache" / "forcemlp" / "mnist"]
    assert data.candidate_dirs("mnist", tmp_path) == [tmp_path]


@pytest.fixture
def local_mirror(mnist_dir, tmp_path):
    """The real MNIST files served over HTTP on 127.0.0.1, as a download mirror would."""
    served = copy_dataset(mnist_dir, tmp_path / "served")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield served, f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


def test_download_from_mirror_verifies_and_fills_the_cache(local_mirror, tmp_path, monkeypatch):
    served, url = local_mirror
    destination = data.fetch("mnist", tmp_path / "cache", mirrors=[url])
    assert sorted(p.name for p in destination.iterdir()) == sorted(p.name for p in served.iterdir())
    assert data.load("mnist", destination).train_images.shape == (60000, 28, 28)


def test_corrupt_mirror_leaves_nothing_half_written(local_mirror, tmp_path):
    served, url = local_mirror
    (served / "train-labels-idx1-ubyte.gz").write_bytes(b"not the labels")
    with pytest.raises(ForceMLPError, match="could not download MNIST.*--data-dir"):
        data.fetch("mnist", tmp_path / "cache", mirrors=[url, "http://127.0.0.1:9/"])
    kept = sorted(p.name for p in (tmp_path / "cache").iterdir())
    assert "train-labels-idx1-ubyte.gz" not in kept
    assert all(name.endswith(".gz") for name in kept)
