"""Following a run in a thread worker: the core's :func:`~cnntui.core.train.follow.follow`,
each poll's events posted as one :class:`RunEvents` (the UI is touched only on the app
thread, where the message is handled).
"""

from __future__ import annotations

import threading
from typing import Any

from textual.message_pump import MessagePump
from textual.worker import get_current_worker

from cnntui.core.runs import Run
from cnntui.tui.messages import RunEvents

__all__ = ["PostingSink", "follow_posting"]


class PostingSink:
    """A sink that gathers a poll's events and posts them to ``target`` in one message."""

    def __init__(self, run_id: str, target: MessagePump) -> None:
        self.run_id = run_id
        self.target = target
        self._events: list[dict[str, Any]] = []
        self._status = ""  # the status last posted

    def handle(self, event: dict[str, Any]) -> None:
        self._events.append(event)

    def flush(self, status: str) -> None:
        """Post the events gathered since the last flush, if any, or a change of status."""
        if self._events or status != self._status:
            events, self._events = self._events, []
            self.target.post_message(RunEvents(self.run_id, events, status))
            self._status = status

    def close(self) -> None:
        self._events = []


def follow_posting(run: Run, target: MessagePump, stop: threading.Event, poll: float) -> str:
    """Follow ``run`` until it ends, ``stop`` is set or the calling worker is cancelled,
    posting its events to ``target``; returns the run's status. Call it in a thread worker."""
    from cnntui.core.train.follow import follow

    worker = get_current_worker()
    sink = PostingSink(run.id, target)

    def polled(status: str) -> None:
        sink.flush(status)
        if worker.is_cancelled:
            stop.set()

    try:
        return follow(run, sink, poll=poll, stop=stop, on_poll=polled)
    finally:
        sink.close()
