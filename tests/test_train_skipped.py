"""Training on a folder with bad files: they are skipped, named on screen and in the run."""

from __future__ import annotations

import warnings

from typer.testing import CliRunner

from cnntui.cli.main import app
from cnntui.core.runs import SKIPPED, resolve_run
from tests.image_factory import write_bad_files, write_digit_folder


def test_train_on_folder_names_what_it_skipped(tmp_path, digits_small):
    x, y = digits_small
    root = write_digit_folder(tmp_path / "digits", x[:120], y[:120])
    bad = write_bad_files(root / "3")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = CliRunner().invoke(
            app, ["train", "mnist-mlp", "--data", str(root), "--epochs", "2", "--view", "lines"]
        )
    assert result.exit_code == 0, result.output
    # the pipeline's length is unknown to Keras; its end is no "input ran out of data"
    assert not [w for w in caught if "ran out of data" in str(w.message)]
    # the structural pass names three before training; epoch 1's decode finds the truncated one
    assert f"skipped {len(bad) - 1} unreadable files" in result.stdout
    assert "epoch 1: skipped 1 unreadable file" in result.stdout
    assert "decoded-image cache: new, " in result.stdout  # the begin line says it
    for name in bad:
        assert f"{root / '3' / name}: " in result.stdout
    run = resolve_run("latest")
    assert run.status == "finished"
    listed = run.path(SKIPPED).read_text().splitlines()
    assert sorted(line.split("\t")[0] for line in listed) == sorted(
        str(root / "3" / name) for name in bad
    )
    events = run.events()
    begin = next(e for e in events if e["event"] == "begin")
    assert begin["skipped"] == len(bad) - 1 and len(begin["skipped_files"]) == len(bad) - 1
    late = [e for e in events if e["event"] == "skipped"]
    assert len(late) == 1 and late[0]["epoch"] == 1 and late[0]["total"] == len(bad)
    assert late[0]["skipped_files"][0]["path"] == str(root / "3" / "truncated.jpg")


def test_resize_mode_is_used_and_recorded(tmp_path, digits_small):
    x, y = digits_small
    root = write_digit_folder(tmp_path / "digits", x[:60], y[:60])
    result = CliRunner().invoke(
        app,
        ["train", "mnist-mlp", "--data", str(root), "--epochs", "1", "--view", "none",
         "--resize-mode", "pad", "--input-shape", "20,32,1"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    pre = resolve_run("latest").config["data"]["preprocessing"]
    assert pre["resize_mode"] == "pad" and pre["image_size"] == [20, 32]


def test_bad_resize_mode_is_a_clear_error():
    result = CliRunner().invoke(app, ["train", "mnist-mlp", "--resize-mode", "squash"])
    assert result.exit_code == 2
    assert "--resize-mode must be one of stretch, crop, pad" in result.stderr
