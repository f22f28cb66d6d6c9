"""torchvision reads, through ``prepare``'s folder, exactly the arrays forcemlp verified."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from forcemlp import data, torchvision_folder
from forcemlp.errors import ForceMLPError

datasets = pytest.importorskip("torchvision.datasets")
transforms = pytest.importorskip("torchvision.transforms")


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    return torchvision_folder.prepare(root=tmp_path_factory.mktemp("torchvision"))


def test_torchvision_reads_the_verified_arrays(prepared, mnist_splits):
    digits = data.load("mnist")
    train = datasets.MNIST(prepared, train=True, download=False)
    test = datasets.MNIST(prepared, train=False, download=False,
                          transform=transforms.ToTensor())
    assert np.array_equal(train.data.numpy(), digits.train_images)
    assert np.array_equal(train.targets.numpy(), digits.train_labels)
    assert np.array_equal(test.targets.numpy(), digits.test_labels)
    image, label = test[123]
    assert label == digits.test_labels[123]
    assert torch.equal(image.flatten(), torch.from_numpy(data.to_features(
        digits.test_images[123:124])[0]))  # ToTensor scales exactly as forcemlp does


def test_a_good_file_is_kept_and_a_changed_one_replaced(prepared):
    labels = prepared / "MNIST" / "raw" / "t10k-labels-idx1-ubyte"
    images = prepared / "MNIST" / "raw" / "t10k-images-idx3-ubyte"
    kept_since = images.stat().st_mtime_ns
    original = labels.read_bytes()
    labels.write_bytes(original[:-1] + bytes([(original[-1] + 1) % 10]))
    torchvision_folder.prepare(root=prepared)
    assert labels.read_bytes() == original
    assert images.stat().st_mtime_ns == kept_since


def test_torchvision_reads_the_shape_and_pixels_the_header_states(tmp_path):
    from torchvision.datasets.mnist import read_sn3_pascalvincent_tensor

    images = np.arange(12, dtype=np.uint8).reshape(3, 2, 2)
    path = tmp_path / "images-idx3-ubyte"
    path.write_bytes(torchvision_folder.idx_bytes(images))
    np.testing.assert_array_equal(read_sn3_pascalvincent_tensor(str(path)).numpy(), images)


def test_a_quick_runs_cut_gets_its_own_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    load_splits = data.load_splits
    monkeypatch.setattr(data, "load_splits",
                        lambda *args, **options: load_splits(*args, train_size=500, **options))
    root = torchvision_folder.prepare()
    assert root == tmp_path / "forcemlp" / "torchvision-first-500"
    assert len(datasets.MNIST(root, train=True, download=False)) == 500
    assert len(datasets.MNIST(root, train=False, download=False)) == 10_000


def test_clear_errors(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(ForceMLPError, match="cannot write in"):
        torchvision_folder.prepare(root=blocker / "inside")
    with pytest.raises(ForceMLPError, match="choose one of"):
        torchvision_folder.prepare("cifar")
