"""The wheel that `pip install .` builds carries the zoo and the bundled digits."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_carries_zoo_and_sample(tmp_path):
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
            str(ROOT),
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
