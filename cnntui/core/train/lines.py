"""Plain-text output of a run: one compact line per epoch (logs, CI, pipes).

The text itself comes from :mod:`cnntui.core.formats`, shared with every other view.
"""

from __future__ import annotations

import sys
from typing import Any, TextIO

from cnntui.core.formats import describe


class LineSink:
    """Print the begin line, one line per epoch, and the final line to ``stream``."""

    def __init__(self, stream: TextIO | None = None):
        self.stream = stream or sys.stdout

    def handle(self, event: dict[str, Any]) -> None:
        if event.get("event") == "batch":
            return  # the common case, kept cheap: nothing to print
        line = describe(event)
        if line:
            self.stream.write(line + "\n")
            self.stream.flush()

    def close(self) -> None:
        pass
