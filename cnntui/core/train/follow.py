"""Follow a run from another process: replay ``events.jsonl`` and tail it until it ends."""

from __future__ import annotations

import time
from typing import Any

from cnntui.core.event_stream import FINAL_EVENT_STATUS, FINAL_STATUSES, EventTail
from cnntui.core.runs import EVENTS, Run
from cnntui.core.train.events import Sink


def follow(run: Run, sink: Sink, poll: float = 0.2, timeout: float | None = None) -> str:
    """Feed every event of ``run`` to ``sink`` until it ends; returns the run's status.

    Ends on a final event (``done``/``stopped``/``failed``) once the run is no longer
    running, or when the training process is gone without one (``interrupted``).
    A resumed run writes a new ``begin`` after an earlier final event; that is followed.
    """
    tail = EventTail(run.path(EVENTS))
    final: dict[str, Any] | None = None
    quiet_polls = 0
    started = time.monotonic()
    while True:
        events = tail.read_new()
        for event in events:
            sink.handle(event)
            kind = event.get("event")
            if kind in FINAL_EVENT_STATUS:
                final = event
            elif kind == "begin":
                final = None
        status = run.status
        if events:
            quiet_polls = 0
        else:
            quiet_polls += 1
        if status in FINAL_STATUSES and (final is not None or quiet_polls >= 2):
            return status
        if timeout is not None and time.monotonic() - started > timeout:
            return status
        time.sleep(poll)
