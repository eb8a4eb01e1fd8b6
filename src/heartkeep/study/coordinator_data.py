"""What the coordinator pages show, read from the store and the enrolment rows.

Why from the store's day summaries: a heatmap of 14 days × N participants reads N × 14 rows of
`hr_day` (wear time kept current with the samples), never a sample.  Nothing here writes.

Flags a coordinator acts on:
- **grant <state>**: the participant's access failed, by the code recorded where the failure
  was classified (`grant_state.py`: `revoked`, `consent_scope_missing`, `no_refresh_token`,
  `client_rejected`, `refresh_failed_transient`, `refresh_failed`) — never by the wording of an
  error message; **no tokens stored** when the study holds none;
- **data stopped**: enrolled, but the newest sample is older than `stale_after_s` (2 days);
- **no data yet**: enrolled more than `stale_after_s` ago and nothing stored;
- **backfill not queued**: the enrolment committed but handing it to the queue failed;
- **reconnect invited until …** / **reconnect under way** / **reconnect link expired** /
  **reconnect declined**: the participant's newest reconnect invite (`reconnect.py`), while it
  is not done.  An enrolled participant is listed by their enrolled row, never by a newer
  reconnect invite: their status stays `enrolled`, and a pending reconnect is shown beside it
  (and counted as `reconnect invited`), never as a fresh `invited`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from heartkeep.store.protocol import SyncRun
from heartkeep.study import enrolment_tables as tables
from heartkeep.study import grant_state
from heartkeep.study.grant_state import GrantState
from heartkeep.study.reconnect import (
    RECONNECT_INVITED,
    Participant,
    participants,
    reconnect_state,
)

if TYPE_CHECKING:
    from heartkeep.store.postgres import PostgresStore

STALE_AFTER_S = 2 * 86_400
QUOTA_TABLE = "study_quota_bucket"  # the task queue's shared token buckets, once they exist
PER_PAGE = 100


@dataclass(frozen=True, slots=True)
class ParticipantStatus:
    """One participant (their newest invite) as the overview lists them."""

    label: str
    status: str  # invited, consented, declined, enrolled, expired
    account_key: str | None
    enrolment: tables.Enrolment
    last_sample_s: int | None = None
    last_run: SyncRun | None = None
    wear_s: dict[dt.date, int] = field(default_factory=dict)
    flags: tuple[str, ...] = ()
    grant: GrantState | None = None  # why access fails, if it does
    reconnect: tables.Enrolment | None = None  # the newest reconnect invite, if not done
    reconnect_state: str | None = None  # what it says (`reconnect_state`)

    @property
    def shown_status(self) -> str:
        """The status column: `enrolled`, with a reconnect invite that is not done beside it."""
        if self.reconnect_state is None:
            return self.status
        return f"{self.status}; {self.reconnect_state}"


@dataclass(frozen=True, slots=True)
class Overview:
    days: tuple[dt.date, ...]
    participants: tuple[ParticipantStatus, ...]  # this page's
    counts: dict[str, int]  # everyone's, by status
    quota: list[QuotaBucket] | None  # None: the queue records no quota use yet
    page: int = 1
    pages: int = 1


def _when(instant_s: int) -> str:
    return dt.datetime.fromtimestamp(instant_s, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _flags(
    store: PostgresStore,
    row: tables.Enrolment,
    last_sample_s: int | None,
    grant: GrantState | None,
    now_s: float,
    stale_after_s: int,
    reconnect: tables.Enrolment | None,
) -> tuple[str, ...]:
    assert row.account_key is not None
    flags = []
    if store.load_tokens(row.account_key) is None:
        flags.append("no tokens stored")
    elif grant is not None:
        flags.append(f"grant {grant.value}")
    if last_sample_s is not None and now_s - last_sample_s > stale_after_s:
        flags.append("data stopped")
    if last_sample_s is None and now_s - (row.enrolled_s or 0) > stale_after_s:
        flags.append("no data yet")
    if row.backfill_queued_s is None:
        flags.append("backfill not queued")
    if reconnect is not None:
        said = reconnect_state(reconnect, now_s)
        if said == RECONNECT_INVITED:
            said += f" until {_when(reconnect.expires_s)}"
        flags.append(said)
    return tuple(flags)


def _span(now_s: float, days: int) -> tuple[dt.date, ...]:
    today = dt.datetime.fromtimestamp(now_s, dt.UTC).date()
    return tuple(today - dt.timedelta(days=n) for n in range(days - 1, -1, -1))


def newest_invites(store: PostgresStore) -> dict[str, Participant]:
    """Each participant by label (sorted): their enrolled row if they are enrolled (else
    their newest invite), with their newest reconnect invite while it is not done."""
    return participants(tables.all_enrolments(tables.connection(store)))


def participant_status(
    store: PostgresStore,
    row: tables.Enrolment,
    *,
    now_s: float,
    days: tuple[dt.date, ...],
    stale_after_s: int = STALE_AFTER_S,
    reconnect: tables.Enrolment | None = None,
) -> ParticipantStatus:
    """One participant: status, newest sample, last sync, wear per day of `days`, flags."""
    status = _plain_status(row, now_s)
    if status != tables.ENROLLED or row.account_key is None:
        return ParticipantStatus(row.label, status, None, row)
    key = row.account_key
    sample_span = store.sample_span(key)
    last_sample_s = None if sample_span is None else sample_span.end_s - 1
    runs = store.runs(key, limit=1)
    last_run = runs[0] if runs else None
    wear = {
        aggregate.day: aggregate.wear_s
        for aggregate in store.day_aggregates(key, days[0], days[-1] + dt.timedelta(days=1))
    }
    grant = grant_state.states(tables.connection(store), [key]).get(key)
    state = None if grant is None else grant[0]
    flags = _flags(store, row, last_sample_s, state, now_s, stale_after_s, reconnect)
    said = None if reconnect is None else reconnect_state(reconnect, now_s)
    return ParticipantStatus(
        row.label, status, key, row, last_sample_s, last_run, wear, flags, state, reconnect, said
    )


def _plain_status(row: tables.Enrolment, now_s: float) -> str:
    if row.status in {tables.INVITED, tables.CONSENTED} and now_s >= row.expires_s:
        return "expired"
    return row.status


def overview(
    store: PostgresStore,
    *,
    now_s: float,
    days: int = 14,
    page: int = 1,
    per_page: int = PER_PAGE,
    stale_after_s: int = STALE_AFTER_S,
) -> Overview:
    """Participants' newest invites, `per_page` at a time by label, with wear time per local
    day for the last `days`; the counts by status cover everyone (from the invite rows alone).

    Why pages: each participant listed costs a few queries (newest sample, last run, tokens,
    the days' summaries); a page of 100 stays quick whatever the study's size."""
    span = _span(now_s, days)
    rows = list(newest_invites(store).values())
    counts: dict[str, int] = {}
    for person in rows:
        status = _plain_status(person.row, now_s)
        counts[status] = counts.get(status, 0) + 1
        pending = person.reconnect
        if pending is not None and reconnect_state(pending, now_s) == RECONNECT_INVITED:
            counts[RECONNECT_INVITED] = counts.get(RECONNECT_INVITED, 0) + 1
    pages = max(1, -(-len(rows) // per_page))
    page = min(max(1, page), pages)
    listed = [
        participant_status(
            store,
            person.row,
            now_s=now_s,
            days=span,
            stale_after_s=stale_after_s,
            reconnect=person.reconnect,
        )
        for person in rows[(page - 1) * per_page : page * per_page]
    ]
    return Overview(span, tuple(listed), counts, quota_use(store), page, pages)


def one_participant(
    store: PostgresStore, label: str, *, now_s: float, days: int = 30
) -> tuple[ParticipantStatus, tuple[dt.date, ...]] | None:
    """The participant `label` (enrolled row, else newest invite) with `days` of wear, or
    None if unknown."""
    rows = [row for row in tables.all_enrolments(tables.connection(store)) if row.label == label]
    if not rows:
        return None
    person = participants(rows)[label]
    span = _span(now_s, days)
    found = participant_status(
        store, person.row, now_s=now_s, days=span, reconnect=person.reconnect
    )
    return found, span


@dataclass(frozen=True, slots=True)
class QuotaBucket:
    """One of the project-wide budgets all workers spend from (the task queue's record)."""

    name: str
    taken: int  # requests (or grants) ever charged to it
    available: float  # tokens in the bucket now
    capacity: float
    refill_per_s: float


def quota_use(store: PostgresStore) -> list[QuotaBucket] | None:
    """The task queue's shared quota buckets, or None while it keeps none in this database."""
    conn = tables.connection(store)
    row = conn.execute("SELECT to_regclass(%s)", (QUOTA_TABLE,)).fetchone()
    if row is None or row[0] is None:
        return None
    rows = conn.execute(
        "SELECT name, taken, tokens, capacity, refill_per_s FROM study_quota_bucket ORDER BY name"
    ).fetchall()
    return [QuotaBucket(str(r[0]), int(r[1]), float(r[2]), float(r[3]), float(r[4])) for r in rows]
