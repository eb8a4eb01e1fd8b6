"""Parameters left out cost nothing: typer's value coercion is built only for a value given.

typer (0.29) coerces every parameter value through a pydantic `TypeAdapter`, which it builds on
first use — also for a parameter left at `None`, where coercion returns `None` (or `()`) without
looking at the adapter.  Importing pydantic and building adapters costs about 0.15 s of CPU, so a
cron-run `heartkeep sync` or a `heartkeep status` paid for it on every run.  `install` gives each
of typer's parameters a stand-in that answers `None` itself and builds typer's own coercion the
first time a value arrives, so what a given value becomes is exactly what typer makes of it.

This leans on typer internals (`_runtime_param`, `type_descriptor`, `_coercion`): where they are
missing the stand-in is not installed and typer behaves as it always does, only slower at start.
`tests/test_startup.py` notices that (pydantic would be loaded again).
"""

from __future__ import annotations

from typing import Any

from typer import _click  # typer vendors click; its classes are what the command tree is made of


class _CoerceWhenGiven:
    """typer's runtime coercion for one parameter, built on the first value that needs it."""

    def __init__(self) -> None:
        self._built: Any = None

    def coerce(self, value: Any, param: Any, ctx: _click.Context) -> Any:
        if value is None:  # as typer's RuntimeParam.coerce answers it, without an adapter
            return () if param.multiple or param.nargs == -1 else None
        if self._built is None:
            from typer._coercion import build_runtime_param

            self._built = build_runtime_param(param.type_descriptor)
        return self._built.coerce(value, param=param, ctx=ctx)


def install(command: _click.Command) -> None:
    """Give each of `command`'s parameters the stand-in, its `--help` included (made now: click
    makes it on first use), where they are typer's parameters as this module knows them."""
    for param in [
        *command.params,
        command.get_help_option(_click.Context(command, **command.context_settings)),
    ]:
        if getattr(param, "_runtime_param", False) is None and hasattr(param, "type_descriptor"):
            param._runtime_param = _CoerceWhenGiven()  # type: ignore[union-attr]
