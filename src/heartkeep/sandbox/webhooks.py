"""The webhook service's bookkeeping: subscribers, the outbox of notifications, retry times.

Pure state on the sandbox's clock (no HTTP here; `delivery.py` sends).  A notification is
queued once per interested subscriber and delivered until the endpoint answers 204.  Anything
else (another status, a timeout, a refused connection) is retried with exponential back-off —
`webhook_retry_first_s`, doubling, at most `webhook_retry_max_s` apart — for
`webhook_retry_for_s` (7 days, as Google says [3P K-FITVIBE transcribing G-WH]); the schedule
itself is a guess.  Times are the injected clock's, so a test walks a week of retries by
advancing a `SimClock`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from heartkeep.sandbox.config import SandboxConfig
from heartkeep.sandbox.credentials import SANDBOX_PROJECT_NUMBER
from heartkeep.sandbox.signing import WebhookSigner
from heartkeep.sandbox.wire import timestamp


@dataclass(frozen=True)
class Subscriber:
    """One registered endpoint.  `secret` is the full `Authorization` value Google sends."""

    subscriber_id: str
    endpoint_uri: str
    secret: str
    configs: tuple[tuple[tuple[str, ...], str], ...]  # (data types, policy)
    state: str
    create_s: float
    update_s: float

    def name(self) -> str:
        return f"projects/{SANDBOX_PROJECT_NUMBER}/subscribers/{self.subscriber_id}"

    def wants(self, data_type: str) -> bool:
        """Notified of `data_type` without subscriptions: ACTIVE, AUTOMATIC, type configured."""
        return self.state == "ACTIVE" and any(
            policy == "AUTOMATIC" and data_type in types for types, policy in self.configs
        )

    def json(self) -> dict[str, Any]:
        """The `Subscriber` resource; the secret is input-only, so only `secretSet` shows."""
        body: dict[str, Any] = {
            "name": self.name(),
            "endpointUri": self.endpoint_uri,
            "endpointAuthorization": {"secretSet": True},
            "state": self.state,
            "createTime": timestamp(self.create_s),
            "updateTime": timestamp(self.update_s),
        }
        if self.configs:
            body["subscriberConfigs"] = [
                {"dataTypes": list(types), "subscriptionCreatePolicy": policy}
                for types, policy in self.configs
            ]
        return body


@dataclass
class Delivery:
    """One notification on its way to one subscriber."""

    delivery_id: int
    subscriber_id: str
    operation: str
    body: bytes
    first_s: float
    next_s: float
    attempts: int = 0


class Attempt(NamedTuple):
    """One POST of a notification (status 0: no HTTP answer — timeout or refused)."""

    delivery_id: int
    subscriber_id: str
    operation: str
    at_s: float
    status: int


@dataclass
class Webhooks:
    """Subscribers, pending deliveries and what was tried, for one sandbox."""

    config: SandboxConfig
    signer: WebhookSigner = field(default_factory=WebhookSigner)
    subscribers: dict[str, Subscriber] = field(default_factory=dict)
    pending: dict[int, Delivery] = field(default_factory=dict)
    attempts: list[Attempt] = field(default_factory=list)
    delivered: list[Delivery] = field(default_factory=list)
    given_up: list[Delivery] = field(default_factory=list)
    # Per user: the exclusive end of the data already announced (the visible end at the time).
    announced_end_s: dict[str, int] = field(default_factory=dict)
    # Deletions at the source not yet announced: (user, start_s, end_s).
    deletions: list[tuple[str, int, int]] = field(default_factory=list)
    # One pump at a time (the background thread and a test may both call it).
    pump_lock: threading.Lock = field(default_factory=threading.Lock)
    _next_id: int = 1

    def interested(self, data_type: str) -> list[Subscriber]:
        return [s for s in self.subscribers.values() if s.wants(data_type)]

    def enqueue(self, data_type: str, operation: str, body: bytes, now_s: float) -> int:
        """Queue `body` for every subscriber of `data_type`, due now; returns how many."""
        count = 0
        for subscriber in self.interested(data_type):
            delivery = Delivery(
                self._next_id, subscriber.subscriber_id, operation, body, now_s, now_s
            )
            self.pending[delivery.delivery_id] = delivery
            self._next_id += 1
            count += 1
        return count

    def due(self, now_s: float) -> list[Delivery]:
        """Deliveries whose next attempt has come, oldest first; drops orphans."""
        for orphan in [d for d in self.pending.values() if d.subscriber_id not in self.subscribers]:
            del self.pending[orphan.delivery_id]
        return sorted(
            (d for d in self.pending.values() if d.next_s <= now_s), key=lambda d: d.delivery_id
        )

    def backoff_s(self, attempts: int) -> float:
        """Seconds before retry number `attempts` (1 = the first retry)."""
        config = self.config
        delay = config.webhook_retry_first_s * 2.0 ** (attempts - 1)
        return float(min(delay, config.webhook_retry_max_s))

    def record(self, delivery: Delivery, status: int, now_s: float) -> None:
        """The outcome of one POST: 204 ends it; anything else schedules a retry or gives up."""
        delivery.attempts += 1
        self.attempts.append(
            Attempt(delivery.delivery_id, delivery.subscriber_id, delivery.operation, now_s, status)
        )
        if delivery.delivery_id not in self.pending:
            return
        if status == 204:
            del self.pending[delivery.delivery_id]
            self.delivered.append(delivery)
            return
        retry_at = now_s + self.backoff_s(delivery.attempts)
        if retry_at > delivery.first_s + self.config.webhook_retry_for_s:
            del self.pending[delivery.delivery_id]
            self.given_up.append(delivery)
            return
        delivery.next_s = retry_at
