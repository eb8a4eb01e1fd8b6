"""`heartkeep study status`: every participant's state, read from the study's store.

What a coordinator asks each morning: who is enrolled, when each was last synced, how complete
the last days are (worn seconds out of the day, from the store's day summaries: O(days), not
O(samples)), whose data stopped arriving although syncs succeed (the watch is off the wrist or
no longer syncs to the phone), and whose grant is gone (by the code recorded where the
failure was classified, `grant_state.py`: revoked at Google or the Testing week over, a
permission unticked, no refresh token) — with the study id each was invited as and a
reconnect invite out for them (`reconnect.py`).  Plain data out; the CLI renders it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from heartkeep.store.postgres import PostgresStore
from heartkeep.study import enrolment_tables as tables
from heartkeep.study import grant_state
from heartkeep.study.reconnect import Participant, participants, reconnect_state

HEART_RATE = "heart-rate"  # the sync engine's stream name (sync/planner.py)
DAY_S = 86_400


@dataclass(frozen=True)
class ParticipantStatus:
    """One participant.  Instants are UTC epoch seconds; `completeness` is worn seconds over
    the `days` whole local days before today (0.0 to 1.0), None before the first sync."""

    account_key: str
    display_name: str
    enrolled: str | None
    last_sync_s: int | None
    newest_sample_s: int | None
    completeness: float | None
    days: list[tuple[str, float]]
    stopped: bool
    grant_revoked: bool
    last_error: str | None
    grant_state: str | None = None  # `grant_state.GrantState`'s code: why access fails
    label: str | None = None  # the study's id for them (as invited), when enrolled on the web
    reconnect: str | None = None  # a reconnect invite not done: `reconnect.reconnect_state`
    reconnect_expires_s: int | None = None


@dataclass(frozen=True)
class StudyStatus:
    """Every participant, and the counts a coordinator reads first."""

    now_s: int
    days: int
    stopped_days: float
    participants: list[ParticipantStatus]

    @property
    def stopped(self) -> list[ParticipantStatus]:
        return [p for p in self.participants if p.stopped]

    @property
    def revoked(self) -> list[ParticipantStatus]:
        return [p for p in self.participants if p.grant_revoked]

    def as_json(self) -> dict[str, Any]:
        return {
            "now_s": self.now_s,
            "days": self.days,
            "participants": [asdict(p) for p in self.participants],
            "stopped": [p.account_key for p in self.stopped],
            "revoked": [p.account_key for p in self.revoked],
        }


def study_status(
    store: PostgresStore, *, now_s: float, days: int = 7, stopped_days: float = 2.0
) -> StudyStatus:
    """Each participant's last sync, completeness over `days` days and flags.  `stopped`: the
    newest sample is more than `stopped_days` old (or there is none) although a sync
    succeeded since; `grant_revoked`: the participant's grant is gone (`grant_state`)."""
    participants = []
    grants = grant_state.states(store.connection())
    invited = _by_account(store)
    for account in store.accounts():
        key = account.key
        state = store.stream_state(key, HEART_RATE)
        span = store.sample_span(key)
        newest = None if span is None else span.end_s - 1
        runs = store.runs(key, limit=1)
        last = runs[0] if runs else None
        grant = grants.get(key)
        grant_revoked = grant is not None and grant[0].grant_gone
        today = _local_day(now_s, account.time_zone)
        first = today - dt.timedelta(days=days)
        worn = {a.day: a.wear_s for a in store.day_aggregates(key, first, today)}
        per_day = [
            (
                str(first + dt.timedelta(days=i)),
                min(1.0, worn.get(first + dt.timedelta(i), 0) / DAY_S),
            )
            for i in range(days)
        ]
        synced = state.last_success_s
        stopped = synced is not None and (newest is None or now_s - newest > stopped_days * DAY_S)
        participants.append(
            ParticipantStatus(
                account_key=key,
                display_name=account.display_name,
                enrolled=None if account.member_since is None else str(account.member_since),
                last_sync_s=synced,
                newest_sample_s=newest,
                completeness=None
                if synced is None
                else sum(share for _, share in per_day) / max(days, 1),
                days=per_day,
                stopped=stopped and not grant_revoked,
                grant_revoked=grant_revoked,
                last_error=None if last is None or last.status != "failed" else last.error,
                grant_state=None if grant is None else grant[0].value,
                **_invitation(invited.get(key), now_s),
            )
        )
    return StudyStatus(int(now_s), days, stopped_days, participants)


def _by_account(store: PostgresStore) -> dict[str, Participant]:
    """Enrolled participants' invite rows by account key ({} before the site's tables, or on
    an older study's that nobody has served or invited to since: read-only, nothing is
    upgraded here)."""
    conn = store.connection()
    if not tables.current(conn):
        return {}
    found = participants(tables.all_enrolments(conn)).values()
    return {p.row.account_key: p for p in found if p.row.account_key is not None}


def _invitation(person: Participant | None, now_s: float) -> dict[str, Any]:
    if person is None:
        return {}
    pending = person.reconnect
    return {
        "label": person.row.label,
        "reconnect": None if pending is None else reconnect_state(pending, now_s),
        "reconnect_expires_s": None if pending is None else pending.expires_s,
    }


def _local_day(now_s: float, zone: str) -> dt.date:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        tz: dt.tzinfo = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        tz = dt.UTC
    return dt.datetime.fromtimestamp(now_s, tz).date()
