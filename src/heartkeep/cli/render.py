"""The only place that prints: Rich on a terminal, plain lines otherwise, JSON for scripts.

Command modules build values and hand them here.  Helpers stay small and generic; a command
with special output keeps its rendering function beside its command but prints only through
`console` / `err_console` (made on first use) / `print_json` defined here.  A sync's progress
display (bars, throttled log lines) is `sync_progress.py`, which prints through this module too.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # Rich loads where it draws (a terminal, a table, progress), not at start-up
    from rich.console import Console

    # Made on first use by `__getattr__` below; tests may replace them.
    console: Console
    err_console: Console


def __getattr__(name: str) -> object:
    """`console` and `err_console`, made on first use (PEP 562): a command that prints only
    plain lines off a terminal (cron's `sync`, a piped `status`) never loads Rich."""
    if name not in ("console", "err_console"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from rich.console import Console

    class _Console(Console):
        def on_broken_pipe(self) -> None:
            """The reader went away (`| head`): hand it to `cli/app.py`, which ends quietly
            with 0 (Rich's own handling exits 1)."""
            raise BrokenPipeError

    # No emoji: ":cat:" in an account key or a path is text, not a picture.
    made = _Console(stderr=name == "err_console", highlight=False, soft_wrap=True, emoji=False)
    globals()[name] = _made[name] = made
    return made


def _console(*, stderr: bool = False) -> Console:
    """The Rich console on stdout (or stderr), made if it is not yet."""
    made: Console = getattr(sys.modules[__name__], "err_console" if stderr else "console")
    return made


def progress_console() -> Console:
    """The console progress bars draw on (stderr, so stdout stays clean for the data), made
    if it is not yet: `cli/sync_progress.py` draws the sync's bars there."""
    return _console(stderr=True)


def _print(text: str, *, stderr: bool = False) -> None:
    """One line of plain text.  Off a terminal, and while no Rich console is in use, it is
    written as is: what Rich would write there, without loading Rich."""
    stream = sys.stderr if stderr else sys.stdout
    if ("err_console" if stderr else "console") in globals() or _isatty(stream):
        _console(stderr=stderr).print(text, markup=False)
        return
    stream.write(text + "\n")
    stream.flush()


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # a closed or unusual stream: not a terminal
        return False


QUIET, NORMAL, VERBOSE = 0, 1, 2
_verbosity = NORMAL
_json = False
_narrating = False


_made: dict[str, object] = {}  # the consoles `__getattr__` made, by name


def reset() -> None:
    """Back to the defaults at the start of every command (tests run many in one process).

    The consoles this module made go too: whether a table is Rich's box or plain columns
    depends on "is a console in use", so one left by an earlier command in the same process
    (a progress bar's) turned the next command's piped table into Rich's.  A console a caller
    put in their place (a test's recording one) stays.
    """
    global _verbosity, _json, _narrating
    _verbosity, _json, _narrating = NORMAL, False, False
    for name, made in list(_made.items()):
        if globals().get(name) is made:
            del globals()[name]
        del _made[name]


def narrate() -> None:
    """For a command whose point is to be watched (`demo`): show its steps and progress even
    without a terminal, as `--verbose` would; `--quiet` still silences them."""
    global _narrating
    _narrating = True


def set_verbosity(level: int) -> None:
    """`--quiet` (QUIET) or `--verbose` (VERBOSE); set by `cli.options`."""
    global _verbosity
    _verbosity = level


def set_json(enabled: bool) -> None:
    """`--json`: every outcome, errors included, becomes one JSON document on stdout."""
    global _json
    _json = enabled


def verbosity() -> int:
    return _verbosity


def json_mode() -> bool:
    return _json


def is_interactive() -> bool:
    """True on a terminal, where progress bars make sense; False under cron, pipes and tests."""
    return _isatty(sys.stdout) and _console().is_terminal


def shows_progress() -> bool:
    """Progress (bars, step lines) is for a person watching: on a terminal, not under
    `--quiet` or `--json`; off a terminal only with `--verbose`."""
    if _json or _verbosity == QUIET:
        return False
    return _verbosity == VERBOSE or _narrating or is_interactive()


def print_json(value: Any) -> None:
    """Machine-readable output on stdout, one JSON document, nothing else."""
    import orjson

    sys.stdout.write(
        orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode()
    )
    sys.stdout.write("\n")
    sys.stdout.flush()


def table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A table on stdout: Rich's box on a terminal; off one (a pipe, cron's mail), and while
    no Rich console is in use, plain lines with the columns aligned by spaces — every cell in
    full (Rich cut them to 80 columns), nothing to strip for `grep` or `awk`, and no Rich to
    load (0.03 s of a `status`)."""
    cells = [["" if cell is None else str(cell) for cell in row] for row in rows]
    if "console" not in globals() and not _isatty(sys.stdout):
        widths = [
            max([len(name), *(len(row[i]) for row in cells)]) for i, name in enumerate(columns)
        ]
        if title:
            _print(title)
        for row in [list(columns), *cells]:
            _print(
                "  ".join(
                    cell.ljust(width) for cell, width in zip(row, widths, strict=True)
                ).rstrip()
            )
        return
    from rich.table import Table

    grid = Table(title=title, show_lines=False)
    for column in columns:
        grid.add_column(column)
    for row in cells:
        grid.add_row(*row)
    _console().print(grid)


def line(text: str) -> None:
    """Output the person asked for (a result, a table row): always printed."""
    _print(text)


def address(text: str) -> None:
    """A line that ends in an address to copy: never folded at the terminal's width."""
    _print(text)  # soft wrap: never folded


def zone_changes(changes: int, reoffset: int) -> None:
    """Say that a wall clock's backward jumps were read as trips across zones, and what moved.

    Printed after an import or sync summary so nobody wonders why some samples carry an offset
    their account's zone never has (docs/fitbit-legacy.md, "Travel days").
    """
    trips = "a backward jump" if changes == 1 else f"{changes:,} backward jumps"
    info(
        f"  {trips} of the wall clock read as a change of time zone (a flight west): "
        f"{reoffset:,} samples stored with the inferred offset."
    )


def info(text: str) -> None:
    """A confirmation or summary on stdout ("Wrote …", a sync's line per account): what cron
    logs keep, and what `--quiet` drops."""
    if _verbosity > QUIET:
        _print(text)


def note(text: str) -> None:
    """A confirmation on stderr, for when stdout carries the data (`export -o -`); `--quiet`
    drops it."""
    if _verbosity > QUIET:
        _print(text, stderr=True)


def detail(text: str) -> None:
    """Extra detail on stderr, only with `--verbose`."""
    if _verbosity == VERBOSE:
        _print(text, stderr=True)


def implausible(count: int) -> None:
    """Say how many readings fell outside 20–300 bpm and were not stored (plausibility.py)."""
    readings = "reading" if count == 1 else "readings"
    info(
        f"  {count:,} {readings} outside the plausible 20–300 bpm were not stored "
        "(a sensor or file error; see docs/formats.md)."
    )


def progress_line(text: str) -> None:
    """A line of a progress log on stderr, for a handler that has already decided to speak
    (`cli/sync_progress.py`'s log off a terminal, which throttles itself)."""
    _print(text, stderr=True)


def stage(text: str) -> None:
    """A step of a longer job, on stderr: the console the progress bars draw on, so the line
    lands above a live bar instead of tearing it.  Shown only where progress is
    (`shows_progress`)."""
    if shows_progress():
        _print(text, stderr=True)


def error(text: str) -> None:
    """A failure, on stderr: never silenced, not even by `--quiet`."""
    _print(f"error: {text}", stderr=True)


def warning(text: str) -> None:
    """Something the person should know that did not stop the command; `--quiet` drops it."""
    if _verbosity > QUIET:
        _print(f"warning: {text}", stderr=True)


def json_error(code: str, exit_code: int, message: str, hint: str | None) -> None:
    """A failure under `--json`: the one document on stdout, shaped
    `{"error": {"code", "exit_code", "message", "hint"}}` (docs/cli.md, "JSON errors")."""
    print_json({"error": {"code": code, "exit_code": exit_code, "message": message, "hint": hint}})


# --- demo summary -----------------------------------------------------------------------------


def demo_summary(result: Any) -> None:
    """The demo's closing summary: what was synced, then one line per local day.

    `result` is an `api.DemoResult` (typed loosely here so render stays free of api imports).
    """
    sync = result.sync.accounts[0]
    days = [day for day in result.days if day.samples]
    samples = sum(day.samples for day in days)
    coverage = sum(day.coverage for day in days) / len(days) if days else 0.0
    resting = [day.resting_provider for day in days if day.resting_provider is not None]
    line("")
    line(f"Account      {result.account}")
    line(
        f"This run     {sync.samples_added:,} samples added, {sync.requests} requests, "
        f"{sync.rate_limit_waits} rate-limit waits, {sync.seconds:.1f} s"
    )
    if result.quota_speedup != 1:
        line(
            f"Real API     the same {sync.requests} requests need at least "
            f"{result.real_api_s:.0f} s under Google's quota (the sandbox's ran "
            f"{result.quota_speedup:g}x faster)"
        )
    line(f"Stored       {samples:,} samples over {len(days)} days, mean coverage {coverage:.0%}")
    if resting:
        line(
            f"Resting HR   {min(resting):.0f}–{max(resting):.0f} bpm "
            f"(mean {sum(resting) / len(resting):.1f})"
        )
    table(
        "Daily summary (local days)",
        ["day", "samples", "coverage", "min", "mean", "max", "resting"],
        [
            (
                day.day.isoformat(),
                f"{day.samples:,}",
                f"{day.coverage:.0%}",
                day.min_bpm,
                None if day.mean_bpm is None else f"{day.mean_bpm:.0f}",
                day.max_bpm,
                None if day.resting_provider is None else f"{day.resting_provider:.0f}",
            )
            for day in result.days
        ],
    )
    line(f"Database     {result.database}")
    line(f"Report       {result.report}")
    query = "'SELECT * FROM heart_rate_readable LIMIT 5'"
    line(f"Try          sqlite3 {result.database} {query}")
