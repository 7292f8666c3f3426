"""The one tail reader and the one fold of a run's events (cnntui.core.event_stream)."""

from __future__ import annotations

import json

from tui_factory import write_run

from cnntui.core.event_stream import EventTail, FoldCache, RunProgress, fold_file
from cnntui.core.formats import fit_fields, fmt_duration, fmt_metric
from cnntui.tui import follow as tui_follow


def _events(run_dir):
    return [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines()]


def test_tail_returns_only_new_complete_lines(tmp_path):
    path = tmp_path / "events.jsonl"
    tail = EventTail(path)
    assert tail.read_new() == []  # no file yet
    path.write_text('{"event": "begin"}\n{"event": "ba', encoding="utf-8")
    assert tail.read_new() == [{"event": "begin"}]
    assert tail.read_new() == []  # the torn line waits
    with open(path, "a", encoding="utf-8") as fh:
        fh.write('tch", "step": 1}\nnot json\n{"event": "epoch"}\n')
    assert tail.read_new() == [{"event": "batch", "step": 1}, {"event": "epoch"}]
    assert tail.offset == path.stat().st_size
    path.write_text('{"event": "begin", "run_id": "new"}\n', encoding="utf-8")  # replaced
    assert tail.read_new() == [{"event": "begin", "run_id": "new"}] and tail.restarted


def test_tail_can_skip_batch_lines_unparsed(tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_text('{"event":"batch","step":1}\n{"event":"epoch","epoch":1}\n', encoding="utf-8")
    assert EventTail(path, skip=("batch",)).read_new() == [{"event": "epoch", "epoch": 1}]


def test_the_tui_follows_with_the_core_and_keeps_no_reader_of_its_own():
    from import_graph import imports

    reached = {i.target for i in imports() if i.source == "cnntui.tui.follow"}
    assert "cnntui.core.train.follow" in reached
    assert not {"EventTail", "RunProgress", "format_duration"} & set(vars(tui_follow))


def test_progress_folds_a_whole_run(tmp_path):
    events = _events(write_run(tmp_path, "run-a", epochs=3, steps=4))
    p = RunProgress()
    p.feed(events[:7])  # begin + 4 batches of epoch 1 + epoch 1 + 1 batch of epoch 2
    assert p.state == "running"
    assert (p.epoch, p.step, p.steps, p.epochs) == (1, 1, 4, 3)
    assert abs(p.fraction - 5 / 12) < 1e-9
    assert "epoch 2/3" in p.status_line() and "step 1/4" in p.status_line()
    p.feed(events[7:])
    assert p.finished and p.state == "finished"
    assert p.epoch_x == [1, 2, 3]
    assert len(p.history["val_accuracy"]) == 3
    assert len(p.batch_curve("loss")[0]) == 12
    assert p.fraction == 1.0
    assert p.lines[0].startswith("training tuitest-tiny (run run-a): 3 epochs, 256 images")
    assert p.lines[1].startswith("epoch 1/3  loss ")
    assert p.lines[-1].startswith("done:")
    assert p.best("val_loss") == min(p.curve("val_loss")[1])


def test_progress_reports_stop_failure_and_a_killed_run():
    p = RunProgress()
    p.feed([{"event": "stopped", "reason": "interrupted by user", "epoch": 2}])
    assert p.state == "stopped" and "interrupted by user" in p.lines[-1]
    q = RunProgress()
    q.feed([{"event": "failed", "reason": "out of memory", "error": "ResourceExhaustedError"}])
    assert q.state == "failed" and q.reason == "out of memory"
    r = RunProgress()
    r.feed([{"event": "begin", "epochs": 2, "steps_per_epoch": 4}])
    r.apply_status("running")
    assert not r.finished
    r.apply_status("interrupted")  # the process died without a final event
    assert r.finished and r.lines[-1] == "run is interrupted"


def test_formatters():
    assert fmt_duration(None) == "-"
    assert fmt_duration(5) == "5s"
    assert fmt_duration(125) == "2m05s"
    assert fmt_duration(3720) == "1h02m"
    assert fmt_metric("val_accuracy", 0.87812) == "0.8781"
    assert fmt_metric("val_accuracy", 0.87812, pct=True) == "87.81%"
    assert fmt_metric("learning_rate", 0.001) == "1.0e-03"
    assert fmt_metric("loss", None) == "-" and fmt_metric("loss", float("nan")) == "nan"
    assert fit_fields(["epoch 1/3", "loss 0.1234", "lr 1.0e-03"], 23) == "epoch 1/3 · loss 0.1234"
    assert (
        fit_fields(["epoch 1/3", "val_loss 0.1234", "lr 1.0e-03"], 22) == "epoch 1/3 · lr 1.0e-03"
    )


def test_progress_after_resume_keeps_one_value_per_epoch(tmp_path):
    events = _events(write_run(tmp_path, "run-r", epochs=3, steps=2, finish=False))
    first_two = events[: 1 + 2 * 3]  # begin + 2 epochs of (2 batches + epoch)
    p = RunProgress()
    p.feed(first_two)
    p.feed(events[7:9])  # one batch of epoch 3, then the process was killed
    # resumed: a new begin after epoch 2, then epoch 2's event repeated and epoch 3
    p.feed([{**events[0], "initial_epoch": 2, "epochs": 3}])
    assert p.epoch_x == [1, 2] and max(p.batch_curve("loss")[0]) <= 2
    p.feed([events[6], *events[7:]])
    assert p.epoch_x == [1, 2, 3]
    assert all(len(v) == 3 for v in p.history.values())
    p.feed([{"event": "done", "reason": "early stopping: val_loss did not improve"}])
    assert p.state == "finished" and "early stopping" in p.lines[-1]


def _begin(epochs=3, steps=100, batch_size=50):
    return {
        "event": "begin",
        "time": 1000.0,
        "epochs": epochs,
        "steps_per_epoch": steps,
        "batch_size": batch_size,
    }


def test_eta_in_the_first_epoch_comes_from_the_batch_rate():
    p = RunProgress()
    p.feed([_begin()])
    assert p.eta() is None and "ETA -" in p.status_line()
    # 10 of 100 steps at 500 img/s and 50 images a batch: 0.1 s a step
    p.feed([{"event": "batch", "time": 1001.0, "epoch": 1, "step": 10, "steps": 100,
             "images_per_sec": 500.0, "logs": {"loss": 2.0}}])  # fmt: skip
    assert abs(p.eta() - (90 * 0.1 + 2 * 100 * 0.1)) < 1e-9  # 29 s
    assert abs(p.epoch_eta() - 9.0) < 1e-9
    assert "ETA 29s" in p.status_line()
    assert abs(p.eta(now=1005.0) - 25.0) < 1e-9  # counts down between events


def test_eta_after_an_epoch_uses_epoch_times():
    p = RunProgress()
    p.feed([_begin(), {"event": "epoch", "time": 1012.0, "epoch": 1, "epochs": 3,
                       "seconds": 12.0, "logs": {"loss": 1.0}}])  # fmt: skip
    assert p.eta() == 24.0  # two epochs of 12 s left, validation included
    p.feed([{"event": "done", "time": 1040.0}])
    assert p.eta() == 0.0 and "ETA" not in p.status_line()


def test_fold_cache_reads_only_what_was_appended(tmp_path):
    run_dir = write_run(tmp_path, "run-c", epochs=2, steps=2, finish=False)
    path = run_dir / "events.jsonl"
    cache = FoldCache()
    first = cache.get(path)
    assert first.epoch_x == [1, 2] and first.batch_points == []  # batches skipped
    size = path.stat().st_size
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps({"event": "epoch", "epoch": 3, "epochs": 3, "logs": {"loss": 0.1}}))
        fh.write("\n")
    again = cache.get(path)
    assert again is first and again.epoch_x == [1, 2, 3]
    assert again.curve("loss")[1][-1] == 0.1
    assert cache._folds[str(path)][0].offset > size
    assert fold_file(path).epoch_x == [1, 2, 3]


def test_a_time_budgets_epoch_total_reads_as_an_estimate():
    from cnntui.cli.live import progress_line
    from cnntui.core.event_stream import RunProgress

    state = RunProgress()
    state.feed([
        {"event": "begin", "epochs": 51, "epochs_estimated": True, "steps_per_epoch": 3,
         "batch_size": 32, "time": 1000.0},
        {"event": "epoch", "epoch": 1, "epochs": 112, "epochs_estimated": True, "logs": {},
         "seconds": 0.4, "eta_seconds": 14.5, "time": 1000.5},
    ])  # fmt: skip
    assert "epoch 1/~112" in state.status_fields()
    assert progress_line(state, 100).startswith("epoch 2/~112 ")
    # 111 more epochs of 0.4 s would be 44 s, but the budget ends 14.5 s after that epoch
    assert state.eta() == 14.5
    state.feed([{"event": "batch", "epoch": 2, "step": 1, "steps": 3, "logs": {},
                 "images_per_sec": 8000.0, "time": 1004.5}])  # fmt: skip
    assert state.eta() == 10.5
    plain = RunProgress()
    plain.feed([{"event": "begin", "epochs": 5, "steps_per_epoch": 3}])
    assert "epoch 1/5" in plain.status_fields()  # no budget: no "~"
