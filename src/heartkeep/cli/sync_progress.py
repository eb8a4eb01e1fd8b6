"""A sync's progress, shown while it runs: Rich bars on a terminal, throttled log lines off one.

Why a module of its own: turning the library's sync events (`heartkeep.sync.events`) into
something a person watches is one job, used by `sync`, `watch` and `demo`, and it is the only
part of the CLI's output with state of its own (counts per account, when the last line was
written).  It decides *what* to show; `render.py` still does all the printing, so `--quiet`,
`--json` and a test's recording console apply here as everywhere.  Rich and the events load
only when a handler is made or called: a cron-run sync with nothing to show loads neither.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from heartkeep.cli import render

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from heartkeep.sync import events


class SyncBars:
    """One Rich progress bar per account, fed by sync events (accounts sync one after another):
    days fetched of the days planned, samples added, requests and rate-limit waits."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.task: TaskID | None = None
        self.days_total = 0.0
        self.samples = self.requests = self.waits = 0

    def __call__(self, event: events.SyncEvent) -> None:
        from heartkeep.sync import events

        if self.task is None:
            self.samples = self.requests = self.waits = 0
            self.days_total = 0.0
            self.task = self.progress.add_task(
                "connecting", total=0.0, samples=0, requests=0, waits=0
            )
        task = self.task
        if isinstance(event, events.RequestSent):
            self.requests += 1
        elif isinstance(event, events.RateLimitWait):
            self.waits += 1
        elif isinstance(event, events.JobStarted) and event.stream == "heart-rate":
            self.days_total += event.window.seconds / 86_400
            self.progress.update(task, description=event.account_key, total=self.days_total)
        elif isinstance(event, events.PageCommitted):
            self.samples += event.inserted
            self.progress.update(task, advance=event.covers.seconds / 86_400)
        elif isinstance(event, events.AccountFinished):
            mark = "done" if event.status == "ok" else "FAILED"
            total = self.days_total or 1.0
            self.progress.update(
                task, description=f"{event.account_key} {mark}", total=total, completed=total
            )
            self.task = None
        self.progress.update(task, samples=self.samples, requests=self.requests, waits=self.waits)


class SyncLog:
    """Off a terminal (cron, systemd, pipes): quiet plain lines on stderr — one per job start,
    retry, rate-limit wait and finished account, and per committed page at most every few
    seconds — so stdout stays clean for `--json` and logs stay short."""

    def __init__(self, *, every_s: float = 5.0) -> None:
        self.every_s = every_s
        self.last_line_s = 0.0
        self.current: str | None = None
        self.samples: dict[str, int] = {}

    def _log(self, text: str, *, throttle: bool = False) -> None:
        now = time.monotonic()
        if throttle and now - self.last_line_s < self.every_s:
            return
        self.last_line_s = now
        render.progress_line(text)

    def __call__(self, event: events.SyncEvent) -> None:
        from heartkeep.sync import events

        if isinstance(event, events.JobStarted):
            self.current = event.account_key
            self._log(f"{event.account_key}: fetching {event.stream} ({event.kind})")
        elif isinstance(event, events.RateLimitWait):
            if event.wait_s >= 1:  # sub-second pacing is routine, not news
                self._log(f"{self.current}: waiting {event.wait_s:.0f} s for quota ({event.cause})")
        elif isinstance(event, events.RetryScheduled):
            self._log(f"retrying {event.path} in {event.wait_s:.1f} s: {event.reason}")
        elif isinstance(event, events.PageCommitted):
            key = event.account_key
            self.samples[key] = self.samples.get(key, 0) + event.inserted
            self._log(
                f"{key}: {event.stream} {event.fraction_done:.0%}, "
                f"{self.samples[key]:,} samples added",
                throttle=True,
            )
        elif isinstance(event, events.AccountFinished):
            outcome = "done" if event.status == "ok" else f"failed: {event.error}"
            self._log(
                f"{event.account_key}: {outcome}, {event.samples_added:,} samples added, "
                f"{event.requests} requests"
            )


@contextmanager
def sync_progress(
    *, enabled: bool = True, interactive: bool | None = None
) -> Iterator[Callable[[events.SyncEvent], None] | None]:
    """The handler that shows a sync's progress: bars on a terminal, plain lines on stderr
    off a terminal with `--verbose`, nothing otherwise (cron, `--quiet`, `--json`, or not
    `enabled`).  Bars close when the block ends."""
    live = render.is_interactive() if interactive is None else interactive
    quiet = render.json_mode() or render.verbosity() == render.QUIET
    if not enabled or not (live or render.shows_progress()) or quiet:
        yield None
        return
    if not live:
        yield SyncLog()
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:.1f}/{task.total:.1f} days"),
        TextColumn("{task.fields[samples]:,} samples · {task.fields[requests]} requests"),
        TextColumn("· {task.fields[waits]} rate-limit waits"),
        TimeElapsedColumn(),
        console=render.progress_console(),
    )
    with progress:
        yield SyncBars(progress)
