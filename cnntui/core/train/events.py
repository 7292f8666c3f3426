"""Training events: building them, and the JSONL sink every run writes.

The schema is fixed in ``docs/ARCHITECTURE.md`` (``begin``, ``batch``, ``epoch``, ``done``,
``stopped``, ``failed``); every event carries ``event`` and ``time`` (Unix seconds).
A sink is any object with ``handle(event)`` and ``close()``; sinks must return quickly.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any, Protocol

EVENT_KINDS = ("begin", "batch", "epoch", "skipped", "done", "stopped", "failed")
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
        self._fh = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - closed in close()

    def handle(self, event: dict[str, Any]) -> None:
        if self._fh.closed:
            return
        self._fh.write(json.dumps(event, separators=(",", ":"), default=_default) + "\n")
        self._fh.flush()

    def close(self) -> None:
        if not self._fh.closed:
            self._fh.close()


class EventLog:
    """Fan one event out to several sinks; a failing sink is dropped, never fatal."""

    def __init__(self, sinks: list[Sink] | None = None):
        self.sinks: list[Sink] = list(sinks or [])
        self.errors: list[str] = []

    def emit(self, kind: str, **fields: Any) -> dict[str, Any]:
        event = make_event(kind, **fields)
        for sink in list(self.sinks):
            try:
                sink.handle(event)
            except Exception as exc:  # noqa: BLE001 - a display problem must not stop training
                self.errors.append(f"{type(sink).__name__}: {exc}")
                self.sinks.remove(sink)
        return event

    def close(self) -> None:
        for sink in self.sinks:
            try:
                sink.close()
            except Exception as exc:  # noqa: BLE001
                self.errors.append(f"{type(sink).__name__}: {exc}")


def read_events(path: str | Path, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """Complete events from byte ``offset`` on, and the offset to continue from.

    A torn last line (a writer mid-write) is left for the next call.
    """
    events: list[dict[str, Any]] = []
    try:
        with open(path, "rb") as fh:
            fh.seek(offset)
            data = fh.read()
    except OSError:
        return events, offset
    end = data.rfind(b"\n") + 1
    for line in data[:end].splitlines():
        try:
            events.append(json.loads(line))
        except ValueError:
            continue
    return events, offset + end


def _default(obj: Any) -> Any:
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if hasattr(obj, "item"):
        return obj.item()
    if isinstance(obj, (set, tuple)):
        return list(obj)
    return str(obj)
