"""Evaluate: a run's confusion matrix as a heatmap, the per-class table, the images per cell."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import (
    Button,
    DataTable,
    Footer,
    OptionList,
    Static,
    TabbedContent,
    TabPane,
)
from textual.widgets.option_list import Option

from cnntui.tui.heatmap import HEATMAP_BINDING, HeatmapToggle
from cnntui.tui.screens.base import WorkbenchScreen
from cnntui.tui.widgets.nav import ScreenBar
from cnntui.tui.widgets.pixels import PixelView
from cnntui.tui.widgets.runpicker import RunSelect

MAX_CELL_EXAMPLES = 200
# Background shades from empty to full; text stays readable in 16-colour terminals.
SHADES = ("", "on grey23", "on grey42", "on grey62", "black on grey82")


def heat_style(fraction: float, diagonal: bool) -> str:
    """The cell style for a row-normalised value (bold on the diagonal)."""
    level = 0 if fraction <= 0 else min(len(SHADES) - 1, 1 + int(fraction * (len(SHADES) - 1)))
    style = SHADES[level]
    return f"bold {style}".strip() if diagonal else style


def matrix_column_width(names: list[str], largest: int, budget: int = 48) -> int:
    """Cells wide enough for the counts and, when there are few classes, the names."""
    longest = max((len(str(n)) for n in names), default=1)
    name_room = min(longest, max(2, budget // max(1, len(names)) - 1))
    return max(3, len(str(largest)) + 1, name_room + 1)


class EvaluateScreen(HeatmapToggle, WorkbenchScreen):
    """Judge a run's checkpoint on its held-out data."""

    SCREEN = "evaluate"
    AUTO_FOCUS = "#eval-run"
    TABS = "#eval-tabs"
    BINDINGS = [Binding("ctrl+e", "evaluate", "Evaluate"), HEATMAP_BINDING]

    def __init__(self) -> None:
        super().__init__()
        self.result: Any = None
        self.report: dict[str, Any] | None = None
        self.cell_indices: np.ndarray = np.zeros(0, dtype=int)
        self.run_dir: str | None = None  # the evaluated run, whose model the heatmaps use
        self.loaded: tuple[str, Any] | None = None  # (run directory, its LoadedModel)
        self._loading = threading.Lock()
        self.reset_heatmaps()

    def compose(self) -> ComposeResult:
        yield ScreenBar(self.SCREEN)
        with Horizontal(classes="buttons", id="eval-bar"):
            yield RunSelect(id="eval-run")
            yield Button("Evaluate", id="eval-go", variant="primary", compact=True)
        yield Static("Choose a run, then Evaluate (Ctrl+E).", id="eval-summary", classes="status")
        with TabbedContent(id="eval-tabs"):
            with TabPane("Confusion", id="eval-confusion"):
                with Horizontal():
                    yield DataTable(id="eval-matrix", cursor_type="cell", cell_padding=0)
                    with Vertical(id="eval-side"):
                        yield Static("Select a cell.", id="eval-cell")
                        yield OptionList(id="eval-examples")
                        yield PixelView(id="eval-preview")
            with TabPane("Per class", id="eval-classes"):
                yield DataTable(id="eval-table", zebra_stripes=True, cursor_type="row")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#eval-run", RunSelect).reload(self.workbench.runs_dir)

    def on_screen_resume(self) -> None:
        self.query_one("#eval-run", RunSelect).reload(self.workbench.runs_dir)

    def show_run(self, run_id: str) -> None:
        """Select ``run_id`` and evaluate it."""
        self.query_one("#eval-run", RunSelect).reload(self.workbench.runs_dir, prefer=run_id)
        self.action_evaluate()

    @on(Button.Pressed, "#eval-go")
    def action_evaluate(self) -> None:
        run_id = self.query_one("#eval-run", RunSelect).value
        if not isinstance(run_id, str):
            self.notify("No run with a checkpoint yet: train one first (t).", severity="warning")
            return
        self.query_one("#eval-summary", Static).update(f"Evaluating {run_id}…")
        self.evaluate_worker(run_id)

    @work(thread=True, exclusive=True, group="evaluate", exit_on_error=False, name="Evaluating")
    def evaluate_worker(self, run_id: str) -> None:
        from cnntui.core.judge.evaluate import evaluate_run
        from cnntui.core.runs import resolve_run

        run = resolve_run(run_id, self.workbench.runs_dir)
        result, report = evaluate_run(str(run.dir), keep_images=True)
        self.app.call_from_thread(self.show_result, result, report, str(run.dir))

    def worker_failed(self, worker: Any, error: BaseException | None) -> None:
        if worker.group == "evaluate":
            self.query_one("#eval-summary", Static).update(f"Could not evaluate: {error}")

    def show_result(self, result: Any, report: dict[str, Any], run_dir: str | None = None) -> None:
        """Fill the heatmap and the per-class table from an evaluation."""
        self.result, self.report = result, report
        self.run_dir = run_dir
        self.reset_heatmaps()
        acc, loss = report.get("accuracy"), report.get("loss")
        parts = [
            f"{report.get('data')} [{report.get('split')}]",
            f"{report.get('examples')} images",
        ]
        if acc is not None:
            parts.append(f"accuracy {acc:.2%}")
        if loss is not None:
            parts.append(f"loss {loss:.4f}")
        top = report.get("top_k_accuracy")
        if top:
            parts.append(f"top-{top['k']} {top['value']:.2%}")
        self.query_one("#eval-summary", Static).update(Text(" · ".join(parts)))
        names = report["class_names"]
        cm = np.asarray(report["confusion_matrix"])
        norm = np.asarray(report["confusion_matrix_normalised"])
        matrix = self.query_one("#eval-matrix", DataTable)
        matrix.clear(columns=True)
        matrix.add_column("true\\pred ", key="true")
        width = matrix_column_width(names, int(cm.max(initial=0)))
        for j, name in enumerate(names):
            matrix.add_column(str(name)[: width - 1].rjust(width), key=f"p{j}", width=width)
        for i, name in enumerate(names):
            cells: list[Any] = [Text(str(name)[:10], style="bold")]
            for j in range(len(names)):
                value = int(cm[i, j])
                cells.append(
                    Text(str(value).rjust(width), style=heat_style(float(norm[i, j]), i == j))
                )
            matrix.add_row(*cells, key=f"t{i}")
        table = self.query_one("#eval-table", DataTable)
        table.clear(columns=True)
        table.add_columns("class", "precision", "recall", "f1", "support", "auc")
        for row in report.get("per_class", []):
            auc = row.get("roc_auc")
            table.add_row(
                str(row["class"]),
                f"{row.get('precision', 0):.3f}",
                f"{row.get('recall', 0):.3f}",
                f"{row.get('f1', 0):.3f}",
                str(row.get("support", 0)),
                "-" if auc is None else f"{auc:.3f}",
            )
        matrix.focus()
        if len(names) > 1:
            matrix.move_cursor(row=0, column=2)

    @on(DataTable.CellHighlighted, "#eval-matrix")
    def _cell(self, event: DataTable.CellHighlighted) -> None:
        true, predicted = event.coordinate.row, event.coordinate.column - 1
        if self.result is None or predicted < 0:
            return
        self.show_cell(true, predicted)

    def show_cell(self, true: int, predicted: int) -> None:
        """List the images of class ``true`` predicted as ``predicted``."""
        names = self.result.class_names
        idx = self.result.cell(true, predicted)
        self.cell_indices = idx[:MAX_CELL_EXAMPLES]
        self.query_one("#eval-cell", Static).update(
            f"true {names[true]} → predicted {names[predicted]}: {len(idx)}"
        )
        options = self.query_one("#eval-examples", OptionList)
        options.clear_options()
        options.add_options(
            [
                Option(f"{self.result.ids[i]}  p={self.result.probs[i, predicted]:.2f}", id=str(i))
                for i in self.cell_indices
            ]
        )
        if len(self.cell_indices):
            options.highlighted = 0
        else:
            self.query_one("#eval-preview", PixelView).show_text("")

    def heatmap_selected(self) -> int | None:
        """The evaluation index of the highlighted example."""
        options = self.query_one("#eval-examples", OptionList)
        k = options.highlighted
        if self.result is None or k is None or k >= options.option_count:
            return None
        option_id = options.get_option_at_index(k).id
        return None if option_id is None else int(option_id)

    def heatmap_job(self, index: int) -> Any:
        images, run_dir = self.result.images, self.run_dir
        if images is None or index >= len(images) or run_dir is None:
            return None
        image, predicted = images[index : index + 1], self.result.y_pred[index : index + 1]

        def job() -> np.ndarray:
            from cnntui.core.inference.open import open_for_inference
            from cnntui.core.judge.explain.explainer import explain_inputs

            with self._loading:  # one load per run, however many images are asked for
                if self.loaded is None or self.loaded[0] != run_dir:
                    self.loaded = (run_dir, open_for_inference(run_dir))
                loaded = self.loaded[1]
            return explain_inputs(loaded, image, predicted)[0]

        return job

    def heatmap_redraw(self) -> None:
        """Draw the highlighted example: its heatmap (Ctrl+K, the predicted class) or its pixels."""
        i = self.heatmap_selected()
        if i is None:
            return
        images = self.result.images
        preview = self.query_one("#eval-preview", PixelView)
        if images is not None and i < len(images):
            preview.show(self.heatmap_pixels(i, images[i]), 24, 8, note=self.heatmap_note(i))
        else:
            preview.show_text(self.result.ids[i])

    @on(OptionList.OptionHighlighted, "#eval-examples")
    def _example(self, event: OptionList.OptionHighlighted) -> None:
        if self.result is None or event.option.id is None:
            return
        self.ensure_heatmap(int(event.option.id))
        self.heatmap_redraw()
