"""What a sync tells its caller when it is over: per account, and for the whole run.

Plain frozen values; `as_json()` gives the documented `--json` shape (per account at least
`samples_added`, `samples_merged`, `samples_implausible`, `requests`, `rate_limit_waits`,
`seconds`).  The run's exit code is 0 when every account synced and otherwise the exit code of
the first account that failed, so a cron job or systemd unit can tell "try later" (6, 7) from
"log in again" (4).
"""

from __future__ import annotations

from typing import Any

import msgspec

from heartkeep.timeline import format_rfc3339


class AccountReport(msgspec.Struct, frozen=True):
    """One account's sync: what it added, what it cost, and how it ended."""

    account_key: str
    status: str  # "ok" | "failed"
    samples_received: int = 0
    samples_added: int = 0
    samples_updated: int = 0
    # Readings folded into another of the same whole second (the store keeps one per second).
    samples_merged: int = 0
    # Readings outside the plausible range (plausibility.py), not stored.
    samples_implausible: int = 0
    dailies_added: int = 0
    pages: int = 0
    days_fetched: float = 0.0
    requests: int = 0
    retries: int = 0
    rate_limit_waits: int = 0
    rate_limit_wait_s: float = 0.0
    seconds: float = 0.0
    newest_sample_s: int | None = None
    # The first run's start (`--since` or the membership start), ISO local date; None later.
    history_from: str | None = None
    error: str | None = None
    exit_code: int = 0
    zone_changes_inferred: int = 0
    """Backward jumps of the legacy API's wall clock read as a trip across zones."""
    samples_reoffset: int = 0
    """Samples stored with the offset such a trip implies instead of the profile zone's."""
    error_code: str | None = None
    """The failure's stable code (`HeartkeepError.code`, as in the CLI's JSON): what a program
    acts on (a study records a revoked grant from it), never the message's wording."""

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def as_json(self) -> dict[str, Any]:
        out = msgspec.structs.asdict(self)  # every field is a scalar: shallow is whole
        out["account"] = out.pop("account_key")
        out["seconds"] = round(self.seconds, 3)
        out["rate_limit_wait_s"] = round(self.rate_limit_wait_s, 3)
        out["days_fetched"] = round(self.days_fetched, 3)
        out["newest_sample"] = (
            None if self.newest_sample_s is None else format_rfc3339(self.newest_sample_s)
        )
        return out


class SyncReport(msgspec.Struct, frozen=True):
    """Every account of one `heartkeep sync` run."""

    accounts: tuple[AccountReport, ...] = msgspec.field(default_factory=tuple)

    @property
    def exit_code(self) -> int:
        for report in self.accounts:
            if not report.ok:
                return report.exit_code or 1
        return 0

    @property
    def samples_added(self) -> int:
        return sum(report.samples_added for report in self.accounts)

    @property
    def samples_merged(self) -> int:
        return sum(report.samples_merged for report in self.accounts)

    @property
    def samples_implausible(self) -> int:
        return sum(report.samples_implausible for report in self.accounts)

    def as_json(self) -> dict[str, Any]:
        return {
            "accounts": [report.as_json() for report in self.accounts],
            "exit_code": self.exit_code,
            "samples_added": self.samples_added,
            "samples_merged": self.samples_merged,
            "samples_implausible": self.samples_implausible,
        }
