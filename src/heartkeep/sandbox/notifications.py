"""What the webhook service announces: new data after a device sync, and deletions.

A notification carries metadata only, never values [3P K-FITVIBE, K-AP]: the user, the data
type, UPSERT or DELETE, and the changed interval three ways (physical UTC times, civil
date-times and civil ISO 8601 text in the user's zone), in the shape of the reference's example
(§12).  The sandbox announces heart rate only, to subscribers whose AUTOMATIC config names
`heart-rate`, for users holding a live grant of its read scope (Google sends notifications only
when the user granted a matching scope [doc G-WH]).

New data: the device's last sync (`SandboxState.last_sync_s`) moved the visible end forward.
The interval is the span of the samples that became visible — first new sample to one second
after the last (guessed: Google's intervals look like quarter hours in the one published
example; nothing says how they are cut).  A span without samples (off the wrist) announces
nothing.  Deletions: `SandboxState.delete_samples` hides an interval and announces it as DELETE.
"""

from __future__ import annotations

import datetime as dt

import orjson

from heartkeep.sandbox.catalog import HEART_RATE
from heartkeep.sandbox.state import SandboxState
from heartkeep.sandbox.wire import civil_json, timestamp

NOTIFICATION_VERSION = "1"


def _civil_text(local_s: int) -> str:
    day, second = divmod(local_s, 86400)
    moment = dt.datetime(1970, 1, 1) + dt.timedelta(days=day, seconds=second)
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def notification_body(
    state: SandboxState, user_id: str, operation: str, start_s: int, end_s: int
) -> bytes:
    """The JSON body announcing `[start_s, end_s)` of the user's heart rate."""
    physiology = state.physiology[user_id]
    local_start = start_s + physiology.offset_s_at(start_s)
    local_end = end_s + physiology.offset_s_at(max(start_s, end_s - 1))
    interval = {
        "physicalTimeInterval": {"startTime": timestamp(start_s), "endTime": timestamp(end_s)},
        "civilDateTimeInterval": {
            "startDateTime": civil_json(local_start),
            "endDateTime": civil_json(local_end),
        },
        "civilIso8601TimeInterval": {
            "startTime": _civil_text(local_start),
            "endTime": _civil_text(local_end),
        },
    }
    data = {
        "version": NOTIFICATION_VERSION,
        "healthUserId": user_id,
        "operation": operation,
        "dataType": HEART_RATE.path_id,
        "intervals": [interval],
    }
    return orjson.dumps({"data": data})


def _sample_span(state: SandboxState, user_id: str, start_s: int, end_s: int) -> tuple[int, int]:
    """[first, last + 1) of the samples visible in [start_s, end_s), or (0, 0) if none."""
    instants, _, _ = state.visible_samples(user_id, start_s, end_s)
    if instants.size == 0:
        return 0, 0
    return int(instants[0]), int(instants[-1]) + 1


def announce_changes(state: SandboxState) -> int:
    """Queue the DELETEs of deletions made since the last pump, then an UPSERT for each
    consenting user whose device synced new data; returns how many notifications were queued.
    A user seen for the first time only sets the baseline."""
    webhooks = state.webhooks
    with state.lock:
        deletions, webhooks.deletions = webhooks.deletions, []
    queued = sum(announce_deletion(state, *deletion) for deletion in deletions)
    if not webhooks.interested(HEART_RATE.path_id):
        return queued
    now = state.now_s()
    for user_id in state.users:
        end = state.visible_end_s(user_id)
        with state.lock:
            since = webhooks.announced_end_s.get(user_id)
            if since is None or end < since:
                webhooks.announced_end_s[user_id] = end
                continue
            pinned = state.pinned_last_sync(user_id) is not None
            if end == since or (not pinned and end - since < state.config.webhook_sync_every_s):
                continue
            webhooks.announced_end_s[user_id] = end
            if not state.consented(user_id, HEART_RATE.read_scope):
                continue
        first, last = _sample_span(state, user_id, since, end)
        if last > first:
            body = notification_body(state, user_id, "UPSERT", first, last)
            with state.lock:
                queued += webhooks.enqueue(HEART_RATE.path_id, "UPSERT", body, now)
    return queued


def announce_deletion(state: SandboxState, user_id: str, start_s: int, end_s: int) -> int:
    """Queue a DELETE of `[start_s, end_s)` for a consenting user; returns how many."""
    with state.lock:
        if not state.consented(user_id, HEART_RATE.read_scope):
            return 0
    body = notification_body(state, user_id, "DELETE", start_s, end_s)
    with state.lock:
        return state.webhooks.enqueue(HEART_RATE.path_id, "DELETE", body, state.now_s())


def baseline(state: SandboxState) -> None:
    """Start announcing from what each device has synced by now (a new subscriber's start)."""
    with state.lock:
        for user_id in state.users:
            state.webhooks.announced_end_s.setdefault(user_id, state.visible_end_s(user_id))
