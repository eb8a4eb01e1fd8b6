"""Merge a burst of webhook notifications for one participant into one pending sync.

A device that syncs every few minutes, or a backlog Google retries at once, sends many
notifications for one participant.  Each should not become a job: the first one for a
participant opens a `PendingSync` (and the caller queues one job), later ones widen it until the
job starts and `take`s it.  UPSERT intervals merge into one hull (a gap inside it costs a few
extra requests, never a missed sample), DELETE intervals into another.  The job deletes the
DELETE hull's local samples first, then fetches the UPSERT hull from the provider: whatever the
order the notifications came in, the result equals the provider's current data, because the
fetch happens after the delete and reads what the provider serves now.

Pure logic with a lock (the web endpoint adds from its thread, workers take from theirs), so a
task queue can call it as it is.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace

from heartkeep.study.notifications import Interval, Notification


@dataclass(frozen=True)
class PendingSync:
    """The work one participant's notifications add up to."""

    health_user_id: str
    upsert: Interval | None
    delete: Interval | None
    notifications: int
    data_types: frozenset[str]

    def absorb(self, notification: Notification) -> PendingSync:
        span = notification.span()
        upsert, delete = self.upsert, self.delete
        if notification.operation == "UPSERT":
            upsert = span if upsert is None else upsert.hull(span)
        else:
            delete = span if delete is None else delete.hull(span)
        return replace(
            self,
            upsert=upsert,
            delete=delete,
            notifications=self.notifications + 1,
            data_types=self.data_types | {notification.data_type},
        )


class Coalescer:
    """Pending syncs by participant (Google's `healthUserId`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[str, PendingSync] = {}

    def add(self, notification: Notification) -> bool:
        """Merge `notification`; True when it opened a new pending sync (queue one job)."""
        user = notification.health_user_id
        with self._lock:
            current = self._pending.get(user)
            opened = current is None
            if current is None:
                current = PendingSync(user, None, None, 0, frozenset())
            self._pending[user] = current.absorb(notification)
            return opened

    def take(self, health_user_id: str) -> PendingSync | None:
        """Remove and return the participant's pending sync (a job calls this as it starts, so
        notifications arriving during the job open a new one)."""
        with self._lock:
            return self._pending.pop(health_user_id, None)

    def peek(self, health_user_id: str) -> PendingSync | None:
        """The participant's pending sync, left in place."""
        with self._lock:
            return self._pending.get(health_user_id)

    def __len__(self) -> int:
        with self._lock:
            return len(self._pending)
