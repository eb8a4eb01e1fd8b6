"""How current is each account?  Last successful sync, newest sample, recent coverage, warnings.

Read from the store alone (no network), so `heartkeep status` is instant and works offline.
Coverage is the share of minutes in the last 7 / 30 days that hold at least one sample — a
watch worn day and night scores near 1, one left on the charger for a day loses 1/7.  Minutes
before the account's history starts (a first `sync --since D`) are not counted, so a history
begun five days ago is not "17 % covered" over 30 days; `history_from` names that day.  Warnings
name the situations a person should act on: sync not running, a series that stopped (the watch
is not worn or not syncing), a failed last run, an interrupted backfill.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from heartkeep.model import Window
from heartkeep.store.protocol import SyncStore
from heartkeep.sync.planner import DAY_S, EARLIEST_OFFSET_S, HEART_RATE, local_midnight_s
from heartkeep.timeline import date_of_s, format_rfc3339, local_date, zone_offset_min

# A series with nothing newer than this, while syncs succeed, has stopped.
STOPPED_AFTER_S = 24 * 3600
# No successful sync for this long means the schedule is not running.
STALE_SYNC_AFTER_S = 2 * DAY_S


@dataclass(frozen=True, slots=True)
class AccountSyncStatus:
    """One account's freshness, as `heartkeep status` shows it."""

    account_key: str
    connected: bool
    last_success_s: int | None
    last_run_status: str | None
    last_error: str | None
    newest_sample_s: int | None
    newest_sample_age_s: int | None
    coverage_7d: float
    coverage_30d: float
    interrupted: bool
    warnings: tuple[str, ...]
    # Readings ever folded into another of the same whole second (see `merged_samples`).
    samples_merged: int = 0
    # The local day the stored history starts (the first sync's `--since`, or the earliest
    # import); coverage counts only minutes from there.
    history_from: str | None = None

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["account"] = out.pop("account_key")
        out["warnings"] = list(self.warnings)
        out["last_success"] = _iso(self.last_success_s)
        out["newest_sample"] = _iso(self.newest_sample_s)
        out["coverage_7d"] = round(self.coverage_7d, 4)
        out["coverage_30d"] = round(self.coverage_30d, 4)
        return out


def _iso(instant_s: int | None) -> str | None:
    return None if instant_s is None else format_rfc3339(instant_s)


def coverage(
    store: SyncStore, account_key: str, *, now_s: int, days: int, since_s: int | None = None
) -> float:
    """Share of minutes in the last `days` days (ending now) with at least one sample, counting
    only minutes from `since_s` (where the history starts) on: a history that began five days
    ago is not 5/30 covered over 30 days."""
    end = now_s - now_s % 60
    start = end - days * DAY_S
    if since_s is not None:
        start = max(start, since_s - since_s % 60)
    if end <= start:
        return 0.0
    return store.covered_minutes(account_key, Window(start, end)) / ((end - start) // 60)


def history_start_s(store: SyncStore, account_key: str) -> int | None:
    """Where the account's stored history starts: the earliest of the synced span (the first
    sync's `--since` or membership start), an interrupted first backfill and the samples."""
    state = store.stream_state(account_key, HEART_RATE)
    span = store.sample_span(account_key)
    found = [
        _as_local_midnight(store, account_key, value)
        for value in (state.covered_from_s, state.job_lo_s)
        if value is not None
    ]
    if span is not None:
        found.append(span.start_s)
    return min(found) if found else None


def _as_local_midnight(store: SyncStore, account_key: str, start_s: int) -> int:
    """A first sync without `--since` starts at its membership date's first instant anywhere
    (planner.earliest_start_s, UTC+14); the history itself begins on that date in the account's
    zone, or at an earlier sample if the person joined further east."""
    if (start_s + EARLIEST_OFFSET_S) % DAY_S:
        return start_s
    account = store.account(account_key)
    zone = account.time_zone if account is not None else "UTC"
    return max(start_s, local_midnight_s(date_of_s(start_s + EARLIEST_OFFSET_S), zone))


def _local_day(store: SyncStore, account_key: str, instant_s: int | None) -> str | None:
    if instant_s is None:
        return None
    account = store.account(account_key)
    zone = account.time_zone if account is not None else "UTC"
    return local_date(instant_s, zone_offset_min(zone, instant_s)).isoformat()


def account_sync_status(
    store: SyncStore, account_key: str, *, now_s: int, connected: bool
) -> AccountSyncStatus:
    """The status of one account at `now_s`."""
    runs = store.runs(account_key, limit=50)
    last = runs[0] if runs else None
    last_ok = next((run for run in runs if run.status == "ok"), None)
    state = store.stream_state(account_key, HEART_RATE)
    last_success = (
        last_ok.finished_s if last_ok and last_ok.finished_s is not None else state.last_success_s
    )
    span = store.sample_span(account_key)
    since_s = history_start_s(store, account_key)
    newest = None if span is None else span.end_s - 1
    age = None if newest is None else max(0, now_s - newest)
    warnings: list[str] = []
    synced_before = bool(runs)
    # An account with imported data only has nothing to sync and nothing to warn about.
    if synced_before and not connected:
        warnings.append("not connected (its tokens were removed); stored data is kept")
    if connected and last_success is None:
        warnings.append("never synced successfully; run `heartkeep sync`")
    elif (
        (connected or synced_before)
        and last_success is not None
        and now_s - last_success > STALE_SYNC_AFTER_S
    ):
        days = (now_s - last_success) / DAY_S
        warnings.append(
            f"last successful sync was {days:.1f} days ago; is the timer or cron job running?"
        )
    if last is not None and last.status == "failed":
        warnings.append(f"the last sync failed: {last.error or 'interrupted'}")
    if synced_before and newest is not None and age is not None and age > STOPPED_AFTER_S:
        warnings.append(
            f"no heart rate since {format_rfc3339(newest)} ({age / 3600:.0f} h); "
            "is the watch worn and syncing to the phone?"
        )
    if state.job_open:
        warnings.append("an interrupted sync will resume where it stopped on the next run")
    return AccountSyncStatus(
        account_key=account_key,
        connected=connected,
        last_success_s=last_success,
        last_run_status=None if last is None else last.status,
        last_error=None if last is None else last.error,
        newest_sample_s=newest,
        newest_sample_age_s=age,
        coverage_7d=coverage(store, account_key, now_s=now_s, days=7, since_s=since_s),
        coverage_30d=coverage(store, account_key, now_s=now_s, days=30, since_s=since_s),
        interrupted=state.job_open,
        warnings=tuple(warnings),
        samples_merged=store.merged_samples(account_key),
        history_from=_local_day(store, account_key, since_s),
    )


def sync_status(
    store: SyncStore, *, connected: Sequence[str], now_s: int
) -> list[AccountSyncStatus]:
    """Every account that is connected or has data, sorted by key."""
    keys = sorted(set(connected) | {account.key for account in store.accounts()})
    return [
        account_sync_status(store, key, now_s=now_s, connected=key in connected) for key in keys
    ]
