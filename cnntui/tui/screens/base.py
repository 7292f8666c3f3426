"""The base of every screen: typing always lands in a text field, worker failures are
reported in one place, inner tabs have keys.

Letters are never commands where text can be typed: a printable key that reaches the
screen (no text field has focus) goes into the screen's field (``TYPE_INTO``) when it is
visible, so a path typed with the focus elsewhere cannot start, stop or switch anything.
Commands are F-keys, Ctrl-keys, Enter and Escape.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal, Protocol, cast

from textual import events
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Input, TabbedContent
from textual.worker import Worker, WorkerState

from cnntui.core.errors import CnntuiError


def shown(widget: Widget) -> bool:
    """Whether ``widget`` and every container above it are displayed."""
    node: object = widget
    while isinstance(node, Widget):
        if not node.display:
            return False
        node = node.parent
    return True


def keys_panel_open(screen: Screen) -> bool:
    """Whether the keys help panel is shown on ``screen``."""
    return bool(screen.query("HelpPanel"))


RunPlace = Literal["train", "evaluate", "predict"]
"""The screens that show a run by id (:meth:`WorkbenchApp.open_run`)."""


class Workbench(Protocol):
    """What a screen asks of the app it runs in (:class:`cnntui.tui.app.WorkbenchApp`),
    typed here so the screens do not import the app that imports them."""

    runs_dir: Path
    data_source: str
    selected_model: str | None

    async def open_run(self, run_id: str, where: RunPlace) -> None: ...

    async def use_model(self, name: str) -> None: ...


class ShowsRun(Protocol):
    """A screen that shows a run by id (Train follows it, Evaluate and Predict open it)."""

    def show_run(self, run_id: str) -> None: ...


class WorkbenchScreen(Screen):
    """A screen of the workbench (see the module docstring for the key rules)."""

    SCREEN: ClassVar[str] = ""
    """The mode name, marked in the screen bar."""
    TYPE_INTO: ClassVar[str | None] = None
    """The text field that typing goes to when no field has the focus."""
    TABS: ClassVar[str | None] = None
    """The screen's inner ``TabbedContent``, switched with Ctrl+PgUp/PgDn (or Alt+←/→)."""

    BINDINGS = [
        Binding("escape", "escape", "Leave field", show=False),
        # priority: scrollable widgets bind these keys to horizontal paging
        Binding("ctrl+pagedown", "next_tab", "Tabs", key_display="^PgUp/Dn", priority=True),
        Binding("ctrl+pageup", "previous_tab", show=False, priority=True),
        Binding("alt+right", "next_tab", show=False),
        Binding("alt+left", "previous_tab", show=False),
    ]

    _typing_into: Input | None = None  # the field that stray keys are going to

    @property
    def workbench(self) -> Workbench:
        """The app, typed (a workbench screen runs only in ``WorkbenchApp``)."""
        return cast(Workbench, self.app)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("next_tab", "previous_tab"):
            return self.TABS is not None
        return True

    # -- typing -----------------------------------------------------------------------

    def typing_field(self) -> Input | None:
        """The visible text field that stray typing goes to, if any."""
        if self.TYPE_INTO is None:
            return None
        try:
            field = self.query_one(self.TYPE_INTO, Input)
        except NoMatches:
            return None
        return field if shown(field) else None

    def on_key(self, event: events.Key) -> None:
        if not event.is_printable or event.character is None:
            return
        if event.character == "?" and keys_panel_open(self):
            return  # closes the keys panel
        field = self.typing_field()
        if field is None:
            return
        event.stop()
        event.prevent_default()
        if self._typing_into is not field:  # the first key replaces, as Tab + typing would
            self._typing_into = field
            field.select_on_focus = False  # or the focus, which lands later, selects it all
            field.value = ""
        field.insert_text_at_cursor(event.character)
        field.focus()

    def on_descendant_blur(self, event: events.DescendantBlur) -> None:
        if event.widget is self._typing_into:
            self._typing_into = None

    def drop_hidden_focus(self) -> None:
        """A hidden widget never keeps the focus (its keys would go nowhere visible)."""
        focused = self.focused
        if focused is not None and not shown(focused):
            self.set_focus(None)

    def action_escape(self) -> None:
        """Close the keys panel, or leave a text field."""
        if keys_panel_open(self):
            self.app.action_hide_help_panel()
            return
        if isinstance(self.focused, Input):
            self.focus_next()
            if isinstance(self.focused, Input):
                self.set_focus(None)

    # -- inner tabs -------------------------------------------------------------------

    def _switch_tab(self, step: int) -> None:
        if self.TABS is None:
            return
        tabs = self.query_one(self.TABS, TabbedContent)
        panes = [pane.id for pane in tabs.query("TabPane") if pane.id]
        if not panes:
            return
        here = panes.index(tabs.active) if tabs.active in panes else 0
        tabs.active = panes[(here + step) % len(panes)]

    def action_next_tab(self) -> None:
        self._switch_tab(1)

    def action_previous_tab(self) -> None:
        self._switch_tab(-1)

    # -- background work --------------------------------------------------------------

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            error = event.worker.error
            what = event.worker.name or "background task"
            detail = error.describe() if isinstance(error, CnntuiError) else error
            message = f"{what} failed: {detail}" if error else f"{what} failed"
            self.app.notify(message, title="Error", severity="error", timeout=8)
            self.worker_failed(event.worker, error)
        elif event.state == WorkerState.SUCCESS:
            self.worker_done(event.worker)

    def worker_failed(self, worker: Worker, error: BaseException | None) -> None:
        """Hook: undo busy indicators after a failure."""

    def worker_done(self, worker: Worker) -> None:
        """Hook: a worker finished."""


class ScreenReportsWork:
    """For a widget that runs workers: its workers' failures are reported by its screen,
    as the screen's own (``Worker.StateChanged`` does not bubble)."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        screen = cast(Widget, self).screen
        if isinstance(screen, WorkbenchScreen):
            screen.on_worker_state_changed(event)
