"""A tiny bundler: one ES module from a widget's module and the package modules it imports.

    from forcemlp.widgets.bundle import bundle
    source = bundle("optimizer_explorer.js")     # what the widget's `_esm` holds

An anywidget front-end is a single ES module stored in the widget's state (and so in the built
page), loaded from a Blob URL: it cannot import files beside it. The shared arithmetic
(optimizers.js, activations.js, ...) still lives in one file each, imported by every widget
that needs it and run alone by the browser tests. This joins them: every imported module is
wrapped in a function scope whose exports become one object, in dependency order, each module
once, and the importing module reads its names from that object.

Supported syntax, on lines of their own at the top level of a module: ``import { a, b as c }
from "./x.js";`` (over several lines too), ``import * as x from "./x.js";``, and ``export`` before
``function``, ``async function``, ``class``, ``const``, ``let``. Only the entry module may have
``export default``. Anything else that imports or exports raises BundleError.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import ForceMLPError

JS_FOLDER = Path(__file__).resolve().parent / "js"

IMPORT = re.compile(
    r'^import\s+(?:\{(?P<names>[^}]*)\}|\*\s+as\s+(?P<namespace>\w+))\s+from\s+"(?P<path>[^"]+)";?',
    re.MULTILINE,
)
EXPORT = re.compile(
    r"^export\s+(?:async\s+)?(?:function\*?|class|const|let)\s+(?P<name>\w+)", re.MULTILINE
)
ANY_IMPORT_OR_EXPORT = re.compile(r"^(import|export)\b.*$", re.MULTILINE)


class BundleError(ForceMLPError):
    """A widget's ES modules cannot be joined; the message names the file and the problem."""


@dataclass(frozen=True)
class Module:
    """One ES module: its name (path under the js folder), source and what it imports."""

    name: str
    source: str
    imports: tuple[str, ...]

    @property
    def variable(self) -> str:
        """The name the bundle gives this module's exports object."""
        return "__module_" + re.sub(r"\W", "_", self.name.removesuffix(".js"))


def _resolve(importer: str, path: str) -> str:
    if not path.startswith("./") or not path.endswith(".js"):
        raise BundleError(f"{importer}: import {path!r} must be a sibling file like \"./x.js\".")
    return str(Path(importer).parent / path.removeprefix("./"))


def read_module(name: str, folder: Path = JS_FOLDER) -> Module:
    """The module ``name`` (a file under folder), with its imports resolved to module names."""
    path = folder / name
    if not path.is_file():
        raise BundleError(f"no ES module {name!r} in {folder}: check the widget's module name.")
    source = path.read_text()
    imports = tuple(_resolve(name, match["path"]) for match in IMPORT.finditer(source))
    return Module(name, source, imports)


def _rewrite_imports(module: Module, modules: dict[str, Module]) -> str:
    """Each import becomes a const that reads the names from the imported module's object."""
    def replace(match: re.Match) -> str:
        target = modules[_resolve(module.name, match["path"])].variable
        if match["namespace"]:
            return f"const {match['namespace']} = {target};"
        names = [name.strip() for name in match["names"].replace("\n", " ").split(",")]
        bindings = [name.replace(" as ", ": ") for name in names if name]
        return f"const {{ {', '.join(bindings)} }} = {target};"
    return IMPORT.sub(replace, module.source)


def _check_syntax(module: Module, is_entry: bool) -> None:
    for match in ANY_IMPORT_OR_EXPORT.finditer(IMPORT.sub("", module.source)):
        line = match.group(0)
        if EXPORT.match(line) or (is_entry and line.startswith("export default")):
            continue
        raise BundleError(f"{module.name}: the bundler cannot read {line.strip()!r}.")


def _ordered(entry: str, folder: Path) -> list[Module]:
    """Every module the entry needs, dependencies before their importers, each once."""
    ordered: dict[str, Module] = {}
    visiting: list[str] = []

    def visit(name: str) -> None:
        if name in ordered:
            return
        if name in visiting:
            cycle = " -> ".join([*visiting[visiting.index(name):], name])
            raise BundleError(f"ES modules import each other in a circle: {cycle}.")
        visiting.append(name)
        module = read_module(name, folder)
        for dependency in module.imports:
            visit(dependency)
        visiting.pop()
        ordered[name] = module
    visit(entry)
    return list(ordered.values())


def bundle(entry: str, folder: Path = JS_FOLDER) -> str:
    """One ES module holding ``entry`` and everything it imports, for an anywidget ``_esm``."""
    modules = _ordered(entry, folder)
    by_name = {module.name: module for module in modules}
    inlined = ", ".join(module.name for module in modules[:-1]) or "nothing"
    parts = [f"// {entry}, bundled by forcemlp.widgets.bundle with: {inlined}"]
    for module in modules[:-1]:
        _check_syntax(module, is_entry=False)
        exports = [match["name"] for match in EXPORT.finditer(module.source)]
        body = EXPORT.sub(lambda match: match.group(0).removeprefix("export").lstrip(),
                          _rewrite_imports(module, by_name))
        parts.append(
            f"const {module.variable} = (() => {{\n// ---- {module.name}\n{body}\n"
            f"return {{ {', '.join(exports)} }};\n}})();"
        )
    _check_syntax(modules[-1], is_entry=True)
    parts.append(f"// ---- {entry}\n{_rewrite_imports(modules[-1], by_name)}")
    return "\n".join(parts)

