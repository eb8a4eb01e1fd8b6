"""heartkeep's error tree: every failure a user can meet, with a message written for them.

    HeartkeepError                      exit 1
    ├── InternalError                   exit 1   a bug in heartkeep (the CLI's last resort)
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
    ├── AlreadyRunning                  exit 75  another sync holds the lock (EX_TEMPFAIL)
    └── Interrupted                     exit 130 Ctrl-C: stopped, what was saved stays saved

Only `cli/app.py` turns these into exit statuses.  Messages never contain tokens or secrets
(see `redaction.py`); the provider's own error code is kept in `provider_code` where there is one.
`EXIT_CODES` below is the one table of exit statuses: docs/cli.md is generated from it and a
test holds README's copy to it.  Each class also has a `code`, its snake_case name, which
`--json` output uses as the stable machine name of the failure.
"""

from __future__ import annotations

from typing import ClassVar, NamedTuple


class ExitCode(NamedTuple):
    """One row of the exit-code table: what a script may rely on for each status."""

    status: int
    name: str
    meaning: str
    action: str


EXIT_CODES: tuple[ExitCode, ...] = (
    ExitCode(0, "ok", "the command did what it was asked", "nothing"),
    ExitCode(
        1,
        "bug",
        "heartkeep itself failed",
        "run again with `--verbose` and report the traceback it prints",
    ),
    ExitCode(
        2,
        "usage",
        "a command, option or value was not understood (bad date, number out of range, "
        "reversed range, unknown flag)",
        "read the message; `heartkeep COMMAND --help` lists what the command takes",
    ),
    ExitCode(
        3,
        "config",
        "a setting or client file is missing, unreadable or invalid",
        "fix the file or setting the message names (docs/google-oauth-setup.md)",
    ),
    ExitCode(
        4,
        "auth",
        "an account's access was refused, revoked or expired, or its vault is damaged",
        "`heartkeep auth login`",
    ),
    ExitCode(
        5,
        "provider",
        "the provider refused a request permanently",
        "read the message; it names the request and the provider's reason",
    ),
    ExitCode(
        6,
        "transient",
        "network or server errors outlasted the retries",
        "nothing: run again later (the next scheduled run retries)",
    ),
    ExitCode(
        7,
        "rate_limited",
        "the provider's quota ran out beyond the wait heartkeep allows",
        "nothing: run again later (the next scheduled run resumes)",
    ),
    ExitCode(
        8,
        "import_format",
        "an import file cannot be read (the message names file, record and reason)",
        "check you gave the right archive; nothing was imported",
    ),
    ExitCode(
        9,
        "store",
        "the database or a file or folder cannot be read or written (damaged, read-only, "
        "disk full, not a heartkeep file), or a sample lies outside the dates it can keep",
        "follow the message: free space, fix permissions, or `heartkeep doctor`",
    ),
    ExitCode(
        10,
        "no_data",
        "no account is connected, or nothing is stored for the request",
        "`heartkeep auth login`, then `heartkeep sync`",
    ),
    ExitCode(
        11,
        "doctor_warnings",
        "`heartkeep doctor` found warnings only: worth a look, nothing fails yet",
        "do what each warning says",
    ),
    ExitCode(
        12,
        "doctor_problems",
        "`heartkeep doctor` found a problem: something fails now or data is at risk",
        "do what each problem says, then run `heartkeep doctor` again",
    ),
    ExitCode(
        75,
        "already_running",
        "another sync holds the lock; this run did nothing",
        "nothing: treat as success, the other run does the work",
    ),
    ExitCode(
        130,
        "interrupted",
        "stopped by Ctrl-C (SIGINT); what was already saved stays saved",
        "run the command again: a sync resumes where it stopped",
    ),
)
"""Every exit status heartkeep uses, in order; nothing else is ever returned."""


def _snake(name: str) -> str:
    """`RateLimited` → `rate_limited`: an underscore before each capital but the first.  No
    regular expression: every command defines these classes at start-up (issue 11)."""
    return "".join("_" + c if "A" <= c <= "Z" and i else c for i, c in enumerate(name)).lower()


class HeartkeepError(Exception):
    """Any failure heartkeep foresees; catch this to catch them all."""

    exit_code = 1
    code: ClassVar[str] = "heartkeep_error"
    """The stable machine name of this failure in `--json` output: the class name in
    snake_case, so it cannot drift from the class."""

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        cls.code = _snake(cls.__name__)

    def __init__(self, message: str, *, hint: str | None = None, provider_code: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.provider_code = provider_code

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n{self.hint}"


class InternalError(HeartkeepError):
    """A failure heartkeep did not expect: the CLI's last resort, so even a bug ends in one line
    and a documented exit status instead of a traceback (`--verbose` shows it)."""


class UsageError(HeartkeepError):
    """The command line asks for something that cannot be (a reversed date range, a maximum
    heart rate of 0): exit 2, like the option errors the CLI parser itself reports."""

    exit_code = 2


class ConfigError(HeartkeepError):
    """Bad settings, a missing or unreadable client file."""

    exit_code = 3


class AuthError(HeartkeepError):
    """Anything about access: log in again."""

    exit_code = 4


class ReauthorizationNeeded(AuthError):
    """The refresh token was revoked or expired: log in again."""

    pass


class ScopeMissing(AuthError):
    """The person unticked a permission heartkeep needs."""

    pass


class AuthorizationFailed(AuthError):
    """The login flow failed: state mismatch, consent denied, code expired."""

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
    """The provider refused a request permanently (a 4xx answer)."""

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
    """410 Gone: the legacy Fitbit Web API was switched off."""

    pass


class TransientError(HeartkeepError):
    """Network or server failures still failing after bounded retries."""

    exit_code = 6


class RateLimited(HeartkeepError):
    """The quota ran out beyond the wait heartkeep allows."""

    exit_code = 7

    def __init__(
        self, message: str, *, retry_after_s: float | None = None, hint: str | None = None
    ):
        super().__init__(message, hint=hint)
        self.retry_after_s = retry_after_s


class ImportFormatError(HeartkeepError):
    """A file heartkeep cannot import (file, record and reason)."""

    exit_code = 8

    def __init__(self, message: str, *, path: str, record: str | int | None = None):
        where = path if record is None else f"{path}, record {record}"
        super().__init__(f"{where}: {message}")
        self.path = path
        self.record = record
        self.reason = message


class StoreError(HeartkeepError):
    """The database or the data folder cannot be read or written."""

    exit_code = 9


class VaultWriteFailed(StoreError):
    """Saving the token vault failed (disk full, read-only folder); the file on disk is unchanged.

    The vault's writes are atomic, so the previous version (with a refresh token that still
    works) stays in place; the message says what to free or fix.
    """


class NoAccounts(HeartkeepError):
    """Nothing is connected (or stored) yet."""

    exit_code = 10


class AlreadyRunning(HeartkeepError):
    """Another sync holds the lock; this run did nothing."""

    exit_code = 75


class Interrupted(HeartkeepError):
    """Ctrl-C (SIGINT): 128 + 2, as shells report it."""

    exit_code = 130


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
