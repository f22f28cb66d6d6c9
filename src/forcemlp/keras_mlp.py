"""The seed article's Keras models, and a ``fit`` that returns forcemlp's shared History.

    model = build_sequential()                 # 784 -> 784 (relu) -> 16 (relu) -> 10 (softmax)
    history = fit(model, load_splits())        # 5 epochs, batch 32, Adam 1e-3, val on the 2,000
    evaluate(model, splits.test).accuracy

``fit`` is ``model.fit`` on NumPy arrays plus three things the seed left out: the weights of
the best validation epoch are restored at the end, a diverging loss stops training with a
clear error, and the metrics land in the same History every framework returns (all three
through the shared :class:`forcemlp.training.EpochRecorder`). It is also faster
than a plain ``model.fit``: Keras runs 64 steps per call, so the per-step Python overhead (on
a CPU, most of the cost of a batch of 32) is paid 64 times less often, and long runs are
compiled by XLA, which takes seconds once and then makes every step cheaper (here, the seed
model's epoch on a 2-core CPU drops to about a third). Neither changes the model's maths.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .config import (
    ACTIVATIONS,
    OPTIMIZERS,
    PER_STEP_SCHEDULES,
    STYLES,
    TrainConfig,
    check_choice,
    check_dropout,
    check_hidden_sizes,
    check_learning_rate,
    check_training_numbers,
)
from .data import Split, Splits, one_hot, to_features
from .frameworks import import_keras, keras_device
from .history import Evaluation, History, RunResult, evaluate_log_probabilities
from .training import EpochRecorder
from .weights import LayerWeights, layer_weights

keras = import_keras()

SEED_HIDDEN_SIZES = (784, 16)
INPUT_SIZE = 784
NUM_CLASSES = 10
LEAKY_RELU_SLOPE = 0.01  # PyTorch's default; Keras' own default (0.2) would differ.
STEPS_PER_EXECUTION = 64
XLA_MIN_STEPS = 2000  # XLA's one-off compile (~4 s here) pays for itself over this many steps.
PROBABILITY_FLOOR = 1e-7  # Keras' epsilon: log(0) of a confident mistake stays finite.


def _dense(size: int, activation: str | None, seed: int, name: str) -> list[Any]:
    """A Dense layer (seeded Glorot-uniform init, zero bias), then its activation."""
    initializer = keras.initializers.GlorotUniform(seed=seed)
    if activation == "leaky_relu":
        return [
            keras.layers.Dense(size, kernel_initializer=initializer, name=name),
            keras.layers.LeakyReLU(negative_slope=LEAKY_RELU_SLOPE, name=f"{name}_leaky_relu"),
        ]
    return [
        keras.layers.Dense(size, activation=activation, kernel_initializer=initializer, name=name)
    ]


def _layers(hidden_sizes: tuple[int, ...], activation: str, dropout: float, seed: int) -> list[Any]:
    """The layer stack both styles share, so Sequential and Functional are the same model."""
    layers = []
    for index, size in enumerate(hidden_sizes):
        layer_seed = seed * 1000 + index
        layers += _dense(size, activation, layer_seed, name=f"hidden_{index + 1}")
        if dropout > 0:
            layers.append(
                keras.layers.Dropout(dropout, seed=layer_seed, name=f"dropout_{index + 1}")
            )
    layers += _dense(NUM_CLASSES, "softmax", seed * 1000 + len(hidden_sizes), name="output")
    return layers


def build_mlp(
    hidden_sizes: tuple[int, ...] = SEED_HIDDEN_SIZES,
    activation: str = "relu",
    style: str = "sequential",
    dropout: float = 0.0,
    seed: int = 0,
) -> Any:
    """An MLP 784 -> hidden_sizes -> 10 (softmax) in Keras' Sequential or Functional style.

    The same ``seed`` gives the same initial weights in both styles.
    """
    check_choice("activation", activation, ACTIVATIONS)
    check_choice("style", style, STYLES)
    hidden_sizes = check_hidden_sizes(hidden_sizes)
    dropout = check_dropout(dropout)
    layers = _layers(hidden_sizes, activation, dropout, seed)
    inputs = keras.Input(shape=(INPUT_SIZE,), name="pixels")
    if style == "sequential":
        return keras.Sequential([inputs, *layers], name="mlp_sequential")
    outputs = inputs
    for layer in layers:
        outputs = layer(outputs)
    return keras.Model(inputs=inputs, outputs=outputs, name="mlp_functional")


def build_sequential(seed: int = 0) -> Any:
    """The seed's Sequential model: Dense(784, relu) -> Dense(16, relu) -> Dense(10, softmax)."""
    return build_mlp(SEED_HIDDEN_SIZES, style="sequential", seed=seed)


def build_functional(seed: int = 0) -> Any:
    """The same model written with Input / Dense / Model (Keras' functional API)."""
    return build_mlp(SEED_HIDDEN_SIZES, style="functional", seed=seed)


def make_optimizer(name: str, learning_rate: Any) -> Any:
    """A Keras optimizer for one of config.OPTIMIZERS (momentum, nesterov: SGD with 0.9).

    ``learning_rate`` is a number or a Keras learning-rate schedule.
    """
    check_choice("optimizer", name, OPTIMIZERS)
    optimizers = keras.optimizers
    factories = {
        "adam": lambda: optimizers.Adam(learning_rate),
        "sgd": lambda: optimizers.SGD(learning_rate),
        "momentum": lambda: optimizers.SGD(learning_rate, momentum=0.9),
        "nesterov": lambda: optimizers.SGD(learning_rate, momentum=0.9, nesterov=True),
        "rmsprop": lambda: optimizers.RMSprop(learning_rate),
        "adagrad": lambda: optimizers.Adagrad(learning_rate),
        "adadelta": lambda: optimizers.Adadelta(learning_rate),
    }
    return factories[name]()


def compile_model(
    model: Any, optimizer: str = "adam", learning_rate: float = 1e-3, xla: bool = False,
    lr_schedule: str = "constant", total_steps: int = 1,
) -> Any:
    """Compile as the seed does (categorical cross-entropy, Adam, accuracy).

    ``lr_schedule="cosine"`` hands the optimizer Keras' ``CosineDecay`` over ``total_steps``,
    the same curve as ``config.learning_rate_at`` (which PyTorch and NumPy use).

    ``xla`` asks TensorFlow for XLA-compiled steps; other backends keep Keras' own choice
    (JAX always compiles; on torch it would mean ``torch.compile``).
    """
    check_learning_rate(learning_rate)
    check_choice("learning-rate schedule", lr_schedule, PER_STEP_SCHEDULES)
    rate = (learning_rate if lr_schedule == "constant"
            else keras.optimizers.schedules.CosineDecay(learning_rate, total_steps))
    model.compile(
        optimizer=make_optimizer(optimizer, rate),
        loss="categorical_crossentropy",
        metrics=["accuracy"],
        jit_compile=xla if keras.backend.backend() == "tensorflow" else "auto",
        steps_per_execution=STEPS_PER_EXECUTION,
    )
    return model


class _Recorder(keras.callbacks.Callback):
    """Hands Keras' epochs to the shared :class:`~forcemlp.training.EpochRecorder`.

    Keras logs the running per-sample mean of the loss and accuracy (every
    ``STEPS_PER_EXECUTION`` steps); the recorder checks them for divergence and keeps the best
    validation weights.
    """

    def __init__(self, recorder: EpochRecorder, batch_size: int) -> None:
        super().__init__()
        self.recorder = recorder
        self.batch_size = batch_size
        self.steps_per_epoch = math.ceil(recorder.train_count / batch_size)

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.recorder.start_epoch()

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        step = min(batch + 1, self.steps_per_epoch)  # Keras counts whole executions of 64 steps
        seen = min(step * self.batch_size, self.recorder.train_count)
        self.recorder.batches_done(step, seen, float(logs["loss"]) * seen)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        count = self.recorder.train_count
        self.recorder.end_epoch(
            float(logs["loss"]) * count, float(logs["accuracy"]) * count,
            float(logs["val_loss"]), float(logs["val_accuracy"]), snapshot=self.model.get_weights,
        )


def fit(
    model: Any,
    splits: Splits,
    *,
    epochs: int = 5,
    batch_size: int = 32,
    learning_rate: float = 1e-3,
    optimizer: str = "adam",
    seed: int = 0,
    progress: bool = False,
    lr_schedule: str = "constant",
) -> History:
    """Compile and train on ``splits.train``, validating on ``splits.val`` after each epoch.

    Returns per-epoch, per-sample averaged metrics; the model ends with the weights of its best
    validation-accuracy epoch (``history.best_epoch``). A diverging loss raises ForceMLPError
    (the shared rule of :mod:`forcemlp.training`).
    """
    check_training_numbers(epochs, batch_size, learning_rate)
    keras.utils.set_random_seed(seed)
    total_steps = epochs * math.ceil(len(splits.train) / batch_size)
    compile_model(model, optimizer, learning_rate, xla=total_steps >= XLA_MIN_STEPS,
                  lr_schedule=lr_schedule, total_steps=total_steps)
    recorder = EpochRecorder("keras", epochs, len(splits.train), learning_rate, progress)
    model.fit(
        splits.train.features,
        one_hot(splits.train.labels, NUM_CLASSES),
        validation_data=(splits.val.features, one_hot(splits.val.labels, NUM_CLASSES)),
        epochs=epochs,
        batch_size=batch_size,
        shuffle=True,
        callbacks=[_Recorder(recorder, batch_size)],
        verbose=0,
    )
    model.set_weights(recorder.best_snapshot)
    return recorder.history


def predict_probabilities(model: Any, images: np.ndarray) -> np.ndarray:
    """Class probabilities (N, 10) for uint8 images (N, 28, 28)."""
    return np.asarray(model.predict(to_features(images), batch_size=1024, verbose=0))


def evaluate(model: Any, split: Split) -> Evaluation:
    """Mean categorical cross-entropy, accuracy, per-class view and confusion on ``split``."""
    probabilities = predict_probabilities(model, split.images)
    log_probabilities = np.log(np.clip(probabilities.astype(np.float64), PROBABILITY_FLOOR, 1.0))
    return evaluate_log_probabilities(log_probabilities, split.labels)


def train_run(config: TrainConfig, splits: Splits, progress: bool = False) -> RunResult:
    """Build, train and test the model ``config`` describes, on the device it asks for.

    ``config.hidden_sizes`` is used as given: pass (784, 16) for the seed's Keras model.
    """
    with keras.device(keras_device(config.device)):
        model = build_mlp(
            config.hidden_sizes, config.activation, config.style, config.dropout, config.seed
        )
        history = fit(
            model,
            splits,
            epochs=config.epochs,
            batch_size=config.batch_size,
            learning_rate=config.learning_rate,
            optimizer=config.optimizer,
            seed=config.seed,
            progress=progress,
            lr_schedule=config.lr_schedule,
        )
        test = evaluate(model, splits.test)
    return RunResult.from_training(config.to_dict(), history, test, len(splits.train),
                                   weights=trained_weights(model))


def trained_weights(model: Any) -> tuple[LayerWeights, ...]:
    """The Dense layers' kernels (in, out), transposed to framework-neutral (out, in), and
    biases, input layer first."""
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    return layer_weights(
        (np.asarray(layer.kernel).T, np.asarray(layer.bias)) for layer in dense
    )
