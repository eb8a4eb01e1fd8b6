"""The study's webhook endpoint against the sandbox's webhook service, both on loopback over
HTTPS: the verification handshake, signature checks, UPSERT and DELETE parsed with the right
interval, bursts coalesced into one pending sync, and the sandbox retrying a failing endpoint.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import httpx
import orjson
import pytest

from heartkeep.sandbox.catalog import HEALTH_METRICS_READ
from heartkeep.sandbox.credentials import SANDBOX_PROJECT_NUMBER
from heartkeep.sandbox.delivery import pump
from heartkeep.sandbox.server import SandboxServer
from heartkeep.sandbox.signing import KEYSET_PATH, WebhookSigner
from heartkeep.sandbox.subscribers import CLOUD_PLATFORM
from heartkeep.study import (
    SIGNATURE_HEADER,
    Coalescer,
    Interval,
    Notification,
    RefreshingKeyset,
    fetch_keyset_from,
    parse_keyset,
    webhook_app,
)
from loopback_asgi import Served, Tls, make_tls, serve_app

SECRET = "Bearer participant-study-7f3a"
PARENT = f"/v4/projects/{SANDBOX_PROJECT_NUMBER}/subscribers"
PATH = "/webhooks/google-health"


@dataclass
class Inbox:
    """What the endpoint handed on, and the coalescer the future task queue will use."""

    received: list[Notification] = field(default_factory=list)
    coalescer: Coalescer = field(default_factory=Coalescer)
    jobs_opened: int = 0
    fail_next: int = 0  # the callback raises this many times (the queue is down)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, notification: Notification) -> None:
        with self.lock:
            if self.fail_next:
                self.fail_next -= 1
                raise RuntimeError("the task queue is unavailable")
            self.received.append(notification)
            if self.coalescer.add(notification):
                self.jobs_opened += 1


@dataclass
class Study:
    sandbox: SandboxServer
    receiver: Served
    inbox: Inbox
    app: object
    user: str

    @property
    def endpoint(self) -> str:
        return self.receiver.url + PATH

    def subscribe(self) -> httpx.Response:
        state = self.sandbox.state
        token = state.issue_tokens(self.user, (CLOUD_PLATFORM,))["access_token"]
        return httpx.post(
            self.sandbox.url + PARENT,
            params={"subscriberId": "heartkeep-study"},
            headers={"Authorization": f"Bearer {token}"},
            json={
                "endpointUri": self.endpoint,
                "endpointAuthorization": {"secret": SECRET},
                "subscriberConfigs": [
                    {"dataTypes": ["heart-rate"], "subscriptionCreatePolicy": "AUTOMATIC"}
                ],
            },
            timeout=30,
        )

    def device_sync(self, advance_s: float = 900) -> None:
        """The participant's watch uploads the next `advance_s` seconds of data."""
        state = self.sandbox.state
        state.clock.advance(advance_s)
        state.set_last_sync(self.user, state.now_s())


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    return make_tls(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def study(sandbox_factory: Callable[..., SandboxServer], tls: Tls) -> Iterator[Study]:
    sandbox = sandbox_factory(webhook_ca_file=str(tls.ca_file))
    user = next(iter(sandbox.state.users))
    sandbox.state.issue_tokens(user, (HEALTH_METRICS_READ,))  # the participant consented
    keyset = parse_keyset(httpx.get(sandbox.url + KEYSET_PATH, timeout=30).content)
    inbox = Inbox()
    app = webhook_app(authorization=SECRET, keyset=keyset, on_notification=inbox)
    with serve_app(app, tls=tls) as receiver:
        yield Study(sandbox, receiver, inbox, app, user)


def counts(study: Study) -> dict[str, int]:
    c = study.app.state.webhook_counts  # type: ignore[attr-defined]
    return {k: getattr(c, k) for k in ("verified", "accepted", "unauthorized", "bad_signature")}


def post(study: Study, body: bytes, headers: dict[str, str]) -> httpx.Response:
    with httpx.Client(verify=False, timeout=30) as client:  # noqa: S501 - test CA on loopback
        return client.post(study.endpoint, content=body, headers=headers)


def test_the_endpoint_passes_the_sandbox_verification_handshake(study: Study) -> None:
    response = study.subscribe()
    assert response.status_code == 200, response.text
    assert response.json()["response"]["state"] == "ACTIVE"
    # 201 for the probe with the secret, 401 for the one without.
    assert counts(study) == {"verified": 1, "accepted": 0, "unauthorized": 1, "bad_signature": 0}


def test_the_handshake_answers(study: Study) -> None:
    probe = b'{"type": "verification"}'
    assert post(study, probe, {"Authorization": SECRET}).status_code == 201
    assert post(study, probe, {}).status_code == 401
    assert post(study, probe, {"Authorization": "Bearer guess"}).status_code == 403


def test_a_device_sync_reaches_the_callback_as_an_upsert_of_the_synced_interval(
    study: Study,
) -> None:
    assert study.subscribe().status_code == 200
    state = study.sandbox.state
    before = state.visible_end_s(study.user)
    study.device_sync()
    assert pump(state) == 1
    [notification] = study.inbox.received
    truth = state.ground_truth_samples(study.user, before, state.visible_end_s(study.user))
    assert notification == Notification(
        study.user, "heart-rate", "UPSERT", (Interval(truth[0][0], truth[-1][0] + 1),)
    )
    assert state.webhooks.attempts[-1].status == 204


def test_a_deletion_reaches_the_callback_as_a_delete_of_that_interval(study: Study) -> None:
    assert study.subscribe().status_code == 200
    state = study.sandbox.state
    end = state.visible_end_s(study.user) - 7200
    assert state.delete_samples(study.user, end - 600, end) > 0
    assert pump(state) == 1
    [notification] = study.inbox.received
    assert notification.operation == "DELETE"
    assert notification.intervals == (Interval(end - 600, end),)


def _notification_body(study: Study) -> bytes:
    """A genuine notification body for the study's participant."""
    assert study.subscribe().status_code == 200
    study.device_sync()
    assert pump(study.sandbox.state) == 1
    return orjson.dumps(
        {
            "data": {
                "version": "1",
                "healthUserId": study.user,
                "operation": "DELETE",
                "dataType": "heart-rate",
                "intervals": [
                    {
                        "physicalTimeInterval": {
                            "startTime": "2026-11-20T00:00:00Z",
                            "endTime": "2026-11-21T00:00:00Z",
                        }
                    }
                ],
            }
        }
    )


def test_unsigned_forged_and_wrong_key_notifications_are_refused_and_never_handed_on(
    study: Study,
) -> None:
    forged = _notification_body(study)
    handed_on = len(study.inbox.received)
    auth = {"Authorization": SECRET}
    sandbox_signer = study.sandbox.state.webhooks.signer
    genuine = sandbox_signer.sign(b'{"data": {}}')
    attempts = {
        "unsigned": post(study, forged, auth),
        "garbage signature": post(study, forged, {**auth, SIGNATURE_HEADER: "bm90IGEgc2ln"}),
        "another body's signature": post(study, forged, {**auth, SIGNATURE_HEADER: genuine}),
        "another key": post(
            study, forged, {**auth, SIGNATURE_HEADER: WebhookSigner().sign(forged)}
        ),
        "no Authorization": post(study, forged, {SIGNATURE_HEADER: sandbox_signer.sign(forged)}),
    }
    assert {name: r.status_code for name, r in attempts.items()} == {
        "unsigned": 403,
        "garbage signature": 403,
        "another body's signature": 403,
        "another key": 403,
        "no Authorization": 401,
    }
    assert len(study.inbox.received) == handed_on
    assert counts(study)["bad_signature"] == 4
    # The same body, signed by the sandbox's key, is accepted.
    signed = post(study, forged, {**auth, SIGNATURE_HEADER: sandbox_signer.sign(forged)})
    assert signed.status_code == 204
    assert study.inbox.received[-1].operation == "DELETE"


def test_a_burst_of_syncs_becomes_one_pending_sync_covering_them_all(study: Study) -> None:
    assert study.subscribe().status_code == 200
    state = study.sandbox.state
    start = state.visible_end_s(study.user)
    for _ in range(6):  # six uploads before the worker gets to the participant
        study.device_sync(300)
        assert pump(state) == 1
    assert len(study.inbox.received) == 6
    assert study.inbox.jobs_opened == 1
    pending = study.inbox.coalescer.take(study.user)
    assert pending is not None
    assert pending.notifications == 6
    truth = state.ground_truth_samples(study.user, start, state.visible_end_s(study.user))
    assert pending.upsert == Interval(truth[0][0], truth[-1][0] + 1)
    assert pending.delete is None
    # Once the job has taken it, the next sync opens a new one.
    study.device_sync(300)
    assert pump(state) == 1
    assert study.inbox.jobs_opened == 2


def test_the_sandbox_retries_an_endpoint_that_answered_500_until_it_answers_204(
    study: Study,
) -> None:
    assert study.subscribe().status_code == 200
    state = study.sandbox.state
    study.inbox.fail_next = 1  # the queue is down: the endpoint answers 500
    study.device_sync()
    assert pump(state) == 1
    assert study.inbox.received == []
    assert [a.status for a in state.webhooks.attempts] == [500]
    state.clock.advance(60)
    assert pump(state) == 1
    assert [a.status for a in state.webhooks.attempts] == [500, 204]
    assert len(study.inbox.received) == 1
    assert study.inbox.received[0].operation == "UPSERT"


def test_a_rotated_signing_key_is_fetched_once_and_made_up_key_ids_fetch_nothing(
    sandbox_factory: Callable[..., SandboxServer], tls: Tls
) -> None:
    sandbox = sandbox_factory(webhook_ca_file=str(tls.ca_file))
    state = sandbox.state
    user = next(iter(state.users))
    state.issue_tokens(user, (HEALTH_METRICS_READ,))
    keyset = RefreshingKeyset(
        fetch_keyset_from(sandbox.url + KEYSET_PATH), clock=state.clock, min_refetch_s=60
    )
    inbox = Inbox()
    app = webhook_app(authorization=SECRET, keyset=keyset, on_notification=inbox)
    with serve_app(app, tls=tls) as receiver:
        study = Study(sandbox, receiver, inbox, app, user)
        assert study.subscribe().status_code == 200
        state.clock.advance(120)
        state.webhooks.signer.rotate()  # Google switches keys
        study.device_sync()
        assert pump(state) == 1
        assert [a.status for a in state.webhooks.attempts] == [204]
        assert keyset.fetches == 2  # the start, and once for the new key id
        # A forger naming made-up key ids gets no more fetches within the minute.
        body = b'{"data": {}}'

        def forge(key_id: int) -> int:
            raw = base64.b64decode(WebhookSigner().sign(body))
            forged = base64.b64encode(raw[:1] + key_id.to_bytes(4, "big") + raw[5:]).decode()
            headers = {"Authorization": SECRET, SIGNATURE_HEADER: forged}
            return post(study, body, headers).status_code

        assert [forge(key_id) for key_id in (1, 2, 3)] == [403, 403, 403]
        assert keyset.fetches == 2
        state.clock.advance(60)  # a minute later one more fetch is allowed, and finds nothing
        assert [forge(key_id) for key_id in (4, 5)] == [403, 403]
        assert keyset.fetches == 3


def test_an_oversized_body_is_refused_without_being_read_whole(study: Study) -> None:
    """Over 1 MiB: 413, whether the size is declared or the body streams without a length
    (chunked) — the endpoint stops reading at the limit instead of holding it all first."""
    auth = {"Authorization": SECRET}
    big = b"x" * ((1 << 20) + 1)
    assert post(study, big, auth).status_code == 413

    def chunks() -> Iterator[bytes]:
        for _ in range(40):
            yield b"y" * 65_536

    with httpx.Client(verify=False, timeout=30) as client:  # noqa: S501 - test CA on loopback
        streamed = client.post(study.endpoint, content=chunks(), headers=auth)
    assert streamed.status_code == 413
    assert post(study, b'{"type": "verification"}', auth).status_code == 201
    assert study.inbox.received == []
