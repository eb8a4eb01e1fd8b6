"""The imports' glue: Takeout archives and saved Fitbit JSON into the store, and the record of
each import (list, undo).

Which account an import goes to (an existing one, the only one, or a new one named after the
archive's owner), in which time zone its wall times are read, and that a failed first import
leaves no empty database behind.  Kept apart from `api.py`; `heartkeep.api` re-exports the
public names.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import pathlib
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from heartkeep.clock import SystemClock
from heartkeep.config import Settings
from heartkeep.errors import ConfigError, ImportFormatError, NoAccounts, StoreError
from heartkeep.importers import ImportReport, ProgressCallback, load
from heartkeep.model import Account, Source
from heartkeep.store import Store, open_store
from heartkeep.store.protocol import ImportRun, UndoResult


def _check_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ConfigError(
            f"unknown time zone {name!r}", hint="use an IANA name such as Europe/Berlin"
        ) from error
    return name


def _import_account(
    store: Store, key: str | None, time_zone: str | None, owner: str, provider: str
) -> tuple[Account, bool]:
    """The account an import goes to, and whether the import must create it.

    `key` names an existing account; without it the only account is used; with none yet a
    `<provider>:<owner>` account is created, which needs the person's time zone.
    """
    if key is not None:
        account = store.account(key)
        if account is None:
            raise NoAccounts(
                f"no account {key!r} in the store",
                hint="leave out --account to import into a new takeout:<name> account",
            )
        return account, False
    accounts = store.accounts()
    if len(accounts) == 1:
        return accounts[0], False
    if len(accounts) > 1:
        keys = ", ".join(a.key for a in accounts)
        raise ConfigError(f"several accounts exist ({keys}): choose one with --account")
    if time_zone is None:
        raise ConfigError(
            "no account exists yet, so heartkeep needs your time zone to place the archive's "
            "times on your local days",
            hint="pass --time-zone, e.g. --time-zone Europe/Berlin",
        )
    user_id = re.sub(r"[^a-z0-9._-]+", "-", owner.lower()).strip("-") or "me"
    return Account(provider, user_id, display_name=owner, time_zone=time_zone), True


@contextmanager
def _removed_if_import_fails(database: str) -> Iterator[None]:
    """Delete the database again if the import that created it fails.

    An import that stops on a bad file commits nothing; when it was also the first thing to
    touch the store, the empty `heartkeep.sqlite` it left would make the next command believe
    heartkeep had been set up.  A database that existed before is never touched.
    """
    path = None if "://" in database or not database else Path(database).expanduser()
    existed = path is None or path.exists()
    try:
        yield
    except BaseException:
        if not existed and path is not None:
            for suffix in ("", "-wal", "-shm", "-journal"):
                path.with_name(path.name + suffix).unlink(missing_ok=True)
        raise


def import_takeout(
    settings: Settings,
    paths: Sequence[pathlib.Path],
    *,
    account: str | None = None,
    time_zone: str | None = None,
    name: str | None = None,
    on_progress: ProgressCallback | None = None,
) -> ImportReport:
    """Import Google Takeout / Fitbit export archives (zips, split parts, or folders).

    Times in the archive carry no offset; each instant gets the offset of `time_zone` (default:
    the account's zone) at that instant.  All files import in one transaction.  Raises
    `ImportFormatError` (file, record, reason; nothing is committed), `ConfigError` when the
    account or zone is ambiguous, `NoAccounts` for an unknown `account`.
    """
    from heartkeep.importers import takeout
    from heartkeep.importers.provenance import provenance

    if time_zone is not None:
        _check_zone(time_zone)
    with takeout.scan(paths) as found:
        if not found.members:
            raise ImportFormatError(
                "no heart-rate, resting-heart-rate or zone files found in the archive",
                path=", ".join(str(p) for p in paths),
            )
        owner = name or takeout.archive_owner(paths) or "me"
        with _removed_if_import_fails(settings.database), open_store(settings.database) as store:
            target, create = _import_account(store, account, time_zone, owner, "takeout")
            zone = time_zone or target.time_zone
            report = load(
                store,
                target.key,
                takeout.read_members(found.members, zone),
                Source.TAKEOUT,
                files_total=len(found.members),
                provenance=provenance("takeout", zone, paths),
                imported_s=int(SystemClock().now_s()),
                ignored_files=found.ignored,
                on_progress=on_progress,
                create_account=target if create else None,
            )
            _refresh_summaries(store)
            return report


def import_fitbit_json(
    settings: Settings,
    paths: Sequence[pathlib.Path],
    *,
    account: str | None = None,
    time_zone: str | None = None,
    date: dt.date | None = None,
    times_utc: bool = False,
    name: str | None = None,
    on_progress: ProgressCallback | None = None,
) -> ImportReport:
    """Import saved legacy Fitbit intraday heart-rate responses (one day per file).

    The day comes from the response, else the file name, else `date`; wall times are read in
    `time_zone` (default: the account's), or as UTC with `times_utc`.  Raises as
    `import_takeout` does.
    """
    from heartkeep.importers import fitbit_json
    from heartkeep.importers.provenance import provenance

    if time_zone is not None:
        _check_zone(time_zone)
    with _removed_if_import_fails(settings.database), open_store(settings.database) as store:
        target, create = _import_account(store, account, time_zone, name or "me", "fitbit-json")
        zone = time_zone or target.time_zone
        report = load(
            store,
            target.key,
            fitbit_json.read_files(paths, zone, default_date=date, times_utc=times_utc),
            Source.FITBIT_JSON,
            files_total=len(paths),
            provenance=provenance("fitbit-json", "UTC" if times_utc else zone, paths),
            imported_s=int(SystemClock().now_s()),
            on_progress=on_progress,
            create_account=target if create else None,
        )
        _refresh_summaries(store)
        return report


def import_runs(settings: Settings, *, account: str | None = None) -> list[ImportRun]:
    """Every recorded import (of one account, or all), oldest first: when, which files (by
    sha256), the zone used and what each did.  Reads the store only."""
    with open_store(settings.database) as store:
        return store.imports(account)


def undo_import(settings: Settings, import_id: int) -> UndoResult:
    """Take import `import_id` back out: its samples and dailies go, the archive rows it had
    replaced come back (where nothing newer took their place), and it leaves the list.
    Raises `NoAccounts` for an id `import_runs` does not show."""
    if not 0 < import_id < 2**63:  # no store's integer holds it (SQLite would overflow)
        raise NoAccounts(
            f"there is no import {import_id}",
            hint="`heartkeep import list` shows the imports and their ids.",
        )
    with open_store(settings.database) as store:
        with store.transaction():
            undone = store.undo_import(import_id)
        _refresh_summaries(store)
        return undone


def _refresh_summaries(store: Store) -> None:
    """Summarise the days an import or undo changed, in one pass after its commit.

    Should that fail, the import stands: its days stay marked, every reader computes them from
    the samples exactly, and the next sync or import stores them."""
    with contextlib.suppress(StoreError):
        for account in store.accounts():
            store.refresh_aggregates(account.key)
