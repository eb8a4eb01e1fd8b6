"""The real client library `fitbit` (python-fitbit 0.3.1) works against the sandbox unchanged.

python-fitbit and requests-oauthlib were written against the real api.fitbit.com; if they can
log in, read intraday heart rate, refresh on `expired_token` and see a 429, the sandbox's wire
format is the one real clients expect — and what python-fitbit reads for a day is exactly what
heartkeep stores for it.  Only the library's endpoint constants are pointed at the sandbox.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import fitbit
import httpx
import msgspec
import pytest
from fitbit import exceptions as fitbit_errors

from heartkeep import api
from heartkeep.config import Settings
from heartkeep.sandbox.credentials import FITBIT_CLIENT_ID, FITBIT_CLIENT_SECRET
from heartkeep.sandbox.fitbit import fitbit_sandbox
from heartkeep.store import open_store

REDIRECT = "http://127.0.0.1:8189/callback"


@pytest.fixture
def point_at(monkeypatch: pytest.MonkeyPatch) -> Any:
    """`point_at(server)`: python-fitbit's endpoints on that sandbox (plain HTTP allowed)."""

    def aim(server: Any) -> Any:
        monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
        client = fitbit.api.FitbitOauth2Client
        monkeypatch.setattr(fitbit.Fitbit, "API_ENDPOINT", server.url)
        monkeypatch.setattr(client, "API_ENDPOINT", server.url)
        monkeypatch.setattr(client, "AUTHORIZE_ENDPOINT", server.url)
        monkeypatch.setattr(client, "authorization_url", f"{server.url}/oauth2/authorize")
        for name in ("request_token_url", "access_token_url", "refresh_token_url"):
            monkeypatch.setattr(client, name, f"{server.url}/oauth2/token")
        return fitbit

    return aim


def gather_keys(library: Any) -> dict[str, Any]:
    """python-fitbit's own authorization-code flow (its gather_keys_oauth2.py, minus CherryPy)."""
    oauth = library.Fitbit(FITBIT_CLIENT_ID, FITBIT_CLIENT_SECRET, redirect_uri=REDIRECT).client
    url, _state = oauth.authorize_token_url(scope=["heartrate", "profile", "settings"])
    consent = httpx.get(url, follow_redirects=False)
    assert consent.status_code == 302
    token: dict[str, Any] = oauth.fetch_access_token(
        dict(httpx.URL(consent.headers["location"]).params)["code"]
    )
    return token


def test_python_fitbit_logs_in_and_reads_what_heartkeep_stores(
    sandbox: Any, point_at: Any, settings: Settings
) -> None:
    python_fitbit = point_at(sandbox)
    token = gather_keys(python_fitbit)
    assert token["user_id"] == "CV5TKH"
    assert token["expires_in"] == 28800
    client = python_fitbit.Fitbit(
        FITBIT_CLIENT_ID,
        FITBIT_CLIENT_SECRET,
        access_token=token["access_token"],
        refresh_token=token["refresh_token"],
        expires_at=token["expires_at"],
        refresh_cb=lambda _token: None,
    )
    profile = client.user_profile_get()["user"]
    assert profile["timezone"] == "Europe/Berlin"
    (health_id,) = sandbox.state.users
    today = sandbox.state.physiology[health_id].local_date_of(int(sandbox.state.now_s()))
    day = today - dt.timedelta(days=2)
    theirs = client.intraday_time_series("activities/heart", base_date=day, detail_level="1sec")
    assert theirs["activities-heart-intraday"]["datasetType"] == "second"

    local = msgspec.structs.replace(settings, sandbox_url=sandbox.url)

    def browser(url: str) -> bool:
        consent = httpx.get(url, follow_redirects=False)
        httpx.get(consent.headers["location"])
        return True

    key = api.login(
        local, provider="fitbit", open_browser=browser, clock=sandbox.state.clock
    ).account_key
    report = api.sync(local, clock=sandbox.state.clock, since=day, until=day + dt.timedelta(days=1))
    assert report.accounts[0].ok, report.accounts[0].error
    with open_store(local.database) as store:
        ours = [
            (
                dt.datetime.fromtimestamp(s.instant_s + s.offset_min * 60, dt.UTC).strftime(
                    "%H:%M:%S"
                ),
                s.bpm,
            )
            for batch in store.iter_samples(key)
            for s in batch
        ]
    dataset = theirs["activities-heart-intraday"]["dataset"]
    assert ours == [(point["time"], point["value"]) for point in dataset]
    assert len(ours) > 10_000


def test_python_fitbit_refreshes_on_expired_token_and_sees_the_429(
    sandbox_factory: Any, point_at: Any
) -> None:
    sandbox = sandbox_factory(fitbit_per_user_per_hour=5)
    python_fitbit = point_at(sandbox)
    token = gather_keys(python_fitbit)
    saved: list[dict[str, Any]] = []
    client = python_fitbit.Fitbit(
        FITBIT_CLIENT_ID,
        FITBIT_CLIENT_SECRET,
        access_token=token["access_token"],
        refresh_token=token["refresh_token"],
        expires_at=token["expires_at"],
        refresh_cb=saved.append,
    )
    emulator = fitbit_sandbox(sandbox.state)
    emulator.auth.expire_access_tokens()
    assert client.get_devices()[0]["type"] == "TRACKER"  # 401 expired_token → refresh → retry
    assert len(saved) == 1
    assert saved[0]["refresh_token"] != token["refresh_token"]
    assert emulator.auth.refresh_spends[token["refresh_token"]] == 1

    budget = 5 - emulator.quota.used("CV5TKH", FITBIT_CLIENT_ID)
    for _ in range(budget):
        client.user_profile_get()
    with pytest.raises(fitbit_errors.HTTPTooManyRequests) as refused:
        client.user_profile_get()
    assert 0 < refused.value.retry_after_secs <= 3600
