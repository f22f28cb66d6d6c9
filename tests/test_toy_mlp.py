"""The playground's network in Python: one step against torch autograd + torch.optim, and
what it learns on XOR with and without a non-linearity."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from forcemlp.errors import ForceMLPError
from forcemlp.optimizers import make_optimizer
from forcemlp.toy_data import make_dataset
from forcemlp.toy_mlp import PLAYGROUND_OPTIMIZERS, toy_network, train_toy, training_step

from .torch_twins import torch_function

TORCH_OPTIMIZERS = {
    "sgd": lambda parameters, rate: torch.optim.SGD(parameters, lr=rate),
    "momentum": lambda parameters, rate: torch.optim.SGD(parameters, lr=rate, momentum=0.9),
    "adam": lambda parameters, rate: torch.optim.Adam(parameters, lr=rate),
}


@pytest.mark.parametrize("optimizer", list(PLAYGROUND_OPTIMIZERS))
@pytest.mark.parametrize("activation", ["relu", "tanh", "leaky_relu"])
def test_steps_equal_torch_with_l2_in_the_loss(optimizer, activation):
    data = make_dataset("spiral", noise=0.2, seed=3)
    model = toy_network((8, 8), activation, seed=5)
    weights = [torch.tensor(w.copy(), requires_grad=True) for w in model.weights]
    biases = [torch.tensor(b.copy(), requires_grad=True) for b in model.biases]
    reference = TORCH_OPTIMIZERS[optimizer](weights + biases, 0.05)
    function = torch_function(activation, model.activation_parameter)
    stepper = make_optimizer(PLAYGROUND_OPTIMIZERS[optimizer], 0.05)
    l2 = 0.01
    for step in range(5):
        points = data.train.points[10 * step:10 * step + 10]
        labels = data.train.labels[10 * step:10 * step + 10]
        loss = training_step(model, stepper, points, labels, l2)
        hidden = torch.tensor(points)
        for layer, (weight, bias) in enumerate(zip(weights, biases)):
            hidden = F.linear(hidden, weight, bias)
            hidden = function(hidden) if layer < len(weights) - 1 else hidden
        data_loss = F.cross_entropy(hidden, torch.tensor(labels))
        penalty = 0.5 * l2 * sum((weight**2).sum() for weight in weights)
        reference.zero_grad()
        (data_loss + penalty).backward()
        reference.step()
        assert loss == pytest.approx(data_loss.item(), abs=1e-12)
        for ours, theirs in zip(model.weights + model.biases, weights + biases):
            np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=0, atol=1e-12)
    after = 0.5 * l2 * sum(float((weight.detach() ** 2).sum()) for weight in weights)
    assert model.l2_penalty(l2) == pytest.approx(after, rel=1e-12)


def test_xor_needs_a_non_linearity():
    data = make_dataset("xor", count=400, noise=0.1, seed=0)
    linear = train_toy(data, hidden_sizes=(8, 8), activation="linear", steps=600)
    relu = train_toy(data, hidden_sizes=(8, 8), activation="relu", steps=600)
    assert linear.test_accuracy < 0.75  # a straight line cannot split XOR's quadrants
    assert relu.test_accuracy > 0.95
    assert relu.test_losses[-1] < relu.test_losses[0] / 4


def test_l2_shrinks_the_weights():
    data = make_dataset("circle", noise=0.5, seed=1)
    free = train_toy(data, hidden_sizes=(8, 8), steps=400, l2=0.0)
    held = train_toy(data, hidden_sizes=(8, 8), steps=400, l2=0.1)
    assert held.model.l2_penalty(1.0) < 0.5 * free.model.l2_penalty(1.0)


def test_a_huge_learning_rate_is_reported_as_divergence():
    data = make_dataset("spiral", noise=0.1, seed=1)
    with pytest.raises(ForceMLPError, match="diverged"):
        train_toy(data, hidden_sizes=(8, 8), optimizer="sgd", learning_rate=1e6, steps=200)


@pytest.mark.parametrize("hidden_sizes", [(), (9,), (0,), (4, 4, 4, 4, 4)])
def test_playground_sizes_are_limited(hidden_sizes):
    with pytest.raises(ForceMLPError, match="1-4 hidden layers of 1-8"):
        toy_network(hidden_sizes)


@pytest.mark.parametrize("hidden_sizes", [{4, 2}, {4: 2}, "44", 4, (4.5,), (True,)])
def test_playground_sizes_must_be_a_list_of_whole_numbers(hidden_sizes):
    with pytest.raises(ForceMLPError, match="hidden_sizes") as error:
        toy_network(hidden_sizes)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("arguments, message", [
    ({"activation": "gelu"}, "unknown activation"),
    ({"optimizer": "rmsprop"}, "unknown optimizer"),
    ({"learning_rate": -1.0}, "learning rate"),
    ({"l2": -0.1}, "l2"),
    ({"batch_size": 0}, "batch_size"),
])
def test_bad_training_arguments_raise(arguments, message):
    with pytest.raises(ForceMLPError, match=message):
        train_toy(make_dataset("xor"), **arguments)
