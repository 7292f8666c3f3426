"""The layers of docs/ARCHITECTURE.md, held by the code: every module belongs to one layer,
and no import (inside a function or not) points from a layer to one above it, or across
between the two siblings ``train`` and ``inference``; no import cycle; no private name taken
from another module."""

from __future__ import annotations

from fnmatch import fnmatchcase

from import_graph import find_cycle, graph, imports, module_names

# lowest first; a module may import its own layer and the layers below it
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("base", (
        "cnntui", "cnntui.quiet_tf", "cnntui.core", "cnntui.core.errors", "cnntui.core.atomic",
        "cnntui.core.backend", "cnntui.core.host_memory", "cnntui.core.jax_ops",
        "cnntui.core.formats", "cnntui.core.runs", "cnntui.core.event_stream",
        "cnntui.core.images", "cnntui.core.fastjpeg", "cnntui.core.exact_png",
        "cnntui.core.user_dirs",
    )),
    ("data", ("cnntui.core.data", "cnntui.core.data.*")),
    ("models", (
        "cnntui.core.registry", "cnntui.core.zoo_layers", "cnntui.core.heads",
        "cnntui.core.checkpoints", "cnntui.core.checkpoint_info", "cnntui.core.model_table",
        "cnntui.core.weights",
    )),
    ("train", ("cnntui.core.train", "cnntui.core.train.*")),
    ("inference", ("cnntui.core.inference", "cnntui.core.inference.*")),
    ("judge", ("cnntui.core.judge", "cnntui.core.judge.*")),
    ("jobs", ("cnntui.core.export*", "cnntui.core.tune*", "cnntui.core.reproduce*")),
    ("faces", ("cnntui.cli*", "cnntui.tui*", "cnntui.__main__")),
]  # fmt: skip
RANK = {"base": 0, "data": 1, "models": 2, "train": 3, "inference": 3, "judge": 4, "jobs": 5,
        "faces": 6}  # fmt: skip


def layer_of(module: str) -> str | None:
    hits = [name for name, patterns in LAYERS if any(fnmatchcase(module, p) for p in patterns)]
    return hits[0] if len(hits) == 1 else None


def test_every_module_is_in_exactly_one_layer():
    assert [m for m in module_names() if layer_of(m) is None] == []


def test_no_import_points_up_or_across_siblings():
    wrong = []
    for imp in imports():
        src, dst = layer_of(imp.source), layer_of(imp.target)
        if RANK[dst] > RANK[src] or (RANK[dst] == RANK[src] and src != dst):
            wrong.append(f"{imp.source}:{imp.line} ({src}) -> {imp.target} ({dst})")
    assert wrong == []


def test_no_import_cycle_counting_imports_inside_functions():
    assert find_cycle(graph()) is None


def test_the_graph_sees_imports_inside_functions():
    # checkpoints imports Keras's loader helpers lazily; the graph must see such imports
    found = {(i.source, i.target) for i in imports()}
    assert ("cnntui.core.checkpoints", "cnntui.core.jax_ops") in found
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_no_private_name_is_imported_from_another_module():
    taken = [
        f"{i.source}:{i.line} takes {n} from {i.target}"
        for i in imports()
        for n in i.names
        if n.startswith("_") and not n.startswith("__")
    ]
    assert taken == []
