"""The live status line repaints in place unless its row count changes."""

from __future__ import annotations

from textual.app import App, ComposeResult

from cnntui.tui.widgets.status import StatusLine


class _One(App):
    def compose(self) -> ComposeResult:
        yield StatusLine("epoch 1/5", id="s")


async def test_status_line_asks_for_a_layout_only_when_its_rows_change():
    app = _One()
    async with app.run_test(size=(40, 10)) as pilot:
        line = app.query_one(StatusLine)
        await pilot.pause()
        line.set_text("epoch 2/5  batch 10/40")  # still one row at 40 columns
        assert not line._layout_required
        assert str(line.render()) == "epoch 2/5  batch 10/40"
        await pilot.pause()
        line.set_text("x" * 70)  # two rows now: the screen must lay out again
        assert line._layout_required
        await pilot.pause()
        assert line.size.height == 2
