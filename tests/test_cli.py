"""The command line: real runs end in one JSON line; every user error is one line, exit 2."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from forcemlp.cli import main


def run_cli(*args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "forcemlp", *args], check=False, capture_output=True, text=True,
        timeout=timeout,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "--framework", "jax"], "unknown framework 'jax': choose one of torch, keras"),
        (["train", "--style", "weird"], "unknown style 'weird'"),
        (["train", "--optimizer", "lbfgs"], "unknown optimizer 'lbfgs'"),
        (["train", "--activation", "swishy"], "unknown activation 'swishy'"),
        (["train", "--dataset", "cifar"], "unknown dataset 'cifar'"),
        (["train", "--device", "tpu"], "unknown device 'tpu'"),
        (["train", "--epochs", "0"], "epochs must be a positive whole number"),
        (["train", "--batch-size", "-3"], "batch_size must be a positive whole number"),
        (["train", "--lr", "0"], "learning rate must be a positive number"),
        (["train", "--lr", "nan"], "learning rate must be a positive number"),
        (["train", "--hidden"], "hidden_sizes is empty"),
        (["train", "--epochs", "many"], "invalid int value: 'many'"),
        (["data", "--data-dir", "/nonexistent/folder"], "files missing in /nonexistent/folder"),
        (["bench", "--epochs", "0"], "--epochs must be a positive whole number"),
        (["train", "--seed", "-1"], "seed must be a whole number from 0 to 4294967295"),
        (["train", "--train-size", "70000"], "train_size must be a whole number from 1 to 60000"),
        (["train", "--framework", "numpy", "--fast"], "the NumPy MLP has no fast path"),
        (["train", "--fast", "--style", "functional"], "the fast path of PyTorch supports"),
        (["train", "--framework", "tensorflow", "--optimizer", "sgd"],
         "the GradientTape trainer supports optimizer 'adam' only"),
        (["fly"], "invalid choice: 'fly'"),
    ],
)
def test_user_errors_are_one_line_and_exit_2(capsys, args, message):
    assert main(args) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("forcemlp: error: ") and message in captured.err
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err


def test_help_does_not_import_a_framework():
    code = "import sys; from forcemlp.cli import build_parser; build_parser();" \
           " print('torch' in sys.modules or 'tensorflow' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True)
    assert result.stdout.strip() == "False"


def test_data_command_verifies_every_file():
    result = run_cli("data")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("ok  ") == 4


def test_train_json_last_line(tmp_path):
    result = run_cli("train", "--framework", "torch", "--epochs", "1", "--train-size", "6000",
                     "--quiet", "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    for key in ("framework", "epochs", "test_accuracy", "test_loss", "val_accuracy", "seconds",
                "samples_per_second"):
        assert key in summary
    assert summary["framework"] == "torch" and summary["epochs"] == 1
    assert summary["test_accuracy"] > 0.80


def test_nan_loss_is_one_line(tmp_path):
    result = run_cli("train", "--framework", "torch", "--optimizer", "sgd", "--lr", "1e12",
                     "--epochs", "1", "--train-size", "2000", "--quiet")
    assert result.returncode == 2
    assert result.stderr.startswith("forcemlp: error: training diverged")
    assert result.stderr.count("\n") == 1 and "lower the learning rate" in result.stderr


def test_the_fast_path_and_the_run_cache_from_the_command_line(tmp_path):
    args = ("train", "--fast", "--epochs", "1", "--train-size", "3000", "--quiet", "--json",
            "--run-cache", str(tmp_path))
    first = run_cli(*args)
    assert first.returncode == 0, first.stderr
    summary = json.loads(first.stdout.splitlines()[-1])
    assert summary["fast"] is True and summary["test_accuracy"] > 0.75
    assert len(list(tmp_path.glob("torch-*.json"))) == 1
    again = run_cli(*args)  # from the run cache: the very same record
    assert json.loads(again.stdout.splitlines()[-1]) == summary


def test_learning_rate_schedules():
    from forcemlp.config import learning_rate_at

    assert learning_rate_at(0.1, "constant", 7, 10) == 0.1
    assert learning_rate_at(0.1, "cosine", 0, 10) == pytest.approx(0.1)
    assert learning_rate_at(0.1, "cosine", 5, 10) == pytest.approx(0.05)
    assert learning_rate_at(0.1, "cosine", 10, 10) == pytest.approx(0.0, abs=1e-12)
    assert main(["train", "--lr-schedule", "step"]) == 2
