"""Which module of `cli/` holds each top-level command, and a command tree built on first use.

typer builds the whole click tree before it parses anything: every command module imported,
every signature read, every option made — about 0.03 s of CPU that `heartkeep status` or a
cron-run `sync` spent on twenty commands it does not run.  `COMMANDS` names each top-level
command's module (in the order `heartkeep --help` lists them: commands, then groups), and
`LazyCommands` is the root group's `commands`: a mapping that knows every name but imports a
module and builds its commands only when one of them is looked up.  Listing the names (usage
errors' "did you mean") loads nothing; `--help` of the root, which shows every command's first
sentence, builds them all.  `tests/cli/test_command_table.py` checks that the table and the
modules' `register` functions agree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, MutableMapping

from typer import _click  # typer vendors click; its classes are what the command tree is made of

COMMANDS: dict[str, str] = {
    "sync": "sync",
    "watch": "sync",
    "status": "sync",
    "export": "data",
    "stats": "data",
    "forget": "forget",
    "report": "charts",
    "dashboard": "dashboard",
    "demo": "demo",
    "doctor": "doctor",
    "auth": "auth",
    "import": "data",
    "plot": "charts",
    "sandbox": "sandbox",
    "study": "study",
}
"""Top-level command (or group) → the module of `heartkeep.cli` whose `register(app)` adds it."""


class LazyCommands(MutableMapping[str, _click.Command]):
    """A group's commands by name: every name of `table` is known, and a command is built
    (with the other commands of its module, by `build(module)` with the module's name in
    `table`) on its first lookup."""

    def __init__(
        self, table: dict[str, str], build: Callable[[str], dict[str, _click.Command]]
    ) -> None:
        self._table = dict(table)
        self._build = build
        self._built: dict[str, _click.Command] = {}

    def __getitem__(self, name: str) -> _click.Command:
        if name not in self._built and name in self._table:
            self._built.update(self._build(self._table[name]))
        return self._built[name]

    def __setitem__(self, name: str, command: _click.Command) -> None:
        self._built[name] = command

    def __delitem__(self, name: str) -> None:
        if name not in self._table and name not in self._built:
            raise KeyError(name)
        self._table.pop(name, None)
        self._built.pop(name, None)

    def __contains__(self, name: object) -> bool:
        return name in self._table or name in self._built

    def __iter__(self) -> Iterator[str]:
        yield from self._table
        yield from (name for name in self._built if name not in self._table)

    def __len__(self) -> int:
        return len(self._table.keys() | self._built.keys())
