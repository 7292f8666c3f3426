"""Turning domain errors into one clear line on stderr and an exit code."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import typer

F = TypeVar("F", bound=Callable[..., Any])


class CLIError(Exception):
    """An error meant for people: printed without a traceback, with an exit code."""

    def __init__(self, message: str, code: int = 2):
        super().__init__(message)
        self.code = code


def fail(message: str, code: int = 2) -> NoReturn:
    """Print ``error: message`` on stderr and exit with ``code``."""
    print(f"error: {message}", file=sys.stderr)
    raise typer.Exit(code)


def handle_errors(func: F) -> F:
    """Catch domain errors at the command boundary (exit 2), never a stack trace."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from cnntui.core.registry import UnknownModelError
        from cnntui.core.runs import RunNotFoundError

        try:
            return func(*args, **kwargs)
        except typer.Exit:
            raise
        except CLIError as exc:
            fail(str(exc), exc.code)
        except (UnknownModelError, RunNotFoundError, ValueError, FileNotFoundError) as exc:
            fail(str(exc), 2)
        except KeyboardInterrupt:
            fail("interrupted", 130)

    return wrapper  # type: ignore[return-value]
