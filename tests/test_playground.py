"""The playground widget from Python: its state, its checks, and the JavaScript it carries."""
import json

import pytest

from forcemlp.errors import ForceMLPError
from forcemlp.toy_data import DATASET_NAMES
from forcemlp.toy_mlp import MAX_HIDDEN_LAYERS, MAX_LAYER_WIDTH, PLAYGROUND_ACTIVATIONS
from forcemlp.widgets.playground import L2_CHOICES, SLIDERS, Playground


def test_default_state_is_a_network_the_page_can_train():
    playground = Playground()
    state = playground.get_state()
    json.dumps(state)  # all of it travels into the page
    assert state["dataset"] == "spiral" and state["hidden_sizes"] == [8, 8]
    for module in ("playground_mlp.js", "mlp.js", "toy_data.js", "optimizers.js"):
        assert module in playground._esm  # bundled in: an anywidget cannot import files


def test_settings_from_python_reach_the_state():
    playground = Playground(dataset="xor", points=100, noise=0.5, hidden_sizes=[4, 2],
                            activation="linear", learning_rate=0.1, batch_size=5,
                            optimizer="momentum", l2=0.01, seed=3)
    state = playground.get_state()
    assert (state["dataset"], state["points"], state["hidden_sizes"]) == ("xor", 100, [4, 2])
    assert (state["activation"], state["optimizer"], state["l2"]) == ("linear", "momentum", 0.01)


@pytest.mark.parametrize("settings, message", [
    ({"dataset": "moons"}, "unknown dataset"),
    ({"activation": "gelu"}, "unknown activation"),
    ({"optimizer": "rmsprop"}, "unknown optimizer"),
    ({"hidden_sizes": [9]}, "1-4 hidden layers of 1-8"),
    ({"hidden_sizes": []}, "1-4 hidden layers of 1-8"),
    ({"learning_rate": -0.1}, "learning_rate"),
    ({"learning_rate": 100.0}, "learning_rate"),
    ({"batch_size": 0}, "batch_size"),
    ({"noise": 3.0}, "noise"),
    ({"points": 5}, "points"),
    ({"l2": 0.5}, "l2"),
    ({"learning_rate": "fast"}, "learning_rate"),
    ({"learning_rate": float("nan")}, "learning_rate"),
    ({"noise": float("inf")}, "noise"),
    ({"points": 25.5}, "points"),
    ({"points": True}, "points"),
    ({"batch_size": 51}, "batch_size"),
    ({"l2": float("nan")}, "l2"),
    ({"hidden_sizes": {8, 4}}, "hidden_sizes"),
    ({"hidden_sizes": [8.5]}, "hidden_sizes"),
    ({"seed": -1}, "seed"),
    ({"seed": 2**80}, "seed"),
    ({"step": -5}, "step"),
    ({"train_loss": float("nan")}, "train_loss"),
    ({"test_loss": -1.0}, "test_loss"),
    ({"train_loss": float("inf")}, "train_loss"),
])
def test_impossible_settings_raise_one_line(settings, message):
    with pytest.raises(ForceMLPError, match=message) as error:
        Playground(**settings)
    assert "\n" not in str(error.value)


def test_a_bad_value_set_later_is_refused_too():
    playground = Playground()
    with pytest.raises(ForceMLPError, match="unknown dataset"):
        playground.dataset = "moons"
    assert playground.dataset == "spiral"


def test_the_page_gets_every_menu_and_limit_python_checks():
    """One source: the read-only ``limits`` trait is what the validators use."""
    limits = Playground().get_state()["limits"]
    assert limits["datasets"] == list(DATASET_NAMES)
    assert limits["activations"] == list(PLAYGROUND_ACTIVATIONS)
    assert list(limits["optimizers"]) == ["sgd", "momentum", "adam"]
    assert limits["l2"] == list(L2_CHOICES)
    assert (limits["max_layers"], limits["max_width"]) == (MAX_HIDDEN_LAYERS, MAX_LAYER_WIDTH)
    for name, spec in limits["sliders"].items():
        Playground(**{name: spec["min"]})  # both ends are accepted ...
        Playground(**{name: spec["max"]})
        below = spec["min"] / 2 if spec["log"] else spec["min"] - spec["step"]
        with pytest.raises(ForceMLPError, match=name):  # ... and just past them refused
            Playground(**{name: below})
        with pytest.raises(ForceMLPError, match=name):
            Playground(**{name: spec["max"] * 2})
    assert set(limits["sliders"]) == set(SLIDERS)


def test_the_limits_cannot_be_changed_from_python():
    playground = Playground()
    with pytest.raises(ForceMLPError, match="read-only"):
        playground.limits = {}


def test_the_page_s_losses_come_back_and_a_diverged_run_sends_none():
    playground = Playground()
    playground.set_state({"step": 120, "train_loss": 0.31, "test_loss": 0.42})
    assert (playground.step, playground.train_loss, playground.test_loss) == (120, 0.31, 0.42)
    playground.set_state({"train_loss": None, "diverged": True})
    assert playground.train_loss is None and playground.diverged
