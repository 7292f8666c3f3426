"""What several commands print with: event sinks for a job's progress, plain tables,
colour on a terminal, text blocks side by side."""

from __future__ import annotations

import os
import sys
from typing import TextIO

from cnntui.cli.errors import CLIError

VIEWS = ("auto", "live", "lines", "none")


def check_view(view: str) -> str:
    """``--view``: one of :data:`VIEWS`, else a :class:`CLIError`."""
    if view not in VIEWS:
        raise CLIError(f"--view must be {', '.join(VIEWS[:-1])} or {VIEWS[-1]}; got {view!r}")
    return view


def sinks(view: str, as_json: bool, quiet: bool) -> list:
    """Where a job's events are shown: the live view in a terminal, lines in a pipe."""
    from cnntui.core.train.lines import LineSink

    if quiet or as_json or view == "none":
        return []
    if view == "live" or (view == "auto" and sys.stdout.isatty()):
        from cnntui.cli.live import LiveView

        return [LiveView()]
    return [LineSink()]


def table(rows: list[list[str]], header: list[str]) -> str:
    """Columns padded to their widest cell, the header first."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(header, widths)).rstrip()]
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    return "\n".join(lines)


def use_color(stream: TextIO) -> bool:
    """Colour on a terminal, unless ``NO_COLOR`` is set or ``TERM`` is ``dumb``."""
    return stream.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


def side_by_side(left: list[str], right: list[str], left_width: int) -> list[str]:
    """Two blocks of lines as columns, ``left`` padded to ``left_width``."""
    out = []
    for i in range(max(len(left), len(right))):
        lt = left[i] if i < len(left) else " " * left_width
        rt = right[i] if i < len(right) else ""
        out.append(f"{lt}  {rt}".rstrip() if rt else lt)
    return out
