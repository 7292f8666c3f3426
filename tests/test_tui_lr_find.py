"""Pilot test of the Train screen's Find LR: a real sweep in a worker fills the form's
learning-rate field with the suggestion, and starts nothing else."""

from __future__ import annotations

import math

from tui_factory import wait_until

from cnntui.core.runs import runs_root
from cnntui.core.train.lr_find import END_LR, START_LR
from cnntui.tui.app import make_app

SIZE = (100, 32)


def _run_dirs() -> list[str]:
    root = runs_root()
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


async def test_find_lr_button_fills_the_learning_rate_field(tui_zoo):
    app = make_app(zoo_dirs=[tui_zoo], follow_running=False)
    async with app.run_test(size=SIZE) as pilot:
        await app.use_model("tuitest-tiny")
        await pilot.pause()
        screen = app.screen
        lr_field = screen.query_one("#train-lr")
        lr_field.value = "0.777"
        screen.query_one("#train-limit").value = "300"
        await pilot.click("#train-lrfind")
        started = lambda: screen.sweeping or screen.last_sweep is not None  # noqa: E731
        await wait_until(pilot, started, 30, "the button to start the sweep")
        assert app.screen is screen  # no confirmation dialog, no other screen
        await wait_until(pilot, lambda: not screen.sweeping, 120, "the LR sweep to finish")
        await pilot.pause()
        assert screen.last_sweep is not None, "the sweep posted no result"
        sweep = screen.last_sweep.sweep
        assert screen.last_sweep.info["model"] == "tuitest-tiny"
        assert len(sweep["lrs"]) >= 2 and sweep["suggestion"] is not None
        assert START_LR <= sweep["suggestion"] <= END_LR
        # the field holds the suggestion (two significant digits), not the old value
        assert lr_field.value != "0.777"
        assert math.isclose(float(lr_field.value), sweep["suggestion"], rel_tol=0.05)
        assert "suggested" in str(screen.query_one("#train-title").render())
        assert screen.query_one("#train-loss").series["smoothed loss"][0]
        # nothing else started: no run directory, no launch, no run followed
        assert _run_dirs() == []
        assert screen.run_dir is None
        assert not [w for w in app.workers if w.group == "launch"]
