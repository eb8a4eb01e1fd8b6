"""An option's value means what typer makes of it, though start-up skips pydantic.

`cli/coercion.py` answers plain values (a string, digits, a path) without typer's pydantic
adapters, which cost 0.15 s of CPU to load.  For every parameter of the real command tree and
values of every shape — good, bad, out of range, odd spellings — what it answers must be what
typer's own coercion answers: the same value, or the same error.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, get_args, get_origin

import pytest
import typer.main
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer import _click
from typer._coercion import build_runtime_param

import heartkeep.cli.app  # noqa: F401 - registers the commands
from heartkeep.cli import coercion

APP = sys.modules["heartkeep.cli.app"].app


def _parameters() -> Iterator[tuple[str, _click.Command, Any]]:
    def walk(command: _click.Command, path: str) -> Iterator[tuple[str, _click.Command, Any]]:
        for child_name, child in getattr(command, "commands", {}).items():
            yield from walk(child, f"{path} {child_name}".strip())
        for param in command.params:
            if hasattr(param, "type_descriptor"):
                yield f"{path} {param.name}", command, param

    yield from walk(typer.main.get_command(APP), "")


PARAMETERS = list(_parameters())
KINDS = {
    str(p.type_descriptor.annotation): (command, p) for _, command, p in PARAMETERS
}  # one parameter per annotation (and its bounds below): they coerce alike


def _outcome(coerce: Callable[[], Any]) -> tuple[Any, ...]:
    try:
        value = coerce()
    except _click.exceptions.BadParameter as problem:
        return ("error", problem.format_message())
    return ("value", type(value), value)


_BUILT: dict[int, Any] = {}


def _typer_coercion(param: Any) -> Any:
    """typer's own (pydantic) coercion for `param`, built once per parameter."""
    if id(param) not in _BUILT:
        _BUILT[id(param)] = build_runtime_param(param.type_descriptor)
    return _BUILT[id(param)]


def _agree(command: _click.Command, param: Any, value: Any) -> bool:
    """True when the fast path answered `value`; it must then answer as typer does."""
    context = _click.Context(command)
    plain = _outcome(lambda: coercion.plain_value(param.type_descriptor, value, param, context))
    if plain[0] == "value" and plain[2] is coercion._UNSURE:
        return False
    typer_says = _outcome(lambda: _typer_coercion(param).coerce(value, param=param, ctx=context))
    assert plain == typer_says, (param.name, value)
    return True


def test_the_tree_has_the_kinds_the_fast_path_knows() -> None:
    """A new kind of option (an Enum, a datetime) simply goes to typer; this lists what the
    comparison below covers, so a new kind is noticed and added to it."""
    kinds = {str(p.type_descriptor.annotation) for _, _, p in PARAMETERS}
    assert kinds <= {
        "<class 'bool'>",
        "<class 'str'>",
        "<class 'int'>",
        "<class 'float'>",
        "<class 'pathlib.Path'>",
        "list[pathlib.Path]",
        "list[str]",
    }


NUMBERISH = st.one_of(
    st.from_regex(r"\A[0-9]{1,4}(\.[0-9]{1,2})?\Z"),
    st.integers(0, 200).map(str),
    st.from_regex(r"\A[-+ ]?[0-9_]{0,6}(\.[0-9]{0,3})?(e[0-9])?[ ]?\Z"),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False, width=32),
    st.booleans(),
)
PATHISH = st.text(alphabet="ab./-~ ", max_size=6) | st.sampled_from(["f", "d", "d/", "./f"])


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A folder with a file `f` and a folder `d`, as the working directory."""
    folder = tmp_path_factory.mktemp("coercion")
    (folder / "f").write_text("x")
    (folder / "d").mkdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        yield folder


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_every_parameter_coerces_a_value_as_typer_does(files: Path, data: st.DataObject) -> None:
    _, command, param = data.draw(st.sampled_from(PARAMETERS))
    annotation = param.type_descriptor.annotation
    leaf = get_args(annotation)[0] if get_origin(annotation) is list else annotation
    values = {
        str: st.text(max_size=8),
        bool: st.booleans() | st.text(max_size=3),
        int: NUMBERISH,
        float: NUMBERISH,
        Path: PATHISH,
    }[leaf]
    if get_origin(annotation) is list:
        values = st.lists(values, max_size=3).map(tuple) | values
    _agree(command, param, data.draw(values))


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("<class 'str'>", "2026-11-20"),
        ("<class 'int'>", "007"),
        ("<class 'int'>", 3),
        ("<class 'float'>", "1.5"),
        ("<class 'pathlib.Path'>", "out.csv"),
        ("<class 'pathlib.Path'>", "d"),
        ("list[str]", ("a", "b")),
        ("list[pathlib.Path]", ("f", "x.zip")),
    ],
)
def test_the_common_values_take_the_fast_path(files: Path, kind: str, value: Any) -> None:
    command, param = KINDS[kind]
    assert _agree(command, param, value)
