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
from forcemlp.runner import train_on

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
    (lambda: torch_mlp.build_mlp((), "relu"), "hidden_sizes is empty"),
    (lambda: torch_mlp.build_mlp((16,), style="subclass"), "unknown style 'subclass'"),
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
        torch_mlp.train(model, small, epochs=1, batch_size=20, learning_rate=1e-3,
                        optimizer="lbfgs", progress=False)
    with pytest.raises(ForceMLPError, match="batch_size must be a positive"):
        torch_mlp.train(model, small, epochs=1, batch_size=0, learning_rate=1e-3, progress=False)
    with pytest.raises(ForceMLPError, match="learning rate"):
        torch_mlp.train(model, small, epochs=1, batch_size=20, learning_rate=float("nan"),
                        progress=False)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_asking_for_cuda_without_a_gpu_says_what_to_do():
    assert torch_mlp.select_device("auto") == torch.device("cpu")
    with pytest.raises(ForceMLPError, match="use --device cpu"):
        torch_mlp.select_device("cuda")


def test_fast_path_is_opt_in_and_refused_where_it_does_not_apply():
    cpu = "cpu"
    assert torch_mlp.trainer_path(torch_mlp.SeedSequential()) == "autograd"
    assert torch_mlp.trainer_path(torch_mlp.SeedSequential(), "adam", cpu, fast=True) == (
        "numpy fast path"
    )
    assert torch_mlp.trainer_path(torch_mlp.build_mlp((32, 16), "tanh"), "adam", cpu,
                                  fast=True) == "numpy fast path"
    for model, optimizer in (
        (torch_mlp.SeedFunctional(), "adam"),
        (torch_mlp.SeedSequential(), "sgd"),
        (torch_mlp.build_mlp((16,), "gelu"), "adam"),
        (torch_mlp.build_mlp((16,), "relu", dropout=0.1), "adam"),
        (torch_mlp.build_mlp((16,), "relu", style="functional"), "adam"),
    ):
        with pytest.raises(ForceMLPError, match="fast path trains a plain stack.*leave out fast"):
            torch_mlp.trainer_path(model, optimizer, cpu, fast=True)


def test_fused_adam_kernel_still_matches_torch_optim_adam():
    """The fast path calls the private ``torch._fused_adam_``: if a torch upgrade changes its
    signature or its maths, this fails here rather than training wrong weights quietly."""
    generator = torch.Generator().manual_seed(0)
    start = torch.randn(300, generator=generator)
    gradients = [torch.randn(300, generator=generator) * scale for scale in (1e-3, 1.0, 30.0)] * 4
    rates = [1e-2, 3e-3, 1e-3] * 4
    flat, exp_avg, exp_avg_sq = start.clone(), torch.zeros(300), torch.zeros(300)
    step_count = torch.zeros(())
    oracle = torch.nn.Parameter(start.clone())
    adam = torch.optim.Adam([oracle], lr=rates[0], foreach=False)
    for gradient, rate in zip(gradients, rates):
        step_count += 1
        torch_mlp.fused_adam_step(flat, gradient, exp_avg, exp_avg_sq, step_count, rate)
        oracle.grad = gradient.clone()
        adam.param_groups[0]["lr"] = rate
        adam.step()
        torch.testing.assert_close(flat, oracle.detach(), rtol=1e-6, atol=1e-7)
    assert not torch.allclose(flat, start)


def oracle_epoch(model, split, batch_size: int, learning_rate: float, seed: int,
                 factor=lambda step: 1.0) -> float:
    """One epoch of plain autograd + torch.optim.Adam over a seeded, shuffling DataLoader.

    ``factor(step)`` scales the rate through torch's own LambdaLR. Returns the per-sample mean
    training loss, measured before each step as ``train`` does.
    """
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate, foreach=False)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
    dataset = torch.utils.data.TensorDataset(
        torch.from_numpy(split.features), torch.from_numpy(split.labels)
    )
    loader = torch.utils.data.DataLoader(dataset, batch_size, shuffle=True,
                                         generator=torch.Generator().manual_seed(seed))
    total_loss = 0.0
    for images, labels in loader:
        optimizer.zero_grad()
        loss = F.nll_loss(model(images), labels)
        loss.backward()
        optimizer.step()
        scheduler.step()
        total_loss += loss.item() * len(labels)
    return total_loss / len(split)


@pytest.mark.parametrize("build, fast", [
    (torch_mlp.SeedSequential, False),
    (torch_mlp.SeedSequential, True),
    (torch_mlp.SeedFunctional, False),
    (lambda: torch_mlp.build_mlp((32, 16), "leaky_relu"), True),
    (lambda: torch_mlp.build_mlp((24,), "sigmoid"), True),
    (lambda: torch_mlp.build_mlp((24, 12), "tanh"), True),
    (lambda: torch_mlp.build_mlp((24, 12), "elu", style="functional"), False),
])
def test_train_matches_autograd_and_torch_optim_adam(build, fast, mnist_splits):
    # 210 images at batch 20: ten full batches and one of 10, so per-batch averaging would show.
    small = sliced(mnist_splits, 210, 100)
    model = seeded(build, seed=3)
    oracle = copy.deepcopy(model)
    history = torch_mlp.train(model, small, epochs=1, batch_size=20, learning_rate=1e-2, seed=5,
                              device="cpu", progress=False,
                              fast=fast)
    oracle_loss = oracle_epoch(oracle, small.train, 20, 1e-2, seed=5)
    for trained, expected in zip(model.parameters(), oracle.parameters()):
        assert torch.allclose(trained, expected, atol=1e-5), (trained - expected).abs().max()
    assert history.epochs[0].train_loss == pytest.approx(oracle_loss, abs=1e-5)


@pytest.mark.parametrize("fast", [True, False])
def test_cosine_schedule_matches_torch_lambda_lr(fast, mnist_splits):
    """Both paths (NumPy fast path, autograd) follow lr·½(1 + cos(π t / T)) step by step."""
    small = sliced(mnist_splits, 210, 100)
    total_steps = 11  # ten batches of 20 and one of 10
    model = seeded(torch_mlp.SeedSequential, seed=3)
    oracle, constant = copy.deepcopy(model), copy.deepcopy(model)
    torch_mlp.train(model, small, epochs=1, batch_size=20, learning_rate=1e-2, seed=5,
                    device="cpu", progress=False,
                    lr_schedule="cosine", fast=fast)
    oracle_epoch(oracle, small.train, 20, 1e-2, seed=5,
                 factor=lambda step: 0.5 * (1 + math.cos(math.pi * step / total_steps)))
    torch_mlp.train(constant, small, epochs=1, batch_size=20, learning_rate=1e-2, seed=5,
                    device="cpu", progress=False)
    for trained, expected, unscheduled in zip(
        model.parameters(), oracle.parameters(), constant.parameters()
    ):
        assert torch.allclose(trained, expected, atol=1e-5), (trained - expected).abs().max()
    assert not all(torch.allclose(a, b, atol=1e-4)
                   for a, b in zip(model.parameters(), constant.parameters()))


def test_a_dataloader_loop_with_the_same_seed_is_bit_identical(mnist_splits):
    """What a reader writes in a lesson, DataLoader(shuffle=True, generator=...) and all,
    gives exactly the trainer's weights and losses over several epochs (epoch_order), on one
    thread as the trainer runs."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        check_reader_loop(mnist_splits)
    finally:
        torch.set_num_threads(threads)


def check_reader_loop(mnist_splits):
    small = sliced(mnist_splits, 530, 100)  # 26 full batches of 20 and one of 10
    model = seeded(torch_mlp.SeedSequential, seed=3)
    reader_model = copy.deepcopy(model)
    history = torch_mlp.train(model, small, epochs=3, batch_size=20, learning_rate=1e-2, seed=7,
                              device="cpu", progress=False)

    torch.manual_seed(7)
    dataset = torch.utils.data.TensorDataset(
        torch.from_numpy(small.train.features), torch.from_numpy(small.train.labels)
    )
    loader = torch.utils.data.DataLoader(dataset, batch_size=20, shuffle=True,
                                         generator=torch.Generator().manual_seed(7))
    optimizer = torch.optim.Adam(reader_model.parameters(), lr=1e-2)
    criterion = torch.nn.NLLLoss()
    weights_after_epoch = []
    for epoch in range(3):
        reader_model.train()
        loss_sum = 0.0
        for images, labels in loader:
            optimizer.zero_grad()
            loss = criterion(reader_model(images), labels)
            loss.backward()
            optimizer.step()
            loss_sum += loss.item() * len(labels)
        assert loss_sum / 530 == history.epochs[epoch].train_loss
        weights_after_epoch.append([p.detach().clone() for p in reader_model.parameters()])
    for trained, reader in zip(model.parameters(), weights_after_epoch[history.best_epoch - 1]):
        assert torch.equal(trained, reader)


def test_one_epoch_on_10k_images_beats_87_percent(mnist_splits):
    """Measured: validation 0.878-0.89, test 0.88-0.89 (the seed model, one epoch)."""
    small = sliced(mnist_splits, 10_000)
    for style, fast in (("sequential", True), ("functional", False)):
        model = torch_mlp.model_for(TrainConfig(style=style))
        history = torch_mlp.train(model, small, epochs=1, batch_size=20, learning_rate=1e-3,
                                  device="cpu", progress=False,
                                  fast=fast)
        assert history.epochs[0].val_accuracy > 0.87
        assert torch_mlp.evaluate(model, mnist_splits.test).accuracy > 0.87


def test_validation_metrics_are_per_sample_on_the_validation_set(mnist_splits):
    small = sliced(mnist_splits, 1000, 333)
    model = torch_mlp.SeedSequential()
    history = torch_mlp.train(model, small, epochs=1, batch_size=20, learning_rate=1e-3,
                              device="cpu", progress=False)
    on_val = torch_mlp.evaluate(model, small.val)
    assert history.epochs[0].val_accuracy == pytest.approx(on_val.accuracy)
    assert history.epochs[0].val_loss == pytest.approx(on_val.loss, rel=1e-5)


def test_best_validation_weights_are_restored(mnist_splits):
    # At this learning rate and seed validation accuracy peaks at epoch 3 of 4 (measured).
    small = sliced(mnist_splits, 2000)
    model = torch_mlp.model_for(TrainConfig(seed=2))
    history = torch_mlp.train(model, small, epochs=4, batch_size=20, learning_rate=0.05, seed=2,
                              device="cpu", progress=False)
    val_accuracies = history.column("val_accuracy")
    assert history.best_epoch == int(np.argmax(val_accuracies)) + 1
    assert history.best_epoch < len(history.epochs), "settings where the last epoch is not best"
    assert torch_mlp.evaluate(model, small.val).accuracy == pytest.approx(max(val_accuracies))


@pytest.mark.parametrize("fast", [False, True])
def test_a_nan_weight_stops_training_with_a_clear_message(fast, mnist_splits):
    model = torch_mlp.SeedSequential()
    with torch.no_grad():
        next(model.parameters())[0, 0] = float("nan")
    with pytest.raises(ForceMLPError, match="training diverged: the loss became nan in epoch 1"):
        torch_mlp.train(model, sliced(mnist_splits, 100, 100), epochs=1, batch_size=20,
                        learning_rate=1e-3, device="cpu",
                        progress=False, fast=fast)


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_a_huge_learning_rate_stops_training(optimizer, mnist_splits):
    with pytest.raises(ForceMLPError, match=r"training diverged: the loss (became nan|reached)"):
        torch_mlp.train(torch_mlp.SeedSequential(), sliced(mnist_splits, 400, 100), epochs=1,
                        batch_size=20, learning_rate=1e30,
                        optimizer=optimizer, device="cpu", progress=False)


@pytest.mark.parametrize("fast", [False, True])
def test_training_leaves_thread_and_denormal_settings_as_they_were(fast, mnist_splits):
    threads = torch.get_num_threads()
    seen = []
    model = torch_mlp.SeedSequential()
    model.register_forward_hook(lambda *args: seen.append(torch.get_num_threads()))
    torch_mlp.train(model, sliced(mnist_splits, 100, 100), epochs=1, batch_size=20,
                    learning_rate=1e-3, device="cpu",
                    progress=False, fast=fast)
    assert torch.get_num_threads() == threads
    assert not torch_mlp.denormals_flushed()
    assert seen and set(seen) == {1}  # autograd steps and validation ran on one thread


def test_fast_path_multiplies_on_one_blas_thread_and_gives_the_threads_back():
    from threadpoolctl import threadpool_info

    from forcemlp.torch_mlp.fast_path import cpu_loop_settings

    def blas_threads() -> set[int]:
        return {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}

    before = blas_threads()
    with cpu_loop_settings():
        assert blas_threads() == {1}
    assert blas_threads() == before


def test_same_seed_same_metrics_different_seed_different(mnist_splits):
    config = TrainConfig(epochs=2, train_size=1000, device="cpu")

    def summary(run):
        timings = {"seconds", "samples_per_second"}
        return {key: value for key, value in run.summary().items() if key not in timings}

    first = train_on(config, mnist_splits)
    second = train_on(config, mnist_splits)
    other = train_on(dataclasses.replace(config, seed=1), mnist_splits)
    assert summary(first) == summary(second)
    assert first.history.column("train_loss") == second.history.column("train_loss")
    assert first.history.column("val_loss") != other.history.column("val_loss")


def test_train_run_returns_a_complete_result(mnist_splits):
    config = TrainConfig(style="functional", hidden_sizes=(24,), epochs=1, train_size=3000,
                         device="cpu")
    result = train_on(config, mnist_splits)
    summary = result.summary()
    assert summary["framework"] == "torch" and summary["epochs"] == 1
    assert summary["train_samples"] == 3000 and summary["style"] == "functional"
    assert summary["test_count"] == 8000 and summary["test_accuracy"] > 0.75
    assert result.samples_per_second > 0 and result.seconds >= result.history.seconds
    assert [layer.weight.shape for layer in result.weights] == [(24, 784), (10, 24)]


def test_styles_build_one_function_from_one_seed(mnist_splits):
    images = torch.from_numpy(mnist_splits.test.features[:64])
    for hidden_sizes, activation in (((16,), "relu"), ((32, 8), "gelu")):
        sequential, functional = (
            torch_mlp.model_for(TrainConfig(hidden_sizes=hidden_sizes, activation=activation,
                                            style=style))
            for style in ("sequential", "functional")
        )
        assert type(functional) is not type(sequential)
        assert torch.allclose(sequential(images), functional(images), atol=1e-6)


def test_predictions_and_evaluation_agree(mnist_splits):
    model = seeded(torch_mlp.SeedSequential)
    test = mnist_splits.test.head(300)
    log_probabilities = torch_mlp.predict_log_probabilities(model, test.images)
    assert log_probabilities.shape == (300, 10) and log_probabilities.dtype == np.float32
    np.testing.assert_allclose(np.exp(log_probabilities).sum(1), 1, atol=1e-5)
    evaluation = torch_mlp.evaluate(model, test)
    np.testing.assert_array_equal(evaluation.predictions, log_probabilities.argmax(1))
    assert evaluation.confusion.sum() == 300


def test_seed_style_loop_trains_exactly_what_train_does(mnist_splits):
    small = sliced(mnist_splits, 600, 200)
    seed_style_model = seeded(torch_mlp.SeedSequential)
    autograd_model = copy.deepcopy(seed_style_model)
    history = torch_mlp.train_seed_style(seed_style_model, small, epochs=2, device="cpu",
                                         progress=False)
    autograd_history = torch_mlp.train(autograd_model, small, epochs=2, batch_size=20,
                                       learning_rate=1e-3, device="cpu",
                                       progress=False)
    assert history.framework == "torch-seed-style"
    assert history.best_epoch == autograd_history.best_epoch
    for epoch, autograd_epoch in zip(history.epochs, autograd_history.epochs):
        assert epoch.train_loss == pytest.approx(autograd_epoch.train_loss, rel=1e-6)
        assert epoch.val_accuracy == autograd_epoch.val_accuracy
    on_val = torch_mlp.evaluate(seed_style_model, small.val)
    assert history.epochs[history.best_epoch - 1].val_accuracy == pytest.approx(on_val.accuracy)
    for seed_style, autograd in zip(seed_style_model.parameters(), autograd_model.parameters()):
        assert torch.equal(seed_style, autograd)
