"""A modal question with a focused confirm button: Enter confirms, Escape cancels."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Static
from textual.widgets.button import ButtonVariant


class Confirm(ModalScreen[bool]):
    """Ask before an action that costs something (starting a training, stopping one)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    Confirm {
        align: center middle;
    }
    Confirm > Vertical {
        width: 64;
        max-width: 100%;
        height: auto;
        border: thick $primary;
        background: $surface;
        padding: 0 1;
    }
    Confirm #confirm-question {
        margin: 1 0;
    }
    Confirm Horizontal {
        height: auto;
    }
    Confirm Button {
        margin-right: 2;
    }
    """

    def __init__(self, question: str, confirm: str, *, variant: ButtonVariant = "primary") -> None:
        super().__init__()
        self.question = question
        self.confirm_label = confirm
        self.variant = variant

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.question, id="confirm-question", markup=False)
            with Horizontal():
                yield Button(
                    self.confirm_label, id="confirm-yes", variant=self.variant, compact=True
                )
                yield Button("Cancel", id="confirm-no", compact=True)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#confirm-yes", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm-yes")

    def action_cancel(self) -> None:
        self.dismiss(False)
