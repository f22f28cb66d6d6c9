"""The playground widget from Python: its state, its checks, and the JavaScript it carries
(run under Node.js, without a browser, against forcemlp.toy_mlp)."""
import json
import shutil
import subprocess

import numpy as np
import pytest

from forcemlp.errors import ForceMLPError
from forcemlp.toy_data import DATASET_NAMES, make_dataset
from forcemlp.toy_mlp import (
    MAX_HIDDEN_LAYERS,
    MAX_LAYER_WIDTH,
    PLAYGROUND_ACTIVATIONS,
    train_toy,
)
from forcemlp.widgets.bundle import JS_FOLDER
from forcemlp.widgets.playground import L2_CHOICES, SLIDERS, Playground, playground_limits


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


# ----------------------------------------------------------------------------- without a browser
NODE = shutil.which("node")
needs_node = pytest.mark.skipif(NODE is None, reason="Node.js is missing: apt-get install nodejs")
BOARD_MODULES = ("playground.js", "playground_run.js", "playground_pictures.js",
                 "playground_network.js", "playground_mlp.js", "toy_data.js", "mlp.js",
                 "digits.js", "draw_digit.js", "draw_pad.js")
RUN_IN_NODE = """
const [url, json] = process.argv.slice(1);
const { PlaygroundRun, RECORD_EVERY } = await import(url);
const [settings, limits, steps] = JSON.parse(json);
const run = new PlaygroundRun(settings, limits);
run.train(steps);
console.log(JSON.stringify({ curve: run.curve, diverged: run.diverged, every: RECORD_EVERY,
                             parameters: Array.from(run.network.parameters) }));
"""


def node(script: str, *arguments: str) -> str:
    result = subprocess.run([NODE, "--input-type=module", "-e", script, *arguments],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


@needs_node
@pytest.mark.parametrize("module", BOARD_MODULES)
def test_every_module_imports_without_a_page(module):
    """No module touches the DOM when it loads (Node has no document)."""
    url = (JS_FOLDER / module).as_uri()
    assert node(f"await import({json.dumps(url)}); console.log('ok');").strip() == "ok"


@needs_node
@pytest.mark.parametrize("settings", [
    {"optimizer": "adam", "activation": "tanh", "hidden_sizes": [8, 8], "l2": 0.0},
    {"optimizer": "momentum", "activation": "relu", "hidden_sizes": [4, 3, 2], "l2": 0.01,
     "dataset": "xor", "batch_size": 7, "seed": 3},
])
def test_a_page_run_is_the_python_run(settings):
    """PlaygroundRun (what Play runs in the page) against toy_mlp.train_toy: the same points,
    batches, steps and losses, to rounding."""
    page = {**Playground().get_state(), **settings}
    page = {name: page[name] for name in ("dataset", "points", "noise", "hidden_sizes",
                                          "activation", "learning_rate", "batch_size",
                                          "optimizer", "l2", "seed")}
    steps = 120
    result = json.loads(node(RUN_IN_NODE, (JS_FOLDER / "playground_run.js").as_uri(),
                             json.dumps([page, playground_limits(), steps])))
    data = make_dataset(page["dataset"], count=page["points"], noise=page["noise"],
                        seed=page["seed"])
    python = train_toy(data, page["hidden_sizes"], page["activation"], page["optimizer"],
                       page["learning_rate"], page["batch_size"], page["l2"], steps,
                       page["seed"], record_every=result["every"])
    assert result["curve"]["steps"] == python.steps and not result["diverged"]
    np.testing.assert_allclose(result["curve"]["train"], python.train_losses, rtol=1e-9)
    np.testing.assert_allclose(result["curve"]["test"], python.test_losses, rtol=1e-9)
    scale = np.abs(python.model.parameters).max()
    np.testing.assert_allclose(result["parameters"], python.model.parameters, rtol=0,
                               atol=1e-9 * scale)


@needs_node
def test_a_page_run_diverges_where_python_does():
    page = {**{name: value for name, value in Playground().get_state().items()
               if name in ("dataset", "points", "noise", "hidden_sizes", "batch_size", "l2",
                           "seed")},
            "activation": "linear", "optimizer": "sgd", "learning_rate": 10.0}
    result = json.loads(node(RUN_IN_NODE, (JS_FOLDER / "playground_run.js").as_uri(),
                             json.dumps([page, playground_limits(), 400])))
    with pytest.raises(ForceMLPError, match="diverged") as error:
        train_toy(make_dataset(page["dataset"], count=page["points"], noise=page["noise"],
                               seed=page["seed"]), page["hidden_sizes"], "linear", "sgd", 10.0,
                  page["batch_size"], page["l2"], 400, page["seed"], record_every=result["every"])
    assert result["diverged"]
    assert f"at step {result['curve']['steps'][-1]}:" in str(error.value)
