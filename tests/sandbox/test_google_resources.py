"""Identity, profile, settings, paired devices and the API's error answers, over loopback HTTP.

Every body is checked against the official discovery document (see `discovery_schema`).
"""

from __future__ import annotations

import datetime as dt
import re

import httpx
import pytest
from discovery_schema import SchemaError, discovery, validate, validate_error
from sandbox_tokens import ACTIVITY, HEALTH, HEARTKEEP_SCOPES, PROFILE, SETTINGS, api, grant

from heartkeep.sandbox.catalog import DATA_TYPES
from heartkeep.sandbox.config import TEST_START_S

HR = "/v4/users/me/dataTypes/heart-rate/dataPoints"


def test_identity_names_the_user_and_their_legacy_id(sandbox, client) -> None:
    body = client.get("/v4/users/me/identity").json()
    validate(body, "Identity")
    spec = next(iter(sandbox.state.users.values()))
    assert body == {
        "name": "users/me/identity",
        "healthUserId": spec.health_user_id,
        "legacyUserId": spec.legacy_user_id,
    }


def test_profile_has_the_membership_date_and_no_time_zone(sandbox, client) -> None:
    body = client.get("/v4/users/me/profile").json()
    validate(body, "Profile")
    spec = next(iter(sandbox.state.users.values()))
    start = spec.member_since
    assert body["membershipStartDate"] == {
        "year": start.year,
        "month": start.month,
        "day": start.day,
    }
    assert "timeZone" not in body


def test_settings_report_the_zone_in_force_now(sandbox, client) -> None:
    body = client.get("/v4/users/me/settings").json()
    validate(body, "Settings")
    assert body["timeZone"] == "Europe/Berlin"
    assert body["utcOffset"] == "3600s"  # November: CET
    # Travel: the demo user spends ten days in New York, 200 days before the start.
    sandbox.state.clock.set(TEST_START_S - 195 * 86400)
    moved = client.get("/v4/users/me/settings").json()
    assert moved["timeZone"] == "America/New_York"
    assert moved["utcOffset"] == "-14400s"  # May: EDT


def test_paired_devices_carry_the_last_sync_time(sandbox, client) -> None:
    body = client.get("/v4/users/me/pairedDevices", params={"pageSize": 500}).json()
    validate(body, "ListPairedDevicesResponse")
    (device,) = body["pairedDevices"]
    assert device["lastSyncTime"] == "2026-11-20T11:45:00Z"  # 15 minutes behind the clock
    user_id = next(iter(sandbox.state.users))
    sandbox.state.set_last_sync(user_id, TEST_START_S - 3600)
    one = client.get("/" + "v4/" + device["name"]).json()
    validate(one, "PairedDevice")
    assert one["lastSyncTime"] == "2026-11-20T11:00:00Z"
    missing = client.get("/v4/users/me/pairedDevices/123")
    assert missing.status_code == 404
    validate_error(missing.json())
    assert missing.json()["error"]["details"][0]["reason"] == "RESOURCE_NOT_FOUND"


def test_the_numeric_user_id_works_like_me(sandbox, client) -> None:
    user_id = next(iter(sandbox.state.users))
    assert client.get(f"/v4/users/{user_id}/settings").status_code == 200
    other = client.get("/v4/users/12345/settings")
    assert other.status_code == 403
    validate_error(other.json())


@pytest.mark.parametrize(
    ("path", "needed"),
    [
        ("/v4/users/me/profile", PROFILE),
        ("/v4/users/me/settings", SETTINGS),
        ("/v4/users/me/pairedDevices", SETTINGS),
        (HR, HEALTH),
        ("/v4/users/me/dataTypes/daily-resting-heart-rate/dataPoints", HEALTH),
        ("/v4/users/me/dataTypes/daily-heart-rate-zones/dataPoints", HEALTH),
        ("/v4/users/me/dataTypes/steps/dataPoints", ACTIVITY),
    ],
)
def test_each_resource_needs_its_own_scope(sandbox, path: str, needed: str) -> None:
    others = tuple(s for s in (*HEARTKEEP_SCOPES, ACTIVITY) if s != needed)
    params = {"pageSize": 1} if "dataPoints" in path else {}
    with api(sandbox, grant(sandbox, scopes=others)["access_token"]) as client:
        denied = client.get(path, params=params)
        assert client.get("/v4/users/me/identity").status_code == 200
    assert denied.status_code == 403
    body = denied.json()
    validate_error(body)
    assert body["error"]["status"] == "PERMISSION_DENIED"
    assert body["error"]["message"] == "Request had insufficient authentication scopes."
    assert body["error"]["details"][0]["reason"] == "ACCESS_TOKEN_SCOPE_INSUFFICIENT"
    with api(sandbox, grant(sandbox, scopes=(needed,))["access_token"]) as client:
        assert client.get(path, params=params).status_code == 200


def test_the_scope_error_reason_is_switchable(sandbox_factory) -> None:
    server = sandbox_factory(scope_error_reason="MISSING_OAUTH_SCOPE")
    with api(server, grant(server, scopes=(SETTINGS,))["access_token"]) as client:
        body = client.get(HR).json()
    assert body["error"]["details"][0]["reason"] == "MISSING_OAUTH_SCOPE"


def test_identity_needs_some_googlehealth_scope(sandbox) -> None:
    with api(sandbox, grant(sandbox, scopes=("openid",))["access_token"]) as client:
        assert client.get("/v4/users/me/identity").status_code == 403


@pytest.mark.parametrize(
    ("headers", "missing"),
    [
        ({}, True),
        ({"Authorization": "Bearer ya29.nonsense"}, False),
        ({"Authorization": "Basic x"}, False),
    ],
)
def test_bad_credentials_are_401_unauthenticated(sandbox, headers, missing: bool) -> None:
    response = httpx.get(sandbox.url + "/v4/users/me/identity", headers=headers)
    assert response.status_code == 401
    body = response.json()
    validate_error(body)
    assert body["error"]["status"] == "UNAUTHENTICATED"
    assert ("details" in body["error"]) is missing
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_the_token_may_come_as_a_query_parameter(sandbox) -> None:
    token = grant(sandbox)["access_token"]
    response = httpx.get(sandbox.url + "/v4/users/me/identity", params={"access_token": token})
    assert response.status_code == 200


def test_system_parameters_are_accepted_and_unknown_ones_rejected(client) -> None:
    ok = client.get(
        "/v4/users/me/settings",
        params={"alt": "json", "prettyPrint": "false", "quotaUser": "x", "$.xgafv": "2"},
    )
    assert ok.status_code == 200
    unknown = client.get("/v4/users/me/settings", params={"colour": "blue"})
    assert unknown.status_code == 400
    validate_error(unknown.json())
    assert "colour" in unknown.json()["error"]["message"]


@pytest.mark.parametrize("data_type", ["heartRate", "heart_rate", "pulse"])
def test_an_unknown_data_type_is_400_invalid_parent(client, data_type: str) -> None:
    response = client.get(f"/v4/users/me/dataTypes/{data_type}/dataPoints")
    assert response.status_code == 400
    body = response.json()
    validate_error(body)
    info, bad = body["error"]["details"]
    assert info["reason"] == "INVALID_PARENT_DATA_TYPE_COLLECTION"
    assert info["metadata"] == {"dataType": data_type}
    assert bad["fieldViolations"][0]["field"] == "parent"


def test_a_known_type_without_data_is_an_empty_list(sandbox) -> None:
    token = grant(sandbox, scopes=(ACTIVITY,))["access_token"]
    with api(sandbox, token) as client:
        response = client.get("/v4/users/me/dataTypes/steps/dataPoints")
    assert response.status_code == 200
    assert response.json() == {}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v4/users/me/nothing"),
        ("GET", "/v4/users/me/dataTypes/heart-rate/dataPoints:rollUp"),
        ("POST", HR),
        ("GET", "/v4/users/me/dataTypes/heart-rate/dataPoints:explode"),
        ("GET", "/v3/users/me/identity"),
    ],
)
def test_unknown_paths_and_verbs_get_googles_html_404(sandbox, method: str, path: str) -> None:
    response = httpx.request(method, sandbox.url + path)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "was not found on this server" in response.text


def test_the_validator_rejects_what_google_would_never_send() -> None:
    with pytest.raises(SchemaError, match="unknown field"):
        validate({"name": "users/me/identity", "userId": "1"}, "Identity")
    with pytest.raises(SchemaError, match="expected a string"):
        validate({"beatsPerMinute": 60}, "HeartRate")
    with pytest.raises(SchemaError, match="int64"):
        validate({"beatsPerMinute": "60.0"}, "HeartRate")
    with pytest.raises(SchemaError, match="not in"):
        validate({"platform": "GARMIN"}, "DataSource")
    with pytest.raises(SchemaError, match="RFC 3339"):
        validate({"physicalTime": "2026-11-20T12:00:00+01:00"}, "ObservationSampleTime")
    with pytest.raises(SchemaError, match="duration"):
        validate({"utcOffset": "3600"}, "ObservationSampleTime")
    with pytest.raises(SchemaError, match="integer"):
        validate({"year": "2026"}, "Date")
    validate({"date": {"year": 2026, "month": 11, "day": 20}, "time": {}}, "CivilDateTime")


def test_membership_date_is_a_real_date(sandbox, client) -> None:
    body = client.get("/v4/users/me/profile").json()
    start = dt.date(**body["membershipStartDate"])
    assert start < dt.datetime.fromtimestamp(TEST_START_S, dt.UTC).date()


def test_a_user_without_a_health_profile_gets_account_not_linked(sandbox, client) -> None:
    sandbox.state.unlinked_users.add(next(iter(sandbox.state.users)))
    response = client.get("/v4/users/me/settings")
    assert response.status_code == 400
    body = response.json()
    validate_error(body)
    assert body["error"]["status"] == "FAILED_PRECONDITION"
    assert body["error"]["details"][0]["reason"] == "ACCOUNT_NOT_LINKED"


def test_every_data_type_of_the_discovery_document_is_known() -> None:
    fields = set(discovery()["schemas"]["DataPoint"]["properties"]) - {"name", "dataSource"}
    kebab = {re.sub(r"(?<!^)(?=[A-Z])", "-", f).lower() for f in fields}
    assert kebab <= set(DATA_TYPES)
    assert all(DATA_TYPES[k].json_field in fields for k in kebab)
