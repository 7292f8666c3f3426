"""cnntui's import graph read from the source: every import, the ones inside functions
included (``ast.walk``), except those under ``if TYPE_CHECKING:`` (never run)."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "cnntui"


@dataclass(frozen=True)
class Import:
    """One import statement: the importing module, the module it reaches, the names taken."""

    source: str
    target: str
    names: tuple[str, ...]
    line: int


def module_names(folder: Path = PACKAGE) -> dict[str, Path]:
    """Every module of the package under ``folder``, by dotted name."""
    out = {}
    for path in sorted(folder.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(n) for child in node.body for n in ast.walk(child))
    return skip


def _resolve(name: str, known: dict[str, Path]) -> str | None:
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def imports(known: dict[str, Path] | None = None) -> list[Import]:
    """Every import of a cnntui module by a cnntui module, anywhere in its file."""
    known = known or module_names()
    found = []
    for source, path in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = _type_checking_nodes(tree)
        package = source if path.name == "__init__.py" else source.rpartition(".")[0]
        for node in ast.walk(tree):
            if id(node) in skip:
                continue
            if isinstance(node, ast.Import):
                pairs = [(alias.name, ()) for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(up + ([node.module] if node.module else []))
                names = tuple(alias.name for alias in node.names)
                # `from cnntui.core import metrics` reaches the module cnntui.core.metrics
                pairs = [(f"{base}.{n}", (n,)) if f"{base}.{n}" in known else (base, (n,))
                         for n in names]  # fmt: skip
            else:
                continue
            for name, taken in pairs:
                if name.split(".")[0] == "cnntui" and (target := _resolve(name, known)):
                    if target != source:
                        found.append(Import(source, target, taken, node.lineno))
    return found


def graph(found: list[Import] | None = None) -> dict[str, set[str]]:
    """Module -> the modules it imports (package ``__init__`` files count as modules)."""
    out: dict[str, set[str]] = {name: set() for name in module_names()}
    for imp in found if found is not None else imports():
        out[imp.source].add(imp.target)
    return out


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a list of modules (first == last), or None."""
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(name: str) -> list[str] | None:
        state[name] = "open"
        stack.append(name)
        for dep in sorted(edges.get(name, ())):
            if state.get(dep) == "open":
                return [*stack[stack.index(dep) :], dep]
            if dep not in state and (cycle := visit(dep)):
                return cycle
        stack.pop()
        state[name] = "done"
        return None

    for name in sorted(edges):
        if name not in state and (cycle := visit(name)):
            return cycle
    return None
