"""forcemlp.bench on a slice: the three trainers run and report; the ratios themselves live in
the benchmark output (`python -m forcemlp bench`), since timings on shared CI cores are noise."""
from __future__ import annotations

import math

from forcemlp.bench import format_benchmark, run_benchmark


def test_benchmark_on_a_slice_reports_the_three_trainers():
    result = run_benchmark(epochs=1, train_size=400, device="cpu")
    for key in ("ratio", "autograd_ratio", *(f"{name}_{measure}" for name in
                ("seed", "autograd", "forcemlp") for measure in
                ("test_accuracy", "seconds_per_epoch", "samples_per_second"))):
        assert math.isfinite(result[key]) and result[key] > 0, key
    assert result["train_samples"] == 400 and result["forcemlp_path"] == "numpy fast path"
    # Same initial weights, same batch order: the seed loop and autograd train the very same
    # model; the fast path follows it to float32 rounding.
    assert result["seed_test_accuracy"] == result["autograd_test_accuracy"]
    assert result["accuracy_gap_points"] < 0.5
    assert result["seed_samples_per_second"] == 400 / result["seed_seconds_per_epoch"]
    table = format_benchmark(result)
    assert "seed-style DataLoader loop" in table and "speed ratio" in table
    assert "forcemlp train (autograd)" in table
    assert f"{result['forcemlp_test_accuracy']:.4f}" in table
