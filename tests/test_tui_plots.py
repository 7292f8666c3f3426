"""Charts: drawn as Textual would draw plotext's text, built only when painted after a change."""

from __future__ import annotations

import math

from textual.app import App, ComposeResult
from textual.containers import Horizontal
from textual.visual import Visual, visualize
from textual.widgets import Static
from textual_plotext import PlotextPlot
from tui_factory import wait_until

from cnntui.tui.widgets.plots import BarPlot, SeriesPlot


class _Charts(App):
    CSS = "#panel { height: auto; } #side { width: 12; } PlotextPlot { width: 1fr; height: 1fr; }"

    def compose(self) -> ComposeResult:
        yield Static("a panel", id="panel")
        with Horizontal():
            yield Static("side", id="side")
            yield SeriesPlot("loss", id="series")
            yield BarPlot("counts", id="bars")


def _cells(strips) -> list[list[tuple[str, object]]]:
    """Each line as (character, style) cells, the mouse metadata Textual adds left out."""
    return [
        [
            (ch, style.clear_meta_and_links() if style else None)
            for text, style, _ in s
            for ch in text
        ]
        for s in strips
    ]


def _fill(plot: SeriesPlot, points: int) -> None:
    xs = [i / 50 for i in range(points)]
    plot.set_series("batch", xs, [2 * math.exp(-x) + 0.05 * math.sin(9 * x) for x in xs], "dot")
    plot.set_series("loss", [1, 2, 3, 4], [1.2, 0.7, 0.5, 0.42])
    plot.set_series("val_loss", [1, 2, 3, 4], [1.3, 0.9, 0.8, 0.79], marker="x")


async def test_charts_look_exactly_as_textual_draws_plotexts_text():
    app = _Charts()
    async with app.run_test(size=(100, 30)) as pilot:
        series, bars = app.query_one(SeriesPlot), app.query_one(BarPlot)
        _fill(series, 400)
        bars.set_bars(["cat", "dog", "bird"], [30, 12, 5])
        await pilot.pause()
        for plot in (series, bars):
            width, height = plot.size
            ours = [plot.render_line(y) for y in range(height)]
            # what textual-plotext's own render() gives, through Textual's generic path
            theirs = Visual.to_strips(
                plot, visualize(plot, PlotextPlot.render(plot)), width, height, plot.visual_style
            )
            assert len(ours) == len(theirs) == height
            assert _cells(ours) == _cells(theirs)
            assert len({style for line in _cells(ours) for _, style in line}) >= 2  # coloured


async def test_a_chart_is_built_once_per_paint_and_not_again_on_layouts():
    app = _Charts()
    async with app.run_test(size=(100, 30)) as pilot:
        plot = app.query_one(SeriesPlot)
        await pilot.pause()
        before = plot.builds
        for n in range(10, 60, 10):  # five changes before the next paint: one build
            _fill(plot, n)
        await pilot.pause()
        assert plot.builds == before + 1
        size = plot.size
        app.query_one("#panel", Static).update("another panel")  # the screen lays out again
        await pilot.pause()
        assert plot.size == size and plot.builds == before + 1  # same data, same size: kept


async def test_a_resized_chart_is_painted_cut_first_and_built_at_its_size_after():
    app = _Charts()
    async with app.run_test(size=(100, 30)) as pilot:
        plot = app.query_one(SeriesPlot)
        _fill(plot, 200)
        await pilot.pause()
        before, width = plot.builds, plot.size.width
        first_paints = []
        resized = plot._resized

        def spy(new_width: int) -> None:  # the first paint at the new size
            first_paints.append((plot.builds, new_width))
            resized(new_width)

        plot._resized = spy
        app.query_one("#side").display = False  # the charts get wider
        await wait_until(pilot, lambda: plot.builds == before + 1, 10, "the build at the new size")
        assert plot.size.width > width
        assert first_paints == [(before, plot.size.width)]  # painted without building first
        assert all(plot.render_line(y).cell_length == plot.size.width for y in range(28))
        assert "loss" in "".join(seg.text for seg in plot.render_line(0))
        await pilot.pause()
        assert plot.builds == before + 1  # one build for the resize
