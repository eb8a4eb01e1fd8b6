""" "Sync now": the same `api.sync` as `heartkeep sync`, run in a background thread.

The page starts a run with a POST and follows it over server-sent events.  Each run records
its events in order; a listener reads from an index, so a reconnecting page misses nothing and
several tabs see the same run.  Only one run at a time from this dashboard, and the run takes
the same sync lock as the CLI: when cron (or a terminal) already syncs, `api.sync` raises
`AlreadyRunning` and the page says so instead of starting a second sync.
"""

from __future__ import annotations

import sys
import threading
import traceback
from collections.abc import Callable
from typing import Any

import msgspec

from heartkeep.api import SyncEvent, SyncReport
from heartkeep.errors import AlreadyRunning, HeartkeepError
from heartkeep.redaction import redact

SyncRunner = Callable[[Callable[[SyncEvent], None]], SyncReport]


def event_json(event: SyncEvent) -> dict[str, Any]:
    """A sync event as plain JSON: `event` (its class name) and its fields, windows as
    [start_s, end_s]."""
    out: dict[str, Any] = {"event": type(event).__name__}
    for name in event.__struct_fields__:
        value = getattr(event, name)
        if isinstance(value, msgspec.Struct):
            value = list(msgspec.structs.astuple(value))
        out[name] = redact(value) if isinstance(value, str) else value
    return out


class SyncJob:
    """The dashboard's sync runs: `start()` one, read `events_since(i)` until `done`."""

    def __init__(self, runner: SyncRunner) -> None:
        self._runner = runner
        self._lock = threading.Condition()
        self._events: list[dict[str, Any]] = []
        self._thread: threading.Thread | None = None
        self.run_id = 0
        self.state = "idle"  # idle | running | done | failed | busy

    def start(self) -> dict[str, Any]:
        """Start a run unless one of ours is running; returns the state the page shows."""
        with self._lock:
            if self.state == "running":
                return self.snapshot()
            self.run_id += 1
            self._events = []
            self.state = "running"
            self._thread = threading.Thread(
                target=self._run, name="heartkeep-dashboard-sync", daemon=True
            )
            self._thread.start()
            return self.snapshot()

    def _record(self, item: dict[str, Any]) -> None:
        with self._lock:
            self._events.append(item)
            self._lock.notify_all()

    def _run(self) -> None:
        def on_event(event: SyncEvent) -> None:
            self._record(event_json(event))

        final: dict[str, Any]
        state = "done"
        try:
            report = self._runner(on_event)
            final = {"event": "Finished", **report.as_json()}
            if report.exit_code != 0:
                state = "failed"
        except AlreadyRunning as busy:
            state = "busy"
            final = {"event": "Busy", "message": redact(str(busy))}
        except HeartkeepError as failure:
            state = "failed"
            final = {"event": "Failed", "message": redact(str(failure)), "exit": failure.exit_code}
        except Exception as bug:  # noqa: BLE001 - the page must learn the run ended, not hang
            # A bug, not a failure a person can fix: the page gets one line, the terminal that
            # runs the dashboard gets the whole (redacted) traceback so it is not lost.
            sys.stderr.write(redact(traceback.format_exc()))
            state = "failed"
            final = {"event": "Failed", "message": redact(f"sync failed: {bug!r}"), "exit": 1}
        with self._lock:
            self.state = state
            self._events.append(final)
            self._lock.notify_all()

    def snapshot(self) -> dict[str, Any]:
        return {"run": self.run_id, "state": self.state, "events": len(self._events)}

    def events_since(self, index: int, timeout_s: float) -> tuple[list[dict[str, Any]], bool]:
        """Events from `index` on (waiting up to `timeout_s` for one), and whether the run ended."""
        with self._lock:
            if index >= len(self._events) and self.state == "running":
                self._lock.wait(timeout_s)
            return self._events[index:], self.state != "running"

    def join(self, timeout_s: float = 10.0) -> None:
        """Wait for the running sync (for shutdown and tests)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout_s)
