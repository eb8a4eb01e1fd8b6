"""`heartkeep doctor`: one look at everything that can quietly go wrong, with what to do.

Paths and their permissions (`paths.py`), each account's access and the 7-day Testing trap
(`accounts.py`), the Google quota assumed (`quota.py`), the database's integrity, last syncs and
stopped series (`database.py`), its summaries against its samples (`aggregates.py`, which also
rebuilds them when asked), whether anything schedules the sync (`schedule.py`) and the local
clock against the provider's (`skew.py`, the only check that uses the network).  Each
finding carries a level — ok, warning, problem — and the report's exit status is the worst of
them (0, 1, 2).
"""

from __future__ import annotations

from heartkeep.clock import Clock
from heartkeep.config import Settings
from heartkeep.doctor.accounts import check_accounts
from heartkeep.doctor.aggregates import rebuild_aggregates
from heartkeep.doctor.database import check_database
from heartkeep.doctor.findings import DoctorReport, Finding, Level
from heartkeep.doctor.paths import check_paths
from heartkeep.doctor.quota import check_quota
from heartkeep.doctor.schedule import check_schedule
from heartkeep.doctor.skew import check_clock

__all__ = ["DoctorReport", "Finding", "Level", "examine"]


def examine(
    settings: Settings,
    *,
    clock: Clock,
    full: bool,
    offline: bool,
    stopped_days: float,
    rebuild: bool = False,
) -> DoctorReport:
    """Every check, in order; with `rebuild`, the summaries are rebuilt from the samples first
    (the only thing the doctor ever changes, and only when asked)."""
    findings = rebuild_aggregates(settings) if rebuild else []
    findings += check_paths(settings)
    findings += check_accounts(settings, clock=clock)
    findings += check_quota(settings)
    findings += check_database(
        settings, full=full, now_s=int(clock.now_s()), stopped_days=stopped_days
    )
    findings += check_schedule()
    if not offline:
        findings += check_clock(settings, clock=clock)
    return DoctorReport(tuple(findings))
