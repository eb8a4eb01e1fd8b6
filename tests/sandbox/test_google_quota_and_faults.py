"""Quotas on the simulated clock and every injected fault, as a client meets them over HTTP."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import orjson
import pytest
from discovery_schema import validate, validate_error
from sandbox_tokens import api, grant, refresh

IDENTITY = "/v4/users/me/identity"
HR = "/v4/users/me/dataTypes/heart-rate/dataPoints"


def test_the_per_user_quota_resets_each_simulated_minute(sandbox_factory) -> None:
    server = sandbox_factory(
        app_class="verified", per_user_per_second=0, per_user_per_minute=5, send_retry_after=True
    )
    server.state.clock.set(1_795_176_000 + 20)  # 20 s into a minute
    with api(server, grant(server)["access_token"]) as client:
        assert [client.get(IDENTITY).status_code for _ in range(6)] == [200] * 5 + [429]
        limited = client.get(IDENTITY)
        assert limited.headers["retry-after"] == "40"
        body = limited.json()
        validate_error(body)
        assert body["error"]["status"] == "RESOURCE_EXHAUSTED"
        assert body["error"]["details"][0]["reason"] == "RATE_LIMIT_EXCEEDED"
        server.state.clock.advance(40)
        assert client.get(IDENTITY).status_code == 200
    # The OAuth endpoints are not metered by the API quota.
    assert grant(server)["access_token"]


def test_an_hour_of_quota_passes_in_a_moment_on_the_simulated_clock(sandbox_factory) -> None:
    """A full budget every minute for an hour, one refused attempt at the end of each minute."""
    server = sandbox_factory(per_user_per_second=0, per_user_per_minute=30)
    served = limited = 0
    with api(server, grant(server)["access_token"]) as client:
        for _ in range(60):
            for _ in range(31):
                status = client.get(IDENTITY).status_code
                served += status == 200
                limited += status == 429
            server.state.clock.advance(60)
    assert served == 60 * 30
    assert limited == 60


def test_an_unverified_app_gets_a_burst_of_five_then_two_and_a_half_requests_a_second(
    sandbox_factory,
) -> None:
    """The default app class is unverified: a token bucket of 5 refilled at 2.5 per second,
    and its 429 carries no Retry-After (Google documents none)."""
    server = sandbox_factory(per_user_per_second=None)
    clock = server.state.clock
    with api(server, grant(server)["access_token"]) as client:
        assert [client.get(IDENTITY).status_code for _ in range(6)] == [200] * 5 + [429]
        limited = client.get(IDENTITY)
        assert "retry-after" not in limited.headers
        body = limited.json()
        validate_error(body)
        assert "per user per second" in body["error"]["message"]
        assert body["error"]["details"][0]["metadata"]["quota_limit_value"] == "2.5"
        clock.advance(0.4)  # one token back
        assert [client.get(IDENTITY).status_code for _ in range(2)] == [200, 429]
        served = 0
        for _ in range(100):  # evenly spaced at 2.5/s: every request is served
            clock.advance(0.4)
            served += client.get(IDENTITY).status_code == 200
        assert served == 100


def test_a_verified_app_may_send_five_a_second_and_retry_after_can_be_switched_on(
    sandbox_factory,
) -> None:
    server = sandbox_factory(app_class="verified", per_user_per_second=None, send_retry_after=True)
    clock = server.state.clock
    with api(server, grant(server)["access_token"]) as client:
        for _ in range(5):
            client.get(IDENTITY)
        served = 0
        for _ in range(50):
            clock.advance(0.2)
            served += client.get(IDENTITY).status_code == 200
        assert served == 50
        statuses = [client.get(IDENTITY) for _ in range(6)]
    limited = [response for response in statuses if response.status_code == 429]
    assert limited
    assert limited[0].headers["retry-after"] == "1"


def test_the_project_quota_counts_every_user(sandbox_factory) -> None:
    server = sandbox_factory(per_project_per_minute=3)
    with (
        api(server, grant(server)["access_token"]) as one,
        api(server, grant(server)["access_token"]) as two,
    ):
        statuses = [one.get(IDENTITY).status_code, two.get(IDENTITY).status_code]
        statuses += [one.get(IDENTITY).status_code, two.get(IDENTITY).status_code]
    assert statuses == [200, 200, 200, 429]


@pytest.mark.parametrize(
    ("kind", "status"), [("error_500", 500), ("error_503", 503), ("rate_limit", 429)]
)
def test_scheduled_http_errors_hit_exactly_the_chosen_requests(
    sandbox, client, kind, status
) -> None:
    sandbox.state.faults.schedule(kind, count=2, after=1)
    statuses = [client.get(IDENTITY).status_code for _ in range(4)]
    assert statuses == [200, status, status, 200]
    assert [k for k, _ in sandbox.state.faults.fired] == [kind, kind]


def test_server_error_bodies_have_googles_shape(sandbox, client) -> None:
    sandbox.state.faults.schedule("error_500")
    sandbox.state.faults.schedule("error_503")
    first, second = client.get(IDENTITY), client.get(IDENTITY)
    validate_error(first.json())
    validate_error(second.json())
    assert first.json() == {
        "error": {"code": 500, "message": "Internal error encountered.", "status": "INTERNAL"}
    }
    assert second.json()["error"]["status"] == "UNAVAILABLE"


def test_a_429_storm_then_recovery(sandbox, client) -> None:
    sandbox.state.faults.schedule("rate_limit", count=25)
    statuses = [client.get(IDENTITY).status_code for _ in range(30)]
    assert statuses == [429] * 25 + [200] * 5
    assert sandbox.state.requests_to(IDENTITY) == 30


def test_a_connection_reset_is_a_transport_error(sandbox, client) -> None:
    sandbox.state.faults.schedule("reset")
    with pytest.raises(httpx.TransportError):
        client.get(IDENTITY)
    assert client.get(IDENTITY).status_code == 200
    assert [record.status for record in sandbox.state.request_log[-2:]] == [0, 200]


def test_a_truncated_body_is_broken_json_with_a_consistent_length(sandbox, client) -> None:
    sandbox.state.faults.schedule("truncate", path_contains="/dataPoints")
    response = client.get(HR, params={"pageSize": 100})
    assert response.status_code == 200
    assert int(response.headers["content-length"]) == len(response.content)
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(response.content)
    validate(client.get(HR, params={"pageSize": 100}).json(), "ListDataPointsResponse")


def test_latency_delays_a_response_past_a_short_timeout(sandbox, client) -> None:
    sandbox.state.faults.schedule("latency")
    with pytest.raises(httpx.ReadTimeout):
        client.get(IDENTITY, timeout=0.05)
    assert client.get(IDENTITY).status_code == 200


def test_a_token_revoked_mid_sync(sandbox) -> None:
    tokens = grant(sandbox)
    sandbox.state.faults.schedule("revoke", after=2, path_contains=HR)
    with api(sandbox, tokens["access_token"]) as client:
        statuses = [client.get(HR, params={"pageSize": 10}).status_code for _ in range(3)]
    assert statuses == [200, 200, 401]
    assert refresh(sandbox, tokens["refresh_token"]).json()["error"] == "invalid_grant"


def test_an_access_token_expiring_early_is_cured_by_a_refresh(sandbox) -> None:
    tokens = grant(sandbox)
    sandbox.state.faults.schedule("expire_token", after=1)
    with api(sandbox, tokens["access_token"]) as client:
        assert [client.get(IDENTITY).status_code for _ in range(2)] == [200, 401]
    fresh = refresh(sandbox, tokens["refresh_token"]).json()["access_token"]
    with api(sandbox, fresh) as client:
        assert client.get(IDENTITY).status_code == 200


def test_fault_rates_are_deterministic_for_a_seed(sandbox_factory) -> None:
    def run(seed: int) -> list[int]:
        server = sandbox_factory(fault_seed=seed)
        server.state.faults.error_rate = 0.2
        server.state.faults.rate_limit_rate = 0.1
        server.state.faults.truncate_rate = 0.05
        with api(server, grant(server)["access_token"]) as client:
            return [client.get(IDENTITY).status_code for _ in range(60)]

    first, again, other = run(7), run(7), run(8)
    assert first == again
    assert first != other
    assert {500, 503, 429, 200} <= set(first)


def test_clearing_faults_restores_service(sandbox, client) -> None:
    sandbox.state.faults.error_rate = 1.0
    sandbox.state.faults.schedule("error_503", count=5)
    assert client.get(IDENTITY).status_code == 503  # schedules win over rates
    assert client.get(HR).status_code == 503
    sandbox.state.faults.schedule("error_500", count=5)
    sandbox.state.faults.clear()
    assert [client.get(IDENTITY).status_code for _ in range(3)] == [200, 200, 200]


def test_faults_can_target_the_token_endpoint(sandbox) -> None:
    tokens = grant(sandbox)
    sandbox.state.faults.schedule("error_503", path_contains="/token", method="POST")
    assert refresh(sandbox, tokens["refresh_token"]).status_code == 503
    assert refresh(sandbox, tokens["refresh_token"]).status_code == 200


def test_unknown_fault_kinds_are_refused(sandbox) -> None:
    with pytest.raises(ValueError, match="unknown fault kind"):
        sandbox.state.faults.schedule("meteor")  # type: ignore[arg-type]


def test_several_schedules_each_count_every_matching_request(sandbox, client) -> None:
    sandbox.state.faults.schedule("error_500", after=1)
    sandbox.state.faults.schedule("error_503", after=2)
    assert [client.get(IDENTITY).status_code for _ in range(4)] == [200, 500, 503, 200]


def test_the_quota_is_exact_under_concurrent_clients(sandbox_factory) -> None:
    server = sandbox_factory(per_user_per_second=0, per_user_per_minute=100)
    token = grant(server)["access_token"]

    def burst(_: int) -> list[int]:
        with api(server, token) as client:
            return [client.get(IDENTITY).status_code for _ in range(30)]

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = [status for batch in pool.map(burst, range(6)) for status in batch]
    assert statuses.count(200) == 100
    assert statuses.count(429) == 80


def test_pages_above_the_deadline_size_time_out_and_smaller_ones_are_served(
    sandbox_factory,
) -> None:
    server = sandbox_factory(deadline_above_points=1_000, per_user_per_second=0)
    since = '"2026-11-19T00:00:00Z"'
    params = {"filter": f"heart_rate.sample_time.physical_time >= {since}", "pageSize": "5000"}
    with api(server, grant(server)["access_token"]) as client:
        first = client.get(HR, params={**params, "pageSize": "1000"})
        assert first.status_code == 200
        assert len(first.json()["dataPoints"]) == 1000
        token = first.json()["nextPageToken"]
        big = client.get(HR, params={**params, "pageToken": token})
        assert big.status_code == 504
        body = big.json()
        validate_error(body)
        assert body["error"]["status"] == "DEADLINE_EXCEEDED"
        # the same page token with a smaller page size continues the walk
        small = client.get(HR, params={**params, "pageSize": "500", "pageToken": token})
        assert small.status_code == 200
        assert len(small.json()["dataPoints"]) == 500
