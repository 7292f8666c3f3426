"""Messages between workers, screens and the app."""

from __future__ import annotations

from typing import Any

from textual.message import Message


class RunEvents(Message):
    """New events (and the current status) of the run being followed."""

    def __init__(self, run_id: str, events: list[dict[str, Any]], status: str) -> None:
        super().__init__()
        self.run_id = run_id
        self.events = events
        self.status = status


class RunStarted(Message):
    """A run launched from the Train screen has its directory."""

    def __init__(self, run_dir: str, pid: int) -> None:
        super().__init__()
        self.run_dir = run_dir
        self.pid = pid


class LaunchFailed(Message):
    """The training process ended before creating a run directory."""

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason


class ModelDetails(Message):
    """A zoo entry was built: Keras's summary and the parameter table."""

    def __init__(self, name: str, summary: str, table: dict[str, Any] | None) -> None:
        super().__init__()
        self.name = name
        self.summary = summary
        self.table = table


class OpenRun(Message):
    """Ask the app to show a run on the Train, Evaluate or Predict screen."""

    def __init__(self, run_id: str, where: str) -> None:
        super().__init__()
        self.run_id = run_id
        self.where = where


class Predicted(Message):
    """Some files were classified (streamed in batches)."""

    def __init__(self, predictions: list[Any], previews: list[Any], done: bool) -> None:
        super().__init__()
        self.predictions = predictions
        self.previews = previews
        self.done = done


class HeatmapReady(Message):
    """A Grad-CAM overlay (uint8 RGB) for image ``index`` of a screen's list, or why not."""

    def __init__(self, index: int, overlay: Any, error: str | None = None) -> None:
        super().__init__()
        self.index = index
        self.overlay = overlay
        self.error = error
