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
    """Runs with a checkpoint; ``reload()`` re-reads the runs folder.

    It keeps a run the user chose; otherwise it moves to the newest run, so a run that has
    just finished is the one offered.
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__([], prompt="choose a run with a checkpoint", id=id, compact=True)
        self._auto: str | None = None  # the value reload() chose itself
        self._options: list[tuple[str, str]] = []

    def reload(self, runs_dir: Path, prefer: str | None = None) -> None:
        current = self.value if isinstance(self.value, str) else None
        picked = current if current is not None and current != self._auto else None
        wanted = prefer or picked
        options = runs_with_checkpoint(runs_dir)
        if options != self._options:
            self._options = options
            self.set_options(options)
        ids = [run_id for _, run_id in options]
        if wanted in ids:
            self._auto = None  # asked for (by the user or a screen): kept from now on
            self.value = wanted
        elif ids:
            self._auto = ids[0]
            self.value = ids[0]
