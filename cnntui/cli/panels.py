"""Help grouped by ``rich_help_panel`` without Rich: a click command class for long commands.

The app runs with ``rich_markup_mode=None`` (plain help, no Rich import at start-up), in
which Typer ignores ``rich_help_panel``. :class:`PanelCommand` honours it in plain text:
arguments, then one section per panel in the order the options are declared, then the
options without a panel (``--help``). A command module opts in with
``COMMAND_CLASS = PanelCommand`` (read by ``cli/main.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from typer.core import TyperCommand

if TYPE_CHECKING:  # Typer 0.2x vendors click (typer._click): never import it at run time
    import click

OTHER = "Other options"


class PanelCommand(TyperCommand):
    """A Typer command whose plain-text help groups options by their ``rich_help_panel``."""

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        sections: dict[str, list[tuple[str, str]]] = {}
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            if param.param_type_name == "argument":
                title = "Arguments"
            else:
                title = getattr(param, "rich_help_panel", None) or OTHER
            sections.setdefault(title, []).append(record)
        order = ["Arguments", *(t for t in sections if t not in ("Arguments", OTHER)), OTHER]
        for title in order:
            if title in sections:
                with formatter.section(title):
                    formatter.write_dl(sections[title])
