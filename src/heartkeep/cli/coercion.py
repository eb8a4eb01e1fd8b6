"""Option values cost no pydantic: typer's value coercion is built only for a value it must judge.

typer (0.29) coerces every parameter value through a pydantic `TypeAdapter`, which it builds on
first use.  Importing pydantic and building adapters costs about 0.15 s of CPU, so every
command given an option — `status --database F`, cron's `sync --trailing-days 0`, `export -f
csv` — paid for it before doing anything.  `install` gives each of typer's parameters a
stand-in that answers the values whose outcome is plain without pydantic, with typer's own
helpers where it has them, and hands every other value to typer's coercion, built the first
time one arrives:

- nothing given: `None` (or `()` for a repeatable option), as typer answers it;
- `str`: the string; `bool`: a bool (typer itself skips those);
- `int` / `float`: plain decimal digits (a float may have a fraction) within the option's
  `min`/`max`; a sign, spaces, `1_000`, `1e3` or a value out of range go to typer, whose message
  for a bad one is then exactly its own;
- `Path`: `Path(value)` through typer's `coerce_cli_path` (its existence and permission checks),
  where the path writes back to the same string (so any message names it as typed);
- `list[...]` of those: item by item.

So what a value becomes is what typer makes of it; `tests/cli/test_coercion.py` compares the two
on every parameter of the command tree.  This leans on typer internals (`_runtime_param`,
`type_descriptor`, `_param_types`): where they are missing the stand-in is not installed and
typer behaves as it always does, only slower at start; `tests/test_startup.py` notices that
(pydantic would be loaded again).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, get_args, get_origin

from typer import _click  # typer vendors click; its classes are what the command tree is made of

_UNSURE = object()  # "typer must judge this value"


def _plain_digits(text: str, fraction: bool) -> bool:
    """`text` is 1–15 ASCII digits, or with `fraction` also two such runs joined by one dot.
    String methods, not a regular expression: compiling one is part of every `--help`."""
    whole, dot, part = text.partition(".") if fraction else (text, "", "")
    return all(
        0 < len(run) <= 15 and run.isascii() and run.isdigit()
        for run in ((whole, part) if dot else (whole,))
    )


def _number(annotation: type, info: Any, value: Any) -> Any:
    """An int or float value within the option's bounds, or _UNSURE."""
    if getattr(info, "clamp", False):
        return _UNSURE
    if type(value) is annotation:
        number = value
    elif type(value) is str and _plain_digits(value, fraction=annotation is not int):
        number = annotation(value)
    else:
        return _UNSURE
    low, high = getattr(info, "min", None), getattr(info, "max", None)
    if (low is not None and number < low) or (high is not None and number > high):
        return _UNSURE
    return number


def _path(info: Any, value: Any, param: Any, ctx: _click.Context) -> Any:
    """`Path(value)` with typer's checks of the option's path settings, or _UNSURE."""
    if type(value) is not str or getattr(info, "path_type", None) is not None:
        return _UNSURE
    path = Path(value)
    if str(path) != value:  # "", "a/", "./a": typer's messages would name them as typed
        return _UNSURE
    from typer._param_types import coerce_cli_path

    return coerce_cli_path(path, info, path_type=Path, param=param, ctx=ctx)


def _leaf(annotation: Any, info: Any, value: Any, param: Any, ctx: _click.Context) -> Any:
    """What typer makes of `value` for `annotation`, where that is plain; else _UNSURE."""
    if getattr(info, "parser", None) is not None:
        return _UNSURE
    if annotation is str:
        return value if type(value) is str else _UNSURE
    if annotation is bool:
        return value if type(value) is bool else _UNSURE
    if annotation is int or annotation is float:
        return _number(annotation, info, value)
    if annotation is Path:
        return _path(info, value, param, ctx)
    return _UNSURE


def plain_value(descriptor: Any, value: Any, param: Any, ctx: _click.Context) -> Any:
    """What typer's coercion makes of a given `value` (not None) for a parameter of this type
    descriptor, computed without pydantic; _UNSURE where typer has to judge it."""
    annotation, info = descriptor.annotation, descriptor.parameter_info
    if getattr(descriptor, "file_annotation", None) is not None:
        return _UNSURE
    if get_origin(annotation) is list:
        (item_type,) = get_args(annotation)
        if not isinstance(value, (list, tuple)):
            return _UNSURE
        items = [_leaf(item_type, info, item, param, ctx) for item in value]
        return _UNSURE if any(item is _UNSURE for item in items) else items
    if param.multiple or param.nargs == -1:
        return _UNSURE
    return _leaf(annotation, info, value, param, ctx)


class _CoerceWhenGiven:
    """typer's runtime coercion for one parameter, built on the first value that needs it."""

    def __init__(self) -> None:
        self._built: Any = None

    def coerce(self, value: Any, param: Any, ctx: _click.Context) -> Any:
        if value is None:  # as typer's RuntimeParam.coerce answers it, without an adapter
            return () if param.multiple or param.nargs == -1 else None
        plain = plain_value(param.type_descriptor, value, param, ctx)
        if plain is not _UNSURE:
            return plain
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
