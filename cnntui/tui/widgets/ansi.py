"""SGR-coloured text (plotext's output) to Textual strips, without Rich's generic decoding.

``Text.from_ansi`` and Textual's content rendering cost about as much as building the
chart itself; a chart's lines use a handful of colour states and most of its lines repeat
from one drawing to the next. Each distinct state is styled once, through Textual's own
path (so the cells look exactly as they would), and each distinct line is cut once, its
neighbouring runs of the same final style joined (fewer segments to paint, crop and filter).
"""

from __future__ import annotations

import re

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.strip import Strip
from textual.visual import Visual, visualize
from textual.widget import Widget

_SGR = re.compile(r"\x1b\[([0-9;]*)m")


class AnsiStrips:
    """Turns lines of SGR-coloured text into :class:`Strip`\\ s for one widget.

    Styles depend on the widget's CSS and the app's theme: make a new one when they change.
    Lines are kept from the last call only, so the cache never outgrows one drawing.
    """

    def __init__(self, widget: Widget) -> None:
        self.widget = widget
        self._styles: dict[tuple[str, ...], Style] = {}
        self._lines: dict[str, Strip] = {}

    def strips(self, ansi: str, width: int) -> list[Strip]:
        """One strip per line of ``ansi``, cropped to ``width`` cells."""
        kept: dict[str, Strip] = {}
        out = []
        for line in ansi.splitlines():
            strip = kept.get(line) or self._lines.get(line)
            if strip is None:
                strip = self._line(line).crop(0, width)
            kept[line] = strip
            out.append(strip)
        self._lines = kept
        return out

    def _line(self, line: str) -> Strip:
        segments = []
        state: list[str] = []
        pos = 0
        for match in _SGR.finditer(line):
            if match.start() > pos:
                segments.append(Segment(line[pos : match.start()], self._style(tuple(state))))
            params = match.group(1)
            if params in ("", "0"):
                state = []
            else:
                state.append(params)
            pos = match.end()
        if pos < len(line):
            segments.append(Segment(line[pos:], self._style(tuple(state))))
        if any("\x1b" in text for text, _, _ in segments):  # not plain SGR: the generic way
            return self._generic(line)
        return Strip(segments).simplify()  # neighbours styled alike: one segment

    def _style(self, state: tuple[str, ...]) -> Style:
        style = self._styles.get(state)
        if style is None:
            probe = "".join(f"\x1b[{params}m" for params in state) + "X"
            (segment,) = [s for s in self._generic(probe) if s.text]
            style = self._styles[state] = (segment.style or Style()).clear_meta_and_links()
        return style

    def _generic(self, line: str) -> Strip:
        """``line`` the way Textual draws ``Text.from_ansi(line)`` (mouse metadata left out)."""
        widget = self.widget
        visual = visualize(widget, Text.from_ansi(line, no_wrap=True))
        width = max(1, Text.from_ansi(line).cell_len)
        strips = Visual.to_strips(widget, visual, width, 1, widget.visual_style)
        strip = strips[0] if strips else Strip([])
        return Strip(
            [
                Segment(text, style.clear_meta_and_links() if style else style, control)
                for text, style, control in strip
            ]
        )
