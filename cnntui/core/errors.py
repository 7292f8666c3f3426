"""``CnntuiError``: the one base of every error meant for people.

Each error carries the exit code the CLI ends with (2: a usage or input mistake, caught
before any work; 1: the work itself failed) and an optional hint saying what to do next.
``cli.errors.handle_errors`` and the TUI's worker-error funnel catch this base; domain
errors (unknown model, run not found, bad data, bad checkpoint, bad training request)
derive from it, most of them also from the built-in class they used to be (``ValueError``,
``LookupError``…) so existing ``except`` clauses keep working.
"""

from __future__ import annotations

EXIT_USAGE = 2
EXIT_FAILED = 1


class CnntuiError(Exception):
    """An error for people: what went wrong, an exit code and an optional hint."""

    exit_code: int = EXIT_USAGE

    def __init__(self, message: str, *, hint: str = "", exit_code: int | None = None):
        super().__init__(message)
        self.hint = hint
        if exit_code is not None:
            self.exit_code = exit_code

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else type(self).__name__

    def describe(self) -> str:
        """The message and the hint on one line."""
        return f"{self}; {self.hint}" if self.hint else str(self)


class ConfigError(CnntuiError, ValueError):
    """A training request that cannot run (a bad option value), named with its option."""


class TrainingError(CnntuiError):
    """Training itself failed (a Keras/TensorFlow error); the run is marked ``failed``."""

    exit_code = EXIT_FAILED


class ExportError(ValueError):
    """An export that cannot be done, with a message saying what to do."""

    def __str__(self) -> str:
        return self.args[0]
