"""heartkeep's error tree: every failure a user can meet, with a message written for them.

    HeartkeepError                      exit 1
    ├── UsageError                      exit 2   an option the command cannot use (a reversed range)
    ├── ConfigError                     exit 3   bad settings, missing client file
    ├── AuthError                       exit 4   anything about access
    │   ├── ReauthorizationNeeded       exit 4   refresh token revoked/expired: log in again
    │   ├── ScopeMissing                exit 4   the user unticked a scope we need
    │   ├── AuthorizationFailed         exit 4   login flow: state mismatch, denied, expired code
    │   └── VaultDamaged                exit 4   a vault file is unreadable: log in again
    ├── ProviderError                   exit 5   the provider refused permanently (4xx)
    │   └── ProviderGone                exit 5   410: the legacy Fitbit API was switched off
    ├── TransientError                  exit 6   network/5xx still failing after bounded retries
    ├── RateLimited                     exit 7   quota exhausted beyond the wait we allow
    ├── ImportFormatError               exit 8   a file we cannot read (file, record, reason)
    ├── StoreError                      exit 9   the database cannot be opened or migrated
    │   └── VaultWriteFailed            exit 9   the token vault cannot be written (full, read-only)
    ├── NoAccounts                      exit 10  nothing connected yet
    └── AlreadyRunning                  exit 75  another sync holds the lock (EX_TEMPFAIL)

Only `cli/app.py` turns these into exit statuses.  Messages never contain tokens or secrets
(see `redaction.py`); the provider's own error code is kept in `provider_code` where there is one.
"""

from __future__ import annotations


class HeartkeepError(Exception):
    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None, provider_code: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.provider_code = provider_code

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n{self.hint}"


class UsageError(HeartkeepError):
    """The command line asks for something that cannot be (a reversed date range, a maximum
    heart rate of 0): exit 2, like the option errors the CLI parser itself reports."""

    exit_code = 2


class ConfigError(HeartkeepError):
    exit_code = 3


class AuthError(HeartkeepError):
    exit_code = 4


class ReauthorizationNeeded(AuthError):
    pass


class ScopeMissing(AuthError):
    pass


class AuthorizationFailed(AuthError):
    pass


class VaultDamaged(AuthError):
    """A vault file that cannot be read (empty, garbage, cut off): its account must log in again.

    `path` is the damaged file; `account_key` the account it belongs to, named by the file name
    (the content cannot be trusted).  `auth login` sets such a file aside and replaces it.
    """

    def __init__(self, message: str, *, path: str, account_key: str, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.path = path
        self.account_key = account_key


class ProviderError(HeartkeepError):
    exit_code = 5

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        hint: str | None = None,
        provider_code: str | None = None,
    ):
        super().__init__(message, hint=hint, provider_code=provider_code)
        self.status = status


class ProviderGone(ProviderError):
    pass


class TransientError(HeartkeepError):
    exit_code = 6


class RateLimited(HeartkeepError):
    exit_code = 7

    def __init__(
        self, message: str, *, retry_after_s: float | None = None, hint: str | None = None
    ):
        super().__init__(message, hint=hint)
        self.retry_after_s = retry_after_s


class ImportFormatError(HeartkeepError):
    exit_code = 8

    def __init__(self, message: str, *, path: str, record: str | int | None = None):
        where = path if record is None else f"{path}, record {record}"
        super().__init__(f"{where}: {message}")
        self.path = path
        self.record = record
        self.reason = message


class StoreError(HeartkeepError):
    exit_code = 9


class VaultWriteFailed(StoreError):
    """Saving the token vault failed (disk full, read-only folder); the file on disk is unchanged.

    The vault's writes are atomic, so the previous version (with a refresh token that still
    works) stays in place; the message says what to free or fix.
    """


class NoAccounts(HeartkeepError):
    exit_code = 10


class AlreadyRunning(HeartkeepError):
    exit_code = 75


def legacy_fitbit_gone() -> ProviderGone:
    """The one message every 410 from the legacy Fitbit Web API becomes, wherever it is met
    (login, token refresh, data requests): what happened, that tokens don't carry over, how to
    connect the Google provider and how to bring in older history."""
    return ProviderGone(
        "The legacy Fitbit Web API (api.fitbit.com) and its OAuth endpoints answered 410 Gone: "
        "Google switched off on 2026-11-02, and they will not come back.",
        status=410,
        provider_code="gone",
        hint=(
            "Fitbit tokens do not carry over to the Google Health API, so connect the same Fitbit "
            "or Pixel Watch account through Google:\n"
            "  heartkeep auth login --provider google\n"
            "Everything already in your database stays.  For history older than the Google Health "
            "API serves, request a Google Takeout archive of your Fitbit data and import it:\n"
            "  heartkeep import takeout PATH"
        ),
    )
