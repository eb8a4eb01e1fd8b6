"""The sandbox's webhook service: subscribers, the verification handshake, signed
notifications on device sync and deletion, and retries on the simulated clock."""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Callable, Iterator

import httpx
import orjson
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from discovery_schema import validate, validate_error
from sandbox_tokens import HEARTKEEP_SCOPES, api, grant
from webhook_endpoint import SECRET, Endpoint

from heartkeep.sandbox.credentials import SANDBOX_PROJECT_ID, SANDBOX_PROJECT_NUMBER
from heartkeep.sandbox.delivery import pump
from heartkeep.sandbox.server import SandboxServer
from heartkeep.sandbox.signing import KEYSET_PATH, SIGNATURE_HEADER
from heartkeep.sandbox.subscribers import CLOUD_PLATFORM
from heartkeep.sandbox.wire import timestamp
from loopback_asgi import Served, Tls, make_tls, serve_app

PARENT = f"/v4/projects/{SANDBOX_PROJECT_NUMBER}/subscribers"
HEART_RATE_CONFIG = [{"dataTypes": ["heart-rate"], "subscriptionCreatePolicy": "AUTOMATIC"}]


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    return make_tls(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def endpoint() -> Endpoint:
    return Endpoint()


@pytest.fixture
def served(endpoint: Endpoint, tls: Tls) -> Iterator[Served]:
    with serve_app(endpoint.app(), tls=tls) as served:
        yield served


@pytest.fixture
def hooked(sandbox_factory: Callable[..., SandboxServer], tls: Tls) -> SandboxServer:
    """A sandbox that trusts the test CA, its user consented to heart rate."""
    server = sandbox_factory(webhook_ca_file=str(tls.ca_file))
    user = next(iter(server.state.users))
    server.state.issue_tokens(user, HEARTKEEP_SCOPES)
    return server


def admin(server: SandboxServer) -> httpx.Client:
    user = next(iter(server.state.users))
    token = server.state.issue_tokens(user, (CLOUD_PLATFORM,))["access_token"]
    return httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


def create(server: SandboxServer, uri: str, sub_id: str = "hk-study", **body: object):
    payload = {
        "endpointUri": uri,
        "endpointAuthorization": {"secret": SECRET},
        "subscriberConfigs": HEART_RATE_CONFIG,
        **body,
    }
    with admin(server) as client:
        return client.post(PARENT, params={"subscriberId": sub_id}, json=payload)


def test_create_runs_the_handshake_and_answers_a_done_operation(
    hooked: SandboxServer, served: Served, endpoint: Endpoint
) -> None:
    response = create(hooked, served.url + "/hook")
    assert response.status_code == 200, response.text
    operation = response.json()
    validate(operation, "Operation")
    assert operation["done"] is True
    subscriber = dict(operation["response"])
    subscriber.pop("@type")
    validate(subscriber, "Subscriber")
    assert subscriber["state"] == "ACTIVE"
    assert subscriber["name"] == f"projects/{SANDBOX_PROJECT_NUMBER}/subscribers/hk-study"
    assert subscriber["endpointAuthorization"] == {"secretSet": True}  # input only
    # Two probes: one with the secret exactly as configured, one without Authorization.
    assert [p.headers.get("authorization") for p in endpoint.probes] == [SECRET, None]
    assert all(orjson.loads(p.body) == {"type": "verification"} for p in endpoint.probes)
    assert all(p.headers["content-type"] == "application/json" for p in endpoint.probes)
    with admin(hooked) as client:
        listed = client.get(PARENT).json()
    validate(listed, "ListSubscribersResponse")
    assert [s["name"] for s in listed["subscribers"]] == [subscriber["name"]]


def test_an_endpoint_that_accepts_anyone_fails_verification(
    hooked: SandboxServer, served: Served, endpoint: Endpoint
) -> None:
    endpoint.accept_without_auth = True
    response = create(hooked, served.url + "/hook")
    assert response.status_code == 400
    validate_error(response.json())
    assert response.json()["error"]["status"] == "FAILED_PRECONDITION"
    assert "401/403" in response.json()["error"]["message"]
    with admin(hooked) as client:
        assert "subscribers" not in client.get(PARENT).json()


def test_an_endpoint_with_another_secret_fails_verification(
    hooked: SandboxServer, served: Served, endpoint: Endpoint
) -> None:
    endpoint.secret = "Bearer something-else"
    response = create(hooked, served.url + "/hook")
    assert response.status_code == 400
    assert "not 201" in response.json()["error"]["message"]


def test_plain_http_endpoints_are_refused_by_default(
    hooked: SandboxServer, endpoint: Endpoint
) -> None:
    with serve_app(endpoint.app()) as plain:
        response = create(hooked, plain.url + "/hook")
    assert response.status_code == 400
    assert "HTTPS" in response.json()["error"]["message"]
    assert endpoint.probes == []


def test_the_project_must_be_named_by_number_and_the_token_needs_cloud_platform(
    hooked: SandboxServer,
) -> None:
    with admin(hooked) as client:
        by_id = client.get(f"/v4/projects/{SANDBOX_PROJECT_ID}/subscribers")
        other = client.get("/v4/projects/999999999999/subscribers")
    assert by_id.status_code == 400
    assert other.status_code == 403
    user = next(iter(hooked.state.users))
    token = hooked.state.issue_tokens(user, HEARTKEEP_SCOPES)["access_token"]
    health_only = httpx.get(
        hooked.url + PARENT, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    assert health_only.status_code == 403
    assert httpx.get(hooked.url + PARENT, timeout=30).status_code == 401


def test_patch_reverifies_a_new_secret_and_delete_stops_notifications(
    hooked: SandboxServer, served: Served, endpoint: Endpoint
) -> None:
    assert create(hooked, served.url + "/hook").status_code == 200
    name = f"{PARENT}/hk-study"
    with admin(hooked) as client:
        refused = client.patch(
            name,
            params={"updateMask": "endpoint_authorization"},
            json={"endpointAuthorization": {"secret": "Bearer rotated"}},
        )
        assert refused.status_code == 400  # the endpoint still expects the old secret
        endpoint.secret = "Bearer rotated"
        patched = client.patch(
            name,
            params={"updateMask": "endpoint_authorization"},
            json={"endpointAuthorization": {"secret": "Bearer rotated"}},
        )
        assert patched.status_code == 200, patched.text
        assert client.delete(name).status_code == 200
        assert client.delete(name).status_code == 404
    user = next(iter(hooked.state.users))
    hooked.state.set_last_sync(user, hooked.state.now_s())
    assert pump(hooked.state) == 0
    assert endpoint.notifications == []


def _span(server: SandboxServer, user: str, start: int, end: int) -> tuple[int, int]:
    truth = server.state.ground_truth_samples(user, start, end)
    return truth[0][0], truth[-1][0] + 1


def _physical(received: bytes) -> tuple[str, str]:
    interval = orjson.loads(received)["data"]["intervals"][0]["physicalTimeInterval"]
    return interval["startTime"], interval["endTime"]


def _iso(instant: int) -> str:
    return timestamp(instant)


def test_a_device_sync_sends_one_signed_upsert_of_the_new_data(
    hooked: SandboxServer, served: Served, endpoint: Endpoint
) -> None:
    state = hooked.state
    user = next(iter(state.users))
    assert create(hooked, served.url + "/hook").status_code == 200
    before = state.visible_end_s(user)
    assert pump(state) == 0  # nothing new since the subscriber was created
    state.set_last_sync(user, state.now_s())  # the watch syncs its last 15 minutes
    assert pump(state) == 1
    [note] = endpoint.notifications
    data = orjson.loads(note.body)["data"]
    assert data["healthUserId"] == user
    assert data["operation"] == "UPSERT"
    assert data["dataType"] == "heart-rate"
    first, end = _span(hooked, user, before, state.visible_end_s(user))
    assert _physical(note.body) == (_iso(first), _iso(end))
    assert note.headers["authorization"] == SECRET
    # The signature verifies with the public key the sandbox publishes.
    keyset = httpx.get(hooked.url + KEYSET_PATH, timeout=30).json()
    raw = base64.b64decode(note.headers[SIGNATURE_HEADER.lower()])
    assert raw[0] == 1
    assert int.from_bytes(raw[1:5], "big") == keyset["primaryKeyId"]
    public = state.webhooks.signer._key.public_key()
    public.verify(raw[5:], note.body, ec.ECDSA(hashes.SHA256()))
    assert pump(state) == 0  # delivered once


def test_deleting_data_at_the_source_sends_a_delete(
    hooked: SandboxServer, served: Served, endpoint: Endpoint
) -> None:
    state = hooked.state
    user = next(iter(state.users))
    assert create(hooked, served.url + "/hook").status_code == 200
    end = state.visible_end_s(user) - 3600
    start = end - 1800
    assert state.delete_samples(user, start, end) > 0
    assert state.ground_truth_samples(user, start, end) == []
    assert pump(state) == 1
    [note] = endpoint.notifications
    assert orjson.loads(note.body)["data"]["operation"] == "DELETE"
    assert _physical(note.body) == (_iso(start), _iso(end))


def test_a_user_without_heart_rate_consent_is_not_announced(
    sandbox_factory: Callable[..., SandboxServer], tls: Tls, served: Served, endpoint: Endpoint
) -> None:
    server = sandbox_factory(webhook_ca_file=str(tls.ca_file))
    user = next(iter(server.state.users))
    assert create(server, served.url + "/hook").status_code == 200
    server.state.set_last_sync(user, server.state.now_s())
    assert pump(server.state) == 0
    assert endpoint.notifications == []


def test_a_failing_endpoint_is_retried_with_backoff_on_the_simulated_clock(
    hooked: SandboxServer, served: Served, endpoint: Endpoint
) -> None:
    state = hooked.state
    clock = state.clock
    user = next(iter(state.users))
    assert create(hooked, served.url + "/hook").status_code == 200
    endpoint.statuses = [500, 503]
    state.set_last_sync(user, state.now_s())
    assert pump(state) == 1  # 500
    assert pump(state) == 0  # not due yet: the clock has not moved
    clock.advance(60)  # first retry after a minute
    assert pump(state) == 1  # 503
    clock.advance(60)
    assert pump(state) == 0  # the second retry waits two minutes
    clock.advance(60)
    assert pump(state) == 1  # 204
    statuses = [a.status for a in state.webhooks.attempts]
    assert statuses == [500, 503, 204]
    assert len(endpoint.notifications) == 3
    assert len({n.body for n in endpoint.notifications}) == 1  # the same notification
    assert len(state.webhooks.delivered) == 1


def test_retries_stop_after_seven_days(
    hooked: SandboxServer, served: Served, endpoint: Endpoint
) -> None:
    state = hooked.state
    user = next(iter(state.users))
    assert create(hooked, served.url + "/hook").status_code == 200
    endpoint.statuses = [500] * 1000
    state.set_last_sync(user, state.now_s())
    start = state.now_s()
    assert pump(state) == 1
    while state.webhooks.pending:
        state.clock.advance(3600)
        pump(state)
    assert len(state.webhooks.given_up) == 1
    last = state.webhooks.attempts[-1].at_s
    assert 6 * 86400 < last - start <= 7 * 86400
    # 60 s doubling to an hour: 7 retries to reach the cap, then hourly.
    assert 160 < len(state.webhooks.attempts) < 175


def test_an_endpoint_that_does_not_answer_is_retried(hooked: SandboxServer, served: Served) -> None:
    state = hooked.state
    user = next(iter(state.users))
    assert create(hooked, served.url + "/hook").status_code == 200
    with admin(hooked) as client:
        gone = client.patch(
            f"{PARENT}/hk-study",
            params={"updateMask": "subscriber_configs"},
            json={"subscriberConfigs": HEART_RATE_CONFIG},
        )
    assert gone.status_code == 200
    # Point the stored subscriber at a closed port, as if the receiver went down.
    with state.lock:
        record = state.webhooks.subscribers["hk-study"]
        state.webhooks.subscribers["hk-study"] = dataclasses.replace(
            record, endpoint_uri="https://127.0.0.1:9/hook"
        )
    state.set_last_sync(user, state.now_s())
    assert pump(state) == 1
    assert [a.status for a in state.webhooks.attempts] == [0]
    assert len(state.webhooks.pending) == 1


def test_an_administrator_token_from_the_oauth_flow_manages_subscribers(
    hooked: SandboxServer,
) -> None:
    """cloud-platform is a scope like any other on the consent page: no Python hook needed."""
    token = grant(hooked, scopes=(CLOUD_PLATFORM,))["access_token"]
    with api(hooked, token) as client:
        listed = client.get(PARENT)
    assert listed.status_code == 200
    assert listed.json() == {"totalSize": 0}


def test_a_user_who_revoked_access_is_no_longer_announced(
    hooked: SandboxServer, served: Served, endpoint: Endpoint
) -> None:
    state = hooked.state
    user = next(iter(state.users))
    assert create(hooked, served.url + "/hook").status_code == 200
    state.revoke_all_tokens(user)
    state.set_last_sync(user, state.now_s())
    assert pump(state) == 0
    assert endpoint.notifications == []


def test_list_pages_through_subscribers(
    hooked: SandboxServer, served: Served, endpoint: Endpoint
) -> None:
    uri = served.url + "/hook"
    for name in ("hk-one", "hk-two", "hk-three"):
        assert create(hooked, uri, sub_id=name).status_code == 200
    seen: list[str] = []
    token = None
    with admin(hooked) as client:
        while True:
            params = {"pageSize": "2", **({"pageToken": token} if token else {})}
            page = client.get(PARENT, params=params).json()
            validate(page, "ListSubscribersResponse")
            assert page["totalSize"] == 3
            seen += [s["name"].rsplit("/", 1)[1] for s in page["subscribers"]]
            token = page.get("nextPageToken")
            if not token:
                break
    assert seen == ["hk-one", "hk-two", "hk-three"]


@pytest.mark.parametrize(
    ("sub_id", "body", "status"),
    [
        ("Bad_Id", {}, 400),
        ("hk-study", {"subscriberConfigs": [{"dataTypes": ["heartRate"]}]}, 400),
        (
            "hk-study",
            {"subscriberConfigs": [{"dataTypes": ["heart-rate"], "subscriptionCreatePolicy": "X"}]},
            400,
        ),
        ("hk-study", {"endpointAuthorization": {}}, 400),
        ("hk-study", {"unknownField": 1}, 400),
    ],
)
def test_invalid_subscribers_are_refused_before_any_handshake(
    hooked: SandboxServer,
    served: Served,
    endpoint: Endpoint,
    sub_id: str,
    body: dict[str, object],
    status: int,
) -> None:
    response = create(hooked, served.url + "/hook", sub_id=sub_id, **body)
    assert response.status_code == status
    validate_error(response.json())
    assert endpoint.probes == []


def test_a_device_following_the_clock_is_announced_every_quarter_hour(
    hooked: SandboxServer, served: Served, endpoint: Endpoint
) -> None:
    """Without a pinned sync the visible end creeps with the clock: announced once it has grown
    by `webhook_sync_every_s` (900 s), not at every pump."""
    state = hooked.state
    assert create(hooked, served.url + "/hook").status_code == 200
    state.clock.advance(600)
    assert pump(state) == 0
    state.clock.advance(300)
    assert pump(state) == 1
    state.clock.advance(60)
    assert pump(state) == 0
    assert len(endpoint.notifications) == 1
