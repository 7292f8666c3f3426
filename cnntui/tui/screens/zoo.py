"""Zoo: a searchable list of entries; description, source, Keras summary, parameter table."""

from __future__ import annotations

import inspect
from typing import Any

from rich.syntax import Syntax
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, ScrollableContainer, Vertical, VerticalScroll
from textual.widgets import (
    DataTable,
    Footer,
    Input,
    OptionList,
    Static,
    TabbedContent,
    TabPane,
)
from textual.widgets.option_list import Option

from cnntui.core.model_table import human_bytes, human_count
from cnntui.tui.messages import ModelDetails
from cnntui.tui.screens.base import WorkbenchScreen
from cnntui.tui.widgets.nav import ScreenBar

BUILD_TABS = ("zoo-summary", "zoo-params")
NOT_BUILT = "Ctrl+G builds the model (or open this tab again)."


def format_reported(entry: Any) -> str:
    """``accuracy 99.20% @12ep on mnist`` or the note when no figure was reported."""
    r = entry.reported
    if r.value is None:
        return r.note or "-"
    value = f"{r.value:.2%}" if "accuracy" in r.metric and r.value <= 1 else f"{r.value:g}"
    text = f"{r.metric} {value}"
    if r.epochs:
        text += f" @{r.epochs}ep"
    if r.dataset:
        text += f" on {r.dataset}"
    return text


def describe(entry: Any) -> Text:
    """The About pane: title, description, article, reported results, defaults."""
    hp = entry.hyperparameters
    text = Text()
    text.append(f"{entry.name}", style="bold")
    text.append(f" — {entry.title}\n\n")
    if entry.description:
        text.append(entry.description.strip() + "\n\n")
    text.append("article   ", style="bold")
    text.append(f"{entry.reference or '-'}\n")
    if entry.reference_url:
        text.append(f"          {entry.reference_url}\n")
    text.append("reported  ", style="bold")
    text.append(format_reported(entry))
    if entry.reported.params:
        text.append(f"; {entry.reported.params:,} params")
    text.append("\n")
    text.append("input     ", style="bold")
    text.append(f"{'x'.join(map(str, entry.input_shape))}, {entry.num_classes} classes\n")
    text.append("defaults  ", style="bold")
    text.append(
        f"{hp.optimizer}, lr {hp.learning_rate:g}, batch {hp.batch_size}, {hp.epochs} epochs\n"
    )
    text.append("tags      ", style="bold")
    text.append(f"{', '.join(entry.tags) or '-'}\n")
    if entry.choices:
        text.append("\nchoices where the article was silent\n", style="bold")
        text.append(entry.choices.strip() + "\n")
    return text


def build_details(entry: Any) -> tuple[str, dict[str, Any] | None]:
    """Build the model (imports TensorFlow) and describe it: summary text, parameter table."""
    from cnntui.core.model_table import layer_table, summary_text

    model = entry.build()
    return summary_text(model), layer_table(model)


def builder_source(entry: Any) -> tuple[str, int]:
    """The entry's builder function and its first line number in its file."""
    try:
        lines, start = inspect.getsourcelines(entry.builder)
    except (OSError, TypeError):
        return entry.file_source(), 1
    return "".join(lines), max(start, 1)


def _count(n: Any) -> str:
    return f"{n:,}" if isinstance(n, int) else ("-" if n is None else str(n))


def _shape(shape: Any) -> str:
    if isinstance(shape, (list, tuple)):
        return "x".join("?" if d is None else str(d) for d in shape)
    return str(shape or "")


class ZooScreen(WorkbenchScreen):
    """Browse the architecture zoo."""

    SCREEN = "zoo"
    TYPE_INTO = "#zoo-search"
    TABS = "#zoo-tabs"
    BINDINGS = [
        Binding("ctrl+n", "train_this", "Train this"),
        Binding("ctrl+g", "build", "Build"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.entries: list[Any] = []
        self.current: str | None = None
        self.details: dict[str, tuple[str, dict[str, Any] | None]] = {}

    def compose(self) -> ComposeResult:
        yield ScreenBar(self.SCREEN)
        with Horizontal():
            with Vertical(id="zoo-left", classes="sidebar"):
                yield Input(placeholder="type to search", id="zoo-search", compact=True)
                yield OptionList(id="zoo-list")
            with TabbedContent(id="zoo-tabs"):
                with TabPane("About", id="zoo-about"):
                    with VerticalScroll():
                        yield Static(id="zoo-about-text")
                with TabPane("Source", id="zoo-source"):
                    with VerticalScroll():
                        yield Static(id="zoo-source-text")
                with TabPane("Params", id="zoo-params"):
                    yield Static(NOT_BUILT, id="zoo-params-totals")
                    yield DataTable(id="zoo-params-table", zebra_stripes=True)
                with TabPane("Summary", id="zoo-summary"):
                    with ScrollableContainer(id="zoo-summary-scroll"):
                        yield Static(NOT_BUILT, id="zoo-summary-text")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.refresh_list("")
        self.query_one("#zoo-list", OptionList).focus()
        errors = self._load_errors()
        if errors:
            self.notify(errors, title="Zoo files not loaded", severity="warning", timeout=10)

    def _load_errors(self) -> str:
        from cnntui.core.registry import load_errors

        return "\n".join(f"{e.path}: {e.error}" for e in load_errors()[:3])

    def refresh_list(self, query: str) -> None:
        from cnntui.core.registry import list_models

        words = query.lower().split()
        entries = []
        for entry in list_models():
            hay = " ".join([entry.name, entry.title, *entry.tags]).lower()
            if all(w in hay for w in words):
                entries.append(entry)
        self.entries = entries
        options = self.query_one("#zoo-list", OptionList)
        options.clear_options()
        options.add_options([Option(e.name, id=e.name) for e in entries])
        if entries:
            options.highlighted = 0
        else:
            self.current = None  # Train this / Build act on nothing, not on a stale entry
            self.query_one("#zoo-about-text", Static).update(
                "No zoo entry matches." if query else "The zoo is empty."
            )

    @on(Input.Changed, "#zoo-search")
    def _search(self, event: Input.Changed) -> None:
        self.refresh_list(event.value)

    @on(Input.Submitted, "#zoo-search")
    def _search_done(self) -> None:
        self.query_one("#zoo-list", OptionList).focus()

    @on(OptionList.OptionHighlighted, "#zoo-list")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self.show_entry(event.option.id)

    @on(OptionList.OptionSelected, "#zoo-list")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self.show_entry(event.option.id)
        self.query_one("#zoo-tabs", TabbedContent).focus()

    @on(TabbedContent.TabActivated, "#zoo-tabs")
    def _tab(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id in BUILD_TABS:
            self.action_build()

    def show_entry(self, name: str | None) -> None:
        from cnntui.core.registry import get_model

        if not name:
            return
        entry = get_model(name)
        self.current = name
        self.query_one("#zoo-about-text", Static).update(describe(entry))
        code, first_line = builder_source(entry)
        self.query_one("#zoo-source-text", Static).update(
            Syntax(
                code,
                "python",
                line_numbers=True,
                start_line=first_line,
                word_wrap=False,
                theme="ansi_dark",
            )
        )
        if name in self.details:
            self._show_details(name, *self.details[name])
        else:
            self.query_one("#zoo-summary-text", Static).update(NOT_BUILT)
            self.query_one("#zoo-params-totals", Static).update(NOT_BUILT)
            self.query_one("#zoo-params-table", DataTable).clear(columns=True)
            if self.query_one("#zoo-tabs", TabbedContent).active in BUILD_TABS:
                self.action_build()

    async def action_train_this(self) -> None:
        if self.current:
            await self.workbench.use_model(self.current)

    def action_build(self) -> None:
        if not self.current or self.current in self.details:
            return
        self.query_one("#zoo-summary-text", Static).update(f"Building {self.current}…")
        self.query_one("#zoo-params-totals", Static).update(f"Building {self.current}…")
        self.build_worker(self.current)

    @work(thread=True, exclusive=True, group="build", exit_on_error=False, name="Building model")
    def build_worker(self, name: str) -> None:
        from cnntui.core.registry import get_model

        summary, table = build_details(get_model(name))
        self.post_message(ModelDetails(name, summary, table))

    def on_model_details(self, message: ModelDetails) -> None:
        self.details[message.name] = (message.summary, message.table)
        if message.name == self.current:
            self._show_details(message.name, message.summary, message.table)

    def worker_failed(self, worker, error) -> None:
        if worker.group == "build":
            self.query_one("#zoo-summary-text", Static).update(f"Could not build: {error}")
            self.query_one("#zoo-params-totals", Static).update(f"Could not build: {error}")

    def _show_details(self, name: str, summary: str, table: dict[str, Any] | None) -> None:
        self.query_one("#zoo-summary-text", Static).update(Text(summary, no_wrap=True))
        totals = self.query_one("#zoo-params-totals", Static)
        grid = self.query_one("#zoo-params-table", DataTable)
        grid.clear(columns=True)
        if table is None:
            totals.update("Parameter table not available yet; see the Summary tab.")
            return
        totals.update(
            f"params {_count(table.get('total_params'))} "
            f"(trainable {_count(table.get('trainable_params'))}, "
            f"frozen {_count(table.get('non_trainable_params'))})  "
            f"MACs {human_count(table.get('macs') or 0)}  "
            f"weights {human_bytes(table.get('weight_bytes') or 0)}  "
            f"activations {human_bytes(table.get('activation_bytes') or 0)}"
        )
        # the figures first, so they are visible at 80 columns without scrolling
        grid.add_columns("layer", "output", "params", "MACs", "kernel", "stride", "type")
        for row in table.get("layers", []):
            grid.add_row(
                str(row.get("name", ""))[:18],
                _shape(row.get("output_shape")),
                _count(row.get("params")),
                _count(row.get("macs")),
                str(row.get("kernel") or ""),
                str(row.get("stride") or ""),
                str(row.get("type", "")),
            )
