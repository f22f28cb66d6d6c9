"""Serve the widget JavaScript from the site itself, so widget pages need no CDN.

    .venv/bin/python tools/fetch_widget_js.py          # run by conf.py before every build
    .venv/bin/python tools/fetch_widget_js.py --test   # axe-core, for the browser tests

Three npm packages, each pinned to a version and to npm's sha512 `dist.integrity` of its
tarball, fetched with `npm pack` and unpacked into `_static/widgets/<folder>/`:

- `@jupyter-widgets/html-manager`: the widget manager for a page without a kernel. Its AMD
  build `libembed-amd.js` (not the plain `embed.js`, which renders built-in widgets only) lets
  a loader supply third-party widget modules; its fonts come along.
- `requirejs`: the AMD loader that build needs.
- `anywidget`: the front-end of every forcemlp widget; the version is the one the PyPI
  `anywidget` names in its `_model_module_version`.

With `--test`, the same is done for what only the browser tests inject into pages (never
served by the site): `axe-core`'s `axe.min.js`, unpacked into `_build/test-js/axe-core/`.

`_static/widget-loader.js` (committed, not fetched) points RequireJS at these folders and
renders the widgets with a loader that never falls back to a CDN. A second run checks the
unpacked files against the manifest it wrote and does nothing when they match, so it is cheap
in every build and works offline once npm's cache holds the tarballs.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

FONT_SUFFIXES = (".woff2", ".woff", ".ttf", ".eot", ".svg")
REPOSITORY = Path(__file__).resolve().parents[1]
DEFAULT_DESTINATION = REPOSITORY / "_static" / "widgets"
TEST_DESTINATION = REPOSITORY / "_build" / "test-js"
MANIFEST_NAME = "manifest.json"


@dataclass(frozen=True)
class Pin:
    """One npm package at one version: which tarball files the site serves, and where."""

    package: str
    version: str
    integrity: str
    folder: str  # under the destination
    keeps: Callable[[str], bool]  # path inside the tarball's package/ -> served?

    @property
    def spec(self) -> str:
        return f"{self.package}@{self.version}"


def _html_manager_file(path: str) -> bool:
    """dist/libembed-amd.js, its licences and the fonts it loads; no maps, no other bundles."""
    if not path.startswith("dist/") or path.count("/") != 1:
        return False
    name = path.removeprefix("dist/")
    return name in ("libembed-amd.js", "embed.js.LICENSE.txt") or name.endswith(FONT_SUFFIXES)


PINS = (
    # 1.0.15 is the html-manager released with ipywidgets 8.1.9 / jupyterlab_widgets 3.0.17: it
    # bundles @jupyter-widgets/controls ^5.0.13 and base ^6.0.12, as jupyterlab-manager 5.0.16.
    Pin(
        "@jupyter-widgets/html-manager", "1.0.15",
        "sha512-5thBIV6ymNgmPVOHvzx+gGy8ZSKmSazhtGw4/c4xJDVzRhG9PTeQsRjF3FUTopvFi//SABeNz1yp47bCrJ3CQA==",
        "html-manager", _html_manager_file,
    ),
    Pin(
        "requirejs", "2.3.8",
        "sha512-7/cTSLOdYkNBNJcDMWf+luFvMriVm7eYxp4BcFCsAX0wF421Vyce5SXP17c+Jd5otXKGNehIonFlyQXSowL6Mw==",
        "requirejs", lambda path: path == "require.js",
    ),
    # The same file as the PyPI anywidget 0.11.0's nbextension/index.js: an AMD module.
    Pin(
        "anywidget", "0.11.0",
        "sha512-LHZgW2j5UjyerZSZcO+BtZPXGMSORQV2bUT480hOR5x/BXS8sOradi/71amJfMueSEnKX0dqPwTfsOGHTsyZpQ==",
        "anywidget", lambda path: path in ("dist/index.js", "LICENSE"),
    ),
)


# Injected by the browser tests only (tests/test_every_reader.py), never served by the site.
TEST_PINS = (
    Pin(
        "axe-core", "4.14.1",
        "sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ==",
        "axe-core", lambda path: path in ("axe.min.js", "LICENSE"),
    ),
)


class FetchError(Exception):
    """Fetching or checking the widget JavaScript failed; the message says what to do."""


def sha512_integrity(data: bytes) -> str:
    """npm's Subresource-Integrity form of a tarball's hash."""
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def sha256_hex(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def is_installed(pin: Pin, destination: Path) -> bool:
    """True when a previous run unpacked this pinned version and no file has changed since."""
    folder = destination / pin.folder
    manifest_path = folder / MANIFEST_NAME
    if not manifest_path.is_file():
        return False
    manifest = json.loads(manifest_path.read_text())
    if manifest.get("integrity") != pin.integrity:
        return False
    return all(
        (folder / name).is_file() and sha256_hex(folder / name) == digest
        for name, digest in manifest["files"].items()
    )


def pack_tarball(pin: Pin, work_dir: Path) -> bytes:
    """`npm pack` the pinned version into work_dir and return the tarball's bytes."""
    if shutil.which("npm") is None:
        raise FetchError("npm is not installed: install Node.js/npm (e.g. apt-get install npm).")
    command = [
        "npm", "pack", pin.spec, "--pack-destination", str(work_dir), "--json",
        "--prefer-offline",  # npm's cache is enough once it holds the tarball
    ]
    result = subprocess.run(command, capture_output=True, text=True, cwd=work_dir, check=False)
    if result.returncode != 0:
        raise FetchError(f"`{' '.join(command)}` failed: {result.stderr.strip()[-500:]}")
    filename = json.loads(result.stdout)[0]["filename"]
    return (work_dir / filename).read_bytes()


def extract(pin: Pin, tarball: Path, destination: Path) -> dict[str, str]:
    """Unpack the served files (flat, by base name); return {file name: sha256}."""
    folder = destination / pin.folder
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    digests = {}
    with tarfile.open(tarball) as archive:
        for member in archive.getmembers():
            path = member.name.removeprefix("package/")
            if not (member.isfile() and pin.keeps(path)):
                continue
            name = path.rsplit("/", 1)[-1]
            source = archive.extractfile(member)
            assert source is not None  # a regular file always has content
            (folder / name).write_bytes(source.read())
            digests[name] = sha256_hex(folder / name)
    if not any(name.endswith(".js") for name in digests):
        raise FetchError(f"{pin.spec} holds none of the files the site serves; check the pin.")
    return digests


def fetch_one(pin: Pin, destination: Path) -> bool:
    """Install one pinned package under destination; False when it was already there."""
    if is_installed(pin, destination):
        return False
    with tempfile.TemporaryDirectory(prefix="widget-js-") as work:
        work_dir = Path(work)
        tarball_bytes = pack_tarball(pin, work_dir)
        actual = sha512_integrity(tarball_bytes)
        if actual != pin.integrity:
            raise FetchError(
                f"{pin.spec} tarball integrity {actual} differs from the pinned "
                f"{pin.integrity}: do not use it; clear npm's cache (npm cache clean --force) and retry."
            )
        tarball = work_dir / "package.tgz"
        tarball.write_bytes(tarball_bytes)
        digests = extract(pin, tarball, destination)
    manifest = {"package": pin.package, "version": pin.version, "integrity": pin.integrity,
                "files": digests}
    (destination / pin.folder / MANIFEST_NAME).write_text(json.dumps(manifest, indent=1))
    return True


def fetch(destination: Path = DEFAULT_DESTINATION, pins: tuple[Pin, ...] = PINS) -> list[str]:
    """Install every pinned package; returns the ones that had to be (re)installed."""
    destination.mkdir(parents=True, exist_ok=True)
    return [pin.spec for pin in pins if fetch_one(pin, destination)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--test", action="store_true",
        help="fetch the browser tests' tools instead "
             f"(into {TEST_DESTINATION.relative_to(REPOSITORY)})",
    )
    parser.add_argument(
        "--destination", type=Path, default=None,
        help=f"folder to fill (default: {DEFAULT_DESTINATION.relative_to(REPOSITORY)})",
    )
    arguments = parser.parse_args(argv)
    pins = TEST_PINS if arguments.test else PINS
    destination = arguments.destination or (TEST_DESTINATION if arguments.test
                                            else DEFAULT_DESTINATION)
    try:
        installed = fetch(destination, pins)
    except FetchError as error:
        print(f"fetch_widget_js: {error}", file=sys.stderr)
        return 2
    for pin in pins:
        state = "installed" if pin.spec in installed else "already present and verified"
        print(f"{pin.spec}: {state} in {destination / pin.folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
