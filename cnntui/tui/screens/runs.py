"""Runs: every run with its status and best metrics; overlay curves; open one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Footer, Header, Static

from cnntui.tui.screens.base import WorkbenchScreen
from cnntui.tui.widgets.plots import SeriesPlot

METRICS = ("val_accuracy", "val_loss", "accuracy", "loss")
REFRESH_SECONDS = 2.0


def _fmt(value: Any, pct: bool = False) -> str:
    if not isinstance(value, (int, float)):
        return "-"
    return f"{value:.2%}" if pct else f"{value:.4f}"


_CURVES_CACHE: dict[str, tuple[tuple[int, float], dict[str, Any]]] = {}


def _epoch_events(path: Path) -> list[dict[str, Any]]:
    """The ``epoch`` events of an events file (other lines are skipped unparsed)."""
    out = []
    try:
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                if '"epoch"' not in line[:20] or not line.endswith("\n"):
                    continue
                try:
                    out.append(json.loads(line))
                except ValueError:
                    continue
    except OSError:
        pass
    return out


def epoch_curves(run: Any) -> dict[str, tuple[list[int], list[float]]]:
    """Per-epoch metric curves from a run's ``epoch`` events (a resumed run's last wins).

    Cached per file size and modification time: a finished run is read once.
    """
    from cnntui.core.runs import EVENTS

    path = run.path(EVENTS)
    try:
        stat = path.stat()
        key = (stat.st_size, stat.st_mtime)
    except OSError:
        key = (0, 0.0)
    cached = _CURVES_CACHE.get(str(path))
    if cached and cached[0] == key:
        return cached[1]
    by_epoch: dict[int, dict[str, Any]] = {}
    for ev in _epoch_events(path):
        if ev.get("event") == "epoch" and isinstance(ev.get("epoch"), int):
            by_epoch[ev["epoch"]] = ev.get("logs") or {}
    epochs = sorted(by_epoch)
    curves: dict[str, tuple[list[int], list[float]]] = {}
    for key in METRICS:
        xs, ys = [], []
        for e in epochs:
            value = by_epoch[e].get(key)
            if isinstance(value, (int, float)):
                xs.append(e)
                ys.append(float(value))
        curves[key] = (xs, ys)
    _CURVES_CACHE[str(path)] = (key, curves)
    return curves


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
        rows.append(summary)
    return rows


class RunsScreen(WorkbenchScreen):
    """Every run; pick several to overlay their curves; open one to follow, evaluate, predict."""

    BINDINGS = [
        Binding("space", "toggle_compare", "Compare"),
        Binding("m", "next_metric", "Metric"),
        Binding("enter", "follow", "Follow"),
        Binding("v", "evaluate", "Evaluate"),
        Binding("i", "predict", "Predict"),
        Binding("o", "export", "Export", show=False),  # in the footer once snapshots are redone
        Binding("x", "stop", "Stop"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict[str, Any]] = []
        self.compare: set[str] = set()
        self.metric = METRICS[0]
        self._signature: tuple = ()

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical():
            yield DataTable(id="runs-table", cursor_type="row", zebra_stripes=True)
            yield Static("", id="runs-hint", classes="status")
            yield SeriesPlot("val_accuracy", id="runs-plot")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.title = "cnntui — Runs"
        table = self.query_one("#runs-table", DataTable)
        table.add_column("", key="mark", width=1)
        table.add_column("run", key="id")
        table.add_column("model", key="model")
        table.add_column("status", key="status")
        table.add_column("ep", key="epochs")
        table.add_column("val acc", key="acc")
        table.add_column("val loss", key="loss")
        self.reload()
        self.set_interval(REFRESH_SECONDS, self.reload)

    def on_screen_resume(self) -> None:
        self.reload()

    def reload(self) -> None:
        if self.is_current:
            self.load_rows()

    @work(thread=True, exclusive=True, group="runs", exit_on_error=False, name="Reading runs")
    def load_rows(self) -> None:
        rows = run_rows(self.app.runs_dir)
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
                    r["model"],
                    r["status"],
                    str(r["epochs"] or "-"),
                    _fmt(r["best_val_accuracy"], pct=True),
                    _fmt(r["best_val_loss"]),
                    key=r["id"],
                )
            if rows:
                table.move_cursor(row=min(cursor, len(rows) - 1))
        if not rows:
            self.query_one("#runs-hint", Static).update(
                "No runs yet: start one on the Train screen (t)."
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

    @on(DataTable.RowSelected, "#runs-table")
    async def _row_selected(self) -> None:
        await self.action_follow()

    def _plot(self) -> None:
        plot = self.query_one("#runs-plot", SeriesPlot)
        plot.clear_series()
        plot.title_text = self.metric
        shown = [r for r in self.rows if r["id"] in self.compare]
        if not shown:
            current = self.selected_id()
            shown = [r for r in self.rows if r["id"] == current]
        for r in shown:
            xs, ys = r["curves"][self.metric]
            plot.set_series(r["id"][-22:], xs, ys)
        n = len(self.compare)
        hint = (
            f"comparing {n} runs · space adds or removes the selected run"
            if n
            else "space: add runs to compare · enter: follow · v: evaluate · i: predict"
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

    async def _open(self, where: str) -> None:
        run_id = self.selected_id()
        if run_id is None:
            self.notify("No run selected.", severity="warning")
            return
        await self.app.open_run(run_id, where)

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
        if run_id is not None:
            self.notify(stop_run(resolve_run(run_id, self.app.runs_dir)))
