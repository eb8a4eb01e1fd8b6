"""Which Google quota a sync paces to: an unverified app (every personal client in 'Testing')
may send 2.5 requests per second per user, a verified one 5.  Assuming too much collects 429s,
assuming too little halves the speed of a backfill; the finding says which class is assumed and
which setting said so, so a person can tell at a glance."""

from __future__ import annotations

from heartkeep.config import Settings
from heartkeep.doctor.findings import Finding
from heartkeep.sync.quota import assume_quota

CHECK = "quota"


def check_quota(settings: Settings) -> list[Finding]:
    quota = assume_quota(settings.app_class, settings.app_class_source)
    message = f"Google quota assumed: {quota.describe()}"
    if quota.app_class == "unverified":
        message += (
            '; if your OAuth app passed Google\'s verification, app_class = "verified" in '
            "config.toml (or HEARTKEEP_APP_CLASS=verified) syncs twice as fast"
        )
    return [Finding(CHECK, "ok", message)]
