"""Hostile input, one test per fault class: each ends in one line and the right exit code.

Every file a test needs is made here, small. Through the command line: one line on stderr,
``forcemlp: error: ...``, exit code 2, never a traceback, a hang, an out-of-memory kill or a
silently wrong result. When the tests run as root, permission faults run the command without
root's power to ignore file modes (``setpriv`` drops CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH).
"""
from __future__ import annotations

import copy
import dataclasses
import errno
import fcntl
import gzip
import itertools
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forcemlp import cli, data, fileio, run_cache, run_record, runner
from forcemlp.config import TrainConfig
from forcemlp.errors import ForceMLPError
from forcemlp.history import EpochMetrics, History, RunResult, evaluate_predictions
from forcemlp.weights import layer_weights

# Root ignores file modes; without these two capabilities it is held to them like anyone.
WITHOUT_ROOTS_PASS = ["setpriv", "--inh-caps=-dac_override,-dac_read_search",
                      "--bounding-set=-dac_override,-dac_read_search", "--"]
QUICK = TrainConfig(framework="numpy", epochs=1, train_size=200, batch_size=50)


def forcemlp(*args: str, unprivileged: bool = False, timeout: int = 300,
             **options) -> subprocess.CompletedProcess:
    """``python -m forcemlp ARGS`` in a fresh process; ``unprivileged``: held to file modes
    even when the tests run as root."""
    environment = {**os.environ, **options.pop("env", {})}
    command = [sys.executable, "-m", "forcemlp", *args]
    if unprivileged and os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv: file modes cannot be enforced")
        command = WITHOUT_ROOTS_PASS + command
    options.setdefault("stdout", subprocess.PIPE)
    options.setdefault("stderr", subprocess.PIPE)
    return subprocess.run(command, text=True, env=environment, timeout=timeout, check=False,
                          **options)


def assert_one_line_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    assert result.returncode == 2, result.stderr[-3000:]
    assert result.stderr.startswith("forcemlp: error: ") and result.stderr.count("\n") == 1, (
        result.stderr[-3000:]
    )
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


@pytest.fixture
def shared_tmp():
    """A folder every user may enter (pytest's own tmp_path is private to its owner)."""
    folder = Path(tempfile.mkdtemp(prefix="forcemlp-faults-"))
    folder.chmod(0o755)
    yield folder
    for path in [folder, *folder.rglob("*")]:
        path.chmod(0o755)  # so that the folder can be removed again
    shutil.rmtree(folder, ignore_errors=True)


def mnist_copy(mnist_dir: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for source in mnist_dir.glob("*.gz"):
        shutil.copy(source, folder / source.name)
    return folder


# --- training that explodes but never turns NaN ------------------------------------------------


@pytest.mark.parametrize("framework", ["torch", "keras"])
def test_an_exploding_but_finite_loss_is_one_line(framework):
    """Keras also shows that TensorFlow's start-up lines no longer precede the error."""
    result = forcemlp("train", "--framework", framework, "--lr", "10000", "--epochs", "1",
                      "--train-size", "500", "--batch-size", "32", "--quiet")
    assert_one_line_error(result, "training diverged: the loss reached",
                          "lower the learning rate (it was 10000)")


def test_tensorflow_start_up_lines_do_not_precede_the_json_line():
    result = forcemlp("train", "--framework", "tensorflow", "--epochs", "1", "--train-size",
                      "500", "--batch-size", "32", "--quiet", "--json")
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stderr == ""
    summary = json.loads(result.stdout.splitlines()[-1])
    assert summary["framework"] == "tensorflow" and summary["train_samples"] == 500


# --- hostile data files --------------------------------------------------------------------


def gzip_members(first: bytes, repeated: bytes, times: int) -> bytes:
    """A .gz of ``first`` then ``times`` copies of ``repeated``, as concatenated members (which
    gzip readers join): a few kilobytes that expand to ``times * len(repeated)`` bytes."""
    member = gzip.compress(repeated, compresslevel=9)
    return gzip.compress(first, compresslevel=9) + member * times


def peak_memory_of_loading(folder: Path) -> tuple[int, str]:
    """Load the dataset in ``folder`` in a fresh process: (peak resident MB, its stderr).

    The peak is the process's own high-water mark (VmHWM); ``ru_maxrss`` would also count
    the pytest process it was forked from.
    """
    code = (
        "import re, sys\n"
        "from forcemlp import data\n"
        "from forcemlp.errors import ForceMLPError\n"
        "try:\n"
        f"    data.load('mnist', {str(folder)!r})\n"
        "except ForceMLPError as error:\n"
        "    print(error, file=sys.stderr)\n"
        "status = open('/proc/self/status').read()\n"
        "print(int(re.search(r'VmHWM:\\s+(\\d+) kB', status).group(1)) // 1024)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=300, check=True)
    return int(result.stdout), result.stderr


@pytest.mark.parametrize("role, copies, refusal", [
    ("train_labels", 2, "expands to more than the 60,008 bytes"),  # 32 KB -> 32 MB
    ("train_labels", 64, "more than any .gz of this 60,008-byte file"),  # 1 MB -> 1 GiB
    ("train_images", 64, "expands to more than the 47,040,016 bytes"),  # 1 MB -> 1 GiB
])
def test_a_small_gz_that_expands_hugely_is_refused_in_bounded_memory(
    role, copies, refusal, mnist_dir, tmp_path
):
    folder = mnist_copy(mnist_dir, tmp_path / "mnist")
    data_file = data.DATASETS["mnist"].files[role]
    header = (data_file.magic.to_bytes(4, "big")
              + b"".join(size.to_bytes(4, "big") for size in data_file.shape))
    bomb = gzip_members(header, bytes(1 << 24), copies)  # copies x 16 MiB of zeros
    assert len(bomb) < copies * 20_000
    (folder / data_file.filename).write_bytes(bomb)
    started = time.perf_counter()
    peak_mb, error = peak_memory_of_loading(folder)
    assert refusal in error and "replace it" in error
    assert peak_mb < 400, f"{peak_mb} MB to refuse a {copies * 16} MiB bomb"
    assert time.perf_counter() - started < 60


def test_a_huge_sparse_file_is_refused_before_reading(mnist_dir, tmp_path):
    folder = mnist_copy(mnist_dir, tmp_path / "mnist")
    huge = folder / "t10k-images-idx3-ubyte.gz"
    with huge.open("r+b") as handle:
        handle.truncate(64 << 30)  # 64 GiB, almost none of it on disk
    started = time.perf_counter()
    result = forcemlp("data", "--data-dir", str(folder))
    assert_one_line_error(result, "68,719,476,736 bytes", "it is not the original")
    assert time.perf_counter() - started < 30
    assert result.stdout.count("ok  ") == 3 and "FAILED" in result.stdout


def test_an_idx_header_with_overflowing_dimensions_is_refused_before_allocating(tmp_path):
    header = (2051).to_bytes(4, "big") + (0xFFFFFFFF).to_bytes(4, "big") * 3
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(header + bytes(4096)))
    with pytest.raises(ForceMLPError, match=r"promises an array of shape \(4294967295, 4294967295"):
        data.read_verified(path, data.DATASETS["mnist"].files["train_images"])


def test_the_checksum_is_verified_while_streaming(mnist_dir, tmp_path):
    folder = mnist_copy(mnist_dir, tmp_path / "mnist")
    images = folder / "train-images-idx3-ubyte.gz"
    raw = bytearray(gzip.decompress(images.read_bytes()))
    raw[-1] ^= 0xFF  # the very last pixel: only a checksum over every byte notices
    images.write_bytes(gzip.compress(bytes(raw), compresslevel=1))
    with pytest.raises(ForceMLPError, match="fails its checksum"):
        data.load("mnist", folder)
    images.write_bytes(zlib.compress(bytes(raw)))  # zlib, not gzip, framing
    with pytest.raises(ForceMLPError, match="not a readable .gz file"):
        data.load("mnist", folder)


# --- operating-system errors --------------------------------------------------------------


def test_an_unreadable_data_folder_is_one_line(mnist_dir, shared_tmp):
    folder = mnist_copy(mnist_dir, shared_tmp / "mnist")
    folder.chmod(0o000)
    assert_one_line_error(forcemlp("data", "--data-dir", str(folder), unprivileged=True),
                          f"cannot look into {folder} (Permission denied)")
    folder.chmod(0o755)
    (folder / "train-labels-idx1-ubyte.gz").chmod(0o000)
    result = forcemlp("data", "--data-dir", str(folder), unprivileged=True)
    assert_one_line_error(result, "cannot read", "(Permission denied)")


def unwritable(path: Path, kind: str) -> Path:
    """A read-only folder, or a file where a folder should be."""
    if kind == "file":
        path.write_text("not a folder")
    else:
        path.mkdir(mode=0o555)
    return path


@pytest.mark.parametrize("kind", ["read-only", "file"])
def test_a_download_cache_that_cannot_be_written_is_one_line(kind, shared_tmp):
    cache = unwritable(shared_tmp / "cache", kind)
    result = forcemlp("train", "--quiet", unprivileged=kind == "read-only",
                      env={"FORCEMLP_DATA": "", "XDG_CACHE_HOME": str(cache)})
    assert_one_line_error(result, f"cannot write in {cache}/forcemlp/mnist",
                          "set XDG_CACHE_HOME to a writable folder")


@pytest.mark.parametrize("kind", ["read-only", "file"])
def test_a_run_cache_that_cannot_be_written_is_refused_before_training(kind, shared_tmp):
    cache = unwritable(shared_tmp / "runs", kind)
    started = time.perf_counter()
    result = forcemlp("train", "--framework", "numpy", "--epochs", "50", "--run-cache",
                      str(cache), unprivileged=kind == "read-only")
    assert_one_line_error(result, f"cannot write in {cache}", "--run-cache")
    assert result.stdout == "" and time.perf_counter() - started < 30  # 50 epochs take minutes


def test_a_run_cache_that_cannot_be_written_is_known_before_training_in_python(
    tmp_path, monkeypatch
):
    blocked = unwritable(tmp_path / "runs", "file")
    monkeypatch.setenv("FORCEMLP_RUN_CACHE", str(blocked))
    monkeypatch.setattr(runner, "train_on", lambda *a, **k: pytest.fail("trained anyway"))
    with pytest.raises(ForceMLPError, match="cannot write in .*FORCEMLP_RUN_CACHE"):
        runner.run(QUICK)


def test_a_relative_xdg_cache_home_is_ignored(mnist_dir, shared_tmp, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")
    monkeypatch.setenv("HOME", str(shared_tmp))
    assert data.cache_dir("mnist") == shared_tmp / ".cache" / "forcemlp" / "mnist"
    mnist_copy(mnist_dir, data.cache_dir("mnist"))
    result = forcemlp("data", cwd=shared_tmp,
                      env={"FORCEMLP_DATA": "", "XDG_CACHE_HOME": "relative/cache",
                           "HOME": str(shared_tmp)})
    assert result.returncode == 0 and result.stdout.count("ok  ") == 4, result.stderr
    assert not (shared_tmp / "relative").exists()


def no_space(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_a_full_disk_after_training_keeps_the_result_and_leaves_no_half_file(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("FORCEMLP_RUN_CACHE", str(tmp_path))
    monkeypatch.setattr(fileio.os, "fsync", no_space)
    with pytest.warns(RuntimeWarning, match="No space left on device.*returned but not cached"):
        result = runner.run(QUICK)
    assert len(result.history.epochs) == 1 and result.weights is not None
    assert list(tmp_path.iterdir()) == []  # no entry, no temporary file


def test_a_full_download_disk_is_one_line(tmp_path, monkeypatch):
    import pooch

    monkeypatch.setattr(pooch, "retrieve", no_space)
    with pytest.raises(ForceMLPError, match="cannot save the download .*No space left"):
        data.fetch("mnist", tmp_path / "cache", mirrors=["http://127.0.0.1:9/"])


@pytest.fixture
def tiny_filesystem(tmp_path):
    """A real 64 KiB file system (tmpfs) that fills up; skipped where mounting is not allowed."""
    mount_point = tmp_path / "tiny"
    mount_point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount_point)],
                             capture_output=True, check=False)
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root); the monkeypatched test covers it")
    yield mount_point
    subprocess.run(["umount", str(mount_point)], check=True)


def test_a_really_full_disk_keeps_the_result(tiny_filesystem):
    result = forcemlp("train", "--framework", "numpy", "--epochs", "1", "--train-size", "200",
                      "--quiet", "--json", "--run-cache", str(tiny_filesystem))
    assert result.returncode == 0, result.stderr
    assert result.stderr.startswith("forcemlp: warning: could not store the run")
    assert result.stderr.count("\n") == 1 and "No space left on device" in result.stderr
    assert json.loads(result.stdout.splitlines()[-1])["train_samples"] == 200
    assert not [p for p in tiny_filesystem.iterdir() if p.suffix in (".json", ".tmp")]


def test_output_to_a_full_disk_is_one_line():
    with open("/dev/full", "w") as full:
        assert_one_line_error(forcemlp("data", stdout=full), "No space left on device")


def test_a_closed_stdout_is_one_line():
    result = forcemlp("data", stdout=None, preexec_fn=lambda: os.close(1))
    assert_one_line_error(result, "standard output is closed")


def test_output_piped_into_a_reader_that_left_ends_quietly():
    read_end, write_end = os.pipe()
    os.close(read_end)  # `| head -1` after its first line: nobody reads any more
    try:
        result = forcemlp("data", stdout=write_end)
    finally:
        os.close(write_end)
    assert result.returncode == 141 and result.stderr == ""


# --- the run cache under concurrency and corruption -------------------------------------------


def test_stored_runs_come_back_with_their_weights(tmp_path):
    first = runner.run(QUICK, cache=tmp_path)
    record, weights = run_cache.entry_paths(tmp_path, QUICK)
    assert record.is_file() and weights.is_file()
    again = runner.run(QUICK, cache=tmp_path, keep_weights=True)
    assert again.summary() == first.summary()
    for stored, trained in zip(again.weights, first.weights):
        assert np.array_equal(stored.weight, trained.weight)
        assert np.array_equal(stored.bias, trained.bias)


def count_trainings(monkeypatch) -> list[int]:
    calls: list[int] = []
    train_on = runner.train_on

    def counting(*args, **kwargs):
        calls.append(1)
        return train_on(*args, **kwargs)

    monkeypatch.setattr(runner, "train_on", counting)
    return calls


@pytest.mark.parametrize("damage", [
    lambda record: record.write_bytes(record.read_bytes()[:100]),  # truncated
    lambda record: record.write_text("[]"),  # valid JSON, wrong shape
    lambda record: record.write_bytes(b"\xff\xfe not json"),
    lambda record: record.write_text(  # a result stored for another configuration
        record.read_text().replace('"seed": 0', '"seed": 7')
    ),
])
def test_a_damaged_entry_is_discarded_and_retrained(damage, tmp_path, monkeypatch):
    trainings = count_trainings(monkeypatch)
    runner.run(QUICK, cache=tmp_path)
    record, _ = run_cache.entry_paths(tmp_path, QUICK)
    damage(record)
    with pytest.warns(RuntimeWarning, match="is damaged .*: it was deleted and the run trains"):
        assert runner.run(QUICK, cache=tmp_path).config == QUICK.to_dict()  # retrained once,
    assert runner.run(QUICK, cache=tmp_path).config == QUICK.to_dict()  # then served
    assert len(trainings) == 2


def test_damaged_weights_are_never_returned(tmp_path, monkeypatch):
    trainings = count_trainings(monkeypatch)
    runner.run(QUICK, cache=tmp_path)
    _, weights = run_cache.entry_paths(tmp_path, QUICK)
    weights.write_bytes(weights.read_bytes()[:-50])
    assert runner.run(QUICK, cache=tmp_path).weights is None  # the record alone is still good
    assert len(trainings) == 1
    assert runner.run(QUICK, cache=tmp_path, keep_weights=True).weights is not None
    assert len(trainings) == 2


WRITER = """
import sys
import numpy as np
from pathlib import Path
from forcemlp import run_cache
from forcemlp.config import TrainConfig
from forcemlp.history import EpochMetrics, History, RunResult, evaluate_predictions
from forcemlp.weights import layer_weights

writer, folder = int(sys.argv[1]), Path(sys.argv[2])
config = TrainConfig(framework="numpy", hidden_sizes=(4,), train_size=10)
history = History("numpy", [EpochMetrics(1, 1.0, 0.5, 1.0, 0.5, 1.0)], best_epoch=1)
labels = np.arange(10) % 10
result = RunResult.from_training(config.to_dict(), history,
                                 evaluate_predictions(labels, labels, 0.1), writer,
                                 weights=layer_weights([(np.full((4, 784), writer), np.zeros(4)),
                                                        (np.zeros((10, 4)), np.zeros(10))]))
(folder / f"writer-{writer}.ready").touch()
while len(list(folder.glob("writer-*.ready"))) < 2:  # both start writing together
    pass
for _ in range(200):  # long enough for the reader to catch them at it on a busy machine
    run_cache.store(folder, config, result)
"""


def test_two_writers_of_one_key_never_splice(tmp_path):
    config = TrainConfig(framework="numpy", hidden_sizes=(4,), train_size=10)
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(writer), str(tmp_path)])
               for writer in (1, 2)]
    seen = set()
    while any(writer.poll() is None for writer in writers):
        stored = run_cache.load(tmp_path, config)
        if stored is not None and stored.weights is not None:
            # the weights are always the ones the record was written with
            assert stored.weights[0].weight[0, 0] == stored.train_samples
            seen.add(stored.train_samples)
    assert [writer.returncode for writer in writers] == [0, 0]
    final = run_cache.load(tmp_path, config)
    assert final is not None and final.train_samples in (1, 2)
    assert final.weights is None or final.weights[0].weight[0, 0] == final.train_samples
    assert not list(tmp_path.glob("*.tmp")) and seen


# --- wrong types through the Python API ---------------------------------------------------


@pytest.mark.parametrize("fields, message", [
    ({"hidden_sizes": "16"}, "hidden_sizes must be a sequence of layer sizes"),
    ({"hidden_sizes": 16}, "hidden_sizes must be a sequence of layer sizes"),
    ({"hidden_sizes": (True, 16)}, "hidden layer sizes must be whole numbers"),
    ({"hidden_sizes": (16.5,)}, "hidden layer sizes must be whole numbers"),
    ({"hidden_sizes": (0,)}, "hidden layer sizes must be positive"),
    ({"hidden_sizes": (70_000, 70_000)}, "more than the 50,000,000 forcemlp trains"),
    ({"batch_size": True}, "batch_size must be a positive whole number, got True"),
    ({"epochs": 2.0}, "epochs must be a positive whole number, got 2.0"),
    ({"seed": -1}, "seed must be a whole number from 0 to 4294967295"),
    ({"seed": 2**32}, "seed must be a whole number from 0 to 4294967295"),
    ({"train_size": 0}, "train_size must be a positive whole number"),
    ({"train_size": False}, "train_size must be a positive whole number"),
    ({"dropout": 1.0}, "dropout must lie in [0, 1)"),
    ({"dropout": "0.2"}, "dropout must be a number"),
    ({"learning_rate": "0.1"}, "learning rate must be a number"),
    ({"learning_rate": -1}, "learning rate must be a positive number"),
    ({"fast": "yes"}, "fast must be True or False"),
    ({"optimizer": ["adam"]}, "unknown optimizer ['adam']"),
])
def test_wrong_types_through_the_python_api_are_one_line(fields, message):
    with pytest.raises(ForceMLPError) as error:
        TrainConfig(**fields)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_a_valid_config_is_normalised_and_hashable():
    config = TrainConfig(hidden_sizes=[np.int64(32), 16], seed=np.uint32(3), learning_rate=1)
    assert config.hidden_sizes == (32, 16) and type(config.seed) is int
    assert config.learning_rate == 1.0 and {config: "a cache key"}[config] == "a cache key"
    assert config == TrainConfig(hidden_sizes=(32, 16), seed=3, learning_rate=1.0)
    with pytest.raises(ForceMLPError, match="train_size must be a whole number from 1 to 60000"):
        data.load_splits(train_size=70_000)


# --- issue 16: a run cache that validates what it serves --------------------------------------


def fake_result(config: TrainConfig, epochs: int = 2, test_count: int = 40) -> RunResult:
    """A small, valid run of ``config`` built without training, and its weights."""
    history = History(config.framework, [
        EpochMetrics(epoch, 1.0 / epoch, 0.5, 1.1 / epoch, 0.4 + epoch / 10, 0.25)
        for epoch in range(1, epochs + 1)
    ], best_epoch=epochs)
    labels = np.arange(test_count) % 10
    predictions = (labels + (np.arange(test_count) % 3 == 0)) % 10
    sizes = (784, *config.hidden_sizes, 10)
    layers = [(np.full((fan_out, fan_in), 0.5), np.zeros(fan_out))
              for fan_in, fan_out in itertools.pairwise(sizes)]
    return RunResult.from_training(config.to_dict(), history,
                                   evaluate_predictions(predictions, labels, 0.7), 100,
                                   weights=layer_weights(layers))


def stored_record(folder: Path, config: TrainConfig = QUICK) -> tuple[Path, dict]:
    record_path = run_cache.store(folder, config, fake_result(config))
    return record_path, json.loads(record_path.read_text())


def reseal(record) -> bytes:
    """An edited record with a digest that matches again: only the schema can refuse it."""
    if not isinstance(record, dict):
        return json.dumps(record).encode()
    body = {key: value for key, value in record.items() if key != "sha256"}
    return json.dumps({**body, "sha256": run_record.digest(body)}).encode()


def edit(path: str, value):
    """A function that sets the field at ``path`` ("result.history.best_epoch") to ``value``."""
    def apply(record: dict) -> dict:
        *parents, last = path.split(".")
        node = record
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        node[int(last) if isinstance(node, list) else last] = value
        return record
    return apply


def removed(container, key, record):
    """``record`` after ``container.pop(key)``."""
    container.pop(key)
    return record


SCHEMA_EDITS = {
    "best epoch past the history": edit("result.history.best_epoch", 9),
    "best epoch zero": edit("result.history.best_epoch", 0),
    "best epoch emptied": edit("result.history.best_epoch", None),
    "best epoch a bool": edit("result.history.best_epoch", True),
    "history emptied": edit("result.history.epochs", []),
    "epochs renumbered": edit("result.history.epochs.1.epoch", 5),
    "an epoch with a missing metric": lambda r: removed(r["result"]["history"]["epochs"][0],
                                                        "val_loss", r),
    "an extra field": edit("result.history.epochs.0.bonus", 1),
    "accuracy above one": edit("result.history.epochs.0.val_accuracy", 1.5),
    "a negative loss": edit("result.history.epochs.0.train_loss", -0.1),
    "a loss as text": edit("result.history.epochs.0.train_loss", "0.1"),
    "an integer past float's range": edit("result.seconds", 10**400),
    "test accuracy above one": edit("result.test.accuracy", 2.0),
    "a label outside the classes": edit("result.test.labels.0", 10),
    "a negative prediction": edit("result.test.predictions.0", -1),
    "a fractional prediction": edit("result.test.predictions.0", 1.5),
    "predictions shorter than labels": lambda r: removed(r["result"]["test"]["predictions"],
                                                         -1, r),
    "no test set": lambda r: edit("result.test.labels", [])(edit("result.test.predictions", [])(r)),
    "train samples zero": edit("result.train_samples", 0),
    "negative samples per second": edit("result.samples_per_second", -5.0),
    "another format": edit("format", 2),
    "another source": edit("source", "0" * 16),
    "another configuration": edit("config.seed", 7),
    "a result of another configuration": edit("result.config.seed", 7),
    "a weights digest that is a number": edit("weights_sha256", 12),
    "the result a list": edit("result", []),
    "the record a list": lambda r: [r],
}


@pytest.mark.parametrize("name", SCHEMA_EDITS)
def test_an_entry_that_breaks_the_schema_is_never_served_even_with_a_matching_digest(
    name, tmp_path
):
    record_path, record = stored_record(tmp_path)
    record_path.write_bytes(reseal(SCHEMA_EDITS[name](record)))
    with pytest.warns(RuntimeWarning, match=r"^the stored run .* is damaged \(.*\): it was"
                                            r" deleted and the run trains again\.$"):
        assert run_cache.load(tmp_path, QUICK) is None
    assert not record_path.exists()


DIGEST_EDITS = {  # edits that keep the schema: only the digest finds them
    "predictions edited to equal the labels": lambda r: edit(
        "result.test.predictions", r["result"]["test"]["labels"])(r),
    "an accuracy edited": edit("result.history.epochs.0.val_accuracy", 0.99),
    "the weights digest pointed elsewhere": edit("weights_sha256", "0" * 64),
    "the digest removed": lambda r: removed(r, "sha256", r),
}


@pytest.mark.parametrize("name", DIGEST_EDITS)
def test_an_edited_entry_is_found_by_its_digest(name, tmp_path):
    record_path, record = stored_record(tmp_path)
    record_path.write_text(json.dumps(DIGEST_EDITS[name](record)))
    with pytest.warns(RuntimeWarning, match="its digest does not match its contents"):
        assert run_cache.load(tmp_path, QUICK) is None


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
def test_a_non_finite_number_in_an_entry_is_never_served(token, tmp_path):
    record_path, _ = stored_record(tmp_path)
    text = record_path.read_text()
    record_path.write_text(text.replace('"test": {"loss": 0.7', f'"test": {{"loss": {token}'))
    with pytest.warns(RuntimeWarning, match="is damaged"):
        assert run_cache.load(tmp_path, QUICK) is None


def test_a_damaged_entry_is_retrained_with_one_line_through_the_command_line(tmp_path):
    arguments = ["train", "--framework", "numpy", "--epochs", "1", "--train-size", "200",
                 "--quiet", "--json", "--run-cache", str(tmp_path)]
    first = forcemlp(*arguments)
    assert first.returncode == 0, first.stderr
    (record_path,) = tmp_path.glob("*.json")
    record = json.loads(record_path.read_text())
    record["result"]["history"]["best_epoch"] = 9  # crashed every later run with IndexError
    record_path.write_text(json.dumps(record))
    again = forcemlp(*arguments)
    assert again.returncode == 0 and again.stderr.count("\n") == 1, again.stderr
    assert again.stderr.startswith("forcemlp: warning: the stored run")
    assert "trains again" in again.stderr
    assert json.loads(again.stdout.splitlines()[-1])["best_epoch"] == 1
    assert forcemlp(*arguments).stderr == ""  # the retrained entry is served again


def load_within(seconds: float, folder: Path, config: TrainConfig = QUICK, **options):
    """run_cache.load in a thread; fails the test if it has not returned in ``seconds``."""
    outcome: list = []
    worker = threading.Thread(target=lambda: outcome.append(
        run_cache.load(folder, config, **options)), daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), "the cache reader blocked"
    return outcome[0]


@pytest.mark.parametrize("kind", ["fifo", "link to /dev/zero", "link to a good copy",
                                  "sparse 8 GiB", "folder"])
def test_only_regular_files_of_bounded_size_are_read(kind, tmp_path, recwarn):
    record_path, _ = stored_record(tmp_path)
    good = record_path.read_bytes()
    record_path.unlink()
    if kind == "fifo":
        os.mkfifo(record_path)
    elif kind == "link to /dev/zero":
        record_path.symlink_to("/dev/zero")
    elif kind == "link to a good copy":
        (tmp_path / "copy").write_bytes(good)
        record_path.symlink_to(tmp_path / "copy")
    elif kind == "sparse 8 GiB":
        with record_path.open("wb") as handle:
            handle.truncate(8 << 30)
    else:
        record_path.mkdir()
    assert load_within(10, tmp_path) is None
    assert [str(w.message) for w in recwarn if "is damaged" in str(w.message)]


@pytest.mark.parametrize("kind", ["fifo", "link to /dev/zero"])
def test_weights_that_are_not_a_regular_file_are_never_read(kind, tmp_path):
    _, weights_path = run_cache.entry_paths(tmp_path, QUICK)
    stored_record(tmp_path)
    weights_path.unlink()
    if kind == "fifo":
        os.mkfifo(weights_path)
    else:
        weights_path.symlink_to("/dev/zero")
    assert load_within(10, tmp_path, need_weights=True) is None
    assert not os.path.lexists(weights_path)  # removed: never a file the cache wrote


def aged(path: Path, seconds: float = 3600) -> Path:
    past = time.time() - seconds
    os.utime(path, (past, past))
    return path


def test_orphans_of_interrupted_writes_are_removed_by_the_next_write(tmp_path):
    record_path, weights_path = run_cache.entry_paths(tmp_path, QUICK)
    old_tmp = tmp_path / f".{record_path.name}.killed.tmp"
    old_tmp.write_bytes(b"half a record")
    aged(old_tmp)
    young_tmp = tmp_path / f".{weights_path.name}.writing.tmp"  # maybe a live writer's
    young_tmp.write_bytes(b"half")
    locked_tmp = tmp_path / ".other.npz.busy.tmp"
    locked_tmp.write_bytes(b"busy")
    aged(locked_tmp)
    lonely_weights = tmp_path / "numpy-0123456789abcdef0123.npz"  # its .json never came
    lonely_weights.write_bytes(b"weights")
    aged(lonely_weights)
    with locked_tmp.open("rb") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)  # a slow writer still at work
        stored_record(tmp_path)
    left = sorted(path.name for path in tmp_path.iterdir())
    assert left == sorted([record_path.name, weights_path.name, young_tmp.name,
                           locked_tmp.name])


def test_orphans_are_removed_by_pruning(tmp_path):
    orphan = tmp_path / ".numpy-0123.json.abc.tmp"
    orphan.write_bytes(b"")
    aged(orphan)
    lonely_weights = tmp_path / "torch-0123.npz"
    lonely_weights.write_bytes(b"w")
    aged(lonely_weights)
    run_cache.prune_other_sources(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_failed_record_write_takes_its_weights_with_it(tmp_path, monkeypatch):
    writes = []
    real = run_cache.write_atomically

    def second_write_fails(path, write):
        writes.append(path)
        if len(writes) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(path, write)

    monkeypatch.setattr(run_cache, "write_atomically", second_write_fails)
    with pytest.raises(OSError):
        run_cache.store(tmp_path, QUICK, fake_result(QUICK))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("field, value", [("test_loss", math.inf), ("seconds", math.nan)])
def test_a_result_the_cache_would_refuse_is_never_stored(field, value, tmp_path):
    result = fake_result(QUICK)
    if field == "test_loss":
        result.test.loss = value
    else:
        result.seconds = value
    with pytest.raises(ForceMLPError, match="this run cannot be stored"):
        run_cache.store(tmp_path, QUICK, result)
    with pytest.raises(ForceMLPError, match="this run cannot be stored"):
        runner.remember(QUICK, result, cache=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_an_empty_cache_path_is_an_error_never_the_working_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ForceMLPError, match="the run cache folder is an empty name"):
        runner.run(QUICK, cache="")
    with pytest.raises(ForceMLPError, match="the run cache folder is an empty name"):
        runner.remember(QUICK, fake_result(QUICK), cache="")
    result = forcemlp("train", "--framework", "numpy", "--run-cache", "", cwd=tmp_path)
    assert_one_line_error(result, "the run cache folder is an empty name")
    assert list(tmp_path.iterdir()) == []


# --- issue 16: reproducible from threads --------------------------------------------------------


def test_torch_runs_in_two_threads_equal_the_same_runs_one_after_the_other(tmp_path):
    configs = [TrainConfig(framework="torch", seed=seed, dropout=0.2, epochs=1, train_size=600,
                           batch_size=32) for seed in (0, 1)]
    sequential = [runner.run(config, cache=False).summary() for config in configs]
    threaded: dict[int, dict] = {}
    barrier = threading.Barrier(2)

    def train(config: TrainConfig) -> None:
        barrier.wait()
        threaded[config.seed] = runner.run(config, cache=tmp_path).summary()

    workers = [threading.Thread(target=train, args=(config,)) for config in configs]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    for summary, config in zip(sequential, configs):
        for name in ("test_accuracy", "test_loss", "val_accuracy", "best_epoch"):
            assert threaded[config.seed][name] == summary[name], name
        stored = run_cache.load(tmp_path, config)  # the cache holds the sequential run
        assert stored.test.accuracy == summary["test_accuracy"]


# --- issue 16: one divergence line for a learning rate past a framework's numbers ------------


@pytest.mark.parametrize("framework, optimizer, rate", [
    ("torch", "sgd", "1e308"), ("torch", "adam", "1e39"), ("torch", "momentum", "1e39"),
    ("torch", "rmsprop", "1e39"), ("fastai", "sgd", "1e308"), ("fastai", "adam", "1e39"),
    ("numpy", "adam", "1e308"), ("keras", "sgd", "1e308"), ("tensorflow", "adam", "1e308"),
])
def test_a_learning_rate_past_float32_is_one_divergence_line(framework, optimizer, rate):
    result = forcemlp("train", "--framework", framework, "--optimizer", optimizer, "--lr", rate,
                      "--epochs", "1", "--train-size", "200", "--batch-size", "50", "--quiet")
    assert_one_line_error(result, "training diverged: the loss",
                          f"lower the learning rate (it was {float(rate):g})")


def test_json_output_is_strict_with_non_finite_numbers_as_null():
    line = cli.strict_json({"test_loss": math.inf, "val_accuracy": math.nan, "epochs": 1})
    record = json.loads(line, parse_constant=lambda token: pytest.fail(f"bare {token}"))
    assert record == {"test_loss": None, "val_accuracy": None, "epochs": 1,
                      "not_finite": {"test_loss": "inf", "val_accuracy": "nan"}}
    assert cli.strict_json({"epochs": 1}) == '{"epochs": 1}'  # finite records as before


# --- issue 16: data location errors say what to fix ------------------------------------------


def test_forcemlp_data_naming_a_file_is_one_line_and_no_download(tmp_path):
    not_a_folder = tmp_path / "mnist.tar"
    not_a_folder.write_bytes(b"")
    for root, what in ((not_a_folder, "is not a folder"), (tmp_path / "typo", "does not exist")):
        result = forcemlp("train", "--quiet", env={"FORCEMLP_DATA": str(root),
                                                   "XDG_CACHE_HOME": str(tmp_path / "cache")})
        assert_one_line_error(result, f"FORCEMLP_DATA={root} {what}", "unset it")
        assert "Downloading" not in result.stderr and not (tmp_path / "cache").exists()


def test_the_one_missing_file_of_four_is_named(mnist_dir, tmp_path):
    folder = mnist_copy(mnist_dir, tmp_path / "root" / "mnist")
    (folder / "t10k-labels-idx1-ubyte.gz").unlink()
    result = forcemlp("data", env={"FORCEMLP_DATA": str(tmp_path / "root")})
    assert_one_line_error(result, "lacks t10k-labels-idx1-ubyte.gz", "FORCEMLP_DATA")
    assert "train-images" not in result.stderr


@pytest.mark.parametrize("home", ["", "/"])
def test_no_home_folder_makes_no_cache_at_the_root(home, monkeypatch):
    monkeypatch.setenv("HOME", home)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    with pytest.raises(ForceMLPError, match="no home folder to keep downloads in"):
        data.cache_dir("mnist")
    result = forcemlp("data", env={"HOME": home, "FORCEMLP_DATA": "", "XDG_CACHE_HOME": ""})
    assert_one_line_error(result, "set HOME or XDG_CACHE_HOME to an absolute path")


@pytest.mark.parametrize("where", ["--data-dir", "FORCEMLP_DATA", "--run-cache"])
def test_an_over_long_name_is_named_as_the_cause(where, tmp_path):
    long_path = str(tmp_path / ("a" * 300))
    if where == "--data-dir":
        result = forcemlp("data", "--data-dir", long_path)
    elif where == "FORCEMLP_DATA":
        result = forcemlp("data", env={"FORCEMLP_DATA": long_path})
    else:
        result = forcemlp("train", "--framework", "numpy", "--run-cache", long_path)
    assert_one_line_error(result, "too long")
    assert "free space" not in result.stderr


# --- issue 16: everything echoed is escaped ----------------------------------------------------


FORGED = "x\n\x1b[31mforcemlp: error: forged\x1b[0m\r\u202e"


@pytest.mark.parametrize("arguments", [
    ["data", "--data-dir", f"/tmp/{FORGED}"],
    ["train", "--framework", FORGED],
    ["train", "--framework", "numpy", "--epochs", "1", "--run-cache", f"/proc/{FORGED}"],
])
def test_control_characters_in_echoed_text_are_shown_not_acted_on(arguments):
    result = forcemlp(*arguments)
    assert_one_line_error(result)
    assert "\x1b" not in result.stderr and "\r" not in result.stderr
    assert "\u202e" not in result.stderr and "\\x1b[31m" in result.stderr


def test_shown_keeps_printable_text_and_escapes_the_rest():
    assert fileio.shown("données/ß 7") == "données/ß 7"
    assert fileio.shown("a\nb\x1b\t\x00\u202e") == "a\\nb\\x1b\\t\\x00\\u202e"


# --- issue 16: closed or full streams -----------------------------------------------------------


def test_an_error_with_stderr_closed_exits_2_and_says_nothing_on_stdout():
    result = forcemlp("train", "--framework", "nope", stderr=None,
                      preexec_fn=lambda: os.close(2))
    assert result.returncode == 2 and result.stdout == ""


def test_an_error_with_stderr_full_exits_2():
    with open("/dev/full", "w") as full:
        result = forcemlp("train", "--framework", "nope", stderr=full)
    assert result.returncode == 2 and result.stdout == ""


@pytest.mark.parametrize("stderr", ["closed", "full"])
def test_a_run_whose_stderr_is_gone_still_trains_and_reports(stderr, tmp_path):
    arguments = ["train", "--framework", "numpy", "--epochs", "1", "--train-size", "200", "--json"]
    if stderr == "closed":
        result = forcemlp(*arguments, stderr=None, preexec_fn=lambda: os.close(2))
    else:
        with open("/dev/full", "w") as full:
            result = forcemlp(*arguments, stderr=full)
    assert result.returncode == 0
    assert json.loads(result.stdout.splitlines()[-1])["train_samples"] == 200


# --- issue 16: a depth limit beside the parameter limit ---------------------------------------


@pytest.mark.parametrize("depth", [101, 50_000])
def test_a_stack_too_deep_is_one_line_naming_both_limits(depth):
    started = time.perf_counter()
    with pytest.raises(ForceMLPError) as error:
        TrainConfig(hidden_sizes=[1] * depth)
    message = str(error.value)
    assert f"{depth:,} hidden layers" in message and "at most 100 hidden layers" in message
    assert "50,000,000 parameters" in message and "\n" not in message
    assert time.perf_counter() - started < 1
    assert TrainConfig(hidden_sizes=[1] * 100).hidden_sizes == (1,) * 100
    result = forcemlp("train", "--hidden", *["1"] * depth)
    assert_one_line_error(result, "at most 100 hidden layers")


# --- issue 16: the Python API checks its inputs -----------------------------------------------


@pytest.mark.parametrize("arguments, message", [
    ({"config": {"framework": "numpy"}}, "config must be a TrainConfig, got dict"),
    ({"config": "numpy"}, "config must be a TrainConfig, got str"),
    ({"config": QUICK, "data_dir": b"/data"}, "data_dir must be a folder path or None"),
    ({"config": QUICK, "data_dir": 7}, "data_dir must be a folder path or None"),
    ({"config": QUICK, "cache": b"/runs"}, "cache must be True, False or a folder path"),
    ({"config": QUICK, "cache": 3}, "cache must be True, False or a folder path"),
])
def test_wrong_types_given_to_run_are_the_packages_error(arguments, message):
    with pytest.raises(ForceMLPError, match=re.escape(message)):
        runner.run(**arguments)


@pytest.mark.parametrize("sizes", [{16, 32}, frozenset({16}), {16: 1}])
def test_unordered_hidden_sizes_are_refused(sizes):
    with pytest.raises(ForceMLPError, match="has no order"):
        TrainConfig(hidden_sizes=sizes)


def test_remember_checks_its_arguments(tmp_path):
    with pytest.raises(ForceMLPError, match="config must be a TrainConfig"):
        runner.remember(QUICK.to_dict(), fake_result(QUICK), cache=tmp_path)
    with pytest.raises(ForceMLPError, match="result must be a RunResult"):
        runner.remember(QUICK, fake_result(QUICK).to_dict(), cache=tmp_path)


# --- issue 16: generated garbage (Hypothesis) ----------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


def field_paths(node, prefix=()):
    """Every path into a JSON value: dict keys and list indices."""
    yield prefix
    items = node.items() if isinstance(node, dict) else enumerate(node) \
        if isinstance(node, list) else ()
    for key, child in items:
        yield from field_paths(child, (*prefix, key))


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    folder = tmp_path_factory.mktemp("template")
    record_path, record = stored_record(folder)
    return record, record_path.read_bytes()


def assert_valid_or_refused(folder: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        loaded = run_cache.load(folder, QUICK)
    if loaded is not None:  # served: it must be a run a real training could have made
        summary = loaded.summary()
        assert 1 <= summary["best_epoch"] <= summary["epochs"]
        json.loads(cli.strict_json(summary))
        assert 0 <= summary["test_accuracy"] <= 1


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(garbage=st.binary(max_size=2000) | JSON_VALUES.map(lambda v: json.dumps(v).encode()))
def test_the_cache_reader_serves_a_valid_run_or_nothing_from_garbage(garbage, tmp_path):
    record_path, _ = run_cache.entry_paths(tmp_path, QUICK)
    record_path.write_bytes(garbage)
    assert_valid_or_refused(tmp_path)


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), resealed=st.booleans())
def test_the_cache_reader_survives_any_one_field_replaced(data, resealed, template, tmp_path):
    record = copy.deepcopy(template[0])
    path = data.draw(st.sampled_from(list(field_paths(record))[1:]))
    node = record
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = data.draw(JSON_VALUES)
    record_path, _ = run_cache.entry_paths(tmp_path, QUICK)
    try:
        record_path.write_bytes(reseal(record) if resealed else json.dumps(record).encode())
    except ValueError:  # a generated float nan/inf: write it as Python's json would
        record_path.write_text(json.dumps(record))
    assert_valid_or_refused(tmp_path)


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), cut=st.integers(min_value=0))
def test_the_cache_reader_survives_a_torn_or_flipped_record(data, cut, template, tmp_path):
    original = bytearray(template[1])
    position = cut % len(original)
    damaged = data.draw(st.sampled_from([
        bytes(original[:position]),
        bytes(original[:position] + bytes([original[position] ^ 0x01]) + original[position + 1:]),
    ]))
    record_path, _ = run_cache.entry_paths(tmp_path, QUICK)
    record_path.write_bytes(damaged)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert run_cache.load(tmp_path, QUICK) is None  # any change is found by the digest


CONFIG_VALUES = (st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
                 | st.binary(max_size=4) | st.lists(st.integers(-3, 2000), max_size=5)
                 | st.sets(st.integers(1, 64), max_size=3)
                 | st.tuples(st.integers(-1, 10**7)) | st.sampled_from(
                     ["torch", "numpy", "adam", "relu", "cpu", "cosine", "mnist"]))


@settings(max_examples=400, deadline=None)
@given(fields=st.dictionaries(st.sampled_from([f.name for f in dataclasses.fields(TrainConfig)]),
                              CONFIG_VALUES, max_size=6))
def test_train_config_from_garbage_is_valid_or_the_packages_error(fields):
    try:
        config = TrainConfig(**fields)
    except ForceMLPError as error:
        assert "\n" not in str(error)
        return
    assert hash(config) == hash(TrainConfig(**config.to_dict() | {
        "hidden_sizes": config.hidden_sizes}))
    record = config.to_dict()
    json.loads(json.dumps(record, allow_nan=False))
    assert all(type(size) is int and size > 0 for size in config.hidden_sizes)
    assert 0 <= config.dropout < 1 and math.isfinite(config.learning_rate)
    assert config.learning_rate > 0 and type(config.epochs) is int and config.epochs > 0
