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

SUMMARIES: dict[str, str] = {
    "sync": "Fetch new heart-rate samples, resting heart rate and zones for every connected "
    "account.",
    "watch": "Run `heartkeep sync` on an interval in the foreground until Ctrl-C.",
    "status": "Per account: how long ago it last synced, the newest sample's age, the share of "
    "minutes with data over the last 7 and 30 days (counted from where the history starts, when "
    "that is later: the first sync's --since), how many readings were merged into another of the "
    "same second, and warnings (sync not running, a series that stopped, a failed last run).",
    "export": "Export samples: CSV, Parquet, JSON Lines, FHIR R4 Observations or Open mHealth.",
    "stats": "Per local day: wear time and coverage, min/mean/max, resting HR, time in zones.",
    "forget": "Delete an account's samples, daily values and sync state from the database.",
    "report": "One self-contained HTML file: summary, charts and the daily table (opens offline).",
    "dashboard": "Serve a local web dashboard of the stored heart rate on 127.0.0.1 (Ctrl-C "
    "stops it).",
    "demo": "Run heartkeep against the built-in sandbox: no account or internet needed.",
    "doctor": "Check paths and permissions, account access (the 7-day Testing trap), database "
    "integrity and summaries, last syncs, stopped series, a schedule and the clock; say what to "
    "do.",
    "auth": "Connect an account (login), see its access (status), disconnect it (logout).",
    "import": "Bring in history from files: Google Takeout / Fitbit archives, saved Fitbit API "
    "JSON.",
    "plot": "Draw charts (PNG or SVG by the file suffix): a day's curve, a calendar, the trend.",
    "sandbox": "The built-in emulator of Google's OAuth, the Google Health API v4 and the legacy "
    "Fitbit Web API, with synthetic heart rate.",
    "study": "Run a research study: many participants on PostgreSQL, enrolled on the web, synced "
    "by workers (docs/studies.md).",
}
"""Each top-level command's first sentence, as the root's `--help` lists it: the list is
printed from here, so `heartkeep --help` (and `heartkeep` alone) builds no command — that was
0.03 s of CPU, a fifth of its start-up.  `tests/cli/test_command_table.py` fails when a
command's help and its line here disagree: change both."""


class LazyCommands(MutableMapping[str, _click.Command]):
    """A group's commands by name: every name of `table` is known, and a command is built
    on its first lookup by `build(module, name)` (the module's name in `table`), which returns
    it (and may return others of its module too)."""

    def __init__(
        self, table: dict[str, str], build: Callable[[str, str], dict[str, _click.Command]]
    ) -> None:
        self._table = dict(table)
        self._build = build
        self._built: dict[str, _click.Command] = {}

    def summary(self, name: str, summaries: dict[str, str], width: int) -> str | None:
        """`name`'s line in a command list: its short help if it is built, else its entry in
        `summaries`, else (a command the table does not summarise) built to ask it.  None for
        a hidden command."""
        if name not in self._built and name in summaries:
            return summaries[name]
        command = self[name]
        return None if command.hidden else command.get_short_help_str(width)

    def __getitem__(self, name: str) -> _click.Command:
        if name not in self._built and name in self._table:
            self._built.update(self._build(self._table[name], name))
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
