"""Starting training runs from the Train screen in a thread worker (``tui/launch.py``), and
reaping their processes. Posts :class:`RunStarted` or :class:`LaunchFailed`; draws nothing."""

from __future__ import annotations

from pathlib import Path

from textual import work
from textual.widget import Widget

from cnntui.core.errors import CnntuiError
from cnntui.core.train.config import TrainConfig
from cnntui.tui.launch import launch, reap
from cnntui.tui.messages import LaunchFailed, RunStarted
from cnntui.tui.screens.base import ScreenReportsWork

GROUP = "launch"


class Launcher(ScreenReportsWork, Widget):
    """Launches runs detached; collects the processes it started once they end."""

    DEFAULT_CSS = "Launcher { display: none; }"

    def __init__(self) -> None:
        super().__init__()
        self.children_pids: set[int] = set()

    def on_mount(self) -> None:
        self.set_interval(1.0, self._reap)

    def start(self, request: TrainConfig, runs_dir: Path, zoo_dirs: list[str]) -> None:
        """Prepare the run ``request`` asks for in ``runs_dir`` and start it."""
        self._launch(request, runs_dir, zoo_dirs)

    @work(thread=True, exclusive=True, group=GROUP, exit_on_error=False, name="Starting training")
    def _launch(self, request: TrainConfig, runs_dir: Path, zoo_dirs: list[str]) -> None:
        try:
            run, pid = launch(request, runs_dir, zoo_dirs)
        except CnntuiError as exc:
            self.post_message(LaunchFailed(exc.describe()))
            return
        except (ValueError, LookupError, OSError) as exc:
            self.post_message(LaunchFailed(str(exc)))
            return
        self.post_message(RunStarted(str(run.dir), pid))

    def on_run_started(self, message: RunStarted) -> None:
        self.children_pids.add(message.pid)  # and on to the screen, which follows it

    def _reap(self) -> None:
        """Collect our finished training processes so none lingers as a zombie."""
        self.children_pids = {pid for pid in self.children_pids if not reap(pid)}
