"""How a command group lists its commands in `--help`: each command's first sentence whole,
wrapped to the terminal's width, where click would cut it off at the line's end with "...".

heartkeep's help is click's plain layout (`rich_markup_mode=None` in `cli/app.py`): it wraps
cleanly at any width (80 columns included), and `--help` does not load Rich's Markdown renderer,
a third of a second of start-up.  Every group of the command tree is made with this class
(`typer.Typer(cls=HelpGroup)`).
"""

from __future__ import annotations

from typer import _click  # typer vendors click; its classes are what the command tree is made of
from typer.core import TyperGroup

# Long enough that click's short help never truncates: it stops at the first sentence instead.
WHOLE_SENTENCE = 10_000


class HelpGroup(TyperGroup):
    """A typer group whose command list shows each command's first sentence in full."""

    def format_commands(self, ctx: _click.Context, formatter: _click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            summary = self.command_summary(ctx, name)
            if summary is not None:
                rows.append((name, summary))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def command_summary(self, ctx: _click.Context, name: str) -> str | None:
        """`name`'s first sentence in full for the list, None when it is hidden (or gone)."""
        command = self.get_command(ctx, name)
        if command is None or command.hidden:
            return None
        return command.get_short_help_str(WHOLE_SENTENCE)
