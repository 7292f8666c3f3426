"""The wheel that `pip install .` builds carries every module, the zoo and the bundled
digits. Built from a clean copy of the tree: a ``build/`` folder left by an earlier build
would hand setuptools stale modules (and hide a package that lost its ``__init__.py``)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_carries_every_module_the_zoo_and_the_sample(tmp_path):
    source = tmp_path / "source"
    junk = ("build", "dist", "*.egg-info", ".git", "__pycache__", ".*_cache", "runs")
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*junk))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(source),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    (wheel,) = tmp_path.glob("cnntui-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    zoo_files = {p.name for p in (ROOT / "zoo").glob("*.py")}
    assert {f"cnntui/zoo/{name}" for name in zoo_files} <= names
    assert "cnntui/assets/mnist_5k.npz" in names
    assert "cnntui/assets/README.md" in names
    assert any(n.endswith("entry_points.txt") for n in names)
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "cnntui").rglob("*.py")}
    assert modules - names == set()  # every module, of every package (an __init__ missing)
