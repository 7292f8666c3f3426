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
# The one core module that imports Keras at the top: it is imported only when training starts.
KERAS_SIDE = {"cnntui.core.train.keras_callbacks"}

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


def test_every_core_module_imports_without_heavy_modules():
    modules = [m for m in module_names(PACKAGE / "core") if m not in KERAS_SIDE]
    assert len(modules) > 30 and "cnntui.core.train.session" in modules
    found = probe(modules)
    assert list(found) == modules  # every module was imported
    assert {m: h for m, h in found.items() if h} == {}


def test_the_keras_side_imports_keras_at_the_top():
    for name in KERAS_SIDE:  # so the exemption above stays true, not stale (read, not run:
        path = PACKAGE.parent / (name.replace(".", "/") + ".py")  # importing TF takes seconds)
        tops = [n for n in ast.parse(path.read_text(encoding="utf-8")).body]
        assert any(isinstance(n, ast.Import) and n.names[0].name == "keras" for n in tops)
