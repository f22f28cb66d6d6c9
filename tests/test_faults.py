"""Hostile input, one test per fault class: each ends in one line and the right exit code.

Every file a test needs is made here, small. Through the command line: one line on stderr,
``forcemlp: error: ...``, exit code 2, never a traceback, a hang, an out-of-memory kill or a
silently wrong result. When the tests run as root, permission faults run the command without
root's power to ignore file modes (``setpriv`` drops CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH).
"""
from __future__ import annotations

import errno
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

import numpy as np
import pytest

from forcemlp import data, fileio, run_cache, runner
from forcemlp.config import TrainConfig
from forcemlp.errors import ForceMLPError

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
    return subprocess.run(command, stderr=subprocess.PIPE, text=True, env=environment,
                          timeout=timeout, check=False, **options)


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
    with pytest.raises(ForceMLPError, match="truncated or corrupt"):  # exact Python ints
        data.parse_idx(header + bytes(16), data.IMAGE_MAGIC)
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
    for _ in range(2):  # retrained once, then served from the rewritten entry
        result = runner.run(QUICK, cache=tmp_path)
        assert result.config == QUICK.to_dict()
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
for _ in range(40):
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
