"""Options every command shares: `--quiet/-q`, `--verbose/-v`, and `--database` on every
command that reads or writes the store.

They are added to the built click command tree once (`install`, called by `cli/app.py`) rather
than declared in each command, so every command — one added tomorrow included — takes them the
same way with the same help.  The same walk lets typer's coercion wait for a value
(`cli.coercion`).  Their values go where they are used: the verbosity to `render`,
the database to `settings()`, which commands call instead of `config.load_settings()` so that
`--database` beats `HEARTKEEP_DATABASE`, which beats config.toml.  A command's own `--json` flag
is watched too, so that a failure under `--json` is reported as JSON (`render.json_mode`).
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer import _click  # typer vendors click; its classes are what the command tree is made of
from typer._click.globals import get_current_context
from typer.core import TyperGroup

from heartkeep.cli import coercion, render

if TYPE_CHECKING:  # the settings (platformdirs, the config file) load when a command runs
    from heartkeep.config import Settings

_DATABASE = "heartkeep.database"
_QUIET = "heartkeep.quiet"
_VERBOSE = "heartkeep.verbose"

NO_STORE: frozenset[str] = frozenset({"auth", "sandbox", "demo", "study"})
"""Top-level commands (and groups) that never open the store, so take no `--database`: the
vault is not the database, the sandbox keeps its state in memory, the demo its own folder, a
study its PostgreSQL database (named in its config)."""


def settings(**overrides: Any) -> Settings:
    """The settings for this command: `--database` if given, then the usual layers."""
    from heartkeep.config import load_settings

    context = get_current_context(silent=True)
    database = None if context is None else context.meta.get(_DATABASE)
    return load_settings({"database": database, **overrides})


def _verbosity(flag: str) -> Callable[[typer.Context, bool], None]:
    def remember(context: typer.Context, value: bool) -> None:
        if not value:
            return
        context.meta[flag] = True
        if context.meta.get(_QUIET) and context.meta.get(_VERBOSE):
            raise typer.BadParameter("choose --quiet or --verbose, not both")
        render.set_verbosity(render.QUIET if flag == _QUIET else render.VERBOSE)

    return remember


def _remember_database(context: typer.Context, value: str | None) -> None:
    if value is not None:
        if not value.strip():
            raise typer.BadParameter("needs a file name")
        context.meta[_DATABASE] = value


def _verbosity_options(
    quiet: Annotated[
        bool,
        typer.Option(
            "--quiet",
            "-q",
            expose_value=False,
            callback=_verbosity(_QUIET),
            help="Print only errors and the output you asked for (no progress, no summaries).",
        ),
    ] = False,
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose",
            "-v",
            expose_value=False,
            callback=_verbosity(_VERBOSE),
            help="Show progress even without a terminal, and a traceback if heartkeep fails.",
        ),
    ] = False,
) -> None:
    """Template the shared options are built from (never run)."""


def _database_option(
    database: Annotated[
        str | None,
        typer.Option(
            "--database",
            metavar="FILE",
            expose_value=False,
            callback=_remember_database,
            help="SQLite file to use instead of the default (also HEARTKEEP_DATABASE).",
        ),
    ] = None,
) -> None:
    """Template of `--database` (never run)."""


@functools.cache
def _built(template: Callable[..., None]) -> tuple[_click.Parameter, ...]:
    """The options of `template` as typer builds them (help, types and callbacks included).

    Built once per process: typer reads the template's signature and type hints each time,
    which for every command of the tree was a fifth of a second of start-up."""
    holder = typer.Typer(add_completion=False)
    holder.command()(template)
    return tuple(typer.main.get_command(holder).params)


def shared_options(*, store: bool) -> list[_click.Parameter]:
    """Fresh copies of the options `install` adds to a command; `store` adds `--database`."""
    built = [*_built(_verbosity_options), *(_built(_database_option) if store else ())]
    return [copy.copy(option) for option in built]


def _watch_json(param: _click.Parameter) -> None:
    """Chain onto a command's own `--json` flag so failures know to answer in JSON."""
    original = param.callback

    def remember(context: _click.Context, parameter: _click.Parameter, value: Any) -> Any:
        if value:
            render.set_json(True)
        return original(context, parameter, value) if original is not None else value

    param.callback = remember


def install(command: _click.Command, path: tuple[str, ...] = ()) -> None:
    """Add the shared options to every command below `command` (groups are walked, not given
    options: `heartkeep sync -q`, not `heartkeep -q sync`)."""
    coercion.install(command)
    if isinstance(command, TyperGroup):
        for name, child in command.commands.items():
            install(child, (*path, name))
        return
    taken = {opt for param in command.params for opt in param.opts}
    store = bool(path) and path[0] not in NO_STORE
    for option in shared_options(store=store):
        if not taken & set(option.opts):
            command.params.append(option)
    coercion.install(command)  # again: the shared options are new
    for param in command.params:
        if "--json" in param.opts:
            _watch_json(param)
