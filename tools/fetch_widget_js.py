"""Serve the ipywidgets HTML manager from the site itself, so widget pages need no CDN.

    .venv/bin/python tools/fetch_widget_js.py          # run by `make html` before sphinx-build

No PyPI package ships `@jupyter-widgets/html-manager` (the JavaScript that renders embedded
widget state in a plain web page), so this script takes it from npm with `npm pack`, checks the
tarball against the sha512 integrity pinned below (npm's `dist.integrity`), and extracts the
browser bundle `dist/embed.js` with its fonts into `_static/widgets/html-manager/dist/`. It also
writes `_static/widgets/assets-path.js`, which points the bundle at that folder so its fonts
load from the site. A second run checks the extracted files against the manifest it wrote and
does nothing when they match, so it is cheap in every build and works offline once npm's cache
holds the tarball.
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
from pathlib import Path

PACKAGE = "@jupyter-widgets/html-manager"
# 1.0.15 is the html-manager released with ipywidgets 8.1.9 / jupyterlab_widgets 3.0.17: it
# bundles @jupyter-widgets/controls ^5.0.13 and base ^6.0.12, the same as jupyterlab-manager 5.0.16.
VERSION = "1.0.15"
INTEGRITY = (
    "sha512-5thBIV6ymNgmPVOHvzx+gGy8ZSKmSazhtGw4/c4xJDVzRhG9PTeQsRjF3FUTopvFi//SABeNz1yp47bCrJ3CQA=="
)
# The plain-script bundle and what it loads at run time; the RequireJS (amd) bundles and the
# 6 MB source map are not used by the site.
FONT_SUFFIXES = (".woff2", ".woff", ".ttf", ".eot", ".svg")
KEPT_NAMES = ("embed.js", "embed.js.LICENSE.txt")
REPOSITORY = Path(__file__).resolve().parents[1]
DEFAULT_DESTINATION = REPOSITORY / "_static" / "widgets"
MANIFEST_NAME = "manifest.json"
# A relative URL would resolve against each page's own folder; the script's own URL does not.
ASSETS_PATH_SCRIPT = (
    "// Written by tools/fetch_widget_js.py: html-manager loads its fonts from this folder.\n"
    "window.__jupyter_widgets_assets_path__ =\n"
    '  new URL("html-manager/dist/", document.currentScript.src).href;\n'
)


class FetchError(Exception):
    """Fetching or checking the widget JavaScript failed; the message says what to do."""


def sha512_integrity(data: bytes) -> str:
    """npm's Subresource-Integrity form of a tarball's hash."""
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def sha256_hex(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def is_kept(member_name: str) -> bool:
    """True for the files of the tarball's dist/ that the site serves."""
    if not member_name.startswith("package/dist/") or member_name.count("/") != 2:
        return False
    name = member_name.rsplit("/", 1)[1]
    return name in KEPT_NAMES or name.endswith(FONT_SUFFIXES)


def is_installed(destination: Path) -> bool:
    """True when a previous run extracted this pinned version and no file has changed since."""
    manifest_path = destination / "html-manager" / MANIFEST_NAME
    if not manifest_path.is_file():
        return False
    manifest = json.loads(manifest_path.read_text())
    if manifest.get("integrity") != INTEGRITY:
        return False
    dist = destination / "html-manager" / "dist"
    files_match = all(
        (dist / name).is_file() and sha256_hex(dist / name) == digest
        for name, digest in manifest["files"].items()
    )
    assets_script = destination / "assets-path.js"
    return files_match and assets_script.is_file() and assets_script.read_text() == ASSETS_PATH_SCRIPT


def pack_tarball(work_dir: Path) -> bytes:
    """`npm pack` the pinned version into work_dir and return the tarball's bytes."""
    if shutil.which("npm") is None:
        raise FetchError("npm is not installed: install Node.js/npm (e.g. apt-get install npm).")
    command = [
        "npm", "pack", f"{PACKAGE}@{VERSION}", "--pack-destination", str(work_dir), "--json",
        "--prefer-offline",  # npm's cache is enough once it holds the tarball
    ]
    result = subprocess.run(command, capture_output=True, text=True, cwd=work_dir, check=False)
    if result.returncode != 0:
        raise FetchError(f"`{' '.join(command)}` failed: {result.stderr.strip()[-500:]}")
    filename = json.loads(result.stdout)[0]["filename"]
    return (work_dir / filename).read_bytes()


def extract(tarball: Path, destination: Path) -> dict[str, str]:
    """Extract the served dist/ files; return {file name: sha256} for the manifest."""
    dist = destination / "html-manager" / "dist"
    if dist.exists():
        shutil.rmtree(dist)
    dist.mkdir(parents=True)
    digests = {}
    with tarfile.open(tarball) as archive:
        for member in archive.getmembers():
            if not (member.isfile() and is_kept(member.name)):
                continue
            name = member.name.rsplit("/", 1)[1]
            source = archive.extractfile(member)
            assert source is not None  # a regular file always has content
            (dist / name).write_bytes(source.read())
            digests[name] = sha256_hex(dist / name)
    if "embed.js" not in digests:
        raise FetchError(f"{PACKAGE}@{VERSION} has no dist/embed.js; check the pinned version.")
    return digests


def fetch(destination: Path = DEFAULT_DESTINATION) -> bool:
    """Install the widget JavaScript under destination; False when it was already there."""
    if is_installed(destination):
        return False
    with tempfile.TemporaryDirectory(prefix="html-manager-") as work:
        work_dir = Path(work)
        tarball_bytes = pack_tarball(work_dir)
        actual = sha512_integrity(tarball_bytes)
        if actual != INTEGRITY:
            raise FetchError(
                f"{PACKAGE}@{VERSION} tarball integrity {actual} differs from the pinned "
                f"{INTEGRITY}: do not use it; clear npm's cache (npm cache clean --force) and retry."
            )
        tarball = work_dir / "html-manager.tgz"
        tarball.write_bytes(tarball_bytes)
        digests = extract(tarball, destination)
    manifest = {"package": PACKAGE, "version": VERSION, "integrity": INTEGRITY, "files": digests}
    (destination / "html-manager" / MANIFEST_NAME).write_text(json.dumps(manifest, indent=1))
    (destination / "assets-path.js").write_text(ASSETS_PATH_SCRIPT)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--destination", type=Path, default=DEFAULT_DESTINATION,
        help=f"folder to fill (default: {DEFAULT_DESTINATION.relative_to(REPOSITORY)})",
    )
    arguments = parser.parse_args(argv)
    try:
        fetched = fetch(arguments.destination)
    except FetchError as error:
        print(f"fetch_widget_js: {error}", file=sys.stderr)
        return 2
    state = "installed" if fetched else "already present and verified"
    print(f"{PACKAGE}@{VERSION}: {state} in {arguments.destination}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
