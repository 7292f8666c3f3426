"""The ``cnntui`` command: ``cnntui`` alone opens the TUI; subcommands do one job each.

Nothing here imports TensorFlow, Keras or Textual at module level: ``--help`` and
``zoo list`` must start in well under half a second.
"""

from __future__ import annotations

import importlib
import sys
from difflib import get_close_matches
from typing import TYPE_CHECKING, Annotated

import typer
import typer.main
from typer.core import TyperCommand, TyperGroup

from cnntui import __version__
from cnntui.cli.errors import fail
from cnntui.cli.graphics import (
    WORKBENCH_GRAPHICS_HELP,
    prepare_workbench,
    workbench_graphics_option,
)

if TYPE_CHECKING:  # Typer vendors click (typer._click): never import it at run time
    import click

# name -> (module under cnntui.cli, attribute, kind, short help): kind "app" is a sub-app,
# "cmd" a command. The help here is the listing's: the module is imported only to run the
# command or show its own help (tests/test_startup.py checks both agree).
COMMANDS: dict[str, tuple[str, str, str, str]] = {
    "summary": ("summary", "summary", "cmd", "Summarise a model: per-layer params, kernels, "
                "strides, MACs; totals and memory."),
    "train": ("train", "train", "cmd", "Train a zoo entry; defaults come from the entry (the "
              "article's setup)."),
    "lr-find": ("lr_find", "lr_find", "cmd", "Sweep the learning rate exponentially over at "
                "most one epoch and suggest one."),
    "reproduce": ("reproduce", "reproduce", "cmd", "Train tutorial entries on their article's "
                  "data and terms; compare with the article."),
    "predict": ("predict", "predict", "cmd", "Classify images with a trained model; bad files "
                "are reported, the rest still run."),
    "evaluate": ("evaluate", "evaluate", "cmd", "Loss, accuracy, confusion matrix, per-class "
                 "table, ROC/PR curves, calibration, worst images."),
    "export": ("export", "export", "cmd", "Export a trained run and prove each file gives the "
               "Keras model's answers."),
    "explain": ("explain", "explain", "cmd", "Heatmaps of what drives a prediction (Grad-CAM "
                "and friends), in the terminal."),
    "calibrate": ("calibrate", "calibrate", "cmd", "Temperature scaling: one number that makes "
                  "the probabilities honest."),
    "zoo": ("zoo", "app", "app", "Browse the architecture zoo."),
    "data": ("data", "app", "app", "Look at, check and arrange data sources before training."),
    "runs": ("runs", "app", "app", "List, show, watch, compare and remove training runs."),
    "tune": ("tune", "app", "app", "Hyperparameter search with Optuna: `cnntui tune MODEL "
             "--trials N`, `cnntui tune show STUDY`, `cnntui tune list`."),
}  # fmt: skip


def load_command(name: str) -> click.Command:
    """The click command ``name`` of :data:`COMMANDS`, its module imported now."""
    module_name, attr, kind, _ = COMMANDS[name]
    module = importlib.import_module(f"cnntui.cli.{module_name}")
    holder = typer.Typer(
        rich_markup_mode=None, add_completion=False, pretty_exceptions_enable=False
    )
    holder.callback()(lambda: None)  # a group, whatever it holds
    if kind == "app":
        holder.add_typer(getattr(module, attr), name=name)
    else:  # a module may name its click class (cli/panels.PanelCommand: grouped help)
        holder.command(name=name, cls=getattr(module, "COMMAND_CLASS", None))(getattr(module, attr))
    return typer.main.get_command(holder).commands[name]


class LazyGroup(TyperGroup):
    """The root command: a command's module is imported when that command runs, not to list
    it in ``--help``."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*COMMANDS, *(n for n in self.commands if n not in COMMANDS)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            self.commands[cmd_name] = load_command(cmd_name)
        return self.commands.get(cmd_name)

    def resolve_command(self, ctx: click.Context, args: list[str]):
        name = args[0] if args else ""
        names = self.list_commands(ctx)
        if name and name not in names and not name.startswith("-"):
            matches = get_close_matches(name, names)
            hint = f" Did you mean {', '.join(repr(m) for m in matches)}?" if matches else ""
            ctx.fail(f"No such command {name!r}.{hint}")
        return super().resolve_command(ctx, args)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, entry[3]) for name, entry in COMMANDS.items()]
        limit = formatter.width - 6 - max(len(name) for name, _ in rows)
        with formatter.section("Commands"):
            formatter.write_dl([(name, short_help(text, limit)) for name, text in rows])


def short_help(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters at a word, as click shortens a command's help."""
    return TyperCommand(name="-", help=text).get_short_help_str(limit)


app = typer.Typer(
    name="cnntui",
    cls=LazyGroup,
    help="A terminal workbench for CNN image classifiers (Keras 3 on TensorFlow, JAX or "
    "PyTorch).\n\n"
    "Run `cnntui` with no command to open the interactive workbench.",
    context_settings={"help_option_names": ["-h", "--help"]},
    no_args_is_help=False,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)


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


def main() -> None:
    """Console-script entry point."""
    app()
