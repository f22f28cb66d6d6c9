"""Keras models and training on real MNIST slices, checked against PyTorch and Keras itself."""
from __future__ import annotations

import numpy as np
import pytest

from forcemlp import keras_mlp
from forcemlp.config import OPTIMIZERS, TrainConfig
from forcemlp.data import Splits, load_splits, one_hot
from forcemlp.errors import ForceMLPError
from forcemlp.frameworks import import_torch

keras = keras_mlp.keras


@pytest.fixture(scope="module")
def splits() -> Splits:
    return load_splits(train_size=5000)


@pytest.fixture(scope="module")
def trained(splits):
    """The seed model after 2 epochs on 5,000 images: shared by the tests that need training."""
    model = keras_mlp.build_sequential()
    history = keras_mlp.fit(model, splits, epochs=2, progress=False)
    return model, history


def test_seed_builders_have_the_articles_628170_parameters():
    for model in (keras_mlp.build_sequential(), keras_mlp.build_functional()):
        dense_layers = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
        assert [layer.count_params() for layer in dense_layers] == [615_440, 12_560, 170]
        assert model.count_params() == 628_170


def test_sequential_and_functional_compute_the_same_function(splits):
    sequential, functional = keras_mlp.build_sequential(seed=3), keras_mlp.build_functional(seed=3)
    other_seed = keras_mlp.build_sequential(seed=4)
    for same_seed_weights in zip(sequential.get_weights(), functional.get_weights()):
        np.testing.assert_array_equal(*same_seed_weights)
    assert not np.array_equal(sequential.get_weights()[0], other_seed.get_weights()[0])

    rng = np.random.default_rng(0)
    weights = [rng.normal(0, 0.05, w.shape).astype(np.float32) for w in sequential.get_weights()]
    sequential.set_weights(weights)
    functional.set_weights(weights)
    features = splits.test.features[:256]
    outputs = np.asarray(sequential(features))
    np.testing.assert_array_equal(outputs, np.asarray(functional(features)))
    np.testing.assert_allclose(outputs.sum(axis=1), 1.0, rtol=1e-5)


def test_keras_matches_pytorch_on_shared_weights(splits):
    """784-16-10 ReLU/softmax: torch's Linear stores W as (out, in), Keras' Dense as (in, out)."""
    torch = import_torch()
    torch.manual_seed(0)
    torch_model = torch.nn.Sequential(
        torch.nn.Linear(784, 16), torch.nn.ReLU(), torch.nn.Linear(16, 10), torch.nn.Softmax(dim=1)
    )
    linears = [layer for layer in torch_model if isinstance(layer, torch.nn.Linear)]
    keras_model = keras_mlp.build_mlp((16,), style="functional")
    keras_model.set_weights(
        [array for layer in linears
         for array in (layer.weight.detach().numpy().T, layer.bias.detach().numpy())]
    )
    features = splits.test.features[:512]
    with torch.no_grad():
        torch_probabilities = torch_model(torch.from_numpy(features)).numpy()
    keras_probabilities = keras_mlp.predict_probabilities(keras_model, splits.test.images[:512])
    np.testing.assert_allclose(keras_probabilities, torch_probabilities, atol=1e-5, rtol=0)
    assert len(set(torch_probabilities.argmax(axis=1))) > 1  # a real, not a constant, function


def test_fit_learns_and_keeps_the_best_validation_weights(splits, trained):
    model, history = trained
    assert history.framework == "keras"
    assert [metrics.epoch for metrics in history.epochs] == [1, 2]
    assert max(history.column("val_accuracy")) > 0.88
    assert history.epochs[1].train_loss < history.epochs[0].train_loss
    assert all(seconds > 0 for seconds in history.column("seconds"))
    # Per-sample averages: 5,000 images in batches of 32 end in a partial batch of 8, so only
    # a correct per-sample mean makes accuracy times the count a whole number.
    for metrics in history.epochs:
        for accuracy, count in ((metrics.train_accuracy, 5000), (metrics.val_accuracy, 2000)):
            assert accuracy * count == pytest.approx(round(accuracy * count), abs=1e-2)
    best = history.epochs[history.best_epoch - 1]
    assert best.val_accuracy == max(history.column("val_accuracy"))
    val = keras_mlp.evaluate(model, splits.val)
    assert val.accuracy == pytest.approx(best.val_accuracy, abs=1e-6)


def test_evaluate_agrees_with_keras_own_evaluate(splits, trained):
    model, _ = trained
    test = keras_mlp.evaluate(model, splits.test)
    keras_loss, keras_accuracy = model.evaluate(
        splits.test.features, one_hot(splits.test.labels), batch_size=1000, verbose=0
    )
    assert test.loss == pytest.approx(keras_loss, rel=1e-4)
    assert test.accuracy == pytest.approx(keras_accuracy, abs=1e-6)
    assert test.confusion.sum() == len(splits.test) == 8000
    assert test.accuracy > 0.88


def test_same_seed_same_metrics(splits):
    small = Splits(splits.name, splits.train.head(1000), splits.val.head(500), splits.test,
                   splits.class_names)

    def metrics(seed: int) -> list[list[float]]:
        history = keras_mlp.fit(
            keras_mlp.build_mlp((32,), seed=seed), small, epochs=1, seed=seed, progress=False
        )
        return [history.column(name) for name in ("train_loss", "train_accuracy", "val_loss")]

    assert metrics(0) == metrics(0)
    assert metrics(0) != metrics(1)


def test_diverging_run_stops_with_a_clear_error(splits):
    small = Splits(splits.name, splits.train.head(640), splits.val.head(200), splits.test,
                   splits.class_names)
    with pytest.raises(ForceMLPError, match="diverged.*lower the learning rate"):
        keras_mlp.fit(keras_mlp.build_sequential(), small, epochs=3, learning_rate=1e10,
                      progress=False)


def test_optimizer_names_map_to_keras_optimizers():
    for name in OPTIMIZERS:
        optimizer = keras_mlp.make_optimizer(name, 0.01)
        assert float(np.asarray(optimizer.learning_rate)) == pytest.approx(0.01)
    nesterov = keras_mlp.make_optimizer("nesterov", 0.01)
    assert isinstance(nesterov, keras.optimizers.SGD)
    assert nesterov.momentum == 0.9 and nesterov.nesterov
    assert keras_mlp.make_optimizer("momentum", 0.01).nesterov is False
    with pytest.raises(ForceMLPError, match="unknown optimizer 'lbfgs'"):
        keras_mlp.make_optimizer("lbfgs", 0.01)
    with pytest.raises(ForceMLPError, match="unknown optimizer"):
        keras_mlp.fit(keras_mlp.build_mlp((8,)), load_splits(train_size=100), optimizer="adamw")


def test_general_builder_layers_and_bad_arguments():
    model = keras_mlp.build_mlp((64, 32), activation="leaky_relu", dropout=0.2)
    assert model.count_params() == 784 * 64 + 64 + 64 * 32 + 32 + 32 * 10 + 10
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == ["Dense", "LeakyReLU", "Dropout", "Dense", "LeakyReLU", "Dropout", "Dense"]
    assert model.layers[1].negative_slope == pytest.approx(0.01)  # PyTorch's default slope
    for bad in ({"hidden_sizes": ()}, {"hidden_sizes": (0,)}, {"activation": "swish2"},
                {"style": "subclass"}, {"dropout": 1.0}):
        with pytest.raises(ForceMLPError):
            keras_mlp.build_mlp(**{"hidden_sizes": (8,), **bad})


def test_train_run_returns_a_run_result(splits):
    config = TrainConfig(framework="keras", style="functional", hidden_sizes=(32,), epochs=1,
                         batch_size=64, device="cpu")
    result = keras_mlp.train_run(config, splits)
    summary = result.summary()
    assert summary["framework"] == "keras" and summary["epochs"] == 1
    assert summary["test_count"] == 8000 and summary["test_accuracy"] > 0.8
    assert result.samples_per_second == pytest.approx(5000 / result.history.seconds)
    assert result.config["hidden_sizes"] == [32]
