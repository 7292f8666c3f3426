"""``cnntui data inspect``: counts, bad files, warnings, JSON, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from cnntui.cli.main import app
from tests.image_factory import make_image_folder, write_bad_files

runner = CliRunner()


def test_inspect_json_counts_every_class_and_names_every_bad_file(tmp_path):
    root = make_image_folder(
        tmp_path / "pets", {"cat": 7, "dog": 3, "fox": 5}, layout="split", val=2, test=1
    )
    bad = write_bad_files(root / "train" / "cat")
    write_bad_files(root / "val" / "fox", ["empty"])
    result = runner.invoke(app, ["data", "inspect", str(root), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["splits"]["train"]["classes"] == {"cat": 7, "dog": 3, "fox": 5}
    assert report["splits"]["val"]["classes"] == {"cat": 2, "dog": 2, "fox": 2}
    assert report["splits"]["test"]["classes"] == {"cat": 1, "dog": 1, "fox": 1}
    listed = {Path(b["path"]).relative_to(root).as_posix() for b in report["bad_files"]}
    assert listed == {f"train/cat/{n}" for n in bad} | {"val/fox/empty.jpg"}
    assert all(b["reason"] for b in report["bad_files"])
    assert any("imbalanced" in w and "'cat'" in w for w in report["warnings"])
    assert sum(report["formats"].values()) == report["images"] == 15 + 6 + 3
    assert {"RGB", "RGBA", "P", "CMYK", "L", "I;16"} <= set(report["color_modes"])
    assert report["sizes"]["most_common"] == [32, 40]


def test_inspect_text_draws_samples_and_lists_bad_files(tmp_path):
    root = make_image_folder(tmp_path / "p", ["a", "b"], per_class=3)
    write_bad_files(root / "b", ["text"])
    result = runner.invoke(app, ["data", "inspect", str(root), "--samples", "2"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "b/notes.jpg: not an image: a text file" in out
    assert "samples (train):" in out and "most common 32x40" in out
    art = [line for line in out.splitlines() if line.startswith("    ") and "@" in line]
    assert len(art) >= 4


def test_inspect_sample_and_errors():
    result = runner.invoke(app, ["data", "inspect", "sample", "--json"])
    assert result.exit_code == 0
    report = json.loads(result.output)
    assert report["splits"]["train"]["classes"] == {str(i): 500 for i in range(10)}
    missing = runner.invoke(app, ["data", "inspect", "/no/such/dir"])
    assert missing.exit_code == 2
    assert "error: data path not found: /no/such/dir" in missing.output
    assert "Traceback" not in missing.output
