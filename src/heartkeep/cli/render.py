"""The only place that prints: Rich on a terminal, plain lines otherwise, JSON for scripts.

Command modules build values and hand them here.  Helpers stay small and generic; a command
with special output keeps its rendering function beside its command but prints only through
`console` / `err_console` / `print_json` defined here.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table

console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def is_interactive() -> bool:
    """True on a terminal, where progress bars make sense; False under cron, pipes and tests."""
    return console.is_terminal and sys.stdout.isatty()


def print_json(value: Any) -> None:
    """Machine-readable output on stdout, one JSON document, nothing else."""
    sys.stdout.write(
        orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode()
    )
    sys.stdout.write("\n")
    sys.stdout.flush()


def table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A table on stdout (Rich renders plain text when not on a terminal)."""
    grid = Table(title=title, show_lines=False)
    for column in columns:
        grid.add_column(column)
    for row in rows:
        grid.add_row(*("" if cell is None else str(cell) for cell in row))
    console.print(grid)


def line(text: str) -> None:
    console.print(text, markup=False)


def error(text: str) -> None:
    err_console.print(f"error: {text}", markup=False)


def warning(text: str) -> None:
    err_console.print(f"warning: {text}", markup=False)


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


# --- sync progress ----------------------------------------------------------------------------


class _SyncProgress:
    """Turns sync events into a Rich progress bar per account (terminal) or plain log lines.

    Off a terminal (cron, systemd, pipes) it writes one line per committed page at most every
    few seconds, plus one per retry, rate-limit wait and finished account, on stderr, so the
    stdout of `--json` stays clean.
    """

    def __init__(self, interactive: bool) -> None:
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self.interactive = interactive
        self.progress = (
            Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn("{task.percentage:>3.0f}%"),
                TextColumn("{task.fields[detail]}"),
                TimeElapsedColumn(),
                console=err_console,
                transient=False,
            )
            if interactive
            else None
        )
        self.tasks: dict[str, Any] = {}
        self.samples: dict[str, int] = {}
        self.requests: dict[str, int] = {}
        self.waits: dict[str, int] = {}
        self.current: str | None = None
        self.last_line_s = 0.0

    def _detail(self, key: str) -> str:
        return (
            f"{self.samples.get(key, 0):,} samples · {self.requests.get(key, 0)} requests · "
            f"{self.waits.get(key, 0)} rate-limit waits"
        )

    def _log(self, text: str, *, throttle: bool = False) -> None:
        import time

        now = time.monotonic()
        if throttle and now - self.last_line_s < 2.0:
            return
        self.last_line_s = now
        err_console.print(text, markup=False)

    def __call__(self, event: Any) -> None:
        from heartkeep.sync import events  # the event types this view renders

        if isinstance(event, events.JobStarted):
            key = event.account_key
            self.current = key
            if self.progress is not None and key not in self.tasks:
                self.tasks[key] = self.progress.add_task(key, total=1.0, detail="")
            if self.progress is None:
                self._log(f"{key}: fetching {event.stream} ({event.kind})")
        elif isinstance(event, events.RequestSent) and self.current is not None:
            self.requests[self.current] = self.requests.get(self.current, 0) + 1
        elif isinstance(event, events.RateLimitWait) and self.current is not None:
            self.waits[self.current] = self.waits.get(self.current, 0) + 1
            if self.progress is None:
                self._log(f"{self.current}: waiting {event.wait_s:.0f} s for quota ({event.cause})")
        elif isinstance(event, events.RetryScheduled) and self.progress is None:
            self._log(f"retrying {event.path} in {event.wait_s:.1f} s: {event.reason}")
        elif isinstance(event, events.PageCommitted):
            key = event.account_key
            self.samples[key] = self.samples.get(key, 0) + event.received
            if self.progress is not None and key in self.tasks:
                self.progress.update(
                    self.tasks[key],
                    completed=event.fraction_done if event.stream == "heart_rate" else None,
                    detail=self._detail(key),
                )
            elif self.progress is None:
                self._log(
                    f"{key}: {event.stream} {event.fraction_done:.0%} · {self._detail(key)}",
                    throttle=True,
                )
        elif isinstance(event, events.AccountFinished):
            key = event.account_key
            if self.progress is not None and key in self.tasks:
                self.progress.update(self.tasks[key], completed=1.0, detail=self._detail(key))
            outcome = "done" if event.status == "ok" else f"failed: {event.error}"
            if self.progress is None:
                self._log(f"{key}: {outcome} · {self._detail(key)}")


@contextmanager
def sync_progress(*, interactive: bool | None = None) -> Iterator[Callable[[Any], None]]:
    """A sync event handler that shows progress; the bar closes when the block ends."""
    view = _SyncProgress(is_interactive() if interactive is None else interactive)
    if view.progress is None:
        yield view
        return
    with view.progress:
        yield view
