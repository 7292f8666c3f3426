"""The Train screen's parts: the form reads a request through the core's one builder and
names a bad field; following a run ends when another run is followed (its stop event)."""

from __future__ import annotations

import pytest
from tui_factory import wait_until, write_run

from cnntui.core.runs import runs_root
from cnntui.tui.app import make_app
from cnntui.tui.widgets.run_view import RunView
from cnntui.tui.widgets.train_form import FormError, TrainForm

SIZE = (100, 32)


async def test_the_form_reads_a_request_and_names_a_bad_field(tui_zoo):
    app = make_app(zoo_dirs=[tui_zoo], follow_running=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await app.train_screen()
        form = screen.query_one(TrainForm)
        with pytest.raises(FormError, match="choose a model first"):
            form.read()
        await app.use_model("tuitest-tiny")
        await pilot.pause()
        form.query_one("#train-lr").value = "auto"
        form.query_one("#train-augment").value = "flip, rotation"
        form.query_one("#train-data").value = "  "
        request = form.read()
        assert (request.model, request.data, request.epochs, request.batch_size) == (
            "tuitest-tiny",
            "sample",
            3,
            64,
        )
        assert request.learning_rate == "auto" and request.augment == ["flip", "rotation"]
        assert request.limit is None
        for widget_id, value, message in [
            ("#train-epochs", "-", "epochs must be a whole number"),
            ("#train-epochs", "0", "--epochs must be at least 1"),
            ("#train-limit", "1", "--limit must be at least 2"),
            ("#train-lr", "fast", "--lr must be a number"),
        ]:
            field = form.query_one(widget_id)
            before, field.value = field.value, value
            with pytest.raises(FormError, match=message):
                form.read()
            field.value = before
        form.query_one("#train-epochs").value = "0"
        await pilot.press("ctrl+s")  # not asked: the error is shown instead
        await pilot.pause()
        assert app.screen is screen


async def test_following_another_run_ends_the_follow_before():
    root = runs_root()
    write_run(root, "run-live", epochs=3, status="running", finish=False)
    write_run(root, "run-b", epochs=2)
    app = make_app(follow_running=False)
    async with app.run_test(size=SIZE) as pilot:
        await app.open_run("run-live", "train")
        view = app.screen.query_one(RunView)
        first = [w for w in app.workers if w.group == "follow"]
        assert len(first) == 1
        await wait_until(pilot, lambda: view.progress.epoch_x == [1, 2, 3], 10, "run-live's epochs")
        assert view.following  # still running: the follow goes on
        await app.open_run("run-b", "train")
        await wait_until(pilot, lambda: first[0].is_finished, 5, "the first follow to end")
        await wait_until(pilot, lambda: view.progress.finished, 10, "run-b to be read")
        assert view.run_dir is not None and view.run_dir.name == "run-b"
