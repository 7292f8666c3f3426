"""Runs: every run with its status and best metrics; overlay curves; open one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Footer, Static

from cnntui.core.event_stream import FoldCache
from cnntui.core.formats import fmt_metric
from cnntui.tui.screens.base import RunPlace, WorkbenchScreen
from cnntui.tui.widgets.confirm import Confirm
from cnntui.tui.widgets.nav import ScreenBar
from cnntui.tui.widgets.plots import SeriesPlot

METRICS = ("val_accuracy", "val_loss", "accuracy", "loss")
REFRESH_SECONDS = 2.0


def data_label(source: Any) -> str:
    """A run's data source, short: a folder or file by its last part."""
    if not source:
        return "-"
    text = str(source)
    return Path(text).name or text if "/" in text else text


def legend_label(run_id: str, model: str) -> str:
    """A short, distinct curve label: the id when short, else model and the id's suffix."""
    if len(run_id) <= 20:
        return run_id
    return f"{model[:15]}·{run_id[-4:]}"


_FOLDS = FoldCache(skip=("batch",))  # one fold per run, brought up to date from its tail


def epoch_curves(run: Any) -> dict[str, tuple[list[int], list[float]]]:
    """Per-epoch metric curves from a run's events (a resumed run's last value wins).

    Each call reads only what was appended to the run's ``events.jsonl`` since the last.
    """
    from cnntui.core.runs import EVENTS

    fold = _FOLDS.get(run.path(EVENTS))
    return {key: fold.curve(key) for key in METRICS}


def run_rows(runs_dir: Any) -> list[dict[str, Any]]:
    """One summary per run, newest first, with the best metrics seen in its events."""
    from cnntui.core.runs import list_runs

    rows = []
    for run in reversed(list_runs(runs_dir)):
        summary = run.summary()
        curves = epoch_curves(run)
        val_acc, val_loss = curves["val_accuracy"][1], curves["val_loss"][1]
        if summary.get("best_val_accuracy") is None and val_acc:
            summary["best_val_accuracy"] = max(val_acc)
        if summary.get("best_val_loss") is None and val_loss:
            summary["best_val_loss"] = min(val_loss)
        if summary.get("epochs") is None:
            summary["epochs"] = max(curves["loss"][0], default=None)
        summary["curves"] = curves
        tune = run.config.get("tune") or {}
        summary["study"], summary["trial"] = tune.get("study"), tune.get("trial")
        rows.append(summary)
    return group_trials(rows)


def group_trials(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A `cnntui tune` study's trials together, where its newest trial is, by trial number."""
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for row in rows:
        study = row.get("study")
        if study is None:
            out.append(row)
        elif study not in seen:
            seen.add(study)
            trials = [r for r in rows if r.get("study") == study]
            out += sorted(trials, key=lambda r: (r.get("trial") is None, r.get("trial") or 0))
    return out


def model_label(row: dict[str, Any]) -> str:
    """The model, and for a tune trial its study and trial number."""
    if row.get("study") is None:
        return str(row["model"])
    return f"{row['model']} · {row['study']} #{row['trial']}"


class RunsScreen(WorkbenchScreen):
    """Every run; pick several to overlay their curves; open one to follow, evaluate, predict."""

    SCREEN = "runs"
    # No text field here: space and m only mark and redraw; what opens or stops is not a letter.
    BINDINGS = [
        Binding("enter", "follow", "Follow", key_display="⏎", priority=True),
        Binding("space", "toggle_compare", "Compare"),
        Binding("m", "next_metric", "Metric"),
        Binding("ctrl+e", "evaluate", "Eval"),
        Binding("ctrl+r", "predict", "Predict"),
        Binding("ctrl+t", "stop", "Stop"),
        Binding("ctrl+x", "export", "Export", show=False),  # footer full at 80 columns
    ]

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict[str, Any]] = []
        self.compare: set[str] = set()
        self.metric = METRICS[0]
        self._signature: tuple = ()
        self._plotted: tuple = ()

    def compose(self) -> ComposeResult:
        yield ScreenBar(self.SCREEN)
        with Vertical():
            yield DataTable(id="runs-table", cursor_type="row", zebra_stripes=True)
            yield Static("", id="runs-hint", classes="status")
            yield SeriesPlot("val_accuracy", id="runs-plot")
        # six keys of its own: the palette's entry would push Keys out at 80 columns
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        table = self.query_one("#runs-table", DataTable)
        table.add_column("", key="mark", width=1)
        # the figures before the names, so they stay visible at 80 columns
        table.add_column("run", key="id")
        table.add_column("ep", key="epochs")
        table.add_column("val acc", key="acc")
        table.add_column("val loss", key="loss")
        table.add_column("status", key="status")
        table.add_column("data", key="data")
        table.add_column("model", key="model")
        self.reload()
        self.set_interval(REFRESH_SECONDS, self.reload)

    def on_screen_resume(self) -> None:
        self.reload()

    def reload(self) -> None:
        if self.is_current:
            self.load_rows()

    @work(thread=True, exclusive=True, group="runs", exit_on_error=False, name="Reading runs")
    def load_rows(self) -> None:
        rows = run_rows(self.workbench.runs_dir)
        self.app.call_from_thread(self._show_rows, rows)

    def _show_rows(self, rows: list[dict[str, Any]]) -> None:
        signature = tuple(
            (r["id"], r["status"], r["epochs"], r["best_val_accuracy"], r["best_val_loss"])
            for r in rows
        )
        self.rows = rows
        if signature != self._signature:
            self._signature = signature
            table = self.query_one("#runs-table", DataTable)
            cursor = table.cursor_row
            table.clear()
            for r in rows:
                table.add_row(
                    "*" if r["id"] in self.compare else "",
                    r["id"],
                    str(r["epochs"] or "-"),
                    fmt_metric("val_accuracy", r["best_val_accuracy"], pct=True),
                    fmt_metric("val_loss", r["best_val_loss"]),
                    r["status"],
                    data_label(r.get("data")),
                    model_label(r),
                    key=r["id"],
                )
            if rows:
                table.move_cursor(row=min(cursor, len(rows) - 1))
        if not rows:
            self.query_one("#runs-hint", Static).update(
                "No runs yet: start one on the Train screen (F3)."
            )
        self._plot()

    def selected_id(self) -> str | None:
        table = self.query_one("#runs-table", DataTable)
        if not self.rows or table.cursor_row < 0 or table.cursor_row >= len(self.rows):
            return None
        return str(table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value)

    @on(DataTable.RowHighlighted, "#runs-table")
    def _highlighted(self) -> None:
        self._plot()

    def _plot(self) -> None:
        shown = [r for r in self.rows if r["id"] in self.compare]
        if not shown:
            current = self.selected_id()
            shown = [r for r in self.rows if r["id"] == current]
        key = (self.metric, *((r["id"], *map(tuple, r["curves"][self.metric])) for r in shown))
        if key != self._plotted:  # redraw only when what the chart shows has changed
            self._plotted = key
            plot = self.query_one("#runs-plot", SeriesPlot)
            plot.clear_series()
            plot.title_text = self.metric
            for r in shown:
                xs, ys = r["curves"][self.metric]
                plot.set_series(legend_label(r["id"], r["model"]), xs, ys)
        n = len(self.compare)
        hint = (
            f"comparing {n} runs · space adds or removes the selected run"
            if n
            else "space: compare · Enter: follow · Ctrl+E: evaluate · Ctrl+R: predict"
        )
        if self.rows:
            self.query_one("#runs-hint", Static).update(hint)

    def action_toggle_compare(self) -> None:
        run_id = self.selected_id()
        if run_id is None:
            return
        self.compare.symmetric_difference_update({run_id})
        table = self.query_one("#runs-table", DataTable)
        table.update_cell(run_id, "mark", "*" if run_id in self.compare else "")
        self._plot()

    def action_next_metric(self) -> None:
        self.metric = METRICS[(METRICS.index(self.metric) + 1) % len(METRICS)]
        self._plot()

    async def _open(self, where: RunPlace) -> None:
        run_id = self.selected_id()
        if run_id is None:
            self.notify("No run selected.", severity="warning")
            return
        await self.workbench.open_run(run_id, where)

    async def action_follow(self) -> None:
        await self._open("train")

    async def action_evaluate(self) -> None:
        await self._open("evaluate")

    async def action_predict(self) -> None:
        await self._open("predict")

    def action_export(self) -> None:
        from cnntui.tui.screens.export import ExportScreen

        run_id = self.selected_id()
        if run_id is None:
            self.notify("No run selected.", severity="warning")
            return
        self.app.push_screen(ExportScreen(run_id))

    def action_stop(self) -> None:
        from cnntui.core.runs import resolve_run
        from cnntui.tui.launch import stop_run

        run_id = self.selected_id()
        if run_id is None:
            return
        run = resolve_run(run_id, self.workbench.runs_dir)
        if run.status != "running":
            self.notify(f"{run.id} is not running ({run.status}).", severity="warning")
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.notify(stop_run(run))

        self.app.push_screen(
            Confirm(f"Stop {run.id} after its current batch?", "Stop", variant="error"), answered
        )
