"""``cnntui runs``: list, show, watch, compare and rm on real (tiny) runs."""

from __future__ import annotations

import io
import json

import pytest
from typer.testing import CliRunner

from cnntui.cli.main import app
from cnntui.core.runs import resolve_run
from cnntui.core.train import TrainConfig, train
from cnntui.core.train.follow import follow
from cnntui.core.train.lines import LineSink

TINY_ZOO = """
from cnntui.core.registry import Hyperparameters, register_model


@register_model("tiny-runs", title="Tiny dense (runs tests)",
                hyperparameters=Hyperparameters(batch_size=16, epochs=2), tags=("test",))
def tiny_runs(input_shape, num_classes):
    import keras

    return keras.Sequential([
        keras.Input(input_shape), keras.layers.Flatten(),
        keras.layers.Dense(num_classes, activation="softmax"),
    ])
"""


@pytest.fixture
def two_runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("runs-zoo")
    (folder / "tiny_runs.py").write_text(TINY_ZOO, encoding="utf-8")
    a = train(TrainConfig("tiny-runs", zoo=[str(folder)], limit=200, name="first"))
    b = train(TrainConfig("tiny-runs", zoo=[str(folder)], limit=200, epochs=3, name="second"))
    return a.run, b.run


def test_list_show_watch_compare_rm(two_runs):
    first, second = two_runs
    runner = CliRunner()

    listed = json.loads(runner.invoke(app, ["runs", "list", "--json"]).output)
    assert [r["id"] for r in listed] == [first.id, second.id]
    assert all({"id", "model", "status", "dir"} <= set(r) for r in listed)
    assert listed[1]["status"] == "finished" and listed[1]["epochs"] == 3
    table = runner.invoke(app, ["runs", "list"]).output
    assert first.id in table and "tiny-runs" in table

    short = second.id[-4:]  # the random suffix is a typeable id
    shown = runner.invoke(app, ["runs", "show", short])
    assert shown.exit_code == 0 and f"run       {second.id}" in shown.output
    assert "epoch,accuracy" in shown.output and "best.keras" in shown.output
    shown_json = json.loads(runner.invoke(app, ["runs", "show", "latest", "--json"]).output)
    assert shown_json["id"] == second.id and "model_source" not in shown_json["config"]

    watched = runner.invoke(app, ["runs", "watch", "latest-1"])
    assert watched.exit_code == 0
    assert watched.output.count("\nepoch ") == 2 and watched.output.endswith(": finished\n")

    compared = runner.invoke(app, ["runs", "compare", first.id, second.id])
    assert compared.exit_code == 0, compared.output
    assert "val_accuracy" in compared.output and "┌" in compared.output
    assert first.id in compared.output and second.id in compared.output

    assert runner.invoke(app, ["runs", "rm", first.id]).exit_code == 2  # no --yes, no tty
    removed = runner.invoke(app, ["runs", "rm", first.id, "--yes"])
    assert removed.exit_code == 0 and not first.dir.exists()
    assert resolve_run("latest").id == second.id

    missing = runner.invoke(app, ["runs", "show", "zzzz-none"])
    assert missing.exit_code == 2 and "no run matches" in missing.output


def test_follow_replays_a_finished_run_and_stops(two_runs):
    out = io.StringIO()
    status = follow(two_runs[1], LineSink(out), poll=0.01, timeout=10)
    assert status == "finished"
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("training tiny-runs") and lines[-1].startswith("done: 3 epochs")


def test_a_running_run_cannot_be_removed_or_resumed(two_runs):
    import os

    run = two_runs[1]
    run.set_status("running", pid=os.getpid())  # this very process: alive
    result = CliRunner().invoke(app, ["runs", "rm", run.id, "--yes"])
    assert result.exit_code == 2 and "still running" in result.output
    result = CliRunner().invoke(app, ["train", "--resume", run.id])
    assert result.exit_code == 2 and "still running" in result.output
    assert run.dir.exists()
