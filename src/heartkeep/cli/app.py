"""The Typer root: registers the command groups and turns `HeartkeepError` into exit statuses.

This is the one place errors become exit codes (see `heartkeep.errors` for the table).  Every
message passes through redaction before it is printed, so a token cannot leak through an error.
The handling lives in the click group's `invoke`, so `CliRunner` tests see exactly what a user
sees: the message on stderr and the documented exit code.
"""

from __future__ import annotations

from typing import Any

import typer
from typer import _click
from typer.core import TyperGroup

from heartkeep.cli import render
from heartkeep.errors import HeartkeepError
from heartkeep.redaction import redact


class _HeartkeepGroup(TyperGroup):
    def invoke(self, ctx: _click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except HeartkeepError as failure:
            render.error(redact(str(failure)))
            raise typer.Exit(failure.exit_code) from None


app = typer.Typer(
    name="heartkeep",
    cls=_HeartkeepGroup,
    help=(
        "Keep every heart-rate sample from your Fitbit / Pixel Watch on your own disk.\n\n"
        "Connect once with `heartkeep auth login`, then `heartkeep sync` (by hand, from cron or "
        "a systemd timer, or `heartkeep watch`) keeps a local SQLite database current.  Try it "
        "without any account: `heartkeep demo` runs everything against the built-in sandbox."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _show_version(value: bool) -> None:
    if value:
        from heartkeep import __version__

        render.line(f"heartkeep {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_show_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """Keep every heart-rate sample from your Fitbit / Pixel Watch on your own disk."""


def _register() -> None:
    """Attach every command module.  Each module exposes `register(app)`."""
    from heartkeep.cli import auth, charts, data, demo, doctor, forget, sandbox, sync

    for module in (auth, sync, data, forget, charts, sandbox, demo, doctor):
        module.register(app)


_register()


def main() -> None:
    """Console-script entry point."""
    app()
