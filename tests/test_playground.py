"""The playground widget from Python: its state, its checks, and the JavaScript it carries."""
import json

import pytest

from forcemlp.errors import ForceMLPError
from forcemlp.widgets.playground import Playground


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
