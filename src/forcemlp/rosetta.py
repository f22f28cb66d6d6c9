"""One digit, one network, five frameworks: the book's Rosetta stone.

    from forcemlp import rosetta
    digit, start = rosetta.test_digit(splits), rosetta.shared_weights(seed=0)
    traces = {name: step(digit, start) for name, step in rosetta.STEPS.items()}
    rosetta.largest_differences(traces)      # every framework against NumPy, per quantity

Each ``*_step`` function loads the same initial weights into the article's 784-16-10 network
in one framework, pushes one real test digit through it, computes the cross-entropy loss, the
gradients of every weight and bias after one backward pass, and takes one Adam step (learning
rate 1e-3, β = (0.9, 0.999), ε = 1e-8, each framework's own Adam). They are written to be
read: the book shows their source, side by side, as the code of each framework.

Every :class:`Trace` is in lesson 2's notation and PyTorch's layout: ``W`` is the hidden
layer's 16×784 weight, ``O`` the output layer's 10×16, ``b_h`` and ``b_o`` the biases. Keras
and TensorFlow store kernels the other way round, (in, out); their steps transpose on the way
in and out, and the trace records the shape each framework really stored. NumPy computes in
float64 and is the reference; the others compute in float32.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial, wraps

import numpy as np

from .data import Splits
from .errors import ForceMLPError
from .frameworks import import_keras, import_tensorflow, import_torch
from .numpy_mlp import NumpyMLP
from .optimizers import make_optimizer

LEARNING_RATE = 1e-3
NAMES = ("W", "b_h", "O", "b_o")  # lesson 2's names, in the order every framework stores them
BIAS_SCALE = 0.1  # biases start random, not zero, so a bias in the wrong place would show


@dataclass(frozen=True)
class Digit:
    """One image: ``features`` (1, 784) float32 in [0, 1], its ``label`` and the raw ``image``."""

    features: np.ndarray
    label: int
    image: np.ndarray


@dataclass(frozen=True)
class SharedWeights:
    """The initial weights every framework starts from, float32, in PyTorch's (out, in) layout."""

    W: np.ndarray
    b_h: np.ndarray
    O: np.ndarray  # lesson 2's name for the output weights
    b_o: np.ndarray

    def as_list(self) -> list[np.ndarray]:
        return [self.W, self.b_h, self.O, self.b_o]


@dataclass(frozen=True)
class Trace:
    """What one framework computed for the digit, as float64 arrays in PyTorch's layout."""

    framework: str
    hidden_pre_activations: np.ndarray  # z_h = W x + b_h, (16,)
    hidden_activations: np.ndarray  # h = relu(z_h), (16,)
    output_pre_activations: np.ndarray  # z_o = O h + b_o, the logits, (10,)
    probabilities: np.ndarray  # softmax(z_o), (10,)
    loss: float  # -log p[label]
    gradients: dict[str, np.ndarray]  # dE/dW, dE/db_h, dE/dO, dE/db_o
    weights_after_step: dict[str, np.ndarray]  # W, b_h, O, b_o after one Adam step
    stored_hidden_weight_shape: tuple[int, ...]  # how the framework itself holds W


def make_trace(framework: str, stages, loss, gradients, weights, stored_shape) -> Trace:
    """A Trace from any framework's tensors: ``stages`` are z_h, h, z_o, p; ``gradients`` and
    ``weights`` follow NAMES, already in PyTorch's layout."""
    def plain(value) -> np.ndarray:
        value = value.detach() if hasattr(value, "detach") else value
        return np.asarray(value, dtype=np.float64).reshape(np.shape(value)).squeeze()

    z_h, h, z_o, p = map(plain, stages)
    return Trace(
        framework, z_h, h, z_o, p, float(plain(loss)),
        dict(zip(NAMES, map(plain, gradients))), dict(zip(NAMES, map(plain, weights))),
        tuple(stored_shape),
    )


def test_digit(splits: Splits, index: int = 0) -> Digit:
    """Test image number ``index`` as a batch of one."""
    if not 0 <= index < len(splits.test):
        raise ForceMLPError(f"index must lie in 0..{len(splits.test) - 1}, got {index}.")
    image = splits.test.images[index]
    return Digit(splits.test.features[index:index + 1], int(splits.test.labels[index]), image)


def shared_weights(seed: int = 0) -> SharedWeights:
    """Lesson 2's initialisation (He for W, Xavier for O) and small random biases, float32."""
    model = NumpyMLP((784, 16, 10), "relu", seed=seed)
    biases = np.random.default_rng(seed + 1)
    return SharedWeights(
        model.weights[0].astype(np.float32),
        biases.normal(0, BIAS_SCALE, 16).astype(np.float32),
        model.weights[1].astype(np.float32),
        biases.normal(0, BIAS_SCALE, 10).astype(np.float32),
    )


# --- the five frameworks ---------------------------------------------------------------------
# Shown in the book: each line fits its 88-character text column.


def numpy_step(
    digit: Digit, start: SharedWeights, learning_rate: float = LEARNING_RATE
) -> Trace:
    """NumPy: lesson 2's equations, forward and backward by hand, in float64."""
    model = NumpyMLP((784, 16, 10), "relu")
    model.weights[0][...], model.biases[0][...] = start.W, start.b_h  # W is 16×784
    model.weights[1][...], model.biases[1][...] = start.O, start.b_o
    forward = model.forward(digit.features)
    loss = model.loss(forward, [digit.label])
    gradients = model.backward(forward, [digit.label])
    adam = make_optimizer("adam", learning_rate)
    model.parameters[...] = adam.step(model.parameters, gradients.vector)
    stages = (forward.pre_activations[0], forward.layer_inputs[1], forward.logits,
              forward.probabilities)
    (dW, dO), (db_h, db_o) = gradients.weights, gradients.biases
    (W, O), (b_h, b_o) = model.weights, model.biases
    return make_trace("numpy", stages, loss, [dW, db_h, dO, db_o], [W, b_h, O, b_o],
                      W.shape)


def torch_step(
    digit: Digit, start: SharedWeights, learning_rate: float = LEARNING_RATE
) -> Trace:
    """PyTorch: lesson 6's model; nn.Linear keeps W as (out, in): no transposes."""
    model = SeedSequential()  # Linear(784, 16), ReLU, Linear(16, 10), LogSoftmax
    hidden, relu, output, log_softmax = model.layers
    with torch.no_grad():
        for parameter, value in zip(model.parameters(), start.as_list()):
            parameter.copy_(torch.from_numpy(value))
    features, label = torch.from_numpy(digit.features), torch.tensor([digit.label])
    z_h = hidden(features)
    h = relu(z_h)
    z_o = output(h)
    loss = torch.nn.functional.nll_loss(log_softmax(z_o), label)
    loss.backward()
    gradients = [parameter.grad.clone() for parameter in model.parameters()]
    torch.optim.Adam(model.parameters(), lr=learning_rate).step()
    return make_trace("torch", (z_h, h, z_o, z_o.softmax(1)), loss, gradients,
                      list(model.parameters()), hidden.weight.shape)


def keras_step(
    digit: Digit, start: SharedWeights, learning_rate: float = LEARNING_RATE
) -> Trace:
    """Keras: a Dense layer keeps its kernel as (in, out), 784×16: W transposed."""
    tf, keras = import_tensorflow(), import_keras()  # after torch: the safe order
    pixels = keras.Input((784,))  # the functional API, every stage an output
    z_h = keras.layers.Dense(16)(pixels)
    h = keras.layers.ReLU()(z_h)
    z_o = keras.layers.Dense(10)(h)
    model = keras.Model(pixels, [z_h, h, z_o, keras.layers.Softmax()(z_o)])
    model.set_weights([start.W.T, start.b_h, start.O.T, start.b_o])
    with tf.GradientTape() as tape:
        z_h, h, z_o, p = model(digit.features)
        loss = keras.losses.sparse_categorical_crossentropy(np.array([digit.label]), p)
    variables = model.trainable_variables  # kernel (784, 16), bias, kernel, bias
    gradients = tape.gradient(loss, variables)
    adam = keras.optimizers.Adam(learning_rate, epsilon=1e-8)
    adam.apply_gradients(zip(gradients, variables))
    return make_trace("keras", (z_h, h, z_o, p), loss, untransposed(gradients),
                      untransposed(variables), variables[0].shape)


def tensorflow_step(
    digit: Digit, start: SharedWeights, learning_rate: float = LEARNING_RATE
) -> Trace:
    """TensorFlow by hand (lesson 7): variables of shape (in, out), a tape, Adam."""
    tf = import_tensorflow()  # after torch: the safe order
    from forcemlp import tf_lowlevel

    model = tf_lowlevel.DenseMLP(hidden_sizes=(16,))
    model.set_weights([start.W.T, start.b_h, start.O.T, start.b_o])
    (kernel, output_kernel), (b_h, b_o) = model.weights, model.biases
    features, label = tf.constant(digit.features), tf.constant([digit.label])
    with tf.GradientTape() as tape:
        z_h = features @ kernel + b_h
        h = tf.nn.relu(z_h)
        z_o = h @ output_kernel + b_o
        loss = tf.reduce_mean(
            tf.nn.sparse_softmax_cross_entropy_with_logits(labels=label, logits=z_o))
    variables = model.trainable_variables
    gradients = tape.gradient(loss, variables)
    adam = tf_lowlevel.Adam(variables, learning_rate)
    adam.apply_gradients(zip(gradients, variables))
    return make_trace("tensorflow", (z_h, h, z_o, tf.nn.softmax(z_o)), loss,
                      untransposed(gradients), untransposed(variables), kernel.shape)


def fastai_step(
    digit: Digit, start: SharedWeights, learning_rate: float = LEARNING_RATE
) -> Trace:
    """fastai: lesson 6's model in a Learner; one batch of fit, fastai's own Adam."""
    model = SeedSequential()
    with torch.no_grad():
        for parameter, value in zip(model.parameters(), start.as_list()):
            parameter.copy_(torch.from_numpy(value))
    one_digit = [(torch.from_numpy(digit.features[0]), torch.tensor(digit.label))]
    dls = DataLoaders.from_dsets(one_digit, one_digit, bs=1, device="cpu")
    adam = partial(Adam, mom=0.9, sqr_mom=0.999, eps=1e-8, wd=0.0)  # torch's settings
    learn = Learner(dls, model, loss_func=fastai_mlp.NLLLossFlat(), opt_func=adam)
    spy = StepSpy()  # a callback: reads the batch between backward and the step
    with learn.no_bar(), learn.no_logging():
        learn.fit(1, learning_rate, cbs=spy)
    return make_trace("fastai", spy.stages, spy.batch_loss, spy.gradients,
                      list(model.parameters()), model.layers[0].weight.shape)


def untransposed(kernels_and_biases) -> list[np.ndarray]:
    """Keras's and TensorFlow's (kernel, bias, kernel, bias) in PyTorch's layout."""
    kernel, b_h, output_kernel, b_o = map(np.asarray, kernels_and_biases)
    return [kernel.T, b_h, output_kernel.T, b_o]


def _import_torch_and_fastai() -> None:
    """Bind, once, the module names that torch_step and fastai_step read (torch, fastai's
    classes, the StepSpy callback): importing rosetta stays light, and the steps' source, which
    the book shows as each framework's code, stays exactly as a reader would write it.
    TensorFlow loads inside its two steps, always after torch (the safe order)."""
    global torch, fastai_mlp, SeedSequential, DataLoaders, Learner, Adam, StepSpy
    if "StepSpy" in globals():
        return
    torch = import_torch()
    # isort: off
    from . import fastai_mlp  # quiets fastai's import-time warnings, so before fastai
    from .torch_mlp import SeedSequential
    from fastai.callback.core import Callback
    from fastai.data.core import DataLoaders
    from fastai.learner import Learner
    from fastai.optimizer import Adam
    # isort: on

    class StepSpy(Callback):
        """Keeps the training batch's layer outputs, loss and gradients, just before the step."""

        def before_batch(self) -> None:
            if self.training:
                self.hooks = [layer.register_forward_hook(self._keep)
                              for layer in self.model.layers]
                self.outputs: list = []

        def _keep(self, layer, inputs, output) -> None:
            self.outputs.append(output.detach().clone())

        def before_step(self) -> None:
            z_h, h, z_o, log_p = self.outputs
            self.stages = (z_h, h, z_o, log_p.exp())
            self.batch_loss = self.learn.loss.detach().clone()
            self.gradients = [parameter.grad.clone() for parameter in self.model.parameters()]
            for hook in self.hooks:
                hook.remove()


def _after_torch_and_fastai(step: Callable[..., Trace]) -> Callable[..., Trace]:
    """``step``, run once torch and fastai are bound (``inspect.getsource`` still shows
    ``step`` itself: it unwraps)."""
    @wraps(step)
    def with_frameworks(*args, **kwargs) -> Trace:
        _import_torch_and_fastai()
        return step(*args, **kwargs)

    return with_frameworks


torch_step = _after_torch_and_fastai(torch_step)
fastai_step = _after_torch_and_fastai(fastai_step)


STEPS: dict[str, Callable[..., Trace]] = {
    "numpy": numpy_step,
    "torch": torch_step,
    "keras": keras_step,
    "tensorflow": tensorflow_step,
    "fastai": fastai_step,
}
TITLES = {"numpy": "NumPy", "torch": "PyTorch", "keras": "Keras", "tensorflow": "TensorFlow",
          "fastai": "fastai"}

# What the comparison table lists: a row title and how to read that quantity off a Trace.
QUANTITIES: dict[str, Callable[[Trace], np.ndarray]] = {
    "pre-activations z_h and z_o": lambda trace: np.concatenate(
        [trace.hidden_pre_activations, trace.output_pre_activations]),
    "hidden activations h": lambda trace: trace.hidden_activations,
    "probabilities p": lambda trace: trace.probabilities,
    "loss E": lambda trace: np.array([trace.loss]),
    "gradient dE/dW (16×784)": lambda trace: trace.gradients["W"],
    "gradient dE/dO (10×16)": lambda trace: trace.gradients["O"],
    "gradients dE/db_h, dE/db_o": lambda trace: np.concatenate(
        [trace.gradients["b_h"], trace.gradients["b_o"]]),
    "W, b_h, O, b_o after one Adam step": lambda trace: np.concatenate(
        [value.ravel() for value in trace.weights_after_step.values()]),
}


def largest_differences(
    traces: dict[str, Trace], reference: str = "numpy"
) -> dict[str, dict[str, float]]:
    """quantity -> framework -> the largest absolute difference from ``reference``."""
    if reference not in traces:
        raise ForceMLPError(f"no trace for the reference {reference!r}: run its step first.")
    base = traces[reference]
    return {
        quantity: {
            name: float(np.max(np.abs(read(trace) - read(base))))
            for name, trace in traces.items() if name != reference
        }
        for quantity, read in QUANTITIES.items()
    }


def difference_table(differences: dict[str, dict[str, float]]) -> str:
    """The differences as a Markdown table: one row per quantity, one column per framework."""
    frameworks = list(next(iter(differences.values())))
    rows = [
        "| quantity | " + " | ".join(TITLES[name] for name in frameworks) + " |",
        "|---|" + "---:|" * len(frameworks),
    ]
    for quantity, by_framework in differences.items():
        cells = " | ".join(f"{by_framework[name]:.1e}" for name in frameworks)
        rows.append(f"| {quantity} | {cells} |")
    return "\n".join(rows)
