"""Following a run from its directory: the core's one tail reader and one fold.

Kept for the TUI's screens: :class:`EventTail` and :class:`RunProgress` live in
:mod:`cnntui.core.event_stream`, :func:`format_duration` is
:func:`cnntui.core.formats.fmt_duration`.
"""

from __future__ import annotations

from cnntui.core.event_stream import EventTail, RunProgress
from cnntui.core.formats import fmt_duration as format_duration

__all__ = ["EventTail", "RunProgress", "format_duration"]
