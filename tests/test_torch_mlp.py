"""forcemlp.torch_mlp on real MNIST slices, with torch autograd + torch.optim as the oracle."""
from __future__ import annotations

import copy
import dataclasses
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from forcemlp import torch_mlp
from forcemlp.config import ACTIVATIONS, TrainConfig
from forcemlp.errors import ForceMLPError

SEED_PARAMETERS = 784 * 16 + 16 + 16 * 10 + 10  # 12,730


def sliced(splits, train: int, val: int | None = None):
    """The splits with only the first ``train`` training (and ``val`` validation) images."""
    val_split = splits.val.head(val) if val else splits.val
    return dataclasses.replace(splits, train=splits.train.head(train), val=val_split)


def parameter_count(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def seeded(build, seed: int = 0):
    torch.manual_seed(seed)
    return build()


def test_seed_models_have_the_seed_shape(mnist_splits):
    images = torch.from_numpy(mnist_splits.test.features[:5]).reshape(5, 28, 28)
    for model in (torch_mlp.SeedSequential(), torch_mlp.SeedFunctional()):
        assert parameter_count(model) == SEED_PARAMETERS
        log_probabilities = model(images)
        assert log_probabilities.shape == (5, 10)
        assert torch.allclose(log_probabilities.exp().sum(1), torch.ones(5), atol=1e-6)


def test_seed_styles_from_one_seed_compute_the_same_function(mnist_splits):
    images = torch.from_numpy(mnist_splits.test.features[:50])
    sequential = seeded(torch_mlp.SeedSequential)
    functional = seeded(torch_mlp.SeedFunctional)
    assert torch.allclose(sequential(images), functional(images), atol=1e-6)


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_build_mlp_every_activation(activation, mnist_splits):
    model = torch_mlp.build_mlp((128, 64), activation, dropout=0.2)
    assert parameter_count(model) == 784 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10
    assert sum(isinstance(m, torch.nn.Dropout) for m in model.modules()) == 2
    model.eval()
    log_probabilities = model(torch.from_numpy(mnist_splits.test.features[:4]))
    assert torch.allclose(log_probabilities.exp().sum(1), torch.ones(4), atol=1e-5)


def test_activation_table_matches_the_config():
    assert tuple(torch_mlp.ACTIVATION_MODULES) == ACTIVATIONS


def test_model_for_picks_the_seed_classes_for_the_seed_shape():
    assert type(torch_mlp.model_for(TrainConfig())) is torch_mlp.SeedSequential
    assert type(torch_mlp.model_for(TrainConfig(style="functional"))) is torch_mlp.SeedFunctional
    wider = torch_mlp.model_for(TrainConfig(hidden_sizes=(32,)))
    assert parameter_count(wider) == 784 * 32 + 32 + 32 * 10 + 10


@pytest.mark.parametrize("call, message", [
    (lambda: torch_mlp.build_mlp((16,), "swish"), "unknown activation 'swish'"),
    (lambda: torch_mlp.build_mlp((), "relu"), "hidden sizes"),
    (lambda: torch_mlp.make_optimizer("lbfgs", [torch.zeros(1)], 0.1), "unknown optimizer 'lbfgs'"),
    (lambda: torch_mlp.select_device("tpu"), "unknown device 'tpu'"),
])
def test_bad_choices_raise_one_line_errors(call, message):
    with pytest.raises(ForceMLPError, match=message) as error:
        call()
    assert "\n" not in str(error.value)


def test_train_rejects_unknown_optimizer_and_bad_numbers(mnist_splits):
    small = sliced(mnist_splits, 40, 40)
    model = torch_mlp.SeedSequential()
    with pytest.raises(ForceMLPError, match="unknown optimizer 'lbfgs'"):
        torch_mlp.train(model, small, 1, 20, 1e-3, optimizer="lbfgs", progress=False)
    with pytest.raises(ForceMLPError, match="batch_size must be a positive"):
        torch_mlp.train(model, small, 1, 0, 1e-3, progress=False)
    with pytest.raises(ForceMLPError, match="learning rate"):
        torch_mlp.train(model, small, 1, 20, float("nan"), progress=False)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_asking_for_cuda_without_a_gpu_says_what_to_do():
    assert torch_mlp.select_device("auto") == torch.device("cpu")
    with pytest.raises(ForceMLPError, match="use --device cpu"):
        torch_mlp.select_device("cuda")


def test_fast_path_is_chosen_only_where_it_applies():
    cpu = "cpu"
    assert torch_mlp.trainer_path(torch_mlp.SeedSequential(), "adam", cpu) == "numpy fast path"
    assert torch_mlp.trainer_path(torch_mlp.build_mlp((32, 16), "tanh"), "adam", cpu) == (
        "numpy fast path"
    )
    assert torch_mlp.trainer_path(torch_mlp.SeedFunctional(), "adam", cpu) == "autograd"
    assert torch_mlp.trainer_path(torch_mlp.SeedSequential(), "sgd", cpu) == "autograd"
    assert torch_mlp.trainer_path(torch_mlp.build_mlp((16,), "gelu"), "adam", cpu) == "autograd"
    with_dropout = torch_mlp.build_mlp((16,), "relu", dropout=0.1)
    assert torch_mlp.trainer_path(with_dropout, "adam", cpu) == "autograd"


def oracle_epoch(model, split, batch_size: int, learning_rate: float, seed: int,
                 factor=lambda step: 1.0) -> float:
    """One epoch of plain autograd + torch.optim.Adam in the order ``train`` promises.

    ``factor(step)`` scales the rate through torch's own LambdaLR. Returns the per-sample mean
    training loss, measured before each step as ``train`` does.
    """
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate, foreach=False)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
    features, labels = torch.from_numpy(split.features), torch.from_numpy(split.labels)
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))
    total_loss = 0.0
    for batch in order.split(batch_size):
        optimizer.zero_grad()
        loss = F.nll_loss(model(features[batch]), labels[batch])
        loss.backward()
        optimizer.step()
        scheduler.step()
        total_loss += loss.item() * len(batch)
    return total_loss / len(labels)


@pytest.mark.parametrize("build", [
    torch_mlp.SeedSequential,
    torch_mlp.SeedFunctional,  # the autograd path, held to the same oracle
    lambda: torch_mlp.build_mlp((32, 16), "leaky_relu"),
    lambda: torch_mlp.build_mlp((24,), "sigmoid"),
    lambda: torch_mlp.build_mlp((24, 12), "tanh"),
])
def test_train_matches_autograd_and_torch_optim_adam(build, mnist_splits):
    # 210 images at batch 20: ten full batches and one of 10, so per-batch averaging would show.
    small = sliced(mnist_splits, 210, 100)
    model = seeded(build, seed=3)
    oracle = copy.deepcopy(model)
    history = torch_mlp.train(model, small, 1, 20, 1e-2, seed=5, device="cpu", progress=False)
    oracle_loss = oracle_epoch(oracle, small.train, 20, 1e-2, seed=5)
    for trained, expected in zip(model.parameters(), oracle.parameters()):
        assert torch.allclose(trained, expected, atol=1e-5), (trained - expected).abs().max()
    assert history.epochs[0].train_loss == pytest.approx(oracle_loss, abs=1e-5)


@pytest.mark.parametrize("build", [torch_mlp.SeedSequential, torch_mlp.SeedFunctional])
def test_cosine_schedule_matches_torch_lambda_lr(build, mnist_splits):
    """Both paths (NumPy fast path, autograd) follow lr·½(1 + cos(π t / T)) step by step."""
    small = sliced(mnist_splits, 210, 100)
    total_steps = 11  # ten batches of 20 and one of 10
    model = seeded(build, seed=3)
    oracle, constant = copy.deepcopy(model), copy.deepcopy(model)
    torch_mlp.train(model, small, 1, 20, 1e-2, seed=5, device="cpu", progress=False,
                    lr_schedule="cosine")
    oracle_epoch(oracle, small.train, 20, 1e-2, seed=5,
                 factor=lambda step: 0.5 * (1 + math.cos(math.pi * step / total_steps)))
    torch_mlp.train(constant, small, 1, 20, 1e-2, seed=5, device="cpu", progress=False)
    for trained, expected, unscheduled in zip(
        model.parameters(), oracle.parameters(), constant.parameters()
    ):
        assert torch.allclose(trained, expected, atol=1e-5), (trained - expected).abs().max()
    assert not all(torch.allclose(a, b, atol=1e-4)
                   for a, b in zip(model.parameters(), constant.parameters()))


def test_one_epoch_on_10k_images_beats_88_percent(mnist_splits):
    small = sliced(mnist_splits, 10_000)
    for style in ("sequential", "functional"):  # fast path and autograd path
        model = torch_mlp.model_for(TrainConfig(style=style))
        history = torch_mlp.train(model, small, 1, 20, 1e-3, device="cpu", progress=False)
        assert history.epochs[0].val_accuracy > 0.88
        assert torch_mlp.evaluate(model, mnist_splits.test).accuracy > 0.88


def test_validation_metrics_are_per_sample_on_the_validation_set(mnist_splits):
    small = sliced(mnist_splits, 1000, 333)
    model = torch_mlp.SeedSequential()
    history = torch_mlp.train(model, small, 1, 20, 1e-3, device="cpu", progress=False)
    on_val = torch_mlp.evaluate(model, small.val)
    assert history.epochs[0].val_accuracy == pytest.approx(on_val.accuracy)
    assert history.epochs[0].val_loss == pytest.approx(on_val.loss, rel=1e-5)


def test_best_validation_weights_are_restored(mnist_splits):
    # At this learning rate validation accuracy peaks at epoch 3 of 4 (seeded, so always).
    small = sliced(mnist_splits, 2000)
    model = torch_mlp.model_for(TrainConfig())
    history = torch_mlp.train(model, small, 4, 20, 0.05, device="cpu", progress=False)
    val_accuracies = history.column("val_accuracy")
    assert history.best_epoch == int(np.argmax(val_accuracies)) + 1
    assert history.best_epoch < len(history.epochs), "settings where the last epoch is not best"
    assert torch_mlp.evaluate(model, small.val).accuracy == pytest.approx(max(val_accuracies))


@pytest.mark.parametrize("build", [torch_mlp.SeedSequential, torch_mlp.SeedFunctional])
def test_a_nan_weight_stops_training_with_a_clear_message(build, mnist_splits):
    model = build()
    with torch.no_grad():
        next(model.parameters())[0, 0] = float("nan")
    with pytest.raises(ForceMLPError, match="loss became nan at epoch 1 step 1: lower the"):
        torch_mlp.train(model, sliced(mnist_splits, 100, 100), 1, 20, 1e-3, device="cpu",
                        progress=False)


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_a_huge_learning_rate_stops_training(optimizer, mnist_splits):
    with pytest.raises(ForceMLPError, match=r"loss became (nan|inf) at epoch 1 step \d+"):
        torch_mlp.train(torch_mlp.SeedSequential(), sliced(mnist_splits, 400, 100), 1, 20, 1e30,
                        optimizer=optimizer, device="cpu", progress=False)


def test_training_leaves_thread_and_denormal_settings_as_they_were(mnist_splits):
    threads = torch.get_num_threads()
    torch_mlp.train(torch_mlp.SeedSequential(), sliced(mnist_splits, 100, 100), 1, 20, 1e-3,
                    device="cpu", progress=False)
    assert torch.get_num_threads() == threads
    assert not torch_mlp._denormals_flushed()


def test_same_seed_same_metrics_different_seed_different(mnist_splits):
    config = TrainConfig(epochs=2, train_size=1000, device="cpu")

    def summary(run):
        timings = {"seconds", "samples_per_second"}
        return {key: value for key, value in run.summary().items() if key not in timings}

    first = torch_mlp.train_run(config, mnist_splits)
    second = torch_mlp.train_run(config, mnist_splits)
    other = torch_mlp.train_run(dataclasses.replace(config, seed=1), mnist_splits)
    assert summary(first) == summary(second)
    assert first.history.column("train_loss") == second.history.column("train_loss")
    assert first.history.column("val_loss") != other.history.column("val_loss")


def test_train_run_returns_a_complete_result(mnist_splits):
    config = TrainConfig(style="functional", epochs=1, train_size=3000, device="cpu")
    result = torch_mlp.train_run(config, mnist_splits)
    summary = result.summary()
    assert summary["framework"] == "torch" and summary["epochs"] == 1
    assert summary["test_count"] == 8000 and summary["test_accuracy"] > 0.75
    assert result.samples_per_second > 0 and result.seconds >= result.history.seconds
    assert result.config["style"] == "functional"


def test_predictions_and_evaluation_agree(mnist_splits):
    model = seeded(torch_mlp.SeedSequential)
    test = mnist_splits.test.head(300)
    log_probabilities = torch_mlp.predict_log_probabilities(model, test.images)
    assert log_probabilities.shape == (300, 10) and log_probabilities.dtype == np.float32
    np.testing.assert_allclose(np.exp(log_probabilities).sum(1), 1, atol=1e-5)
    evaluation = torch_mlp.evaluate(model, test)
    np.testing.assert_array_equal(evaluation.predictions, log_probabilities.argmax(1))
    assert evaluation.confusion.sum() == 300


def test_seed_style_loop_matches_train_in_its_first_epoch(mnist_splits):
    small = sliced(mnist_splits, 600, 200)
    seed_style_model = seeded(torch_mlp.SeedSequential)
    fast_model = copy.deepcopy(seed_style_model)
    history = torch_mlp.train_seed_style(seed_style_model, small, 1, device="cpu", progress=False)
    fast_history = torch_mlp.train(fast_model, small, 1, 20, 1e-3, device="cpu", progress=False)
    assert history.framework == "torch-seed-style" and history.best_epoch == 1
    epoch, fast_epoch = history.epochs[0], fast_history.epochs[0]
    assert epoch.train_loss == pytest.approx(fast_epoch.train_loss, abs=1e-5)
    on_val = torch_mlp.evaluate(seed_style_model, small.val)
    assert epoch.val_accuracy == pytest.approx(on_val.accuracy)
    for seed_style, fast in zip(seed_style_model.parameters(), fast_model.parameters()):
        assert torch.allclose(seed_style, fast, atol=1e-5)
