"""Every third-party module cnntui imports comes from a distribution its install brings.

A module that is only present by luck (``click``, which Typer stopped requiring in 0.2x
when it vendored it, arrived here through an unrelated Flask) would pass every other test
and break ``pip install .`` in a clean virtual environment.
"""

from __future__ import annotations

import ast
import re
import sys
from importlib import metadata
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

ROOT = Path(__file__).resolve().parents[1]
OWN = {"cnntui", "zoo"}


def imported_top_modules() -> dict[str, str]:
    """Top-level module name -> one file that imports it, over cnntui/ (any nesting)."""
    found: dict[str, str] = {}
    for path in sorted((ROOT / "cnntui").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        typing_only = {  # `if TYPE_CHECKING:` imports never run
            id(n) for block in ast.walk(tree) if _is_type_checking(block) for n in ast.walk(block)
        }
        for node in ast.walk(tree):
            if id(node) in typing_only:
                continue
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], str(path.relative_to(ROOT)))
    return {m: f for m, f in found.items() if m not in sys.stdlib_module_names and m not in OWN}


def _is_type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING"


def _name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;(]", requirement.strip(), maxsplit=1)[0].lower()


def reachable_distributions() -> set[str]:
    """Declared requirements (all extras included) and, installed, what they require."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    todo = [_name(r) for r in project["dependencies"]]
    for extra in project.get("optional-dependencies", {}).values():
        todo += [_name(r) for r in extra if _name(r) != "cnntui"]
    seen: set[str] = set()
    while todo:
        name = todo.pop().replace("_", "-")
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue  # an optional extra not installed here: its own name still counts
        todo += [_name(r) for r in requires if "extra ==" not in r]
    return seen


def test_every_imported_module_comes_from_a_declared_distribution():
    providers = metadata.packages_distributions()
    reachable = reachable_distributions()
    missing = {}
    for module, where in imported_top_modules().items():
        dists = {d.lower().replace("_", "-") for d in providers.get(module, [])}
        dists = dists or {module.lower().replace("_", "-")}  # not installed: an optional extra?
        if not dists & reachable:
            missing[module] = (sorted(dists), where)
    assert missing == {}, f"imported but brought by no declared requirement: {missing}"


def test_the_check_sees_the_real_imports():
    modules = imported_top_modules()
    assert {"numpy", "typer", "PIL", "keras", "tensorflow", "textual"} <= set(modules)
