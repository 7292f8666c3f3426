"""Training events: building them, fanning them out to sinks, the JSONL sink every run writes.

The schema is fixed in ``docs/ARCHITECTURE.md`` (``begin``, ``batch``, ``epoch``, ``done``,
``stopped``, ``failed``); every event carries ``event`` and ``time`` (Unix seconds).
A sink is any object with ``handle(event)`` and ``close()``; sinks must return quickly.
Record sinks (what the run depends on) fail the run; display sinks are droppable.
Reading and folding them back is :mod:`cnntui.core.event_stream`'s job.
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from cnntui.core.errors import EXIT_FAILED, CnntuiError
from cnntui.core.event_stream import read_events

__all__ = [  # read_events: re-exported from the one reader, event_stream
    "EventLog",
    "JsonlSink",
    "RecordError",
    "Sink",
    "clean_logs",
    "make_event",
    "read_events",
]

EVENT_KINDS = ("begin", "phase", "batch", "epoch", "skipped", "done", "stopped", "failed")
FINAL_EVENTS = ("done", "stopped", "failed")


class Sink(Protocol):
    """Where events go. ``handle`` is called from the training thread: keep it cheap."""

    def handle(self, event: dict[str, Any]) -> None: ...

    def close(self) -> None: ...


def make_event(kind: str, **fields: Any) -> dict[str, Any]:
    """An event dict: ``{"event": kind, "time": now, **fields}``."""
    if kind not in EVENT_KINDS:
        raise ValueError(f"unknown event kind {kind!r}; expected one of {EVENT_KINDS}")
    return {"event": kind, "time": round(time.time(), 3), **fields}


def clean_logs(logs: dict[str, Any] | None) -> dict[str, float | None]:
    """Keras logs as plain floats (NaN/inf become ``None`` so the line stays valid JSON)."""
    out: dict[str, float | None] = {}
    for key, value in (logs or {}).items():
        try:
            number = float(value)
        except (TypeError, ValueError):
            continue
        out[key] = number if math.isfinite(number) else None
    return out


class JsonlSink:
    """Append events to ``events.jsonl``, one line each, flushed per event."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(self.path, "a", encoding="utf-8")  # closed in close()

    def handle(self, event: dict[str, Any]) -> None:
        if self._fh.closed:
            return
        self._fh.write(json.dumps(event, separators=(",", ":"), default=_default) + "\n")
        self._fh.flush()

    def close(self) -> None:
        if not self._fh.closed:
            self._fh.close()


class RecordError(CnntuiError):
    """A record sink (``events.jsonl``, ``history.csv``/``state.json``) could not write."""

    exit_code = EXIT_FAILED


def _report_to_stderr(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr, flush=True)


class EventLog:
    """Fan one event out to record sinks, then display sinks.

    A record sink is what the run depends on (``events.jsonl``, the epoch recorder): if it
    raises, :meth:`emit` raises :class:`RecordError` and the run must fail. A display sink
    (live view, lines, TUI) is droppable: on its first error it is removed, the error is
    kept in ``errors`` and reported once through ``report`` (stderr by default), and
    training goes on.
    """

    def __init__(
        self,
        display: list[Sink] | None = None,
        *,
        record: list[Sink] | None = None,
        report: Callable[[str], None] = _report_to_stderr,
    ):
        self.record: list[Sink] = list(record or [])
        self.display: list[Sink] = list(display or [])
        self.errors: list[str] = []
        self.report = report
        self.broken: Sink | None = None  # the record sink that failed, if one did

    def emit(self, kind: str, **fields: Any) -> dict[str, Any]:
        event = make_event(kind, **fields)
        for sink in self.record:
            if sink is self.broken:
                continue
            try:
                sink.handle(event)
            except Exception as exc:
                self.broken = sink
                raise RecordError(
                    f"could not record the {kind!r} event "
                    f"({type(sink).__name__}: {type(exc).__name__}: {exc})",
                    hint="check the run folder's disk space and permissions",
                ) from exc
        for sink in list(self.display):
            try:
                sink.handle(event)
            except Exception as exc:  # noqa: BLE001 - a display problem must not stop training
                self._drop(sink, exc)
        return event

    def _drop(self, sink: Sink, exc: Exception) -> None:
        message = _describe(sink, exc)
        self.errors.append(message)
        self.display.remove(sink)
        self.report(f"{message}; that display is off, training goes on (events.jsonl has all)")

    def close(self) -> None:
        """Close every sink; a record sink failing to close raises :class:`RecordError`."""
        for sink in self.display:
            try:
                sink.close()
            except Exception as exc:  # noqa: BLE001 - a display problem must not fail the run
                self.errors.append(_describe(sink, exc))
        failure: Exception | None = None
        for sink in self.record:
            try:
                sink.close()
            except Exception as exc:  # noqa: BLE001 - every sink gets closed, then it raises
                failure = failure or RecordError(f"could not close {_describe(sink, exc)}")
        if failure is not None:
            raise failure


def _describe(sink: Sink, exc: Exception) -> str:
    return f"{type(sink).__name__}: {exc}"


def _default(obj: Any) -> Any:
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if hasattr(obj, "item"):
        return obj.item()
    if isinstance(obj, (set, tuple)):
        return list(obj)
    return str(obj)
