"""Turning errors meant for people into one clear line on stderr and an exit code."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import typer

from cnntui.core.errors import EXIT_USAGE, CnntuiError

F = TypeVar("F", bound=Callable[..., Any])


class CLIError(CnntuiError):
    """A command-line mistake: printed without a traceback, with an exit code (2)."""

    def __init__(self, message: str, code: int = EXIT_USAGE, *, hint: str = ""):
        super().__init__(message, hint=hint, exit_code=code)

    @property
    def code(self) -> int:
        return self.exit_code


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """Print ``error: message`` on stderr and exit with ``code``."""
    print(f"error: {message}", file=sys.stderr)
    raise typer.Exit(code)


def handle_errors(func: F) -> F:
    """Catch errors for people at the command boundary: one line, never a stack trace.

    A :class:`CnntuiError` exits with its own code (2 for a mistake in the input, 1 when
    the work failed); a plain ``ValueError`` or ``FileNotFoundError`` from
    code not yet moved onto it is an input error (2).
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except typer.Exit:
            raise
        except CnntuiError as exc:
            fail(exc.describe(), exc.exit_code)
        except (ValueError, FileNotFoundError) as exc:
            fail(str(exc), EXIT_USAGE)
        except KeyboardInterrupt:
            fail("interrupted", 130)

    return wrapper  # type: ignore[return-value]
