"""The explorers: frame grids, the embedded state a kernel-less page needs, honest divergence,
and live redraws. The browser half (the state really moves a page) is tests/test_browser.py."""
from __future__ import annotations

import io
import sys
import tarfile
from pathlib import Path

import ipywidgets
import numpy as np
import pytest
import traitlets
from ipywidgets.embed import dependency_state
from PIL import Image

from forcemlp.errors import ForceMLPError
from forcemlp.optimizers import OPTIMIZER_TITLES, descend
from forcemlp.widgets import base, bundle
from forcemlp.widgets import frames as widgets

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Small grids keep the tests fast; 4.0 x 1/L sends plain gradient descent off the ravine.
SMALL_OPTIMIZER_GRID = widgets.OptimizerGrid(
    surfaces=("ravine", "saddle"), learning_rate_scales=(1.0, 4.0), momenta=(0.5, 0.9),
    steps=30, step_positions=(0, 5, 30),
)
SMALL_ACTIVATION_GRID = widgets.ActivationGrid(
    activations=("relu", "leaky_relu", "sigmoid"), parameters={"leaky_relu": (0.01, 0.1, 0.3)},
)


@pytest.fixture(scope="module")
def static_optimizers() -> widgets.Explorer:
    return widgets.optimizer_explorer(static=True, grid=SMALL_OPTIMIZER_GRID)


@pytest.fixture(scope="module")
def static_activations() -> widgets.Explorer:
    return widgets.activation_explorer(static=True, grid=SMALL_ACTIVATION_GRID)


def decoded(png) -> Image.Image:
    """An Image widget's value (bytes or memoryview) as a PIL picture; it must be a PNG."""
    png = bytes(png)
    assert png.startswith(PNG_SIGNATURE)
    return Image.open(io.BytesIO(png))


def leaf(stack: ipywidgets.Widget, indices) -> ipywidgets.Widget:
    """The view a reader sees after choosing `indices`, one per nested Stack."""
    for index in indices:
        stack = stack.children[index]
    return stack


def optimizer_layers(explorer: widgets.Explorer) -> tuple[ipywidgets.Widget, ...]:
    """(surface layer, race layer, step layer, captions): the explorer's four Stack trees."""
    _, _, layered, captions = explorer.widget.children
    return (*layered.children, captions)


def test_default_grids_fit_the_page_budget():
    """The sizes the lessons promise; at ~13 kB a race picture and ~1.5 kB a step layer
    (measured, base64 included) the optimizer explorer stays well under a 3 MB page."""
    grid = widgets.DEFAULT_OPTIMIZER_GRID
    assert grid.shape == (4, 5, 3, 8)
    assert (grid.picture_count, grid.frame_count, grid.image_count) == (60, 480, 544)
    assert 1.0 in grid.learning_rate_scales and max(grid.step_positions) == grid.steps
    assert widgets.DEFAULT_ACTIVATION_GRID.frame_count == 7 + 6 + 5


def test_static_optimizer_frames_match_the_grid(static_optimizers):
    grid = SMALL_OPTIMIZER_GRID
    assert len(static_optimizers.images) == grid.image_count
    surfaces, races, steps, captions = optimizer_layers(static_optimizers)
    assert len(surfaces.children) == grid.shape[0]
    for indices in np.ndindex(*grid.shape):
        assert isinstance(leaf(steps, indices), ipywidgets.Image)
        assert isinstance(leaf(races, indices[:3]), ipywidgets.Image)
        assert isinstance(leaf(captions, indices[:3]), ipywidgets.HTML)
    sizes = {decoded(image.value).size for image in static_optimizers.images}
    assert len(sizes) == 1, f"layers must share one size to line up, got {sizes}"


def test_static_state_carries_stacks_linked_to_controls(static_optimizers):
    """What the page embeds: every Stack follows one control through a jslink, and every
    image's PNG travels with the state, so the page needs no kernel."""
    state = dependency_state(static_optimizers.widget)
    models = {model_id: entry["model_name"] for model_id, entry in state.items()}
    stacks = {model_id for model_id, name in models.items() if name == "StackModel"}
    links = [entry["state"] for entry in state.values() if entry["model_name"] == "LinkModel"]
    linked_stacks = {}
    for link in links:
        (source, source_trait), (target, target_trait) = link["source"], link["target"]
        if target_trait == "selected_index":
            assert source_trait == "index"
            linked_stacks[target.removeprefix("IPY_MODEL_")] = source.removeprefix("IPY_MODEL_")
    assert stacks and set(linked_stacks) == stacks
    controls = {static_optimizers.controls[name].model_id
                for name in ("surface", "learning_rate", "momentum", "step")}
    assert set(linked_stacks.values()) == controls
    images = [entry for entry in state.values() if entry["model_name"] == "ImageModel"]
    assert len(images) == SMALL_OPTIMIZER_GRID.image_count
    assert all(entry["buffers"][0]["path"] == ["value"] for entry in images)
    # Two things html-manager 1.0.15 cannot draw on the book's pages (see widgets.py): an
    # Image with a tooltip, and a Play button under the theme's FontAwesome script.
    assert not any(entry["state"].get("tooltip") for entry in images)
    assert "PlayModel" not in models.values()


def test_every_frame_is_a_png_that_shows_something(static_optimizers, static_activations):
    for image in static_optimizers.images + static_activations.images:
        picture = np.asarray(decoded(image.value).convert("RGBA"))
        drawn = picture[..., 3] > 0
        if drawn.all():  # an opaque picture: it must not be one flat colour
            drawn = (picture[..., :3] != picture[0, 0, :3]).any(axis=-1)
        assert drawn.mean() > 0.001, "a blank frame"


def test_diverging_runs_are_labelled_with_their_step(static_optimizers):
    """The legend under the picture gives each optimizer's real learning rate and the step at
    which it diverged; the oracle is descend() itself."""
    grid = SMALL_OPTIMIZER_GRID
    _, _, _, captions = optimizer_layers(static_optimizers)
    diverged_somewhere = False
    for indices in np.ndindex(*grid.shape[:3]):
        surface, scale, momentum = (grid.surfaces[indices[0]],
                                    grid.learning_rate_scales[indices[1]],
                                    grid.momenta[indices[2]])
        entries = leaf(captions, indices).value.split(widgets.LEGEND_SEPARATOR)
        for name, title in OPTIMIZER_TITLES.items():
            rate = scale * widgets.base_learning_rate(surface, name)
            path = descend(name, surface, rate, grid.steps, momentum=momentum)
            [entry] = [entry for entry in entries if f"{title}, lr {rate:.2g}" in entry]
            if path.diverged:
                diverged_somewhere = True
                assert f"diverged at step {path.diverged_at}" in entry
            else:
                assert "diverged" not in entry
    assert diverged_somewhere, "the test grid must include a diverging learning rate"


def test_step_layer_lines_up_with_the_race_picture():
    """The pixel the race layer records for the start is where its black start dot is drawn,
    and the step layer puts each optimizer's dot at that same pixel at step 0."""
    picture = widgets.draw_race(widgets.run_race("ravine", 1.0, 0.9, 10, ("gd", "adam")))
    x, y = np.round(picture.contour_pixels["gd"][0]).astype(int)
    race = np.asarray(decoded(picture.png).convert("RGBA"))
    assert race[y, x, 3] > 200 and race[y, x, :3].max() < 80, "start dot not at its pixel"
    step_layer = np.asarray(decoded(widgets.draw_step_layer(picture, 0)).convert("RGBA"))
    assert step_layer[y, x, 3] > 200
    assert step_layer[y + 40, x, 3] == 0  # away from the dots the layer is see-through


def test_static_activation_frames_and_parameter_sliders(static_activations):
    grid = SMALL_ACTIVATION_GRID
    assert len(static_activations.images) == grid.frame_count == 5
    choice = static_activations.controls["activation"]
    slope = static_activations.controls["leaky_relu.slope"]
    assert [value for _, value in slope.options] == list(grid.parameters["leaky_relu"])
    assert slope.value == 0.01  # the activation's default parameter
    stack = static_activations.widget.children[1]
    assert len(stack.children) == len(choice.options) == 3
    pictures = {bytes(image.value) for image in static_activations.images}
    assert len(pictures) == grid.frame_count, "every frame must differ from the others"


def test_live_optimizer_redraws_only_what_a_control_changes():
    grid = widgets.OptimizerGrid(("ravine", "beale"), (0.5, 1.0, 2.0), (0.9,), 20, (0, 20))
    explorer = widgets.optimizer_explorer(static=False, grid=grid)
    surface_image, race_image, step_image = explorer.images
    before = [bytes(image.value) for image in explorer.images]
    explorer.controls["step"].value = 10
    assert step_image.value != before[2] and race_image.value == before[1]
    explorer.controls["learning_rate"].value = 2.0
    assert race_image.value != before[1] and surface_image.value == before[0]
    explorer.controls["surface"].value = "beale"
    assert surface_image.value != before[0]
    explorer.controls["racing"].value = ("adam",)
    assert "Adam" in explorer.captions[0].value and "Momentum" not in explorer.captions[0].value


def test_live_activation_follows_its_parameter():
    explorer = widgets.activation_explorer(static=False, grid=SMALL_ACTIVATION_GRID)
    choice, parameter = explorer.controls["activation"], explorer.controls["parameter"]
    image = explorer.images[0]
    assert parameter.disabled  # ReLU has no parameter
    relu_picture = bytes(image.value)
    choice.value = "leaky_relu"
    assert not parameter.disabled and parameter.value == 0.01 and image.value != relu_picture
    slope_picture = bytes(image.value)
    parameter.value = 0.3
    assert image.value != slope_picture


def test_explorer_choice_follows_the_book_build(monkeypatch):
    monkeypatch.setenv(widgets.STATIC_ENVIRONMENT, "1")
    assert widgets.static_by_default(None) is True
    monkeypatch.delenv(widgets.STATIC_ENVIRONMENT)
    assert widgets.static_by_default(None) is False
    assert widgets.static_by_default(True) is True


def test_unknown_names_raise_a_one_line_error():
    with pytest.raises(ForceMLPError, match="choose from"):
        widgets.optimizer_explorer(static=False, optimizers=("adamw",))
    with pytest.raises(ForceMLPError, match="choose from"):
        widgets.activation_explorer(grid=widgets.ActivationGrid(("swishy",)))


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
