"""A one-line chooser of runs that have a checkpoint (for Evaluate and Predict)."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Select


def runs_with_checkpoint(runs_dir: Path) -> list[tuple[str, str]]:
    """``(label, run id)`` for every run with ``best.keras`` or ``last.keras``, newest first."""
    from cnntui.core.runs import BEST, LAST, list_runs

    out = []
    for run in reversed(list_runs(runs_dir)):
        if run.path(BEST).exists() or run.path(LAST).exists():
            out.append((f"{run.id} ({run.status})", run.id))
    return out


class RunSelect(Select[str]):
    """Runs with a checkpoint; ``reload()`` re-reads the runs folder, keeping the choice."""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__([], prompt="choose a run with a checkpoint", id=id, compact=True)

    def reload(self, runs_dir: Path, prefer: str | None = None) -> None:
        current = prefer or (self.value if isinstance(self.value, str) else None)
        options = runs_with_checkpoint(runs_dir)
        self.set_options(options)
        ids = [run_id for _, run_id in options]
        if current in ids:
            self.value = current
        elif ids:
            self.value = ids[0]
