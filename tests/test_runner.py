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
    assert stored.is_file() and not list(tmp_path.glob("*.part"))
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
