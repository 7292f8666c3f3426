"""Sinks and run-directory helpers without TensorFlow: live view, lines, JSONL, history."""

from __future__ import annotations

import io
import json
import re
import time
import tracemalloc

import pytest

from cnntui.cli.live import LiveView
from cnntui.core.event_stream import MAX_EPOCH_POINTS
from cnntui.core.train.checkpoint import truncate_history
from cnntui.core.train.config import TrainConfig
from cnntui.core.train.events import EventLog, JsonlSink, make_event, read_events
from cnntui.core.train.lines import LineSink
from cnntui.core.train.strategy import check_strategy


def run_events(epochs: int = 3, steps: int = 10):
    yield make_event(
        "begin",
        run_id="r1",
        model="m",
        epochs=epochs,
        initial_epoch=0,
        steps_per_epoch=steps,
        batch_size=32,
        samples=320,
        params={"learning_rate": 0.001},
    )
    for e in range(1, epochs + 1):
        for s in (3, 7):
            yield make_event(
                "batch",
                epoch=e,
                step=s,
                steps=steps,
                logs={"loss": 1.0 / e, "accuracy": 0.5},
                images_per_sec=900.0,
            )
        yield make_event(
            "epoch",
            epoch=e,
            epochs=epochs,
            seconds=0.4,
            images_per_sec=800.0,
            eta_seconds=0.4 * (epochs - e),
            logs={
                "loss": 1.0 / e,
                "accuracy": 0.5 + e / 10,
                "val_loss": 1.1 / e,
                "val_accuracy": 0.45 + e / 10,
                "learning_rate": 0.001,
            },
        )
    yield make_event(
        "done",
        metrics={
            "epochs_completed": epochs,
            "wall_seconds": 1.5,
            "best_val_accuracy": 0.75,
            "best_epoch": epochs,
        },
    )


def test_live_view_draws_charts_and_redraws_in_place():
    out = io.StringIO()
    view = LiveView(stream=out, threaded=False)
    evs = list(run_events())
    for ev in evs[:2]:
        view.handle(ev)
    view.draw()
    first = out.getvalue()
    assert "epoch 1/3" in first and "3/10" in first and "900 img/s" in first
    assert "lr 1.0e-03" in first
    for ev in evs[2:]:
        view.handle(ev)
    view.draw()
    second = out.getvalue()[len(first) :]
    n_lines = first.count("\n")
    assert second.startswith(f"\x1b[{n_lines}F")  # back to the top of the last frame
    assert "done: 3 epochs" in second and "⠉" in second  # status and curves were redrawn
    assert "\x1b[1E" in second  # unchanged lines (titles, borders) are skipped, not rewritten
    view.draw()
    third = out.getvalue()[len(first) + len(second) :]
    moved = re.fullmatch(r"\x1b\[(\d+)F((?:\x1b\[1E)+)\x1b\[J", third)  # nothing changed:
    assert moved and int(moved[1]) == moved[2].count("E") > n_lines  # only cursor moves
    view.close()
    assert out.getvalue().endswith("\x1b[?25h")  # cursor shown again


def test_live_view_charts_wait_fifty_times_their_build_time(monkeypatch):
    """Epochs ending faster than the charts can be afforded: one build, then the final one."""
    from cnntui.cli import live

    builds = []

    def slow_charts(state, width, height, color=True):
        builds.append(state.epoch_version)
        time.sleep(0.02)  # 50 x 0.02 s: the next build waits a second
        return ["chart"]

    monkeypatch.setattr(live, "render_charts", slow_charts)
    out = io.StringIO()
    view = LiveView(stream=out, threaded=False)
    evs = list(run_events())
    for ev in evs[:-1]:  # three epochs within a few milliseconds
        view.handle(ev)
        view.draw()
    assert len(builds) == 1
    assert "epoch 3/3" in out.getvalue()  # the frame still moves without new charts
    view.handle(evs[-1])  # done: the final charts are drawn at once
    view.draw()
    assert len(builds) == 2 and builds[-1] > builds[0]
    view.close()


def test_live_view_memory_stays_bounded_on_long_runs():
    view = LiveView(stream=io.StringIO(), threaded=False)
    view.handle(next(run_events()))
    logs = {"loss": 0.5, "accuracy": 0.8, "val_loss": 0.6, "val_accuracy": 0.7}
    tracemalloc.start()
    for e in range(1, 5001):
        view.handle(make_event("epoch", epoch=e, epochs=5000, logs=dict(logs), seconds=0.1))
        if e % 250 == 0:
            view.draw()  # what the background thread does every 0.1 s
        if e == 1000:
            at_1000 = tracemalloc.get_traced_memory()[0]
    at_5000 = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    epochs = view.state.epoch_x
    assert len(epochs) <= MAX_EPOCH_POINTS + 1
    assert epochs[-1] == 5000 and epochs[0] == 1
    assert at_5000 < at_1000 * 1.5


def test_lines_sink_prints_one_line_per_epoch_and_no_batches():
    out = io.StringIO()
    sink = LineSink(out)
    for ev in run_events(epochs=3):
        sink.handle(ev)
    lines = out.getvalue().splitlines()
    assert len(lines) == 1 + 3 + 1
    assert lines[0].startswith("training m (run r1): 3 epochs")
    assert lines[1].startswith("epoch 1/3  loss 1.0000  acc 0.6000  val_loss 1.1000")
    assert lines[-1].startswith("done: 3 epochs")


def test_jsonl_sink_flushes_each_event_and_readers_skip_torn_lines(tmp_path):
    path = tmp_path / "events.jsonl"
    log = EventLog([JsonlSink(path)])
    log.emit("begin", run_id="r", model="m")
    got, offset = read_events(path)  # readable while the writer is still open
    assert [e["event"] for e in got] == ["begin"]
    with open(path, "a") as fh:
        fh.write('{"event": "epo')  # a writer caught mid-line
    got, offset2 = read_events(path, offset)
    assert got == [] and offset2 == offset
    log.close()


def test_a_failing_sink_is_dropped_not_fatal():
    class Broken:
        def handle(self, event):
            raise OSError("terminal went away")

        def close(self):
            pass

    out = io.StringIO()
    log = EventLog([Broken(), LineSink(out)])
    log.emit("stopped", reason="interrupted by user", epoch=2)
    log.emit("stopped", reason="again", epoch=2)
    assert out.getvalue().count("stopped after epoch 2") == 2
    assert log.errors == ["Broken: terminal went away"]


def test_truncate_history_keeps_committed_epochs_only(tmp_path):
    path = tmp_path / "history.csv"
    path.write_text("epoch,loss\n0,1.0\n1,0.5\n2,0.4\n")
    truncate_history(path, 2)
    assert path.read_text().splitlines() == ["epoch,loss", "0,1.0", "1,0.5"]


def test_train_config_round_trips_and_validates():
    cfg = TrainConfig("m", epochs=3, input_shape=(32, 32, 3), augment=["flip"])
    assert TrainConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    with pytest.raises(ValueError, match="--epochs must be at least 1"):
        TrainConfig("m", epochs=0).validate()
    with pytest.raises(ValueError, match="--strategy must be one of"):
        TrainConfig("m", strategy="tpu").validate()


def test_multiworker_needs_a_valid_tf_config(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ValueError, match="needs the TF_CONFIG"):
        check_strategy("multiworker")
    monkeypatch.setenv("TF_CONFIG", "{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        check_strategy("multiworker")
    monkeypatch.setenv(
        "TF_CONFIG",
        json.dumps({"cluster": {"worker": ["a:1", "b:1"]}, "task": {"type": "worker", "index": 1}}),
    )
    assert check_strategy("multiworker") == "multiworker"


def _frame(monkeypatch, cols: int, rows: int, events) -> list[str]:
    monkeypatch.setenv("COLUMNS", str(cols))
    monkeypatch.setenv("LINES", str(rows))
    out = io.StringIO()
    view = LiveView(stream=out, threaded=False)
    for ev in events:
        view.handle(ev)
    view.draw()
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out.getvalue()).splitlines()


def test_live_view_fits_80_columns_without_cutting_a_field(monkeypatch):
    evs = list(run_events(epochs=3))
    lines = _frame(monkeypatch, 80, 24, evs[:-1])  # mid-run, after epoch 3
    assert len(lines) <= 23 and all(len(line) <= 79 for line in lines)
    stats = lines[2]
    assert "lr 1.0e-03" in stats or "lr " not in stats  # a field is shown whole or not at all
    assert stats.endswith(("img/s", "1.0e-03")), stats


def test_live_view_uses_the_terminal_height_for_recent_epochs(monkeypatch):
    lines = _frame(monkeypatch, 120, 40, list(run_events(epochs=12))[:-1])
    epoch_lines = [line for line in lines if re.match(r"epoch +\d+/12  loss", line)]
    assert len(epoch_lines) >= 8, lines  # several recent epochs, not only the last
    assert epoch_lines[-1].startswith("epoch 12/12")
    assert 36 <= len(lines) <= 39
