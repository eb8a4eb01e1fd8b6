"""Each account's access, read from the vault offline (the same facts as `heartkeep auth status`).

A damaged vault file or a refused grant is a problem (sync fails now); a refresh token with an
expiry — Google's 7-day tokens for OAuth apps left in *Testing* status — is a warning while it
still works, because it will stop on a known day unless the app is published.
"""

from __future__ import annotations

from heartkeep.auth.status import auth_status, damaged_vaults
from heartkeep.clock import Clock
from heartkeep.config import Settings
from heartkeep.doctor.findings import Finding

CHECK = "accounts"
TESTING_HINT = (
    "publish the OAuth app (docs/google-oauth-setup.md, 'Publishing status') so refresh tokens "
    "stop expiring after 7 days, then run `heartkeep auth login` once more"
)


def check_accounts(settings: Settings, *, clock: Clock) -> list[Finding]:
    findings = [
        Finding(CHECK, "problem", failure.message, failure.hint or "")
        for failure in damaged_vaults(settings)
    ]
    now_s = clock.now_s()
    for account in auth_status(settings, clock=clock):
        key = account.account_key
        if account.access_state in {"refused", "unusable"}:
            findings.append(
                Finding(
                    CHECK,
                    "problem",
                    f"{key}: access no longer works ({'; '.join(account.warnings) or 'refused'})",
                    "run `heartkeep auth login` again",
                )
            )
            continue
        expires = account.refresh_expires_at_s
        if expires is not None:
            days = (expires - now_s) / 86_400
            findings.append(
                Finding(
                    CHECK,
                    "problem" if days < 1 else "warning",
                    f"{key}: the refresh token expires in {days:.1f} days — the 7-day 'Testing' "
                    "trap: Google gives OAuth apps in Testing status refresh tokens that die "
                    "after 7 days",
                    TESTING_HINT,
                )
            )
        others = [text for text in account.warnings if "refresh token dies" not in text]
        if others:
            findings.append(Finding(CHECK, "warning", f"{key}: " + "; ".join(others)))
        if expires is None and not others:
            findings.append(
                Finding(CHECK, "ok", f"{key}: access works, the refresh token does not expire")
            )
    if not findings:
        findings.append(
            Finding(CHECK, "warning", "no account is connected", "run `heartkeep auth login`")
        )
    return findings
