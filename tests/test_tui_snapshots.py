"""Snapshots of every screen at 80x24 with deterministic data (fixed run ids and numbers).

Update after an intended change with ``pytest tests/test_tui_snapshots.py --snapshot-update``
and look at the SVGs in ``tests/__snapshots__/`` before committing them.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from tui_factory import wait_until, write_run

from cnntui.core.runs import runs_root
from cnntui.tui.app import make_app

SIZE = (80, 24)


def snapshot(snap_compare, app, run_before) -> bool:
    """Compare at 80x24 after ``run_before``, without toasts (e.g. a broken user zoo file)."""

    async def settle(pilot):
        await run_before(pilot)
        pilot.app.clear_notifications()
        await pilot.pause()

    return snap_compare(app, terminal_size=SIZE, run_before=settle)


@pytest.fixture
def two_runs():
    root = runs_root()
    write_run(root, "run-a", epochs=4, speed=0.5, created=1_700_000_000.0, checkpoint=True)
    write_run(root, "run-b", epochs=6, speed=0.9, created=1_700_000_100.0, checkpoint=True)
    return root


def test_zoo_snapshot(snap_compare, tui_zoo):
    async def run_before(pilot):
        await pilot.press(*"tuitest", "escape")
        await pilot.pause()

    app = make_app(zoo_dirs=[tui_zoo], follow_running=False)
    assert snapshot(snap_compare, app, run_before)


def test_data_snapshot(snap_compare):
    async def run_before(pilot):
        await pilot.press("f2")
        await pilot.pause()
        await pilot.press("enter")
        screen = pilot.app.screen
        await wait_until(pilot, lambda: screen.query_one("#data-counts").labels, 60, "inspect")
        screen.query_one("#data-tabs Tabs").focus()  # no blinking text cursor in the picture
        await pilot.pause(0.2)

    assert snapshot(snap_compare, make_app(follow_running=False), run_before)


def test_train_form_snapshot(snap_compare, tui_zoo):
    async def run_before(pilot):
        await pilot.app.use_model("tuitest-tiny")
        await pilot.pause()

    app = make_app(zoo_dirs=[tui_zoo], follow_running=False)
    assert snapshot(snap_compare, app, run_before)


def test_train_model_dropdown_open_snapshot(snap_compare, tui_zoo):
    """The open dropdown lists every option, not only the highlighted one."""

    names = ["mnist-mlp", "mnist-conv", "mnist-2conv", "resnet-mini", "tuitest-tiny"]

    async def run_before(pilot):
        await pilot.app.use_model("tuitest-tiny")
        await pilot.pause()
        select = pilot.app.screen.query_one("#train-model")
        # a fixed list: other tests may register more zoo entries in this process
        select.set_options([(n, n) for n in names])
        select.value = "tuitest-tiny"
        select.focus()
        await pilot.press("enter")
        await pilot.pause()

    app = make_app(zoo_dirs=[tui_zoo], follow_running=False)
    assert snapshot(snap_compare, app, run_before)


def test_predict_run_dropdown_open_snapshot(snap_compare, two_runs):
    async def run_before(pilot):
        await pilot.press("f6")
        await pilot.pause()
        pilot.app.screen.query_one("#predict-run").focus()
        await pilot.press("enter")
        await pilot.pause()

    assert snapshot(snap_compare, make_app(follow_running=False), run_before)


def test_train_following_snapshot(snap_compare, two_runs):
    async def run_before(pilot):
        await pilot.app.open_run("run-b", "train")
        screen = pilot.app.screen
        await wait_until(pilot, lambda: screen.progress.finished, 20, "run-b to be read")
        await pilot.pause(0.3)  # one chart redraw tick

    assert snapshot(snap_compare, make_app(follow_running=False), run_before)


def test_runs_snapshot(snap_compare, two_runs):
    async def run_before(pilot):
        await pilot.press("f4")
        screen = pilot.app.screen
        await wait_until(pilot, lambda: len(screen.rows) == 2, 20, "the runs table")
        await pilot.press("space", "down", "space")
        await pilot.pause(0.3)

    assert snapshot(snap_compare, make_app(follow_running=False), run_before)


def test_evaluate_snapshot(snap_compare, two_runs, digits):
    from cnntui.core.judge.evaluate import EvaluationResult

    x, y = digits
    rng = np.random.default_rng(0)
    idx = rng.choice(len(y), 60, replace=False)
    logits = rng.normal(size=(60, 10)) + 3.0 * np.eye(10)[y[idx]]
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    result = EvaluationResult(
        class_names=[str(k) for k in range(10)],
        y_true=y[idx],
        probs=probs,
        ids=[f"val#{i}" for i in range(60)],
        source="sample",
        split="val",
        images=x[idx][..., None] / 255.0,
    )

    async def run_before(pilot):
        await pilot.press("f5")
        await pilot.pause()
        screen = pilot.app.screen
        screen.show_result(result, result.report())
        await pilot.pause()
        screen.show_cell(3, 3)
        await pilot.pause()

    assert snapshot(snap_compare, make_app(follow_running=False), run_before)


def test_predict_snapshot(snap_compare, two_runs, digits, tmp_path, monkeypatch):
    from cnntui.core.inference.predict import Prediction
    from cnntui.core.inference.probabilities import top_classes
    from cnntui.tui.messages import Predicted
    from cnntui.tui.screens.predict import preview_pixels

    x, y = digits
    monkeypatch.chdir(tmp_path)  # relative paths: nothing machine-specific on screen
    Image.fromarray(x[4999]).save("digit-9.png")
    probs = np.array([0.01, 0.02, 0.01, 0.03, 0.08, 0.02, 0.01, 0.12, 0.05, 0.65])
    names = [str(k) for k in range(10)]
    predictions = [
        Prediction(path="digit-9.png", top=top_classes(probs, names, 5), probabilities=probs),
        Prediction(path="notes.png", error="not an image file (unknown or unsupported format)"),
    ]

    async def run_before(pilot):
        await pilot.press("f6")
        await pilot.pause()
        screen = pilot.app.screen
        screen.query_one("#predict-paths").value = "digit-9.png notes.png"
        screen.post_message(
            Predicted(predictions, [preview_pixels("digit-9.png"), None], done=True)
        )
        await pilot.pause(0.2)

    assert snapshot(snap_compare, make_app(follow_running=False), run_before)
