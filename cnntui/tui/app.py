"""The cnntui workbench app: six screens (modes) over the same core as the CLI.

``make_app()`` builds it for the CLI and the tests; ``run_app()`` runs it. Nothing here
imports TensorFlow: screens import it lazily, in thread workers, when first needed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from cnntui.tui.heap import release_heap, settle_heap
from cnntui.tui.screens.base import RunPlace, ShowsRun, WorkbenchScreen
from cnntui.tui.widgets.nav import SCREENS

if TYPE_CHECKING:
    from cnntui.tui.screens.evaluate import EvaluateScreen
    from cnntui.tui.screens.predict import PredictScreen
    from cnntui.tui.screens.train import TrainScreen

SCREENS_ORDER = tuple(name for name, _ in SCREENS)
S = TypeVar("S", bound=Screen)


def _screen_factory(name: str):
    def make() -> Screen:
        from importlib import import_module

        module = import_module(f"cnntui.tui.screens.{name}")
        return getattr(module, f"{name.capitalize()}Screen")()

    return make


class WorkbenchApp(App):
    """Browse the zoo, inspect data, train with live plots, compare, evaluate and predict."""

    CSS_PATH = "app.tcss"
    TITLE = "cnntui"
    MODES = {name: _screen_factory(name) for name in SCREENS_ORDER}
    # No letter switches screens: letters are for typing (see screens/base.py).
    BINDINGS = [
        *(
            Binding(f"f{i}", f"switch_mode('{name}')", label, show=False)
            for i, (name, label) in enumerate(SCREENS, 1)
        ),
        Binding("question_mark", "toggle_keys", "Keys"),
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]

    def __init__(
        self,
        *,
        zoo_dirs: Iterable[str | Path] = (),
        runs_dir: str | Path | None = None,
        start: str | None = None,
        follow_running: bool = True,
        graphics: str = "blocks",
    ) -> None:
        super().__init__()
        from cnntui.core.runs import runs_root

        self.zoo_dirs = [str(p) for p in zoo_dirs]
        self.runs_dir = runs_root(runs_dir)
        self.start_mode = start or "zoo"
        self.follow_running = follow_running
        self.graphics = graphics  # how images are drawn: kitty, sixel or blocks (widgets/pixels.py)
        self.selected_model: str | None = None
        self.data_source: str = "sample"  # the last source inspected on Data; Train uses it

    def on_mount(self) -> None:
        from cnntui.core import registry

        registry.load_zoo(self.zoo_dirs)
        self.switch_mode(self.start_mode)
        self.call_after_refresh(settle_heap)
        if self.follow_running:
            self.call_after_refresh(self._resume_running)

    def on_unmount(self) -> None:
        release_heap()

    async def _resume_running(self) -> None:
        """Reopened while a run trains: follow it on the Train screen."""
        from cnntui.core.runs import list_runs

        running = [r for r in list_runs(self.runs_dir) if r.status == "running"]
        if not running:
            return
        run = running[-1]
        self.notify(f"Following running run {run.id}", title="Training in progress")
        await self.open_run(run.id, "train")

    async def open_run(self, run_id: str, where: RunPlace) -> None:
        """Show a run on the Train (follow), Evaluate or Predict screen."""
        screens: dict[str, Callable[[], Awaitable[ShowsRun]]] = {
            "train": self.train_screen,
            "evaluate": self.evaluate_screen,
            "predict": self.predict_screen,
        }
        screen = await screens[where]()
        screen.show_run(run_id)

    async def use_model(self, name: str) -> None:
        """Pick a zoo entry for training and go to the Train screen."""
        self.selected_model = name
        screen = await self.train_screen()
        screen.select_model(name)

    # -- the screens, typed -----------------------------------------------------------

    async def mode_screen(self, name: str, kind: type[S]) -> S:
        """Go to screen (mode) ``name`` and return it, as the ``kind`` it is."""
        await self.switch_mode(name)
        screen = self.screen_stack[0]  # the mode's own screen, under any dialog
        if not isinstance(screen, kind):
            raise TypeError(f"the {name} screen is a {type(screen).__name__}, not {kind.__name__}")
        return screen

    async def train_screen(self) -> TrainScreen:
        """Go to the Train screen and return it."""
        from cnntui.tui.screens.train import TrainScreen

        return await self.mode_screen("train", TrainScreen)

    async def evaluate_screen(self) -> EvaluateScreen:
        """Go to the Evaluate screen and return it."""
        from cnntui.tui.screens.evaluate import EvaluateScreen

        return await self.mode_screen("evaluate", EvaluateScreen)

    async def predict_screen(self) -> PredictScreen:
        """Go to the Predict screen and return it."""
        from cnntui.tui.screens.predict import PredictScreen

        return await self.mode_screen("predict", PredictScreen)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "toggle_keys" and not self.screen.query("HelpPanel"):
            # `?` is typed, not a command, where a text field takes typing
            screen = self.screen
            return not (isinstance(screen, WorkbenchScreen) and screen.typing_field() is not None)
        return True

    def action_toggle_keys(self) -> None:
        """Show or hide the keys panel (also closed by Escape)."""
        if self.screen.query("HelpPanel"):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for name in SCREENS_ORDER:
            yield SystemCommand(
                f"Go to {name.capitalize()}",
                f"Open the {name} screen",
                lambda name=name: self.switch_mode(name),
            )


def make_app(
    *,
    zoo_dirs: Iterable[str | Path] = (),
    runs_dir: str | Path | None = None,
    start: str | None = None,
    follow_running: bool = True,
    graphics: str = "blocks",
) -> WorkbenchApp:
    """The workbench app, not yet running (used by ``cnntui`` and the tests); ``graphics``
    (``kitty``, ``sixel``, ``blocks``) is what ``cnntui.cli.graphics.prepare_workbench`` chose."""
    return WorkbenchApp(
        zoo_dirs=zoo_dirs,
        runs_dir=runs_dir,
        start=start,
        follow_running=follow_running,
        graphics=graphics,
    )


def run_app(graphics: str = "blocks") -> None:
    """Open the workbench in this terminal, drawing images with ``graphics``; its thread
    yields the CPU to training (tui/priority.py)."""
    from cnntui.tui.priority import lower_this_thread

    lower_this_thread()
    make_app(graphics=graphics).run()
