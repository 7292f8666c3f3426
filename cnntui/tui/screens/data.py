"""Data: choose the bundled sample, a Keras dataset or a folder; see its inspection."""

from __future__ import annotations

from typing import Any

from rich.columns import Columns
from rich.console import Group
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import (
    Button,
    DataTable,
    Footer,
    Input,
    Static,
    TabbedContent,
    TabPane,
)

from cnntui.tui.screens.base import WorkbenchScreen
from cnntui.tui.widgets.image import HalfBlockImage
from cnntui.tui.widgets.nav import ScreenBar
from cnntui.tui.widgets.picker import PathPicker
from cnntui.tui.widgets.plots import BarPlot

SAMPLES_PER_CLASS = 2
PREVIEW_SIZE = (12, 12)


def describe_report(report: dict[str, Any]) -> Text:
    """Sizes, colour modes, formats, split counts, bad files and warnings, as text."""
    text = Text()
    text.append(f"{report.get('source')}", style="bold")
    text.append(
        f"  ({report.get('kind')}, {report.get('images', 0):,} images, "
        f"{len(report.get('class_names', []))} classes)\n"
    )
    for split, info in (report.get("splits") or {}).items():
        text.append(f"{split:<6}", style="bold")
        text.append(f" {info.get('images', 0):,} images, {info.get('bad', 0)} bad\n")
    sizes = report.get("sizes") or {}
    if sizes.get("most_common"):
        h, w = sizes["most_common"]
        text.append("sizes ", style="bold")
        text.append(f" most common {h}x{w}, {sizes.get('distinct', 0)} distinct")
        if "height" in sizes and sizes.get("distinct", 0) > 1:
            text.append(
                f" (h {sizes['height']['min']}–{sizes['height']['max']}, "
                f"w {sizes['width']['min']}–{sizes['width']['max']})"
            )
        text.append("\n")
    modes = report.get("color_modes") or {}
    if modes:
        text.append("modes ", style="bold")
        text.append(" " + ", ".join(f"{k} {v:,}" for k, v in modes.items()) + "\n")
    suggested = report.get("suggested")
    if suggested:
        size = "x".join(map(str, suggested.get("image_size", [])))
        text.append("input ", style="bold")
        text.append(f" suggested {size} {suggested.get('color_mode', '')}\n")
    bad = report.get("bad_files") or []
    text.append("bad   ", style="bold")
    text.append(f" {len(bad)} file(s)" + (" — see the Bad files tab\n" if bad else "\n"))
    for warning in report.get("warnings") or []:
        text.append(f"! {warning}\n", style="bold")
    if report.get("note"):
        text.append(f"{report['note']}\n")
    return text


def class_counts(report: dict[str, Any]) -> tuple[list[str], list[int]]:
    """Images per class summed over splits, in class order."""
    names = list(report.get("class_names") or [])
    totals = dict.fromkeys(names, 0)
    for info in (report.get("splits") or {}).values():
        for name, n in (info.get("classes") or {}).items():
            totals[name] = totals.get(name, 0) + int(n)
    return list(totals), list(totals.values())


def samples_renderable(samples: dict[str, list[dict[str, Any]]]) -> Columns:
    """Each class's sample images side by side, captioned, wrapping to the width."""
    items = []
    for name, entries in samples.items():
        for entry in entries:
            pixels = entry.get("pixels")
            if pixels is None:
                continue
            items.append(Group(Text(str(name)[:12], style="bold"), HalfBlockImage(pixels, 12, 6)))
    return Columns(items, padding=(0, 1))


class DataScreen(WorkbenchScreen):
    """Inspect a data source: counts per class, sizes, bad files, samples."""

    SCREEN = "data"
    AUTO_FOCUS = "#data-source"
    TYPE_INTO = "#data-source"
    TABS = "#data-tabs"
    BINDINGS = [
        # priority: shown (and working) while the source field, which also binds Enter, is focused
        Binding("enter", "enter", "Inspect", key_display="⏎", priority=True),
        Binding("ctrl+o", "browse", "Browse"),
    ]

    def compose(self) -> ComposeResult:
        yield ScreenBar(self.SCREEN)
        with Horizontal(classes="buttons", id="data-bar"):
            yield Input(
                "sample",
                id="data-source",
                compact=True,
                placeholder="sample, mnist, fashion_mnist, cifar10, a folder or .npz",
            )
            yield Button("Browse", id="data-browse", compact=True)
            yield Button("Inspect", id="data-inspect", variant="primary", compact=True)
        yield Static("Type a source and press Enter to inspect it.", id="data-message")
        with TabbedContent(id="data-tabs"):
            with TabPane("Classes", id="data-classes"):
                yield BarPlot("images per class", id="data-counts")
            with TabPane("Summary", id="data-summary"):
                with VerticalScroll():
                    yield Static("Not inspected yet.", id="data-summary-text")
            with TabPane("Samples", id="data-samples-tab"):
                with VerticalScroll():
                    yield Static("", id="data-samples")
            with TabPane("Bad files", id="data-bad"):
                yield DataTable(id="data-bad-table", zebra_stripes=True)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#data-bad-table", DataTable).add_columns("file", "reason")

    def action_enter(self) -> None:
        """Enter inspects, except on a focused button, which it presses."""
        if isinstance(self.focused, Button):
            self.focused.press()
        else:
            self.action_inspect()

    @on(Button.Pressed, "#data-inspect")
    def action_inspect(self) -> None:
        source = self.query_one("#data-source", Input).value.strip() or "sample"
        self._clear(f"Inspecting {source}…")
        self.inspect_worker(source)

    def _clear(self, message: str) -> None:
        """Empty every tab (no previous source's figures under a new name) and say why."""
        self.query_one("#data-message", Static).update(message)
        self.query_one("#data-counts", BarPlot).set_bars([], [], title="images per class")
        self.query_one("#data-summary-text", Static).update(message)
        self.query_one("#data-samples", Static).update(message)
        self.query_one("#data-bad-table", DataTable).clear()

    @on(Button.Pressed, "#data-browse")
    def action_browse(self) -> None:
        current = self.query_one("#data-source", Input).value.strip()

        def chosen(path: str | None) -> None:
            if path:
                self.query_one("#data-source", Input).value = path
                self.action_inspect()

        self.app.push_screen(PathPicker(current if current not in ("", "sample") else "."), chosen)

    @work(thread=True, exclusive=True, group="inspect", exit_on_error=False, name="Inspecting data")
    def inspect_worker(self, source: str) -> None:
        from cnntui.core.data import inspect_source

        report = inspect_source(
            source, samples_per_class=SAMPLES_PER_CLASS, preview_size=PREVIEW_SIZE
        )
        self.app.call_from_thread(self.show_report, report)

    def worker_failed(self, worker: Any, error: BaseException | None) -> None:
        if worker.group == "inspect":
            # stays on screen (a toast vanishes) until the next inspection
            self._clear(f"Could not inspect: {error}")

    def show_report(self, report: dict[str, Any]) -> None:
        """Fill every tab from an inspection report."""
        source = str(report.get("source", ""))
        self.workbench.data_source = source  # carried to the Train screen's form
        self.query_one("#data-message", Static).update(
            f"{source}: {report.get('images', 0):,} images, "
            f"{len(report.get('class_names', []))} classes (used by Train)"
        )
        names, counts = class_counts(report)
        self.query_one("#data-counts", BarPlot).set_bars(
            names, counts, title=f"images per class ({sum(counts):,})"
        )
        self.query_one("#data-summary-text", Static).update(describe_report(report))
        samples = report.get("samples") or {}
        self.query_one("#data-samples", Static).update(
            samples_renderable(samples) if samples else "No samples."
        )
        table = self.query_one("#data-bad-table", DataTable)
        table.clear()
        for bad in report.get("bad_files") or []:
            table.add_row(str(bad.get("path", "")), str(bad.get("reason", "")))
