"""Follow a run from another process: replay ``events.jsonl`` and tail it until it ends."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from cnntui.core.event_stream import FINAL_EVENT_STATUS, FINAL_STATUSES, EventTail
from cnntui.core.runs import EVENTS, Run
from cnntui.core.train.events import Sink


def follow(
    run: Run,
    sink: Sink,
    poll: float = 0.2,
    timeout: float | None = None,
    *,
    stop: threading.Event | None = None,
    on_poll: Callable[[str], None] | None = None,
) -> str:
    """Feed every event of ``run`` to ``sink`` until it ends; returns the run's status.

    Ends on a final event (``done``/``stopped``/``failed``) once the run is no longer
    running, or when the training process is gone without one (``interrupted``).
    A resumed run writes a new ``begin`` after an earlier final event; that is followed.
    ``stop``: set it to end the follow early (it is also the wait between polls).
    ``on_poll(status)``: called after each poll's events went to ``sink``, with the run's
    status then (a sink that batches its events flushes there).
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
        if on_poll is not None:
            on_poll(status)
        quiet_polls = 0 if events else quiet_polls + 1
        if status in FINAL_STATUSES and (final is not None or quiet_polls >= 2):
            return status
        if timeout is not None and time.monotonic() - started > timeout:
            return status
        if _wait(poll, stop):
            return status


def _wait(seconds: float, stop: threading.Event | None) -> bool:
    """Sleep ``seconds``, or until ``stop`` is set; whether it was."""
    if stop is None:
        time.sleep(seconds)
        return False
    return stop.wait(seconds)
