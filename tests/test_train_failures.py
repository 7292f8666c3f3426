"""Failures during training are failed runs: record sinks fail loudly, display sinks degrade,
a Keras error is exit 1 with its traceback in the run (never an exit-2 usage error)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from cnntui.cli.main import app
from cnntui.core.errors import CnntuiError
from cnntui.core.runs import list_runs
from cnntui.core.train import TrainConfig, train
from cnntui.core.train.events import EventLog, JsonlSink, RecordError

BROKEN_ZOO = """
from cnntui.core.registry import Hyperparameters, register_model

HP = Hyperparameters(batch_size=16, epochs=1)


@register_model("tiny-ok", title="Tiny dense (tests)", hyperparameters=HP, tags=("test",))
def tiny_ok(input_shape, num_classes):
    import keras

    return keras.Sequential([
        keras.Input(input_shape), keras.layers.Flatten(),
        keras.layers.Dense(num_classes, activation="softmax"),
    ])


@register_model("tiny-no-flatten", title="Wrong output shape", hyperparameters=HP, tags=("test",))
def tiny_no_flatten(input_shape, num_classes):
    import keras

    # no Flatten: the output is (None, 28, 28, classes); Keras rejects it against the labels
    return keras.Sequential([keras.Input(input_shape), keras.layers.Dense(num_classes)])
"""


@pytest.fixture(scope="module")
def broken_zoo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("broken-zoo")
    (folder / "broken.py").write_text(BROKEN_ZOO, encoding="utf-8")
    return str(folder)


def events(run) -> list[dict]:
    return [json.loads(line) for line in run.path("events.jsonl").read_text().splitlines()]


def test_a_full_disk_under_events_jsonl_is_a_record_error():
    log = EventLog(record=[JsonlSink("/dev/full")])  # every write: ENOSPC, a real full disk
    with pytest.raises(RecordError, match="No space left") as caught:
        log.emit("begin", run_id="r")
    assert caught.value.exit_code == 1 and "disk space" in caught.value.describe()


def test_a_failing_display_sink_is_reported_once_and_dropped():
    class Broken:
        def handle(self, event):
            raise OSError("terminal went away")

        def close(self):
            pass

    reports: list[str] = []
    kept: list[dict] = []

    class Keep:
        def handle(self, event):
            kept.append(event)

        def close(self):
            pass

    log = EventLog([Broken()], record=[Keep()], report=reports.append)
    for _ in range(3):
        log.emit("stopped", reason="x", epoch=0)
    assert len(kept) == 3  # the record sink saw every event
    assert len(reports) == 1 and "Broken: terminal went away" in reports[0]
    assert log.display == []


def test_history_csv_that_cannot_be_written_fails_the_run(broken_zoo):
    class BreakHistory:
        """At ``begin``, put a directory where history.csv must be written (a real error)."""

        def handle(self, event):
            if event["event"] == "begin":
                (list_runs()[0].dir / "history.csv").mkdir()

        def close(self):
            pass

    cfg = TrainConfig("tiny-ok", zoo=[broken_zoo], epochs=2, limit=64)
    with pytest.raises(RecordError, match="could not record the 'epoch' event") as caught:
        train(cfg, sinks=[BreakHistory()])
    assert isinstance(caught.value, CnntuiError) and caught.value.exit_code == 1
    (run,) = list_runs()
    assert run.status == "failed" and "history.csv" in run.status_info["reason"]
    last = events(run)[-1]  # events.jsonl still works: the failure is recorded there
    assert last["event"] == "failed" and last["error"] == "RecordError"
    assert [e["event"] for e in events(run)].count("epoch") == 1  # and training stopped
    assert "IsADirectoryError" in run.path("traceback.txt").read_text()


def test_a_keras_error_in_training_is_exit_1_with_the_traceback_in_the_run(broken_zoo):
    args = ["train", "tiny-no-flatten", "--zoo", broken_zoo, "--limit", "64", "--view", "none"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1, result.output
    assert "training failed (ValueError)" in result.output and "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    (run,) = list_runs()
    assert run.status == "failed" and events(run)[-1]["error"] == "ValueError"
    assert "Traceback (most recent call last)" in run.path("traceback.txt").read_text()
    assert str(run.path("traceback.txt")) in errors[0]
