"""The NumPy MLP against finite differences and torch autograd, and trained on real MNIST."""
import dataclasses

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from forcemlp import backprop
from forcemlp.config import OPTIMIZERS, TrainConfig
from forcemlp.data import Splits
from forcemlp.errors import ForceMLPError
from forcemlp.numpy_mlp import NumpyMLP, evaluate, train, train_run
from forcemlp.runner import train_on
from forcemlp.weights import layer_views

from .torch_twins import torch_function


def with_train_size(splits: Splits, count: int) -> Splits:
    return dataclasses.replace(splits, train=splits.train.head(count))


@pytest.fixture(scope="module")
def digits(mnist_splits):
    """Eight real training digits (float32 features in [0, 1]) and their labels."""
    return mnist_splits.train.features[:8], mnist_splits.train.labels[:8]


@pytest.mark.parametrize(
    "layer_sizes, activation, samples",
    [((784, 16, 10), "relu", None), ((784, 32, 16, 10), "tanh", 60), ((784, 24, 10), "gelu", 60)],
)
def test_gradient_check_passes_on_real_digits(digits, layer_sizes, activation, samples):
    features, labels = digits
    model = NumpyMLP(layer_sizes, activation, seed=1)
    assert model.gradient_check(features[:3], labels[:3], samples=samples) < 1e-6  # measured ~1e-10


def test_gradient_check_catches_a_wrong_backward_pass(digits):
    features, labels = digits
    model = NumpyMLP(activation="relu", seed=1)
    # forget the activation's derivative in backprop (dz = dh instead of dh ⊙ g'(z))
    model.activation = dataclasses.replace(
        model.activation, derivative=lambda z, parameter=None: np.ones_like(z)
    )
    assert model.gradient_check(features[:3], labels[:3], samples=100) > 1e-2


def torch_reference(model: NumpyMLP, features, labels):
    """The same network in PyTorch on copies of the same weights: log-probs, loss, gradients."""
    weights = [torch.tensor(weight, requires_grad=True) for weight in model.weights]
    biases = [torch.tensor(bias, requires_grad=True) for bias in model.biases]
    activation = torch_function(model.activation.name, model.activation_parameter)
    hidden = torch.tensor(features, dtype=torch.float64)
    for layer, (weight, bias) in enumerate(zip(weights, biases)):
        hidden = F.linear(hidden, weight, bias)
        if layer < len(weights) - 1:
            hidden = activation(hidden)
    loss = F.cross_entropy(hidden, torch.tensor(labels))
    loss.backward()
    gradients = [tensor.grad.numpy() for tensor in weights + biases]
    return F.log_softmax(hidden, dim=1).detach().numpy(), loss.item(), gradients


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh", "leaky_relu", "elu", "gelu"])
def test_forward_and_backward_equal_torch_autograd(digits, activation):
    features, labels = digits
    model = NumpyMLP((784, 32, 16, 10), activation, seed=2)
    forward = model.forward(features)
    gradients = model.backward(forward, labels)
    log_probabilities, loss, expected = torch_reference(model, features, labels)
    # float64 both sides; measured differences are below 1e-15 of each array's largest entry
    np.testing.assert_allclose(forward.log_probabilities, log_probabilities, rtol=1e-12)
    np.testing.assert_allclose(forward.probabilities.sum(axis=1), 1.0, rtol=1e-12)
    assert model.loss(forward, labels) == pytest.approx(loss, rel=1e-12)
    for ours, theirs in zip(gradients.weights + gradients.biases, expected):
        assert ours.shape == theirs.shape
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-12 * np.abs(theirs).max())


def test_one_epoch_on_10k_images_beats_87_percent(mnist_splits):
    """The seed model (784-16-10, ReLU, Adam 1e-3, batch 20): 1 epoch on the first 10,000
    training images. Measured: validation 0.886, test 0.890."""
    config = TrainConfig(framework="numpy", epochs=1, train_size=10_000)
    result = train_run(config, with_train_size(mnist_splits, 10_000), progress=False)
    assert result.history.framework == "numpy" and len(result.history.epochs) == 1
    assert result.history.epochs[0].val_accuracy > 0.87
    assert result.test.accuracy > 0.87 and len(result.test.labels) == 8000
    summary = result.summary()
    assert summary["framework"] == "numpy" and summary["samples_per_second"] > 0


LEARNING_RATES = {
    "adam": 1e-3, "sgd": 0.1, "momentum": 0.01, "nesterov": 0.01,
    "rmsprop": 1e-3, "adagrad": 0.05, "adadelta": 1.0,
}


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_every_config_optimizer_trains(mnist_splits, optimizer):
    """One epoch on 2,000 images; measured validation accuracies 0.74 (Adam) to 0.81."""
    model = NumpyMLP(seed=0)
    history = train(
        model, with_train_size(mnist_splits, 2000), epochs=1, batch_size=20,
        learning_rate=LEARNING_RATES[optimizer], optimizer=optimizer,
    )
    assert history.epochs[0].val_accuracy > 0.7


def test_training_repeats_and_keeps_the_best_epoch(mnist_splits):
    splits = with_train_size(mnist_splits, 1000)
    models = [NumpyMLP(seed=5) for _ in range(2)]
    histories = [train(model, splits, epochs=3, batch_size=50, learning_rate=0.01,
                       optimizer="adam", seed=5) for model in models]
    for metric in ("train_loss", "val_loss", "val_accuracy"):
        assert histories[0].column(metric) == histories[1].column(metric)
    assert np.array_equal(models[0].parameters, models[1].parameters)
    val_accuracies = histories[0].column("val_accuracy")
    assert histories[0].best_epoch == int(np.argmax(val_accuracies)) + 1
    assert evaluate(models[0], splits.val).accuracy == max(val_accuracies)


def test_a_diverging_run_stops_with_a_clear_error(mnist_splits):
    with pytest.raises(ForceMLPError, match="training diverged: .*lower the learning rate"):
        train(NumpyMLP(), with_train_size(mnist_splits, 200), epochs=1, batch_size=20,
              learning_rate=1e200, optimizer="sgd")


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda m, x, y: m.forward(x[:, :700]), "do not fit a network with 784 inputs"),
        (lambda m, x, y: m.forward(x[0]), "do not fit a network with 784 inputs"),
        (lambda m, x, y: m.backward(m.forward(x), y[:3]), "3 labels for 8 inputs"),
        (lambda m, x, y: m.loss(m.forward(x), y + 10), "labels must lie in 0..9"),
        (lambda m, x, y: NumpyMLP((784,)), "layer_sizes must be two or more"),
        (lambda m, x, y: NumpyMLP(activation="swish"), "unknown activation 'swish'"),
    ],
)
def test_bad_input_raises_one_clear_error(digits, call, message):
    features, labels = digits
    with pytest.raises(ForceMLPError, match=message):
        call(NumpyMLP(), features, labels)


def test_the_runner_refuses_what_numpy_cannot_do(mnist_splits):
    for refused, message in (({"dropout": 0.5}, "no dropout"), ({"device": "cuda"}, "device"),
                             ({"style": "functional"}, "style")):
        with pytest.raises(ForceMLPError, match=f"the NumPy MLP .*{message}"):
            train_on(TrainConfig(framework="numpy", **refused), mnist_splits)
    with pytest.raises(ForceMLPError, match="unknown optimizer"):
        train(NumpyMLP(), mnist_splits, epochs=1, batch_size=20, learning_rate=0.1,
              optimizer="lbfgs")


def test_layer_views_cut_torchs_parameter_vector_into_its_layers():
    """The one slicing rule of NumpyMLP and the torch fast path: torch's own flat layout."""
    torch.manual_seed(0)
    linears = [torch.nn.Linear(3, 4), torch.nn.Linear(4, 2)]
    parameters = [p for linear in linears for p in linear.parameters()]
    flat = torch.nn.utils.parameters_to_vector(parameters).detach().numpy().copy()
    weights, biases = layer_views(flat, (3, 4, 2))
    for linear, weight, bias in zip(linears, weights, biases, strict=True):
        np.testing.assert_array_equal(weight, linear.weight.detach().numpy())
        np.testing.assert_array_equal(bias, linear.bias.detach().numpy())
        assert np.shares_memory(weight, flat) and np.shares_memory(bias, flat)
    with pytest.raises(ForceMLPError, match="does not hold the layers of"):
        layer_views(flat[:-1], (3, 4, 2))


def test_the_shared_passes_take_one_activation_per_layer_in_float32(digits):
    """backprop.forward/backward as the fast path calls them (float32 buffers, ReLU then tanh,
    softmax head written by the caller) give torch autograd's log-probabilities and gradients."""
    features, labels = digits
    model = NumpyMLP((784, 32, 16, 10), "relu", seed=4)
    weights = [weight.astype(np.float32) for weight in model.weights]
    biases = [bias.astype(np.float32) for bias in model.biases]
    buffers = backprop.Buffers.allocate(len(features), model.layer_sizes, np.float32)
    activations = [lambda pre, out: np.maximum(pre, 0, out=out),
                   lambda pre, out: np.tanh(pre, out=out)]
    slopes = [lambda pre, post, out: np.greater(pre, 0, out=out),
              lambda pre, post, out: np.subtract(1, np.square(post), out=out)]
    logits = backprop.forward(weights, biases, features, buffers, activations)
    probabilities = np.exp(logits - logits.max(axis=1, keepdims=True))
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    output_delta = (probabilities - np.eye(10, dtype=np.float32)[labels]) / len(labels)
    weight_gradients = [np.empty_like(weight) for weight in weights]
    bias_gradients = [np.empty_like(bias) for bias in biases]
    backprop.backward(weights, features, buffers, output_delta, slopes, weight_gradients,
                      bias_gradients)

    tensors = [torch.tensor(array, requires_grad=True) for array in weights + biases]
    hidden = torch.tensor(features)
    for layer, function in enumerate((torch.relu, torch.tanh, None)):
        hidden = hidden @ tensors[layer].T + tensors[3 + layer]
        hidden = function(hidden) if function else hidden
    F.cross_entropy(hidden, torch.tensor(labels, dtype=torch.int64)).backward()
    np.testing.assert_allclose(logits, hidden.detach().numpy(), rtol=1e-5, atol=1e-6)
    for ours, tensor in zip(weight_gradients + bias_gradients, tensors):
        np.testing.assert_allclose(ours, tensor.grad.numpy(), rtol=0,
                                   atol=1e-5 * np.abs(tensor.grad.numpy()).max())
