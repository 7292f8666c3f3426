"""Export: a run's model to chosen formats, the parity table filling in as each is checked."""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Checkbox, DataTable, Footer, Header, SelectionList, Static
from textual.worker import Worker

from cnntui.tui.screens.base import WorkbenchScreen


class ExportScreen(WorkbenchScreen):
    """Choose formats, export in a worker, watch the parity table fill in row by row."""

    BINDINGS = [Binding("escape", "close", "Back")]

    def __init__(self, run_id: str) -> None:
        super().__init__()
        self.run_id = run_id
        self.rows: list[dict[str, Any]] = []
        self.report: dict[str, Any] | None = None
        self.busy = False

    def compose(self) -> ComposeResult:
        from cnntui.core.export.formats import DEFAULT_FORMATS, FORMATS
        from cnntui.core.inference.runtimes import missing_modules

        no_onnx = bool(missing_modules(("tf2onnx", "onnx", "onnxruntime")))
        choices = [
            (
                f"{name:<12} {fmt.description}"
                + ("  (pip install 'cnntui[onnx]')" if fmt.extra and no_onnx else ""),
                name,
                name in DEFAULT_FORMATS,
            )
            for name, fmt in FORMATS.items()
        ]
        yield Header()
        with Vertical():
            yield Static(f"Export run {self.run_id} to RUN/export/", id="export-title")
            with Horizontal(id="export-controls"):
                yield SelectionList[str](*choices, id="export-formats")
                with Vertical():
                    yield Checkbox("replace an existing export", id="export-force")
                    yield Button("Export", id="export-start", variant="primary")
            yield DataTable(id="export-table", cursor_type="none", zebra_stripes=True)
            yield Static("", id="export-status", classes="status")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        from cnntui.core.export.sidecars import PARITY_HEADER

        self.title = "cnntui — Export"
        self.query_one("#export-table", DataTable).add_columns(*PARITY_HEADER)

    def action_close(self) -> None:
        if self.busy:
            self.notify("Export still running: it finishes in the background.")
        self.app.pop_screen()

    @on(Button.Pressed, "#export-start")
    def start(self) -> None:
        formats = list(self.query_one("#export-formats", SelectionList).selected)
        if self.busy:
            return
        if not formats:
            self._status("Choose at least one format.")
            return
        self.busy = True
        self.rows = []
        self.report = None
        self.query_one("#export-table", DataTable).clear()
        self.query_one("#export-start", Button).disabled = True
        self.export(formats, self.query_one("#export-force", Checkbox).value)

    @work(thread=True, exclusive=True, group="export", exit_on_error=False, name="Export")
    def export(self, formats: list[str], force: bool) -> None:
        from cnntui.core.export.export import export_run
        from cnntui.core.runs import resolve_run

        run = resolve_run(self.run_id, self.workbench.runs_dir)

        def progress(kind: str, payload: dict[str, Any]) -> None:
            self.app.call_from_thread(self._progress, kind, payload)

        report = export_run(str(run.dir), formats, force=force, progress=progress)
        self.app.call_from_thread(self._finished, report)

    def _status(self, text: str) -> None:
        self.query_one("#export-status", Static).update(text)

    def _progress(self, kind: str, payload: dict[str, Any]) -> None:
        from cnntui.core.export.sidecars import parity_cells

        if kind == "step":
            self._status(payload["text"] + " …")
        else:
            self.rows.append(payload)
            self.query_one("#export-table", DataTable).add_row(*parity_cells(payload))

    def _finished(self, report: dict[str, Any]) -> None:
        self.report = report
        failed = [r["format"] for r in report["formats"] if not r["passed"]]
        verdict = f"FAILED: {', '.join(failed)}" if failed else "every format agrees with Keras"
        self._status(f"{verdict} · written to {report['out']} (MODEL.md has this table)")

    def _idle(self) -> None:
        self.busy = False
        self.query_one("#export-start", Button).disabled = False

    def worker_done(self, worker: Worker) -> None:
        self._idle()

    def worker_failed(self, worker: Worker, error: BaseException | None) -> None:
        self._idle()
        self._status(f"export failed: {error}")
