"""Messages between workers, screens and the app (dataclasses: Message.__post_init__ sets up
Textual's internals, as posting and harlequin rely on)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.message import Message


@dataclass
class RunEvents(Message):
    """New events (and the current status) of the run being followed."""

    run_id: str
    events: list[dict[str, Any]]
    status: str


@dataclass
class StartAsked(Message):
    """The Train form's Start button: train what the form asks for."""


@dataclass
class StopAsked(Message):
    """The Train form's Stop button: stop the run followed, or the LR sweep."""


@dataclass
class SweepAsked(Message):
    """The Train form's Find LR button: sweep the learning rate for the form's request."""


@dataclass
class RunStarted(Message):
    """A run launched from the Train screen has its directory."""

    run_dir: str
    pid: int


@dataclass
class LaunchFailed(Message):
    """The training process ended before creating a run directory."""

    reason: str


@dataclass
class ModelDetails(Message):
    """A zoo entry was built: Keras's summary and the parameter table."""

    name: str
    summary: str
    table: dict[str, Any] | None


@dataclass
class Predicted(Message):
    """Some files were classified (streamed in batches)."""

    predictions: list[Any]
    previews: list[Any]
    done: bool


@dataclass
class HeatmapReady(Message):
    """A Grad-CAM overlay (uint8 RGB) for image ``index`` of a screen's list, or why not."""

    index: int
    overlay: Any
    error: str | None = None
    generation: int = 0  # the screen's image list it belongs to (older ones are dropped)


@dataclass
class SweepStep(Message):
    """One step of the Train screen's learning-rate sweep (a newer one replaces it)."""

    step: int
    total: int
    lr: float
    loss: float

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, SweepStep)


@dataclass
class SweepDone(Message):
    """The learning-rate sweep finished: ``sweep`` is ``Sweep.to_dict()``, ``info`` its facts."""

    sweep: dict[str, Any]
    info: dict[str, Any]
