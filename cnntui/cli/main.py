"""The ``cnntui`` command: ``cnntui`` alone opens the TUI; subcommands do one job each.

Nothing here imports TensorFlow, Keras or Textual at module level: ``--help`` and
``zoo list`` must start in well under half a second.
"""

from __future__ import annotations

import importlib
import sys
from typing import Annotated

import typer

from cnntui import __version__
from cnntui.cli.errors import fail
from cnntui.cli.graphics import (
    WORKBENCH_GRAPHICS_HELP,
    prepare_workbench,
    workbench_graphics_option,
)

app = typer.Typer(
    name="cnntui",
    help="A terminal workbench for CNN image classifiers (Keras 3 on TensorFlow, JAX or "
    "PyTorch).\n\n"
    "Run `cnntui` with no command to open the interactive workbench.",
    context_settings={"help_option_names": ["-h", "--help"]},
    no_args_is_help=False,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)

# (module under cnntui.cli, attribute, kind, name): kind "app" is a sub-app, "cmd" a command.
COMMANDS: list[tuple[str, str, str, str]] = [
    ("zoo", "app", "app", "zoo"),
    ("summary", "summary", "cmd", "summary"),
    ("data", "app", "app", "data"),
    ("train", "train", "cmd", "train"),
    ("lr_find", "lr_find", "cmd", "lr-find"),
    ("reproduce", "reproduce", "cmd", "reproduce"),
    ("runs", "app", "app", "runs"),
    ("predict", "predict", "cmd", "predict"),
    ("evaluate", "evaluate", "cmd", "evaluate"),
    ("export", "export", "cmd", "export"),
    ("tune", "app", "app", "tune"),
    ("explain", "explain", "cmd", "explain"),
    ("calibrate", "calibrate", "cmd", "calibrate"),
]


def _register() -> None:
    for module_name, attr, kind, name in COMMANDS:
        module = importlib.import_module(f"cnntui.cli.{module_name}")
        obj = getattr(module, attr)
        if kind == "app":
            app.add_typer(obj, name=name)
        else:  # a module may name its click class (cli/panels.PanelCommand: grouped help)
            app.command(name=name, cls=getattr(module, "COMMAND_CLASS", None))(obj)


def _version(value: bool) -> None:
    if value:
        print(f"cnntui {__version__}")
        raise typer.Exit()


@app.callback(invoke_without_command=True)
def root(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
    graphics: Annotated[
        str,
        typer.Option(
            "--graphics",
            envvar="CNNTUI_GRAPHICS",
            callback=workbench_graphics_option,
            help=WORKBENCH_GRAPHICS_HELP,
        ),
    ] = "auto",
    backend: Annotated[
        str | None,
        typer.Option(
            "--backend",
            metavar="NAME",
            help="Keras backend: tensorflow (default), jax or torch; else $KERAS_BACKEND.",
        ),
    ] = None,
) -> None:
    """Open the interactive workbench when no command is given."""
    from cnntui.core.backend import BackendError, select

    try:
        select(backend)  # before anything imports Keras, which reads it once
    except BackendError as exc:
        fail(exc.describe(), exc.exit_code)
    if ctx.invoked_subcommand is None:
        if not (sys.stdin.isatty() and sys.stdout.isatty()):
            print(ctx.get_help())
            fail("the interactive workbench needs a terminal; run one of the commands above")
        from cnntui.tui.app import run_app

        run_app(prepare_workbench(graphics))


_register()


def main() -> None:
    """Console-script entry point."""
    app()
