"""DataOptions: recorded in the run's config and read back as it is; old runs still read."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from cnntui.core.data import DataError, DataOptions, load_data

DATA_PKG = Path(__file__).resolve().parents[1] / "cnntui" / "core" / "data"


def test_options_round_trip_through_the_bundle_config():
    opts = DataOptions(input_shape=(28, 28, 1), batch_size=16, val_split=0.2, seed=4, limit=50)
    bundle = load_data("sample", opts)
    cfg = {"data": bundle.to_config()}
    assert DataOptions.from_config(cfg) == opts
    # the keyword form builds the same options
    assert load_data("sample", input_shape=(28, 28, 1), batch_size=16, val_split=0.2, seed=4,
                     limit=50).options == opts  # fmt: skip


def test_old_run_config_without_options_is_read_from_its_keys():
    old = {
        "input_shape": [32, 32, 3],
        "hyperparameters": {"limit": 300},
        "data": {"source": "sample", "label_mode": "int", "batch_size": 8, "val_split": 0.25,
                 "seed": 7, "preprocessing": {"resize_mode": "pad", "color_mode": "rgb"}},
    }  # fmt: skip
    opts = DataOptions.from_config(old)
    assert opts == DataOptions(
        input_shape=(32, 32, 3), batch_size=8, val_split=0.25, seed=7, limit=300,
        resize_mode="pad", color_mode="rgb",
    )  # fmt: skip


def test_unknown_and_bad_options_are_named():
    with pytest.raises(TypeError, match="val_fraction"):
        load_data("sample", val_fraction=0.2)
    with pytest.raises(DataError, match="batch size"):
        DataOptions(batch_size=0)


def _data_imports(path: Path, *, top_only: bool = False) -> set[str]:
    """Modules of cnntui.core.data that ``path`` imports (anywhere, or at module level)."""
    tree = ast.parse(path.read_text())
    nodes = tree.body if top_only else ast.walk(tree)
    return {
        n.module.rsplit(".", 1)[1]
        for n in nodes
        if isinstance(n, ast.ImportFrom) and (n.module or "").startswith("cnntui.core.data.")
    }


def test_the_data_package_has_no_import_cycle_even_through_function_level_imports():
    graph = {p.stem: _data_imports(p) for p in DATA_PKG.glob("*.py")}
    assert graph["contract"] <= {"errors"}
    done: set[str] = set()

    def visit(node: str, stack: tuple[str, ...]) -> None:
        assert node not in stack, f"import cycle: {' -> '.join((*stack, node))}"
        if node in done:
            return
        for nxt in graph.get(node, ()):
            visit(nxt, (*stack, node))
        done.add(node)

    for node in graph:
        visit(node, ())
