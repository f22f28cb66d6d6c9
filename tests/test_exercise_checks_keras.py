"""The checks of lessons 5 and 7's write-it-yourself exercises, on real Fashion-MNIST models.

A right model passes every check; each usual mistake (a missing layer, no softmax, an
untrained model, variables in the wrong order, images not flattened) fails the check that
names it, and only that one plus what follows from it.
"""
from __future__ import annotations

import numpy as np
import pytest

from forcemlp import exercise_checks_keras as checks
from forcemlp.frameworks import import_keras, import_tensorflow

keras = import_keras()
tf = import_tensorflow()
SEEDS = (0, 1)  # two reference runs keep the test quick; the lessons use five


def verdicts(report: checks.Report) -> dict[str, bool]:
    return {check.name: check.passed for check in report.checks}


def keras_network(*layers) -> keras.Model:
    return keras.Sequential([keras.Input(shape=(784,)), *layers])


def article_network() -> keras.Model:
    return keras_network(keras.layers.Dense(784, activation="relu"),
                         keras.layers.Dense(16, activation="relu"),
                         keras.layers.Dense(10, activation="softmax"))


@pytest.fixture(scope="module")
def trained():
    """The exercise done right: the article's network, one epoch on 2,000 images."""
    fashion = checks.exercise_splits()
    keras.utils.set_random_seed(3)
    model = article_network()
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam")
    history = model.fit(fashion.train.features, fashion.train.labels, batch_size=32,
                        epochs=1, verbose=0)
    return model, history


def test_the_exercise_data_is_fashion_mnist_with_2000_training_images():
    fashion = checks.exercise_splits()
    assert fashion.name == "fashion-mnist"
    assert len(fashion.train) == 2000 and len(fashion.val) == 2000
    assert checks.PARAMETERS == 784 * 784 + 784 + 784 * 16 + 16 + 16 * 10 + 10 == 628_170


def test_cross_entropy_reads_logits_and_probabilities_alike():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(50, 10)).astype(np.float32)
    labels = rng.integers(0, 10, size=50)
    probabilities = np.asarray(keras.activations.softmax(logits))
    from_logits, kind_logits = checks.cross_entropy(logits, labels)
    from_probabilities, kind_probabilities = checks.cross_entropy(probabilities, labels)
    assert (kind_logits, kind_probabilities) == ("logits", "probabilities")
    keras_loss = keras.losses.sparse_categorical_crossentropy(labels, probabilities)
    assert from_probabilities == pytest.approx(float(np.mean(keras_loss)), rel=1e-5)
    assert from_logits == pytest.approx(from_probabilities, rel=1e-5)


def test_the_seed_spread_is_measured_from_real_runs():
    low, high = checks.seed_spread("keras", SEEDS)
    assert 0.2 < low < high < 2.3  # trained: below chance's ln 10 = 2.30
    assert checks.seed_spread("keras", SEEDS) == (low, high)  # cached, not rerun


def test_a_right_keras_model_passes_every_check(trained):
    model, history = trained
    report = checks.check_keras_model(model, history, seeds=SEEDS)
    assert report.passed, str(report)
    assert set(verdicts(report)) == {"input shape", "output shape", "parameters",
                                     "epochs and steps", "softmax output", "validation loss"}
    assert str(report).endswith("6 of 6 checks passed.")
    assert report.val_loss == pytest.approx(
        checks.cross_entropy(model.predict(checks.exercise_splits().val.features, verbose=0),
                             checks.exercise_splits().val.labels)[0])


def test_keras_mistakes_are_named():
    dialogue_size = keras_network(keras.layers.Dense(16, activation="relu"),
                                  keras.layers.Dense(10))  # untrained, no softmax
    report = checks.check_keras_model(dialogue_size, seeds=SEEDS)
    assert verdicts(report) == {"input shape": True, "output shape": True, "parameters": False,
                                "softmax output": False, "validation loss": False}
    text = str(report)
    assert "12,730" in text and "628,170" in text and "activation='softmax'" in text
    assert "too high" in text and "from your model's logits" in text

    square_images = keras.Sequential([keras.Input(shape=(28, 28)), keras.layers.Flatten(),
                                      keras.layers.Dense(10, activation="softmax")])
    report = checks.check_keras_model(square_images, seeds=SEEDS)
    assert verdicts(report)["input shape"] is False and "validation loss" not in verdicts(report)


def test_keras_history_of_more_than_one_epoch_is_refused(trained):
    model, _ = trained
    fashion = checks.exercise_splits()
    again = keras.models.clone_model(model)
    again.compile(loss="sparse_categorical_crossentropy", optimizer="adam")
    history = again.fit(fashion.train.features[:640], fashion.train.labels[:640],
                        batch_size=32, epochs=2, verbose=0)
    report = checks.check_keras_model(again, history, seeds=SEEDS)
    assert verdicts(report)["epochs and steps"] is False
    assert "(2, 20), expected (1, 63)" in str(report)


def test_a_right_tape_model_passes_and_wrong_order_fails(trained):
    model, _ = trained
    variables = list(model.trainable_variables)  # kernel, bias, ...: W1, b1, W2, b2, W3, b3

    def forward(features):
        return model(features)

    report = checks.check_tape_model(forward, variables, seeds=SEEDS)
    assert verdicts(report)["variable shapes"] and verdicts(report)["parameters"]
    assert verdicts(report)["forward output shape"]
    low, high = checks.seed_spread("tensorflow", SEEDS)
    inside = low - (high - low) <= report.val_loss <= high + (high - low)
    assert verdicts(report)["validation loss"] is inside

    shuffled = checks.check_tape_model(forward, variables[::-1], seeds=SEEDS)
    assert verdicts(shuffled)["variable shapes"] is False
    assert verdicts(shuffled)["parameters"] is True  # the same numbers, in the wrong order


def test_an_untrained_tape_model_fails_on_its_loss_only():
    variables = [tf.Variable(tf.zeros(shape)) for shape in
                 ((784, 784), (784,), (784, 16), (16,), (16, 10), (10,))]

    def forward(features):
        hidden = tf.nn.relu(features @ variables[0] + variables[1])
        hidden = tf.nn.relu(hidden @ variables[2] + variables[3])
        return hidden @ variables[4] + variables[5]

    report = checks.check_tape_model(forward, variables, seeds=SEEDS)
    assert [name for name, passed in verdicts(report).items() if not passed] == [
        "validation loss"]
    assert report.val_loss == pytest.approx(np.log(10), rel=1e-6)  # all-zero logits: chance
