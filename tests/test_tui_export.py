"""The Export action of the Runs screen: formats chosen, a real export in a worker, the
parity table filling in."""

from __future__ import annotations

import pytest
from run_factory import saved_models, write_run
from tui_factory import wait_until

from cnntui.tui.app import make_app

SIZE = (120, 36)


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    return saved_models(tmp_path_factory.getbasetemp())


async def test_export_from_the_runs_screen(models):
    run = write_run(models["digits10"], [f"d{i}" for i in range(10)])
    app = make_app(follow_running=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f4")
        runs = app.screen
        await wait_until(pilot, lambda: len(runs.rows) == 1, 20, "the runs table")
        await pilot.press("ctrl+x")
        await pilot.pause()
        screen = app.screen
        assert type(screen).__name__ == "ExportScreen" and screen.run_id == run.id
        formats = screen.query_one("#export-formats")
        assert list(formats.selected) == ["savedmodel", "tflite", "tflite-fp16", "tflite-int8"]
        formats.deselect_all()
        formats.select("tflite")
        await pilot.click("#export-start")
        await wait_until(pilot, lambda: screen.report is not None, 240, "the export")
        assert [r["format"] for r in screen.rows] == ["keras", "tflite"]
        assert screen.query_one("#export-table").row_count == 2
        assert screen.rows[1]["passed"] and (run.dir / "export" / "model.tflite").exists()
        assert "every format agrees" in str(screen.query_one("#export-status").render())
        # a second export into the now non-empty folder is refused without the checkbox
        await pilot.click("#export-start")
        await wait_until(pilot, lambda: not screen.busy, 60, "the refusal")
        assert "--force" in str(screen.query_one("#export-status").render())
        await pilot.press("escape")
        assert type(app.screen).__name__ == "RunsScreen"
