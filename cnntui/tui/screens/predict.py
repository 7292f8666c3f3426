"""Predict: choose image files; see each one drawn with its top-k bars."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Footer, Input, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from cnntui.tui.heatmap import HEATMAP_BINDING, HeatmapToggle
from cnntui.tui.messages import Predicted
from cnntui.tui.screens.base import WorkbenchScreen
from cnntui.tui.widgets.nav import ScreenBar
from cnntui.tui.widgets.picker import PathPicker
from cnntui.tui.widgets.pixels import PixelView, graphics_of
from cnntui.tui.widgets.runpicker import RunSelect

TOP_K = 5
RUNS_REFRESH_SECONDS = 2.0
BAR_WIDTH = 20
PREVIEW_SIDE = {"blocks": 64, "kitty": 256, "sixel": 256}  # pixels decoded for the preview
IMAGE_CELLS = (32, 10)  # the preview's largest size in columns and rows


def topk_bars(top: list[dict[str, Any]], width: int = BAR_WIDTH) -> Table:
    """A bar per class: label, a bar of ``width`` cells and the probability."""
    table = Table.grid(padding=(0, 1))
    table.add_column(no_wrap=True)
    table.add_column(no_wrap=True)
    table.add_column(justify="right", no_wrap=True)
    for rank, item in enumerate(top):
        p = float(item.get("probability", 0.0))
        filled = int(round(p * width))
        bar = Text("█" * filled + "·" * (width - filled), style="bold" if rank == 0 else "")
        table.add_row(str(item.get("label", ""))[:14], bar, f"{p:6.1%}")
    return table


def preview_pixels(path: str, size: int = 64) -> np.ndarray | None:
    """A small RGB copy of an image for drawing (decoded off the UI thread)."""
    from cnntui.core.images import ImageReadError, open_image, to_color_mode

    try:
        img = to_color_mode(open_image(path), "rgb")
    except (ImageReadError, OSError, ValueError):
        return None
    img.thumbnail((size, size))
    return np.asarray(img)


def prediction_head(p: Any) -> Text:
    """The file's path, and why it could not be classified when it could not."""
    head = Text(p.path, style="bold", overflow="fold")
    if p.ok:
        return head
    return Text.assemble(head, "\n", f"cannot classify: {p.error}", overflow="fold")


def split_paths(text: str) -> list[str]:
    """Paths typed into the field: shell-like quoting, so names with spaces work."""
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()


class PredictScreen(HeatmapToggle, WorkbenchScreen):
    """Classify image files with a run's checkpoint."""

    SCREEN = "predict"
    AUTO_FOCUS = "#predict-paths"
    TYPE_INTO = "#predict-paths"
    BINDINGS = [
        Binding("ctrl+r", "predict", "Predict"),
        Binding("ctrl+o", "browse", "Browse"),
        HEATMAP_BINDING,
    ]

    def __init__(self) -> None:
        super().__init__()
        self.predictions: list[Any] = []
        self.previews: list[Any] = []
        self.loaded: Any = None  # the model the predictions came from (for heatmaps)
        self.reset_heatmaps()

    def compose(self) -> ComposeResult:
        yield ScreenBar(self.SCREEN)
        with Horizontal(classes="buttons", id="predict-bar"):
            yield RunSelect(id="predict-run")
            yield Button("Browse", id="predict-browse", compact=True)
            yield Button("Predict", id="predict-go", variant="primary", compact=True)
        yield Input(
            id="predict-paths",
            compact=True,
            placeholder="image files, folders or globs (Enter predicts; Ctrl+O browses)",
        )
        yield Static("", id="predict-summary", classes="status")
        with Horizontal():
            yield OptionList(id="predict-files")
            with VerticalScroll(id="predict-detail"):
                yield Static("", id="predict-result")
                yield PixelView(id="predict-image")
                yield Static("", id="predict-bars")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.clear_detail()
        self.query_one("#predict-run", RunSelect).reload(self.workbench.runs_dir)
        self.set_interval(RUNS_REFRESH_SECONDS, self._refresh_runs)

    def on_screen_resume(self) -> None:
        self._refresh_runs()

    def _refresh_runs(self) -> None:
        """A run that finished since shows up (and is chosen unless the user picked one)."""
        if self.is_current:
            self.query_one("#predict-run", RunSelect).reload(self.workbench.runs_dir)

    def show_run(self, run_id: str) -> None:
        self.query_one("#predict-run", RunSelect).reload(self.workbench.runs_dir, prefer=run_id)
        self.query_one("#predict-paths", Input).focus()

    @on(Button.Pressed, "#predict-browse")
    def action_browse(self) -> None:
        def chosen(path: str | None) -> None:
            if path:
                field = self.query_one("#predict-paths", Input)
                field.value = (field.value + " " + shlex.quote(path)).strip()
                self.action_predict()

        self.app.push_screen(PathPicker(".", files=True), chosen)

    @on(Input.Submitted, "#predict-paths")
    @on(Button.Pressed, "#predict-go")
    def action_predict(self) -> None:
        run_id = self.query_one("#predict-run", RunSelect).value
        if not isinstance(run_id, str):
            self.notify("No run with a checkpoint yet: train one first (t).", severity="warning")
            return
        paths = split_paths(self.query_one("#predict-paths", Input).value)
        if not paths:
            self.notify("Type or browse to at least one image file or folder.", severity="warning")
            return
        self.predictions, self.previews = [], []
        self.reset_heatmaps()
        self.query_one("#predict-files", OptionList).clear_options()
        self.clear_detail()
        self.query_one("#predict-summary", Static).update(f"Loading {run_id}…")
        self.predict_worker(run_id, paths)

    @work(thread=True, exclusive=True, group="predict", exit_on_error=False, name="Predicting")
    def predict_worker(self, run_id: str, paths: list[str]) -> None:
        from cnntui.core.inference.open import open_for_inference
        from cnntui.core.inference.predict import collect_inputs, predict_paths
        from cnntui.core.runs import resolve_run

        worker = get_current_worker()
        run = resolve_run(run_id, self.workbench.runs_dir)
        loaded = open_for_inference(str(run.dir))  # calibrated as `cnntui predict` is
        self.loaded = loaded
        inputs = collect_inputs(paths)
        side = PREVIEW_SIDE[graphics_of(self.app)]
        batch: list[Any] = []
        previews: list[Any] = []
        for prediction in predict_paths(loaded, inputs, top_k=TOP_K):
            if worker.is_cancelled:
                return
            batch.append(prediction)
            previews.append(preview_pixels(prediction.path, side) if prediction.ok else None)
            if len(batch) >= 16:
                self.post_message(Predicted(batch, previews, done=False))
                batch, previews = [], []
        self.post_message(Predicted(batch, previews, done=True))

    def worker_failed(self, worker: Any, error: BaseException | None) -> None:
        if worker.group == "predict":
            self.query_one("#predict-summary", Static).update(f"Could not predict: {error}")

    def on_predicted(self, message: Predicted) -> None:
        options = self.query_one("#predict-files", OptionList)
        start = len(self.predictions)
        self.predictions.extend(message.predictions)
        self.previews.extend(message.previews)
        new = []
        for i, p in enumerate(message.predictions, start):
            name = Path(p.path).name
            if p.ok and p.top:
                label = f"{name[:20]}  {p.top[0]['label']} {p.top[0]['probability']:.0%}"
            else:
                label = f"{name[:20]}  ! {p.error}"
            new.append(Option(label, id=str(i)))
        options.add_options(new)
        if start == 0 and self.predictions:
            options.highlighted = 0
            options.focus()
        bad = sum(1 for p in self.predictions if not p.ok)
        state = "" if message.done else " (more coming…)"
        self.query_one("#predict-summary", Static).update(
            f"{len(self.predictions)} file(s), {bad} unreadable{state}"
        )

    def heatmap_selected(self) -> int | None:
        index = self.query_one("#predict-files", OptionList).highlighted
        return index if index is not None and index < len(self.predictions) else None

    def shown_pixels(self, i: int) -> Any:
        """The heatmap overlay of image ``i`` when toggled on and ready, else its preview."""
        return self.heatmap_pixels(i, self.previews[i])

    def clear_detail(self) -> None:
        """Nothing selected: no path, no image, no bars."""
        self.query_one("#predict-result", Static).update("")
        self.show_image(None)
        self.show_bars(None)

    def show_image(self, pixels: np.ndarray | None) -> None:
        """Draw ``pixels`` (real pixels or half blocks), or take the image away."""
        image = self.query_one("#predict-image", PixelView)
        image.display = pixels is not None
        if pixels is None:
            image.release()
        else:
            image.show(pixels, *IMAGE_CELLS)

    def show_bars(self, bars: Any) -> None:
        """The top-k bars (and the heatmap's note) below the image, or nothing."""
        widget = self.query_one("#predict-bars", Static)
        widget.display = bars is not None
        widget.update("" if bars is None else bars)

    def heatmap_redraw(self) -> None:
        """Draw the selected file: its path, its image (or heatmap, Ctrl+K), its top-k bars."""
        i = self.heatmap_selected()
        if i is None:
            return
        p = self.predictions[i]
        self.query_one("#predict-result", Static).update(prediction_head(p))
        self.show_image(self.shown_pixels(i) if p.ok else None)
        bars: Any = topk_bars(p.top or []) if p.ok else None
        if note := self.heatmap_note(i):
            bars = Text(note) if bars is None else Group(bars, Text(note))
        self.show_bars(bars)

    def heatmap_job(self, index: int) -> Any:
        loaded, p = self.loaded, self.predictions[index]
        if loaded is None or not p.ok:
            return None

        def job() -> np.ndarray:
            from cnntui.core.judge.explain.explainer import explain_paths

            (e,) = explain_paths(loaded, [(p.path, None)])
            if not e.ok:
                raise ValueError(e.error)
            return e.overlay()

        return job

    @on(OptionList.OptionHighlighted, "#predict-files")
    def _show(self, event: OptionList.OptionHighlighted) -> None:
        if event.option.id is None:
            return
        self.ensure_heatmap(int(event.option.id))
        self.heatmap_redraw()
