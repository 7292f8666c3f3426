"""Following a run from its files: tailing events.jsonl and folding events into progress."""

from __future__ import annotations

import json

from tui_factory import write_run

from cnntui.tui.follow import EventTail, RunProgress, format_duration


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


def test_progress_folds_a_whole_run(tmp_path):
    run_dir = write_run(tmp_path, "run-a", epochs=3, steps=4)
    events = [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines()]
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
    assert len(p.batch_loss) == 12
    assert p.fraction == 1.0
    assert p.lines[0].startswith("begin tuitest-tiny: 3 epochs x 4 steps")
    assert p.lines[-1].startswith("finished")


def test_progress_reports_stop_and_failure():
    p = RunProgress()
    p.feed([{"event": "stopped", "reason": "interrupted by user", "epoch": 2}])
    assert p.state == "stopped" and "interrupted by user" in p.lines[-1]
    q = RunProgress()
    q.feed([{"event": "failed", "reason": "out of memory", "error": "ResourceExhaustedError"}])
    assert q.state == "failed" and q.reason == "out of memory"


def test_format_duration():
    assert format_duration(None) == "-"
    assert format_duration(5) == "5s"
    assert format_duration(125) == "2m05s"
    assert format_duration(3720) == "1h02m"


def test_progress_after_resume_keeps_one_value_per_epoch(tmp_path):
    run_dir = write_run(tmp_path, "run-r", epochs=3, steps=2, finish=False)
    events = [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines()]
    first_two = events[: 1 + 2 * 3]  # begin + 2 epochs of (2 batches + epoch)
    p = RunProgress()
    p.feed(first_two)
    p.feed(events[7:9])  # one batch of epoch 3, then the process was killed
    # resumed: a new begin after epoch 2, then epoch 2's event repeated and epoch 3
    p.feed([{**events[0], "initial_epoch": 2, "epochs": 3}])
    assert p.epoch_x == [1, 2] and max(p.batch_x) <= 2
    p.feed([events[6], *events[7:]])
    assert p.epoch_x == [1, 2, 3]
    assert all(len(v) == 3 for v in p.history.values())
    p.feed([{"event": "done", "reason": "early stopping: val_loss did not improve"}])
    assert p.state == "finished" and "early stopping" in p.lines[-1]
