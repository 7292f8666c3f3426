"""Following a run: however fast events come, the live widgets change at most once a frame
(``FRAME_SECONDS``); the end of a run is shown at once."""

from __future__ import annotations

import json
import time
import types

from tui_factory import wait_until, write_run

from cnntui.core.runs import runs_root
from cnntui.tui.app import make_app
from cnntui.tui.messages import RunEvents
from cnntui.tui.widgets import run_view
from cnntui.tui.widgets.run_view import RunView


async def test_live_widgets_change_once_a_frame_and_at_once_at_the_end(monkeypatch):
    run_dir = write_run(runs_root(), "run-live", epochs=1, steps=40)
    events = [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines()]
    begin, batches, done = events[0], events[1:41], events[-1]
    assert [b["step"] for b in batches] == list(range(1, 41)) and done["event"] == "done"
    clock = types.SimpleNamespace(now=1000.0)  # the view's monotonic clock, held still
    monkeypatch.setattr(
        run_view,
        "time",
        types.SimpleNamespace(monotonic=lambda: clock.now, time=time.time, sleep=time.sleep),
    )
    app = make_app(follow_running=False)
    async with app.run_test(size=(100, 32)) as pilot:
        await app.switch_mode("train")  # no follow worker: the events come from this test
        view = app.screen.query_one(RunView)
        frames = []
        render = view._render_progress
        monkeypatch.setattr(view, "_render_progress", lambda: frames.append(1) or render())
        status = view.query_one("#train-status")

        def send(*evs) -> None:
            view.on_run_events(RunEvents("run-live", list(evs), "running"))

        send(begin, batches[0])  # the first change after a quiet spell shows at once
        assert len(frames) == 1 and "step 1/40" in str(status.render())
        for ev in batches[1:30]:  # 29 more within the same frame: folded, not shown yet
            send(ev)
        assert len(frames) == 1 and view.progress.step == 30
        assert "step 1/40" in str(status.render())
        await wait_until(pilot, lambda: len(frames) == 2, 10, "the next frame")
        assert "step 30/40" in str(status.render())  # one frame shows them all
        clock.now += run_view.FRAME_SECONDS  # a frame later: the next event shows at once
        send(batches[30])
        assert len(frames) == 3 and "step 31/40" in str(status.render())
        send(*batches[31:], done)  # the end, within the same frame: shown at once
        assert len(frames) == 4 and "finished" in str(status.render())
