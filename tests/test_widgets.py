"""The widgets in Python: the fetched front-end, the bundler, the base class's checks, and the
explorers' state and NumPy twins. The browser half (the same widgets drawn and moved in
Chromium, their JavaScript against NumPy) is tests/test_browser.py."""
from __future__ import annotations

import io
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest
import traitlets

from forcemlp import widgets
from forcemlp.activations import ACTIVATIONS
from forcemlp.descent import base_learning_rate, descend
from forcemlp.errors import ForceMLPError
from forcemlp.numpy_mlp import NumpyMLP
from forcemlp.optimizers import OPTIMIZER_NAMES
from forcemlp.surfaces import SURFACES
from forcemlp.widgets import base, bundle
from forcemlp.widgets.gradients import layer_gradient_sizes


def load_fetch_tool():
    """tools/fetch_widget_js.py, imported from its path (tools/ is not a package)."""
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "tools" / "fetch_widget_js.py"
    spec = importlib.util.spec_from_file_location("fetch_widget_js", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def fake_tarball(files: dict[str, bytes]) -> bytes:
    """An npm-style tarball (everything under package/) holding `files`."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, content in files.items():
            member = tarfile.TarInfo(f"package/{name}")
            member.size = len(content)
            archive.addfile(member, io.BytesIO(content))
    return buffer.getvalue()


def test_widget_js_fetch_checks_integrity_and_keeps_only_what_the_site_serves(
    tmp_path, monkeypatch
):
    tool = load_fetch_tool()
    manager = next(pin for pin in tool.PINS if pin.folder == "html-manager")
    tarball = fake_tarball({
        "dist/libembed-amd.js": b"// the bundle", "dist/embed.js.LICENSE.txt": b"licences",
        "dist/abc.woff2": b"font", "dist/embed.js.map": b"map", "dist/embed.js": b"plain",
        "src/index.ts": b"source",
    })
    monkeypatch.setattr(tool, "pack_tarball", lambda pin, work_dir: tarball)
    with pytest.raises(tool.FetchError, match="integrity"):
        tool.fetch(tmp_path, (manager,))  # not the pinned tarball: refused, nothing installed
    assert not (tmp_path / "html-manager").exists()

    pinned = tool.Pin(manager.package, manager.version, tool.sha512_integrity(tarball),
                      manager.folder, manager.keeps)
    assert tool.fetch(tmp_path, (pinned,)) == [pinned.spec]
    served = sorted(path.name for path in (tmp_path / "html-manager").iterdir())
    assert served == ["abc.woff2", "embed.js.LICENSE.txt", "libembed-amd.js", "manifest.json"]
    assert tool.fetch(tmp_path, (pinned,)) == []  # present and verified: nothing to do
    (tmp_path / "html-manager" / "libembed-amd.js").write_bytes(b"// tampered")
    assert tool.fetch(tmp_path, (pinned,)) == [pinned.spec]  # a changed file is replaced
    assert (tmp_path / "html-manager" / "libembed-amd.js").read_bytes() == b"// the bundle"


def test_the_served_anywidget_front_end_is_the_python_package_s_version():
    """The page's anywidget module must be the one the widgets' state names (~0.11.*)."""
    import anywidget

    tool = load_fetch_tool()
    [pin] = [pin for pin in tool.PINS if pin.package == "anywidget"]
    assert pin.version == anywidget.__version__
    assert base.BrowserWidget()._model_module_version == f"~{pin.version.rsplit('.', 1)[0]}.*"


# ----------------------------------------------------------------------------- infrastructure
def write_modules(folder: Path, modules: dict[str, str]) -> Path:
    for name, source in modules.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(source)
    return folder


def run_node(source: str) -> str:
    """Run an ES module's source with Node (present wherever npm is) and return its stdout."""
    import shutil
    import subprocess

    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    result = subprocess.run(["node", "--input-type=module", "-e", source], capture_output=True,
                            text=True, check=True)
    return result.stdout.strip()


def test_bundle_inlines_each_imported_module_once_in_its_own_scope(tmp_path):
    folder = write_modules(tmp_path, {
        "shared.js": "const secret = 2;\nexport function double(x) { return secret * x; }\n"
                     "export const NAME = 'shared';\n",
        "more.js": 'import { double } from "./shared.js";\nconst secret = 10;\n'
                   "export function quadruple(x) { return double(double(x)) + secret - 10; }\n",
        "entry.js": 'import {\n  double as twice,\n  NAME,\n} from "./shared.js";\n'
                    'import * as more from "./more.js";\n'
                    "console.log(twice(3), more.quadruple(3), NAME);\nexport default {};\n",
    })
    source = bundle.bundle("entry.js", folder)
    assert source.count("---- shared.js") == 1  # imported twice, inlined once
    assert source.index("---- shared.js") < source.index("---- more.js") < source.index("---- entry.js")
    assert "import " not in source.replace("// ", "")
    assert run_node(source) == "6 12 shared"  # each module's own `secret`, no clash


@pytest.mark.parametrize("modules, message", [
    ({"entry.js": 'import { a } from "./missing.js";\n'}, "no ES module 'missing.js'"),
    ({"entry.js": 'import { a } from "https://cdn.example/a.js";\n'}, "sibling file"),
    ({"entry.js": 'import { a } from "./a.js";\n', "a.js": 'import { b } from "./entry.js";\n'},
     "circle: entry.js -> a.js -> entry.js"),
    ({"entry.js": 'import { a } from "./a.js";\n', "a.js": "export default 1;\n"},
     "cannot read 'export default 1;'"),
    ({"entry.js": 'export { a };\n'}, "cannot read 'export { a };'"),
])
def test_bundle_refuses_what_it_cannot_join(tmp_path, modules, message):
    folder = write_modules(tmp_path, modules)
    with pytest.raises(ForceMLPError, match=message):
        bundle.bundle("entry.js", folder)


def test_every_package_module_bundles():
    for path in sorted(bundle.JS_FOLDER.glob("*.js")):
        if "export default" in path.read_text():
            assert "export default" in bundle.bundle(path.name)


class Dial(base.BrowserWidget):
    title = "dial"
    _esm = "export default { render() {} };"
    level = traitlets.Float(0.5).tag(sync=True)
    names = traitlets.List(traitlets.Unicode(), default_value=["a"]).tag(sync=True)

    @traitlets.validate("level")
    def _check_level(self, proposal):
        return base.check_range("level", proposal["value"], 0.0, 1.0)

    @traitlets.validate("names")
    def _check_names(self, proposal):
        return base.check_subset("names", proposal["value"], ("a", "b"))


@pytest.mark.parametrize("change, message", [
    ({"level": 1.5}, "level must be a number from 0 to 1, got 1.5"),
    ({"level": float("nan")}, "level must be a number"),
    ({"level": "high"}, "dial: The 'level' trait"),
    ({"names": ["a", "z"]}, r"unknown names \['z'\]: choose from a, b"),
])
def test_bad_trait_values_raise_one_line_errors(change, message):
    with pytest.raises(ForceMLPError, match=message) as raised:
        Dial(**change)
    assert "\n" not in str(raised.value)
    dial = Dial()
    with pytest.raises(ForceMLPError, match=message):
        setattr(dial, *next(iter(change.items())))
    assert dial.level == 0.5 and dial.names == ["a"]  # a refused value changes nothing


def test_a_browser_widget_carries_its_bundled_module_and_says_what_it_needs():
    class Loss(base.BrowserWidget):
        _module = "descent.js"
        title = "loss"

    state = Loss().get_state()
    assert state["_esm"] == bundle.bundle("descent.js")
    assert "export function descend" in state["_esm"]
    assert "Jupyter widgets" in repr(Loss()) and "loss" in repr(Loss())


# ----------------------------------------------------------------------------- explorers
def test_optimizer_explorer_state_is_what_the_page_needs():
    explorer = widgets.optimizer_explorer("rosenbrock", ("gd", "adam"), learning_rate_scale=1.9)
    state = explorer.get_state()
    assert state["surface"] == "rosenbrock" and state["optimizers"] == ["gd", "adam"]
    assert state["start"] == SURFACES["rosenbrock"].start.tolist()
    # Menus travel as ordered pairs: a notebook file sorts a JSON object's keys.
    assert [name for name, _ in state["surfaces"]] == list(SURFACES)
    assert [name for name, _ in state["optimizer_titles"]] == list(OPTIMIZER_NAMES)
    himmelblau = dict(state["surfaces"])["himmelblau"]
    assert himmelblau["minima"][0] == [3.0, 2.0] and len(himmelblau["minima"]) == 4
    assert state["position"] == state["steps"] == 150  # the whole path is shown at first
    assert "export default" in state["_esm"] and "function descend" in state["_esm"]


def test_optimizer_explorer_paths_are_numpy_s_descend_for_the_chosen_state():
    explorer = widgets.optimizer_explorer("ravine", ("gd", "sgd"), steps=40)
    explorer.learning_rate_scale, explorer.momentum, explorer.start = 4.0, 0.5, [3.0, -1.0]
    paths = explorer.paths()
    for name in ("gd", "sgd"):
        rate = 4.0 * base_learning_rate("ravine", name, [3.0, -1.0])
        expected = descend(name, "ravine", rate, 40, momentum=0.5, start=np.array([3.0, -1.0]))
        np.testing.assert_array_equal(paths[name].points, expected.points)
    assert paths["gd"].diverged  # ×4 of 1/L is twice the stability limit 2/L


@pytest.mark.parametrize("change, message", [
    ({"learning_rate_scale": -0.1}, "learning_rate_scale must be a number from 0.01 to 10"),
    ({"learning_rate_scale": float("inf")}, "learning_rate_scale must be a number"),
    ({"surface": "bukin"}, "unknown surface 'bukin'"),
    ({"optimizers": ["adam", "lbfgs"]}, r"unknown optimizers \['lbfgs'\]"),
    ({"momentum": 1.0}, "momentum must be a number from 0 to 0.999"),
    ({"steps": 0}, "steps must be a whole number from 1 to 1000"),
    ({"steps": True}, "steps must be a whole number from 1 to 1000, got True"),
    ({"steps": 2.5}, "'steps' trait .* expected an int"),
    ({"position": -1}, "position must be a whole number from 0 to 1000"),
    ({"seed": -1}, "seed must be a whole number from 0 to 4294967295, got -1"),
    ({"seed": 2**80}, "seed must be a whole number from 0 to 4294967295"),
    ({"momentum": True}, "'momentum' trait .* expected a float, not the bool True"),
    ({"learning_rate_scale": "fast"}, "'learning_rate_scale' trait .* expected a float"),
    ({"optimizers": []}, "optimizers must name at least one of gd, sgd"),
    ({"optimizers": ["adam", "gd", "adam"]}, "optimizers names adam more than once"),
    ({"start": [1e9, 0.0]}, "start must be a point"),
    ({"start": [1.0]}, "start must be a point"),
    ({"start": [True, 0.0]}, "start must be a point"),
    ({"start": [float("nan"), 0.0]}, "start must be a point"),
    ({"start": "ab"}, "start must be a point"),
])
def test_optimizer_explorer_refuses_impossible_values(change, message):
    with pytest.raises(ForceMLPError, match=message) as raised:
        widgets.optimizer_explorer(**{"surface": "ravine", **change})
    assert "\n" not in str(raised.value)
    explorer = widgets.optimizer_explorer()
    before = explorer.get_state()
    with pytest.raises(ForceMLPError, match=message):
        setattr(explorer, *next(iter(change.items())))
    assert explorer.get_state() == before  # a refused value changes nothing


def test_optimizer_explorer_wants_a_list_of_optimizer_names():
    with pytest.raises(ForceMLPError, match="optimizers must be a list of names"):
        widgets.optimizer_explorer("ravine", "adam")


def test_every_explorer_limit_is_python_s_and_reaches_the_page():
    """The page builds its sliders from the limits trait: written once, here, and checked
    against what the traits accept."""
    from forcemlp.widgets.optimizer_explorer import SLIDERS

    explorer = widgets.optimizer_explorer()
    assert explorer.get_state()["limits"] == SLIDERS
    for name, limits in SLIDERS.items():
        for end in ("min", "max"):
            setattr(explorer, name, type(getattr(explorer, name))(limits[end]))
    assert set(explorer.optimizer_markers) == set(explorer.optimizer_colors) == set(
        OPTIMIZER_NAMES)
    assert len(set(explorer.optimizer_markers.values())) == len(OPTIMIZER_NAMES)
    assert "--pst-color-text-base" in explorer.get_state()["_css"]


def contrast(color: str, background: str) -> float:
    """WCAG's contrast ratio of two #rrggbb colours."""
    def luminance(hex_color: str) -> float:
        channels = [int(hex_color[k:k + 2], 16) / 255 for k in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    high, low = sorted([luminance(color), luminance(background)], reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_optimizer_colours_stand_out_on_the_light_and_the_dark_theme():
    """3:1 (WCAG's contrast for graphics) on the book's light and dark backgrounds."""
    from forcemlp.widgets.optimizer_explorer import OPTIMIZER_COLORS

    for name, color in OPTIMIZER_COLORS.items():
        assert contrast(color, "#ffffff") >= 3 and contrast(color, "#14181e") >= 3, name


def test_activation_explorer_carries_real_digits_and_every_activation(mnist_splits):
    train = mnist_splits.train
    explorer = widgets.activation_explorer(train.images[:100], train.labels[:100], "elu")
    state = explorer.get_state()
    assert len(state["images"]) == 32 * 784 and state["labels"] == train.labels[:32].tolist()
    assert state["parameter"] == 1.0  # ELU's default alpha
    assert [name for name, _ in state["activations"]] == list(ACTIVATIONS)
    with pytest.raises(ForceMLPError, match="alpha must be a number from 0.1 to 2"):
        explorer.parameter = 5.0
    with pytest.raises(ForceMLPError, match="unknown activation 'swishy'"):
        explorer.activation = "swishy"
    with pytest.raises(ForceMLPError, match="depth must be"):
        widgets.activation_explorer(train.images[:8], train.labels[:8], depth=0)
    with pytest.raises(ForceMLPError, match="uint8 digits"):
        widgets.activation_explorer(train.features[:8], train.labels[:8])


@pytest.mark.parametrize("change, message", [
    ({"depth": True}, "depth must be a whole number from 1 to 30, got True"),
    ({"depth": 31}, "depth must be a whole number from 1 to 30"),
    ({"width": 0}, "width must be a whole number from 1 to 128"),
    ({"seed": -1}, "seed must be a whole number from 0 to 4294967295"),
    ({"seed": 2**80}, "seed must be a whole number from 0 to 4294967295"),
    ({"parameter": True}, "'parameter' trait .* expected a float, not the bool True"),
    ({"parameter": float("nan")}, "slope must be a number"),
    ({"labels": [1, 12]}, "labels must be whole numbers from 0 to 9, got 12"),
    ({"labels": []}, "labels must be 1 to 32 digit classes, got 0"),
    ({"images": b""}, "images must hold 1 to 32 digits of 784 uint8 pixels, got 0 bytes"),
    ({"images": bytes(785)}, "images must hold 1 to 32 digits"),
])
def test_activation_explorer_refuses_impossible_values(mnist_splits, change, message):
    train = mnist_splits.train
    explorer = widgets.activation_explorer(train.images[:8], train.labels[:8], "leaky_relu")
    before = explorer.get_state()
    with pytest.raises(ForceMLPError, match=message) as raised:
        setattr(explorer, *next(iter(change.items())))
    assert "\n" not in str(raised.value)
    assert explorer.get_state() == before


@pytest.mark.parametrize("images, labels, message", [
    (np.zeros((0, 28, 28), np.uint8), [], "uint8 digits"),
    (np.zeros((2, 28, 28), np.uint8), [1.5, 2.0], "labels must be a list of whole numbers"),
    (np.zeros((2, 28, 28), np.uint8), [1], "2 images need as many labels, got 1"),
])
def test_activation_explorer_refuses_digits_it_cannot_use(images, labels, message):
    with pytest.raises(ForceMLPError, match=message):
        widgets.activation_explorer(images, labels)


def test_depth_panel_agrees_with_lesson_3s_measurement(mnist_splits):
    """Lesson 3 measures ‖dE/dW‖ per layer of NumpyMLP(784, 10 x 32, 10, seed 0) on 256 digits;
    the explorer's panel (other initial weights, 32 digits) must tell the same story: the
    largest/smallest ratio within a factor of 3 for each activation, sigmoid's thousands of
    times ReLU's."""
    train = mnist_splits.train
    spreads = {}
    for name in ("sigmoid", "tanh", "relu"):
        network = NumpyMLP((784, *(32,) * 10, 10), activation=name, seed=0)
        gradients = network.backward(network.forward(train.features[:256]), train.labels[:256])
        measured = [np.linalg.norm(gradient) for gradient in gradients.weights]
        explorer = widgets.activation_explorer(train.images, train.labels, name, depth=10)
        panel = explorer.gradient_sizes()
        assert panel == layer_gradient_sizes(name, 10, 32, train.images[:32], train.labels[:32])
        spreads[name] = max(panel) / min(panel)
        assert 1 / 3 < spreads[name] / (max(measured) / min(measured)) < 3, name
    assert spreads["sigmoid"] > 1000 * max(spreads["relu"], spreads["tanh"])


def test_what_the_reader_moves_arrives_in_python():
    """In a live kernel the page's model.save_changes() sends an "update" comm message; the
    widget applies it through the same checks as Python's own assignments."""
    explorer = widgets.optimizer_explorer("rosenbrock")

    def update(state: dict) -> None:
        explorer._handle_msg({"content": {"data": {"method": "update", "state": state,
                                                   "buffer_paths": []}}, "buffers": []})

    update({"learning_rate_scale": 2.5, "start": [0.5, 2.0], "optimizers": ["adam"]})
    assert (explorer.learning_rate_scale, explorer.start, explorer.optimizers) == (
        2.5, [0.5, 2.0], ["adam"])
    assert list(explorer.paths()) == ["adam"]
    update({"learning_rate_scale": -1.0})  # refused by the same check (ipywidgets logs it)
    assert explorer.learning_rate_scale == 2.5
