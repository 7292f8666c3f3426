"""A one-line-or-more status text that repaints in place when its shape does not change."""

from __future__ import annotations

from rich.cells import cell_len
from textual.widgets import Static


class StatusLine(Static):
    """A ``Static`` for text that changes often (a live run's status, several times a second).

    ``Static.update`` asks for a layout of the whole screen, which repaints every widget on
    it; when the old and the new text take the same number of rows at the current width,
    only this widget needs repainting.
    """

    def __init__(self, text: str = "", **kwargs) -> None:
        super().__init__(text, **kwargs)
        self._text = text

    def _rows(self, text: str) -> int | None:
        width = self.content_size.width
        if width <= 0:
            return None
        return sum(max(1, -(-cell_len(line) // width)) for line in text.split("\n"))

    def set_text(self, text: str) -> None:
        """Show ``text``; a layout only when its row count changes (or is unknown)."""
        rows_now, rows_new = self._rows(self._text), self._rows(text)
        self._text = text
        self.update(text, layout=rows_now is None or rows_now != rows_new)
