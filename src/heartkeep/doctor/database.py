"""The database: is it sound, do its summaries agree with its samples (`aggregates.py`), when
did each account last sync, has a series stopped?

Integrity uses `PRAGMA quick_check` (seconds for a year of data; `--full` runs the slower
`integrity_check`, which also cross-checks every index).  A series that stopped — no new sample
for `stopped_days` while syncs keep succeeding — means the watch is not worn or not syncing to
the phone, which no error message would ever tell the person.
"""

from __future__ import annotations

from heartkeep.auth.vault import connected_accounts
from heartkeep.config import Settings
from heartkeep.doctor.aggregates import check_aggregates
from heartkeep.doctor.findings import Finding
from heartkeep.errors import HeartkeepError, NoAccounts
from heartkeep.store import open_store
from heartkeep.store.failures import RECOVER_HINT
from heartkeep.sync.status import STALE_SYNC_AFTER_S, AccountSyncStatus, sync_status
from heartkeep.timeline import format_rfc3339

DAY_S = 86_400


def check_database(
    settings: Settings, *, full: bool, now_s: int, stopped_days: float
) -> list[Finding]:
    try:
        store = open_store(settings.database, readonly=True)
    except NoAccounts:
        return [Finding("database", "ok", f"{settings.database} does not exist yet")]
    except HeartkeepError as failure:
        return [Finding("database", "problem", failure.message, failure.hint or "")]
    with store:
        problems = store.integrity_problems(full=full)
        pragma = "integrity_check" if full else "quick_check"
        if problems:
            return [
                Finding(
                    "database",
                    "problem",
                    f"{settings.database} is damaged: {pragma} found {'; '.join(problems[:3])}",
                    RECOVER_HINT.format(path=settings.database),
                )
            ]
        findings = [Finding("database", "ok", f"{settings.database}: {pragma} ok")]
        try:
            findings += check_aggregates(store, full=full)
        except HeartkeepError as failure:
            return [*findings, Finding("database", "problem", failure.message, failure.hint or "")]
        try:
            statuses = sync_status(store, connected=connected_accounts(settings), now_s=now_s)
        except HeartkeepError as failure:
            return [*findings, Finding("database", "problem", failure.message, failure.hint or "")]
    for status in statuses:
        findings += _freshness(status.account_key, status, now_s, stopped_days)
        findings += _merges(status)
    return findings


def _merges(status: AccountSyncStatus) -> list[Finding]:
    """Readings folded into another of the same second: expected now and then (Google's times
    carry fractions), so never more than "ok" — but said, so no merge is ever silent, with the
    one case where it points at a mistake (a wrong zone on an import)."""
    if not status.samples_merged:
        return []
    return [
        Finding(
            "merges",
            "ok",
            f"{status.account_key}: {status.samples_merged:,} readings shared a whole second with "
            "another and were merged (one sample per second is kept, the larger bpm)",
            "if they come from a fitbit-json import, check its zone with `heartkeep import list` "
            "and re-import with the right --time-zone (it replaces the earlier import)",
        )
    ]


def _freshness(
    key: str, status: AccountSyncStatus, now_s: int, stopped_days: float
) -> list[Finding]:
    last = status.last_success_s
    newest = status.newest_sample_s
    if last is None:
        return [Finding("sync", "warning", f"{key}: never synced", "run `heartkeep sync`")]
    findings: list[Finding] = []
    if now_s - last > STALE_SYNC_AFTER_S:
        findings.append(
            Finding(
                "sync",
                "warning",
                f"{key}: last successful sync {format_rfc3339(last)}, "
                f"{(now_s - last) / DAY_S:.1f} days ago",
                "run `heartkeep sync`, and schedule it (docs/scheduling.md)",
            )
        )
    else:
        findings.append(
            Finding("sync", "ok", f"{key}: last successful sync {format_rfc3339(last)}")
        )
    if newest is not None and now_s - newest > stopped_days * DAY_S and now_s - last < DAY_S:
        findings.append(
            Finding(
                "series",
                "warning",
                f"{key}: heart rate stopped — the newest sample is from {format_rfc3339(newest)}, "
                f"{(now_s - newest) / DAY_S:.1f} days ago, although syncs succeed",
                "is the watch worn, and does it sync to the phone (open the Fitbit app)?",
            )
        )
    return findings
