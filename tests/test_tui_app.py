"""Pilot tests: the main flow of every screen, one real training followed to its end,
then an evaluation and a prediction with the checkpoint it saved."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
from PIL import Image
from tui_factory import wait_until, write_run

from cnntui.core.runs import Run, runs_root
from cnntui.tui.app import make_app
from cnntui.tui.launch import stop_run

SIZE = (100, 32)


async def test_zoo_search_build_and_train_this(tui_zoo):
    app = make_app(zoo_dirs=[tui_zoo], follow_running=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert type(screen).__name__ == "ZooScreen"
        assert len(screen.entries) > 1
        await pilot.press(*"tuitest")  # typing goes to the search field
        await pilot.pause()
        assert [e.name for e in screen.entries] == ["tuitest-tiny"]
        about = str(screen.query_one("#zoo-about-text").render())
        assert "A tiny dense net for TUI tests" in about and "accuracy 90.00%" in about
        await pilot.press("escape", "ctrl+g")
        await wait_until(pilot, lambda: "tuitest-tiny" in screen.details, 120, "the model build")
        summary, table = screen.details["tuitest-tiny"]
        assert "dense" in summary.lower()
        assert table["total_params"] == 28 * 28 * 10 + 10
        grid = screen.query_one("#zoo-params-table")
        assert grid.row_count == len(table["layers"]) > 0
        await pilot.press("ctrl+n")
        await pilot.pause()
        train = app.screen
        assert type(train).__name__ == "TrainScreen"
        assert train.query_one("#train-model").value == "tuitest-tiny"
        assert train.query_one("#train-epochs").value == "3"
        assert train.query_one("#train-batch").value == "64"


async def test_data_inspects_the_bundled_digits(digits):
    app = make_app(follow_running=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f2")
        await pilot.pause()
        screen = app.screen
        assert type(screen).__name__ == "DataScreen"
        await pilot.press("enter")
        bars = screen.query_one("#data-counts")
        await wait_until(pilot, lambda: bars.labels, 60, "the inspection")
        _, y = digits
        assert bars.labels == [str(k) for k in range(10)]
        assert bars.values == [float(n) for n in np.bincount(y, minlength=10)]
        summary = str(screen.query_one("#data-summary-text").render())
        assert f"{len(y):,} images" in summary and "28x28" in summary


async def test_data_reports_a_missing_folder(tmp_path):
    app = make_app(follow_running=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f2")
        await pilot.pause()
        screen = app.screen
        screen.query_one("#data-source").value = str(tmp_path / "nope")
        await pilot.press("enter")
        text = screen.query_one("#data-summary-text")
        await wait_until(
            pilot, lambda: "Could not inspect" in str(text.render()), 30, "the error message"
        )
        assert "nope" in str(text.render())


async def test_runs_compare_and_follow():
    root = runs_root()
    write_run(root, "run-a", epochs=4, speed=0.5, created=1_700_000_000.0)
    write_run(root, "run-b", epochs=6, speed=0.9, created=1_700_000_100.0)
    app = make_app(follow_running=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f4")
        screen = app.screen
        await wait_until(pilot, lambda: len(screen.rows) == 2, 20, "the runs table")
        assert [r["id"] for r in screen.rows] == ["run-b", "run-a"]  # newest first
        events = Run(root / "run-b").events()
        best = max(e["logs"]["val_accuracy"] for e in events if e["event"] == "epoch")
        assert screen.rows[0]["best_val_accuracy"] == best
        plot = screen.query_one("#runs-plot")
        assert list(plot.series) == ["run-b"]  # the highlighted run alone
        await pilot.press("space", "down", "space")
        assert screen.compare == {"run-a", "run-b"}
        assert sorted(plot.series) == ["run-a", "run-b"]
        assert len(plot.series["run-b"][1]) == 6
        await pilot.press("m")
        assert screen.metric == "val_loss" and plot.title_text == "val_loss"
        await pilot.press("enter")  # follow run-a on the Train screen
        train = app.screen
        assert type(train).__name__ == "TrainScreen"
        await wait_until(pilot, lambda: train.progress.finished, 20, "run-a to be read")
        assert train.progress.epoch_x == [1, 2, 3, 4]


async def test_reopening_follows_a_running_run():
    root = runs_root()
    run_dir = write_run(root, "run-live", epochs=3, status="running", finish=False)
    # keep only epoch 1 so far, as if training were still going
    lines = (run_dir / "events.jsonl").read_text().splitlines()
    (run_dir / "events.jsonl").write_text("\n".join(lines[:6]) + "\n")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await wait_until(
            pilot, lambda: type(app.screen).__name__ == "TrainScreen", 10, "the Train screen"
        )
        screen = app.screen
        await wait_until(pilot, lambda: screen.progress.epoch_x == [1], 10, "epoch 1")
        assert screen.progress.state == "running"
        with open(run_dir / "events.jsonl", "a") as fh:
            fh.write("\n".join(lines[6:]) + "\n")
        Run(run_dir).set_status("finished")
        await wait_until(pilot, lambda: screen.progress.finished, 10, "the end of the run")
        assert screen.progress.epoch_x == [1, 2, 3]
        assert "finished" in str(screen.query_one("#train-status").render())


def test_stop_sends_sigint_to_the_training_process(tmp_path):
    marker = tmp_path / "got-sigint"
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import signal, sys, time, pathlib\n"
            f"p = pathlib.Path({str(marker)!r})\n"
            "def h(*a):\n    p.write_text('yes'); sys.exit(0)\n"
            "signal.signal(signal.SIGINT, h)\n"
            "print('ready', flush=True)\n"
            "time.sleep(30)\n",
        ],
        stdout=subprocess.PIPE,
    )
    try:
        assert child.stdout.readline().strip() == b"ready"
        run = Run(write_run(runs_root(), "run-stop", status="running", finish=False))
        info = json.loads(run.path("status.json").read_text())
        run.path("status.json").write_text(json.dumps({**info, "pid": child.pid}))
        assert "asked run-stop to stop" in stop_run(run)
        assert child.wait(timeout=10) == 0
        assert marker.read_text() == "yes"
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    # a finished run is never signalled
    done = Run(write_run(runs_root(), "run-done"))
    assert "is not running" in stop_run(done)


async def test_real_training_from_the_train_screen_then_evaluate_and_predict(digits, tmp_path):
    x, y = digits
    app = make_app(follow_running=False)
    async with app.run_test(size=SIZE) as pilot:
        await app.use_model("mnist-mlp")
        await pilot.pause()
        screen = app.screen
        screen.query_one("#train-epochs").value = "1"
        screen.query_one("#train-batch").value = "32"
        screen.query_one("#train-limit").value = "300"
        screen.query_one("#train-model").focus()
        await pilot.press("ctrl+s")  # asks first, naming model, data and epochs
        await pilot.pause()
        question = str(app.screen.query_one("#confirm-question").render())
        assert "mnist-mlp" in question and "sample" in question and "for 1 epoch?" in question
        await pilot.press("enter")  # the focused Start button
        await wait_until(pilot, lambda: screen.run_dir is not None, 30, "the run directory")
        run = Run(screen.run_dir)
        await wait_until(pilot, lambda: screen.progress.finished, 240, "training to finish")
        assert screen.progress.state == "finished", screen.progress.lines
        assert run.status == "finished"
        assert run.path("best.keras").exists() and run.path("last.keras").exists()
        assert screen.progress.epoch_x == [1]
        assert len(screen.progress.history["val_accuracy"]) == 1
        assert 0.0 <= screen.progress.history["val_accuracy"][0] <= 1.0
        assert "finished" in str(screen.query_one("#train-status").render())
        assert screen.query_one("#train-progress").percentage == 1.0

        # evaluate the checkpoint it saved
        await app.open_run(run.id, "evaluate")
        ev = app.screen
        await wait_until(pilot, lambda: ev.report is not None, 120, "the evaluation")
        cm = np.asarray(ev.report["confusion_matrix"])
        assert cm.shape == (10, 10) and cm.sum() == ev.report["examples"] == 30
        assert ev.query_one("#eval-matrix").row_count == 10
        assert ev.query_one("#eval-table").row_count == 10
        true, pred = np.unravel_index(np.argmax(cm), cm.shape)
        ev.show_cell(int(true), int(pred))
        assert ev.query_one("#eval-examples").option_count == cm[true, pred]

        # predict three real digit images and one broken file
        names = []
        for i in (0, 1500, 4999):
            path = tmp_path / f"digit-{y[i]}-{i}.png"
            Image.fromarray(x[i]).save(path)
            names.append(path)
        broken = tmp_path / "broken.png"
        broken.write_bytes(b"this is not an image")
        await app.open_run(run.id, "predict")
        pr = app.screen
        pr.query_one("#predict-paths").value = " ".join(str(p) for p in [*names, broken])
        pr.action_predict()
        await wait_until(pilot, lambda: len(pr.predictions) == 4, 120, "the predictions")
        by_name = {os.path.basename(p.path): p for p in pr.predictions}
        assert not by_name["broken.png"].ok
        for path in names:
            p = by_name[path.name]
            assert p.ok and len(p.top) == 5
            probs = [t["probability"] for t in p.top]
            assert probs == sorted(probs, reverse=True) and sum(probs) <= 1.0 + 1e-6
        assert pr.query_one("#predict-files").option_count == 4
        shown = str(pr.query_one("#predict-summary").render())
        assert "4 file(s), 1 unreadable" in shown
