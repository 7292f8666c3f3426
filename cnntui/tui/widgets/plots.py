"""Plot widgets that hold their own data and redraw from it (at most ~10 times a second)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from rich.text import Text
from textual_plotext import PlotextPlot

REDRAW_INTERVAL = 0.1  # seconds: charts redraw at most ten times a second


def _finite(xs: Sequence[float], ys: Sequence[float]) -> tuple[list[float], list[float]]:
    pairs = [(x, y) for x, y in zip(xs, ys, strict=False) if y is not None and math.isfinite(y)]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def thin(xs: Sequence[float], ys: Sequence[float], limit: int = 160) -> tuple[list, list]:
    """Keep at most ``limit`` points, evenly spaced, always keeping the last."""
    n = len(xs)
    if n <= limit:
        return list(xs), list(ys)
    step = n / limit
    idx = sorted({int(i * step) for i in range(limit)} | {n - 1})
    return [xs[i] for i in idx], [ys[i] for i in idx]


class CachedPlot(PlotextPlot):
    """A plotext chart that builds its text only when its data, size or theme changed.

    Textual asks a widget to render again after any layout change on its screen (a status
    line growing by a character is enough); building a plotext figure and decoding its ANSI
    colours costs tens of milliseconds, which kept a follower busy and key presses waiting.
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, classes=classes)
        self._version = 0
        self._built: tuple[tuple, Text] | None = None

    def changed(self) -> None:
        """The figure was redrawn: build its text on the next render."""
        self._version += 1
        self.refresh()

    def render(self) -> Text:
        key = (self._version, self.size.width, self.size.height, self.app.theme)
        if self._built is None or self._built[0] != key:
            self._built = (key, super().render())
        return self._built[1]


class SeriesPlot(CachedPlot):
    """A line chart of named series; ``replot()`` redraws from the series it holds."""

    def __init__(
        self,
        title: str = "",
        *,
        xlabel: str = "epoch",
        id: str | None = None,  # noqa: A002 - Textual's name
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.title_text = title
        self.xlabel = xlabel
        self.series: dict[str, tuple[list[float], list[float], str]] = {}
        self._dirty = True

    def on_mount(self) -> None:
        super().on_mount()
        self.set_interval(REDRAW_INTERVAL, self._redraw_if_dirty)
        self.replot()

    def set_series(
        self, name: str, xs: Sequence[float], ys: Sequence[float], marker: str = "hd"
    ) -> None:
        """Replace one series; the chart redraws on the next tick."""
        self.series[name] = (list(xs), list(ys), marker)
        self._dirty = True

    def clear_series(self) -> None:
        self.series.clear()
        self._dirty = True

    def _redraw_if_dirty(self) -> None:
        if self._dirty and self.screen.is_current:
            self.replot()

    def replot(self) -> None:
        """Clear and redraw every series now."""
        self._dirty = False
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title(self.title_text)
        plt.xlabel(self.xlabel)
        drawn = False
        for name, (xs, ys, marker) in self.series.items():
            fx, fy = thin(*_finite(xs, ys), limit=max(20, 2 * self.size.width))
            if fx:
                plt.plot(fx, fy, label=name, marker=marker)
                drawn = True
        if not drawn:
            plt.xlim(0, 1)
            plt.ylim(0, 1)
        self.changed()


class BarPlot(CachedPlot):
    """A bar chart of labelled counts; ``replot()`` redraws from the data it holds."""

    def __init__(
        self,
        title: str = "",
        *,
        id: str | None = None,  # noqa: A002 - Textual's name
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.title_text = title
        self.labels: list[str] = []
        self.values: list[float] = []

    def on_mount(self) -> None:
        super().on_mount()
        self.replot()

    def set_bars(self, labels: Sequence[str], values: Sequence[float], title: str = "") -> None:
        self.labels, self.values = [str(x) for x in labels], [float(v) for v in values]
        if title:
            self.title_text = title
        self.replot()

    def replot(self) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title(self.title_text)
        if self.labels:
            plt.bar(self.labels, self.values, marker="hd")
        self.changed()
