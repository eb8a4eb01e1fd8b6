"""The day and minute summaries: do they agree with the samples, and rebuilding them if not.

`stats`, `report` and the heatmap and trend charts read the summaries heartkeep keeps beside
the samples (docs/schema.md, "Aggregates"), so a summary that disagreed with its samples would
show a wrong number without any error.  The quick check recomputes a handful of days spread over
each account's history (well under a second for a year); `--full` recomputes every day and
minute (seconds for a year).  `--rebuild-aggregates` recomputes everything from the samples,
under the sync lock so no sync writes meanwhile.  Findings use the `database` check: they are
about the database's contents.
"""

from __future__ import annotations

from heartkeep.config import Settings
from heartkeep.doctor.findings import Finding
from heartkeep.errors import HeartkeepError
from heartkeep.store import SqliteStore, open_store
from heartkeep.sync.lock import sync_lock

REBUILD_ACTION = (
    "run `heartkeep doctor --rebuild-aggregates` (recomputes them from the samples, "
    "seconds for a year; the samples themselves are fine)"
)


def check_aggregates(store: SqliteStore, *, full: bool) -> list[Finding]:
    findings: list[Finding] = []
    scope = "every day and minute" if full else "a sample of days"
    for account in store.accounts():
        key = account.key
        problems = store.aggregate_problems(key, full=full)
        if problems:
            findings.append(
                Finding(
                    "database",
                    "problem",
                    f"{key}: the daily and per-minute summaries disagree with the samples "
                    f"(stats and charts read them): {'; '.join(problems)}",
                    REBUILD_ACTION,
                )
            )
            continue
        waiting = store.dirty_day_count(key)
        note = (
            f"; {waiting} days await their summary (a sync or import stopped early): answers "
            "are computed from the samples meanwhile, the next sync stores them"
            if waiting
            else ""
        )
        findings.append(
            Finding("database", "ok", f"{key}: summaries agree with the samples ({scope}){note}")
        )
    return findings


def rebuild_aggregates(settings: Settings) -> list[Finding]:
    """Recompute every summary from the samples (holding the sync lock); what was done."""
    if "://" not in settings.database and not settings.database_path.exists():
        return [
            Finding("database", "ok", f"nothing to rebuild: {settings.database} does not exist")
        ]
    try:
        with sync_lock(settings.data_dir), open_store(settings.database) as store:
            rebuilt = store.rebuild_aggregates()
    except HeartkeepError as failure:
        return [
            Finding(
                "database",
                "problem",
                f"could not rebuild the summaries: {failure.message}",
                failure.hint or "run `heartkeep doctor --rebuild-aggregates` again",
            )
        ]
    return [
        Finding("database", "ok", f"{key}: summaries rebuilt from the samples ({days:,} days)")
        for key, days in rebuilt.items()
    ]
