"""The official Google client libraries, unchanged, against the sandbox: the wire-format proof.

google-auth-oauthlib runs the authorization-code + PKCE flow against the sandbox's OAuth
endpoints (from the Console-shaped client file `google_client_json` produces), google-auth
refreshes, and google-api-python-client — with its bundled `health` `v4` discovery document —
lists heart rate across several pages with `list_next`.  Every page is also validated against
the discovery schemas.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import google.auth.transport.requests
import httpx
import pytest
import requests
from discovery_schema import validate
from google.oauth2.credentials import Credentials
from google_auth_oauthlib.flow import Flow
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError
from sandbox_tokens import HEARTKEEP_SCOPES

from heartkeep.sandbox.credentials import google_client_json
from heartkeep.sandbox.server import SandboxServer


@pytest.fixture
def service(sandbox: SandboxServer, credentials: Credentials):
    """The discovery client on the sandbox; closed afterwards (httplib2 keeps sockets open)."""
    client = build(
        "health",
        "v4",
        credentials=credentials,
        client_options={"api_endpoint": sandbox.url + "/"},
        static_discovery=True,
    )
    yield client
    client.close()


@pytest.fixture
def credentials(sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> Credentials:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the sandbox speaks plain HTTP
    flow = Flow.from_client_config(
        google_client_json(sandbox.url),
        scopes=list(HEARTKEEP_SCOPES),
        redirect_uri="http://127.0.0.1:8080/",
    )
    url, state = flow.authorization_url(access_type="offline", prompt="consent")
    assert "code_challenge_method=S256" in url
    redirect = httpx.get(url)
    query = parse_qs(urlsplit(redirect.headers["location"]).query)
    assert query["state"] == [state]
    flow.fetch_token(code=query["code"][0])
    flow.oauth2session.close()
    return flow.credentials


def test_the_official_client_lists_heart_rate_across_pages(sandbox: SandboxServer, service) -> None:
    points = service.users().dataTypes().dataPoints()
    request = points.list(
        parent="users/me/dataTypes/heart-rate",
        filter='heart_rate.sample_time.physical_time >= "2026-11-20T08:00:00Z"',
        pageSize=1000,
    )
    served: list[str] = []
    pages = 0
    while request is not None:
        response = request.execute()
        validate(response, "ListDataPointsResponse")
        served.extend(p["heartRate"]["sampleTime"]["physicalTime"] for p in response["dataPoints"])
        pages += 1
        request = points.list_next(request, response)
    user_id = next(iter(sandbox.state.users))
    truth = sandbox.state.ground_truth_samples(user_id, 1_795_161_600, 1_795_176_000)
    assert pages >= 3
    assert len(served) == len(truth)
    assert served == sorted(served, reverse=True)
    assert len(set(served)) == len(served)
    requests = [r for r in sandbox.state.request_log if "dataPoints" in r.path]
    assert [r.status for r in requests] == [200] * pages


def test_the_official_client_reads_settings_and_raises_googles_errors(service) -> None:
    settings = service.users().getSettings(name="users/me/settings").execute()
    assert settings["timeZone"] == "Europe/Berlin"
    identity = service.users().getIdentity(name="users/me/identity").execute()
    assert identity["legacyUserId"]
    bad = (
        service.users()
        .dataTypes()
        .dataPoints()
        .list(
            parent="users/me/dataTypes/heart-rate",
            filter="heart_rate.sample_time.physical_time > 1",
        )
    )
    with pytest.raises(HttpError) as failure:
        bad.execute()
    assert failure.value.status_code == 400
    assert failure.value.error_details[0]["reason"] == "INVALID_DATA_POINT_FILTER"
    roll = (
        service.users()
        .dataTypes()
        .dataPoints()
        .dailyRollUp(
            parent="users/me/dataTypes/heart-rate",
            body={
                "range": {
                    "start": {"date": {"year": 2026, "month": 11, "day": 13}},
                    "end": {"date": {"year": 2026, "month": 11, "day": 20}},
                }
            },
        )
    )
    assert len(roll.execute()["rollupDataPoints"]) == 7


def test_google_auth_refreshes_against_the_sandbox(
    sandbox: SandboxServer, credentials: Credentials
) -> None:
    old = credentials.token
    sandbox.state.expire_access_tokens()
    with requests.Session() as session:
        credentials.refresh(google.auth.transport.requests.Request(session))
    assert credentials.token != old
    assert credentials.refresh_token  # kept: Google does not rotate
    with httpx.Client(headers={"Authorization": f"Bearer {credentials.token}"}) as client:
        assert client.get(sandbox.url + "/v4/users/me/identity").status_code == 200
