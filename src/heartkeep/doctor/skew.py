"""Is this computer's clock right?  Compared with the provider's `Date` header, one request.

Token expiries, "today" in every chart and the sync's idea of what is complete all come from
the local clock; OAuth fails in confusing ways when it is minutes off.  One HEAD request to the
provider's API base is enough (any answer, even a 404, carries a `Date`); `--offline` skips it.
"""

from __future__ import annotations

import email.utils

from heartkeep import http_client
from heartkeep.auth.endpoints import GOOGLE_HEALTH, endpoints_for
from heartkeep.auth.status import auth_status
from heartkeep.clock import Clock
from heartkeep.config import Settings
from heartkeep.doctor.findings import Finding, Level

CHECK = "clock"
WARN_AFTER_S = 30.0
PROBLEM_AFTER_S = 300.0


def check_clock(settings: Settings, *, clock: Clock) -> list[Finding]:
    bases = {
        endpoints_for(account.provider, account.sandbox_url or settings.sandbox_url).api_base
        for account in auth_status(settings, clock=clock)
    } or {endpoints_for(GOOGLE_HEALTH, settings.sandbox_url).api_base}
    return [_compare(base, settings.http_timeout_s, clock) for base in sorted(bases)]


def _compare(base: str, timeout_s: float, clock: Clock) -> Finding:
    try:
        sent_s = clock.now_s()
        answer = http_client.head(base + "/", timeout=timeout_s)
        received_s = clock.now_s()
    except http_client.HTTPError as failure:
        return Finding(
            CHECK,
            "warning",
            f"could not reach {base} to compare clocks ({type(failure).__name__})",
            "check the network, or pass --offline to skip this check",
        )
    header = answer.headers.get("date")
    parsed = email.utils.parsedate_to_datetime(header) if header else None
    if parsed is None:
        return Finding(CHECK, "warning", f"{base} sent no usable Date header; clock not checked")
    skew_s = (sent_s + received_s) / 2 - parsed.timestamp()
    direction = "ahead of" if skew_s > 0 else "behind"
    text = f"this computer's clock is {abs(skew_s):.0f} s {direction} {base}"
    if abs(skew_s) <= WARN_AFTER_S:
        return Finding(CHECK, "ok", text)
    level: Level = "problem" if abs(skew_s) > PROBLEM_AFTER_S else "warning"
    return Finding(
        CHECK, level, text, "turn on time synchronisation (timedatectl set-ntp true, or NTP)"
    )
