"""The Train screen's form: a zoo entry's defaults to edit, read as a training request.

The request is built by the core's one builder (``config_from_values``) and checked by
``TrainConfig.validate``; its buttons post :class:`StartAsked`, :class:`StopAsked` and
:class:`SweepAsked` for the screen to act on.
"""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Label, Select

from cnntui.core.errors import ConfigError
from cnntui.core.train.config import OPTIMIZERS, TrainConfig
from cnntui.core.train.request import config_from_values
from cnntui.tui.messages import StartAsked, StopAsked, SweepAsked

# the text fields, by TrainConfig field: (widget id, label shown in an error)
TEXT_FIELDS = {
    "data": ("#train-data", "data"),
    "epochs": ("#train-epochs", "epochs"),
    "batch_size": ("#train-batch", "batch size"),
    "learning_rate": ("#train-lr", "learning rate"),
    "augment": ("#train-augment", "augment"),
    "limit": ("#train-limit", "limit"),
    "weights": ("#train-weights", "weights"),
    "freeze_epochs": ("#train-freeze", "freeze epochs"),
}
BACKBONE_FIELDS = ("#train-weights", "#train-freeze")  # only backbone entries take them


class FormError(ValueError):
    """A form field that does not parse, named for the user."""


class TrainForm(VerticalScroll):
    """Model, data and hyperparameters of the run to start (or the LR sweep to run)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._carried_data = "sample"  # the data field's value as last carried from Data
        self._filled_for: str | None = None  # the entry whose defaults fill the form

    def compose(self) -> ComposeResult:
        yield Label("model")
        yield Select([], id="train-model", prompt="choose a zoo entry", compact=True)
        yield Label("data: sample, mnist, folder")
        yield Input("sample", id="train-data", compact=True)
        yield Label("epochs")
        yield Input(id="train-epochs", compact=True, type="integer")
        yield Label("batch size")
        yield Input(id="train-batch", compact=True, type="integer")
        yield Label("learning rate")
        yield Input(id="train-lr", compact=True)
        yield Button("Find LR (sweep)", id="train-lrfind", compact=True)
        yield Label("optimizer")
        yield Select(
            [(o, o) for o in OPTIMIZERS], id="train-optimizer", allow_blank=False, compact=True
        )
        yield Label("augment: e.g. flip,rotation")
        yield Input(id="train-augment", compact=True)
        yield Label("limit images (blank = all)")
        yield Input(id="train-limit", compact=True, type="integer")
        yield Label("weights (backbone)")
        yield Input(id="train-weights", compact=True, disabled=True)
        yield Label("freeze epochs")
        yield Input(id="train-freeze", compact=True, type="integer", disabled=True)
        with Horizontal(classes="buttons"):
            yield Button("Start", id="train-start", variant="primary", compact=True)
            yield Button("Stop", id="train-stop", variant="error", compact=True)

    def on_mount(self) -> None:
        from cnntui.core.registry import list_models

        select = self.query_one("#train-model", Select)
        select.set_options([(e.name, e.name) for e in list_models()])

    # -- filling ----------------------------------------------------------------------

    def fill(self, name: str) -> None:
        """Choose zoo entry ``name`` and fill the fields with its defaults."""
        from cnntui.core.registry import get_model

        entry = get_model(name)
        hp = entry.hyperparameters
        self.query_one("#train-model", Select).value = name
        backbone = entry.pretrained is not None
        for widget_id, value in zip(BACKBONE_FIELDS, ("imagenet", "1"), strict=True):
            field = self.query_one(widget_id, Input)
            field.disabled = not backbone
            field.value = value if backbone else ""
        self.query_one("#train-epochs", Input).value = str(hp.epochs)
        self.query_one("#train-batch", Input).value = str(hp.batch_size)
        self.query_one("#train-lr", Input).value = f"{hp.learning_rate:g}"
        if hp.optimizer in OPTIMIZERS:
            self.query_one("#train-optimizer", Select).value = hp.optimizer

    @on(Select.Changed, "#train-model")
    def _model_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, str) and event.value != self._filled_for:
            self._filled_for = event.value
            self.fill(event.value)

    def carry_data(self, source: str) -> None:
        """Take ``source`` (last inspected on Data) into the data field, unless edited here."""
        field = self.query_one("#train-data", Input)
        if source != self._carried_data and field.value.strip() == self._carried_data:
            field.value = source
            self._carried_data = source

    def set_learning_rate(self, value: str) -> None:
        """Put ``value`` in the learning-rate field (the LR sweep's suggestion)."""
        self.query_one("#train-lr", Input).value = value

    # -- reading ----------------------------------------------------------------------

    def read(self) -> TrainConfig:
        """The form as a checked request; raises :class:`FormError` naming the bad field."""
        model = self.query_one("#train-model", Select).value
        if not isinstance(model, str):
            raise FormError("choose a model first (Zoo screen: n, or the model list here)")
        optimizer = self.query_one("#train-optimizer", Select).value
        values: dict[str, Any] = {
            "model": model,
            "optimizer": optimizer if isinstance(optimizer, str) else None,
        }
        for name, (widget_id, _) in TEXT_FIELDS.items():  # text as typed: the builder reads it
            values[name] = self.query_one(widget_id, Input).value.strip()
        values["data"] = values["data"] or "sample"
        try:
            return config_from_values(values).validate()
        except ConfigError as exc:
            raise FormError(exc.describe()) from None

    # -- buttons ----------------------------------------------------------------------

    @on(Button.Pressed, "#train-start")
    def _start_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.post_message(StartAsked())

    @on(Button.Pressed, "#train-stop")
    def _stop_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.post_message(StopAsked())

    @on(Button.Pressed, "#train-lrfind")
    def _find_lr_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.post_message(SweepAsked())
