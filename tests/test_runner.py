"""forcemlp.runner: every framework behind one call, and a run cache that never goes stale."""
from __future__ import annotations

import dataclasses
import json

import pytest

from forcemlp import run_cache, runner
from forcemlp.config import TrainConfig
from forcemlp.errors import ForceMLPError

QUICK = TrainConfig(framework="numpy", epochs=1, train_size=3000, batch_size=20)


def test_a_cached_run_comes_back_identical_without_training(tmp_path, monkeypatch):
    monkeypatch.setenv("FORCEMLP_RUN_CACHE", str(tmp_path))
    first = runner.run(QUICK)
    stored = runner.cached_path(QUICK)
    assert stored.is_file() and not list(tmp_path.glob("*.tmp"))
    assert first.test.accuracy > 0.75  # 150 steps on 3,000 images

    def no_training(*args, **kwargs):
        raise AssertionError("a cached run must not train again")

    monkeypatch.setattr(runner, "load_splits", no_training)
    again = runner.run(QUICK)
    assert json.dumps(again.summary()) == json.dumps(first.summary())
    assert again.test.confusion.tolist() == first.test.confusion.tolist()
    assert runner.cached_path(dataclasses.replace(QUICK, seed=1)) != stored


def test_without_a_cache_folder_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.delenv("FORCEMLP_RUN_CACHE", raising=False)
    assert runner.cached_path(QUICK) is None


def test_the_key_follows_the_package_source(monkeypatch):
    before = runner.cache_key(QUICK)
    monkeypatch.setattr(run_cache, "source_fingerprint", lambda: "edited source")
    assert runner.cache_key(QUICK) != before


def test_the_gradient_tape_loop_refuses_what_it_does_not_implement():
    config = TrainConfig(framework="tensorflow", optimizer="sgd", epochs=1, train_size=100)
    with pytest.raises(ForceMLPError, match="supports optimizer 'adam' only"):
        runner.run(config, cache=False)


def test_the_fingerprint_covers_subpackages_and_data_files(tmp_path, monkeypatch):
    package = tmp_path / "forcemlp"
    (package / "torch_mlp").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "torch_mlp" / "trainer.py").write_text("steps = 1")
    (package / "widget.js").write_text("export const a = 1;")
    (package / "__pycache__").mkdir()
    monkeypatch.setattr(run_cache, "PACKAGE", package)

    def fingerprint() -> str:
        run_cache.source_fingerprint.cache_clear()
        return run_cache.source_fingerprint()

    before = fingerprint()
    (package / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"compiled")
    assert fingerprint() == before
    for edited in (package / "torch_mlp" / "trainer.py", package / "widget.js"):
        edited.write_text(edited.read_text() + " ")
        assert fingerprint() != before
        before = fingerprint()
    run_cache.source_fingerprint.cache_clear()


def test_only_the_current_execution_cache_folder_is_kept(tmp_path):
    stale = tmp_path / "0123456789abcdef"
    (stale / "executed").mkdir(parents=True)
    current = run_cache.execution_cache_folder(tmp_path)
    assert current.name == run_cache.source_tag()
    current.mkdir()
    (current / "kept").write_text("x")
    assert run_cache.execution_cache_folder(tmp_path) == current
    assert sorted(path.name for path in tmp_path.iterdir()) == [current.name]
    assert (current / "kept").is_file()


def test_summary_reports_the_recorded_epochs(tmp_path):
    result = runner.run(QUICK, cache=False)
    summary = result.summary()
    assert summary["epochs"] == len(result.history.epochs) == 1
    assert summary["train_samples"] == 3000 and summary["hidden_sizes"] == [16]
    # A run cut short (as an interrupted or early-stopped one would be) says so.
    result.history.epochs.append(result.history.epochs[0])
    assert result.summary()["epochs"] == 2 and result.config["epochs"] == 1


def test_remember_files_a_lesson_trained_run_for_later_pages(tmp_path, monkeypatch):
    monkeypatch.setenv("FORCEMLP_RUN_CACHE", str(tmp_path))
    trained_elsewhere = runner.run(QUICK, cache=False)
    assert runner.remember(QUICK, trained_elsewhere) == runner.cached_path(QUICK)
    monkeypatch.setattr(runner, "train_on", lambda *a, **k: pytest.fail("trained again"))
    again = runner.run(QUICK, keep_weights=True)
    assert again.summary() == trained_elsewhere.summary()
    assert [w.weight.shape for w in again.weights] == [(16, 784), (10, 16)]
    with pytest.raises(ForceMLPError, match="trained with another configuration"):
        runner.remember(dataclasses.replace(QUICK, seed=1), trained_elsewhere)
    monkeypatch.delenv("FORCEMLP_RUN_CACHE")
    assert runner.remember(QUICK, trained_elsewhere) is None


def test_runs_of_other_package_sources_are_pruned(tmp_path, monkeypatch):
    monkeypatch.setenv("FORCEMLP_RUN_CACHE", str(tmp_path))
    current = runner.run(QUICK)
    kept = runner.cached_path(QUICK)
    old_record = tmp_path / "numpy-0123456789abcdef0123.json"
    old_record.write_text(json.dumps({"format": 1, "config": QUICK.to_dict()}))
    old_record.with_suffix(".npz").write_bytes(b"old weights")
    (tmp_path / "torch-ffffffffffffffffffff.json").write_text("{truncat")
    run_cache.prune_other_sources(tmp_path)
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(
        [kept.name, kept.with_suffix(".npz").name])
    assert runner.run(QUICK).summary() == current.summary()
    run_cache.prune_other_sources(tmp_path / "absent")  # no folder yet: nothing to do
