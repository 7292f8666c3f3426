"""Plot widgets that hold their own data and draw it when painted after a change."""

from __future__ import annotations

import math
from collections.abc import Sequence

from textual.strip import Strip
from textual_plotext import PlotextPlot

from cnntui.tui.widgets.ansi import AnsiStrips


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
    """A plotext chart drawn only when it is painted after its data, size or theme changed.

    Setting data only marks the chart changed (:meth:`changed`): however often that happens,
    the figure is drawn (:meth:`draw`) and built at most once per paint, and never while it
    is not on screen. Textual asks a widget to paint again after any layout change on its
    screen (a status line growing by a character is enough); that reuses the strips built
    last. plotext's ANSI text becomes strips through :class:`AnsiStrips` (Rich's decoder
    and Textual's content rendering cost as much as plotext's own build). Text in a chart
    is not selectable.
    """

    ALLOW_SELECT = False

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, classes=classes)
        self._version = 0
        self._key: tuple | None = None
        self._strips: list[Strip] = []
        self._ansi: tuple[object, AnsiStrips] | None = None
        self._build_after = False  # a build at the new size waits for the next refresh
        self.builds = 0  # figures built so far (a test and the follow bench read it)

    def changed(self) -> None:
        """The data changed: draw and build the figure when it is next painted."""
        self._version += 1
        self.refresh()

    def draw(self) -> None:
        """Make the plotext calls for the data held (``self.plt`` is cleared first)."""

    def ansi(self) -> str:
        """The figure as plotext's ANSI text, at the widget's size and the app's theme.

        The same calls as ``PlotextPlot.render``, without its ``Text.from_ansi``.
        """
        width, height = self.size
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        self.draw()
        plt.plotsize(width, height)
        plt._set_size(width, height)
        plt.theme(self._get_plotext_theme_name(self.app.theme))
        return plt.build()

    def render_line(self, y: int) -> Strip:
        width, height = self.size
        key = (self._version, width, height, self.app.theme, self.theme)
        if key != self._key:
            old, self._key = self._key, key
            if old is not None and old[0] == key[0] and old[3:] == key[3:] and self._strips:
                self._resized(width)
            else:
                self._strips = self._converter().strips(self.ansi(), width) if width else []
                self.builds += 1
        if y < len(self._strips):
            return self._strips[y]
        return Strip.blank(width, self.visual_style.rich_style)

    def _resized(self, width: int) -> None:
        """Only the size changed: this paint shows the last figure cut or padded to the new
        size, and the figure is built again at the new size right after it (a key that
        shows or hides a panel is answered without waiting for the charts)."""
        pad = self.visual_style.rich_style
        self._strips = [s.crop(0, width).extend_cell_length(width, pad) for s in self._strips]
        if self._build_after:
            return
        self._build_after = True

        def again() -> None:
            self._build_after, self._key = False, None
            self.refresh()

        self.call_after_refresh(again)

    def _converter(self) -> AnsiStrips:
        """The ANSI converter for the current theme and styles (styles are cached in it)."""
        styles = (self.app.theme, self.theme, self.visual_style)
        if self._ansi is None or self._ansi[0] != styles:
            self._ansi = (styles, AnsiStrips(self))
        return self._ansi[1]


class SeriesPlot(CachedPlot):
    """A line chart of named series, drawn from the series it holds."""

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

    def set_series(
        self, name: str, xs: Sequence[float], ys: Sequence[float], marker: str = "hd"
    ) -> None:
        """Replace one series (drawn when the chart is next painted)."""
        self.series[name] = (list(xs), list(ys), marker)
        self.changed()

    def clear_series(self) -> None:
        self.series.clear()
        self.changed()

    def draw(self) -> None:
        plt = self.plt
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


class BarPlot(CachedPlot):
    """A bar chart of labelled counts, drawn from the data it holds."""

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

    def set_bars(self, labels: Sequence[str], values: Sequence[float], title: str = "") -> None:
        self.labels, self.values = [str(x) for x in labels], [float(v) for v in values]
        if title:
            self.title_text = title
        self.changed()

    def draw(self) -> None:
        plt = self.plt
        plt.title(self.title_text)
        if self.labels:
            plt.bar(self.labels, self.values, marker="hd")
