"""A progress bar on stderr for long CLI commands: drawn only when stderr is a terminal.

Scripts (stderr piped or redirected) get nothing from it, so what they parse stays as it
was. When stdout is the terminal too, :meth:`StderrProgress.stdout` gives a writer whose
complete lines are printed above the bar, unwrapped; when stdout is piped, the bar stays
on stderr and stdout is left alone.
"""

from __future__ import annotations

import sys
import threading
from typing import Any, TextIO


class StderrProgress:
    """A bar of ``total`` steps: ``phase("predicting")`` renames it, ``advance()`` moves it.

    ``console`` (a Rich ``Console``) replaces the stderr console, e.g. one made with
    ``force_terminal=True`` in tests; without it the bar is drawn only if stderr is a tty.
    """

    def __init__(self, total: int, description: str, *, console: Any = None):
        self.total, self.description = total, description
        self._console = console
        self._progress: Any = None
        self._task: Any = None
        self._above: _AboveBar | None = None

    @property
    def active(self) -> bool:
        """Whether a bar is being drawn."""
        return self._progress is not None

    def __enter__(self) -> StderrProgress:
        if self._console is None and not _isatty(sys.stderr):
            return self
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        console = self._console or Console(file=sys.stderr)
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(bar_width=None),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            console=console,
            transient=True,  # the summary line replaces it
            refresh_per_second=5,
            redirect_stdout=False,  # see stdout(): Rich's proxy wraps long lines
            redirect_stderr=False,
        )
        self._progress.start()
        self._task = self._progress.add_task(self.description, total=self.total)
        return self

    def stdout(self) -> TextIO | _AboveBar:
        """Where to write results: stdout, or lines above the bar when both are terminals."""
        if self._progress is not None and _isatty(sys.stdout):
            self._above = _AboveBar(self._progress.console)
            return self._above
        return sys.stdout

    def phase(self, description: str) -> None:
        """Say what is being done now (e.g. ``loading model`` → ``predicting``)."""
        if self._progress is not None:
            self._progress.update(self._task, description=description)

    def echo(self, line: str) -> None:
        """A line on stderr (above the bar while one is drawn)."""
        if self._progress is not None:
            self._progress.console.print(line, markup=False, highlight=False, soft_wrap=True)
        else:
            print(line, file=sys.stderr, flush=True)

    def advance(self, n: int = 1) -> None:
        if self._progress is not None:
            self._progress.advance(self._task, n)

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            if self._above is not None:
                self._above.close()
            self._progress.stop()
            self._progress = None


class _AboveBar:
    """A text stream whose complete lines Rich prints above its live bar, unwrapped, in
    bursts ``interval`` seconds apart from a thread (each print redraws the bar)."""

    def __init__(self, console: Any, interval: float = 0.1):
        self.console, self.interval = console, interval
        self._partial = ""
        self._lines: list[str] = []
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="cnntui-above-bar", daemon=True)
        self._thread.start()

    def write(self, text: str) -> int:
        with self._lock:
            *lines, self._partial = (self._partial + text).split("\n")
            self._lines += lines
        return len(text)

    def _loop(self) -> None:
        while not self._done.wait(self.interval):
            self.drain()

    def drain(self) -> None:
        """Print every complete line written so far."""
        from rich.text import Text

        with self._lock:
            lines, self._lines = self._lines, []
        if lines:
            self.console.print(Text.from_ansi("\n".join(lines)), soft_wrap=True)

    def close(self) -> None:
        """Stop the thread and print what is left."""
        self._done.set()
        self._thread.join()
        self.drain()

    def flush(self) -> None:
        pass  # lines go out in bursts (drain); a partial line waits for its end


def _isatty(stream: TextIO | None) -> bool:
    try:
        return bool(stream is not None and stream.isatty())
    except (AttributeError, ValueError):
        return False
