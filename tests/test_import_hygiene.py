"""Import hygiene: every ``cnntui.core`` module imports without TensorFlow, Keras, Textual
or Rich (the headless, fast-start core). Cycles and layers, counting imports inside
functions: tests/test_layers.py."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "cnntui"
HEAVY = ("tensorflow", "keras", "textual", "rich", "plotext", "textual_plotext")
# The core modules that import Keras at the top (the callbacks, one per module, and the
# package that gathers them): imported only when training starts.
CALLBACKS = "cnntui.core.train.callbacks"

PROBE = """
import importlib, json, sys
heavy = {heavy!r}
found = {{}}
for name in {modules!r}:
    importlib.import_module(name)
    found[name] = sorted({{m.split(".")[0] for m in sys.modules}} & set(heavy))
    if found[name]:
        break  # a heavy module is loaded now: later results would be meaningless
    for loaded in [m for m in sys.modules if m == "cnntui" or m.startswith("cnntui.")]:
        del sys.modules[loaded]  # the next module imports its whole chain afresh
print(json.dumps(found))
"""


def module_names(folder: Path) -> list[str]:
    names = []
    for path in sorted(folder.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def probe(modules: list[str]) -> dict[str, list[str]]:
    code = PROBE.format(heavy=HEAVY, modules=modules)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def keras_side() -> set[str]:
    return set(module_names(PACKAGE / "core" / "train" / "callbacks"))


def test_every_core_module_imports_without_heavy_modules():
    side = keras_side()
    assert CALLBACKS in side and len(side) > 5
    modules = [m for m in module_names(PACKAGE / "core") if m not in side]
    assert len(modules) > 30 and "cnntui.core.train.session" in modules
    found = probe(modules)
    assert list(found) == modules  # every module was imported
    assert {m: h for m, h in found.items() if h} == {}


def test_the_keras_side_imports_keras_at_the_top():
    """So the exemption above stays true, not stale (read, not run: importing TF takes
    seconds): each callback module imports keras, the package imports its modules."""
    for name in keras_side():
        stem = PACKAGE.parent / name.replace(".", "/")
        path = stem / "__init__.py" if name == CALLBACKS else stem.with_suffix(".py")
        tops = [n for n in ast.parse(path.read_text(encoding="utf-8")).body]
        if name == CALLBACKS:
            froms = {n.module for n in tops if isinstance(n, ast.ImportFrom)}
            assert froms and all(m.startswith(CALLBACKS + ".") for m in froms - {"__future__"})
        else:
            assert any(isinstance(n, ast.Import) and n.names[0].name == "keras" for n in tops)
