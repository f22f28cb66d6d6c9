"""The GradientTape trainer: its gradients against torch autograd, and training on a real slice."""
from __future__ import annotations

import numpy as np
import pytest

from forcemlp import tf_lowlevel
from forcemlp.data import Splits, load_splits
from forcemlp.errors import ForceMLPError
from forcemlp.frameworks import import_torch

tf = tf_lowlevel.tf


@pytest.fixture(scope="module")
def splits() -> Splits:
    return load_splits(train_size=5000)


def test_model_layers_and_initial_scale():
    model = tf_lowlevel.DenseMLP((64, 16), seed=1)
    shapes = [tuple(variable.shape) for variable in model.trainable_variables]
    assert shapes == [(784, 64), (64,), (64, 16), (16,), (16, 10), (10,)]
    first_weight = model.trainable_variables[0].numpy()
    assert first_weight.std() == pytest.approx(np.sqrt(2 / 784), rel=0.05)  # He-normal
    assert np.abs(model.trainable_variables[4].numpy()).max() <= np.sqrt(6 / 26)  # Glorot
    again = tf_lowlevel.DenseMLP((64, 16), seed=1)
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), again.get_weights()))


def test_tape_gradients_match_torch_autograd(splits):
    torch = import_torch()
    model = tf_lowlevel.DenseMLP((16,), seed=0)
    features, labels = splits.train.features[:64], splits.train.labels[:64]
    logits, losses, gradients = tf_lowlevel.loss_and_gradients(
        model, tf.constant(features), tf.constant(labels)
    )
    w1, b1, w2, b2 = (torch.tensor(value, requires_grad=True) for value in model.get_weights())
    torch_logits = torch.relu(torch.from_numpy(features) @ w1 + b1) @ w2 + b2
    torch_loss = torch.nn.functional.cross_entropy(torch_logits, torch.from_numpy(labels))
    torch_loss.backward()
    np.testing.assert_allclose(logits.numpy(), torch_logits.detach().numpy(), atol=1e-5)
    assert float(tf.reduce_mean(losses)) == pytest.approx(torch_loss.item(), rel=1e-5)
    for gradient, variable in zip(gradients, (w1, b1, w2, b2)):
        np.testing.assert_allclose(gradient.numpy(), variable.grad.numpy(), atol=1e-6)


def test_adam_matches_torch_optim_adam():
    torch = import_torch()
    rng = np.random.default_rng(0)
    start = rng.normal(size=(5, 3)).astype(np.float32)
    gradients = rng.normal(scale=[[1e-3], [1.0], [10.0], [0.1], [1.0]], size=(4, 5, 3))
    variable = tf.Variable(start)
    adam = tf_lowlevel.Adam([variable], learning_rate=0.01)
    parameter = torch.nn.Parameter(torch.from_numpy(start.copy()))
    torch_adam = torch.optim.Adam([parameter], lr=0.01)
    for gradient in gradients.astype(np.float32):
        adam.apply_gradients([(tf.constant(gradient), variable)])
        parameter.grad = torch.from_numpy(gradient)
        torch_adam.step()
    np.testing.assert_allclose(variable.numpy(), parameter.detach().numpy(), rtol=1e-5, atol=1e-6)
    assert not np.allclose(variable.numpy(), start)


def test_gradient_tape_training_learns_and_repeats(splits):
    run = tf_lowlevel.train_gradient_tape(splits, epochs=2, progress=False)
    history = run.history
    assert history.framework == "tensorflow" and len(history.epochs) == 2
    assert history.epochs[1].train_loss < history.epochs[0].train_loss
    assert max(history.column("val_accuracy")) > 0.85
    assert run.test.accuracy > 0.85 and len(run.test.labels) == 8000
    for accuracy in history.column("train_accuracy"):  # per sample: 5,000 is no multiple of 32
        assert accuracy * 5000 == pytest.approx(round(accuracy * 5000), abs=1e-6)
    best = history.epochs[history.best_epoch - 1]
    assert best.val_accuracy == max(history.column("val_accuracy"))
    assert tf_lowlevel.evaluate(run.model, splits.val).accuracy == best.val_accuracy

    again = tf_lowlevel.train_gradient_tape(splits, epochs=2, progress=False)
    for name in ("train_loss", "train_accuracy", "val_loss", "val_accuracy"):
        assert again.history.column(name) == history.column(name)


def test_diverging_or_bad_arguments_raise(splits):
    small = Splits(splits.name, splits.train.head(320), splits.val.head(100), splits.test.head(100),
                   splits.class_names)
    with pytest.raises(ForceMLPError, match="diverged.*lower the learning rate"):
        tf_lowlevel.train_gradient_tape(small, epochs=1, learning_rate=1e20, progress=False)
    for bad in ({"epochs": 0}, {"batch_size": -1}, {"learning_rate": float("nan")}):
        with pytest.raises(ForceMLPError):
            tf_lowlevel.train_gradient_tape(small, progress=False, **bad)
