"""The Typer root: registers the command groups and turns every failure into an exit status.

This is the one place errors become exit codes (the table is `heartkeep.errors.EXIT_CODES`).
A `HeartkeepError` prints its message (and hint) on stderr — or, under `--json`, one
`{"error": …}` document on stdout; anything else (Ctrl-C, a refusal by the operating system, a
bug) is first translated by `cli.failures`, so no user ever sees a traceback.  Every message
passes through redaction before it is printed, so a token cannot leak through an error.  The
handling lives in the click group's `invoke`, so `CliRunner` tests see exactly what a user sees.
The shared options (`cli.options`) are added to every command when the tree is built.
"""

from __future__ import annotations

import gc
import importlib
import traceback
from typing import Any

import typer
import typer.main
from typer import _click

from heartkeep.cli import failures, options, render
from heartkeep.cli.command_table import COMMANDS, SUMMARIES, LazyCommands
from heartkeep.cli.grouphelp import WHOLE_SENTENCE, HelpGroup
from heartkeep.errors import HeartkeepError, InternalError
from heartkeep.output_target import silence_stdout
from heartkeep.redaction import redact

_ARGS = "heartkeep.args"


class _HeartkeepGroup(HelpGroup):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        options.install(self)
        # Each top-level command is built when it is looked up (`cli.command_table`).
        self.commands = LazyCommands(COMMANDS, _build_module)

    def list_commands(self, ctx: _click.Context) -> list[str]:
        return list(self.commands)  # typer's own walks `items()`: it would build them all

    def command_summary(self, ctx: _click.Context, name: str) -> str | None:
        """The root lists its commands from `SUMMARIES`: `--help` builds none of them."""
        assert isinstance(self.commands, LazyCommands)
        return self.commands.summary(name, SUMMARIES, WHOLE_SENTENCE)

    def parse_args(self, ctx: _click.Context, args: list[str]) -> list[str]:
        ctx.meta[_ARGS] = list(args)  # before parsing: a usage error may still owe JSON
        try:
            return super().parse_args(ctx, args)
        except BrokenPipeError:  # `heartkeep --help | head -1`: the root's help prints here
            silence_stdout()
            raise typer.Exit(0) from None
        except OSError as error:  # `heartkeep --help > /dev/full`: said, not a traceback
            _fail(failures.translate(error))
            raise  # unreachable: _fail exits

    def main(self, *args: Any, **kwargs: Any) -> Any:
        """Every invocation — the console script's, or one of many `CliRunner` runs in one test
        process — starts from `render`'s defaults and leaves them behind: a `--json` or
        `--quiet` is this command's, never the next caller's (a root option's callback runs
        before `invoke`, and a test may call `render` directly afterwards)."""
        render.reset()
        try:
            return super().main(*args, **kwargs)
        finally:
            render.reset()

    def invoke(self, ctx: _click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except typer.Exit:
            raise
        except _click.exceptions.UsageError as problem:
            if not (render.json_mode() or "--json" in ctx.meta.get(_ARGS, ())):
                raise  # click prints the usage line and the problem, exit 2
            hint = "See `heartkeep COMMAND --help` for what the command takes."
            render.json_error("usage_error", 2, redact(problem.format_message()), hint)
            raise typer.Exit(2) from None
        except (KeyboardInterrupt, typer.Abort):
            _fail(failures.interrupted())
        except BrokenPipeError:  # `heartkeep … | head`: the reader has all it wanted
            silence_stdout()
            raise typer.Exit(0) from None
        except Exception as error:  # noqa: BLE001 - the CLI's last resort, see the docstring
            failure = failures.translate(error)
            if isinstance(failure, InternalError) and render.verbosity() == render.VERBOSE:
                render.err_console.print(redact(traceback.format_exc()), markup=False)
            _fail(failure)


def _fail(failure: HeartkeepError) -> None:
    """Report `failure` (JSON under `--json`) and exit with its status."""
    if render.json_mode():
        render.json_error(
            failure.code,
            failure.exit_code,
            redact(failure.message),
            None if failure.hint is None else redact(failure.hint),
        )
    else:
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
    rich_markup_mode=None,
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


def _build_module(name: str, wanted: str) -> dict[str, _click.Command]:
    """The top-level command `wanted`, which `heartkeep.cli.<name>`'s `register(app)` adds,
    built as typer builds it under the root, with the shared options (`cli.options`).

    Only `wanted` is built: typer reads each command's signature and makes its options, so
    `status` no longer pays for `sync` and `watch` beside it in `cli/sync.py`.  A command the
    filter cannot find by name (a group added without one) builds the module whole."""
    module = importlib.import_module(f"heartkeep.cli.{name}")
    holder = typer.Typer(rich_markup_mode=None, pretty_exceptions_enable=False)
    module.register(holder)
    everything = (list(holder.registered_commands), list(holder.registered_groups))
    holder.registered_commands = [
        info
        for info in holder.registered_commands
        if info.callback is not None
        and (info.name or typer.main.get_command_name(info.callback.__name__)) == wanted
    ]
    holder.registered_groups = [
        info
        for info in holder.registered_groups
        if (info.name or (info.typer_instance and info.typer_instance.info.name)) == wanted
    ]
    built = typer.main.get_group(holder).commands
    if wanted not in built:
        holder.registered_commands, holder.registered_groups = everything
        built = typer.main.get_group(holder).commands
    for command_name, command in built.items():
        options.install(command, (command_name,))
    return dict(built)


def main() -> None:
    """Console-script entry point.

    What start-up made (typer, the command tree, the modules) lives as long as the process:
    `gc.freeze()` moves it out of the collector's sight, so a long `sync` or `watch` never walks
    it again and the collection at exit skips it (about 0.01 s of every short command's CPU).
    """
    gc.freeze()
    app()
