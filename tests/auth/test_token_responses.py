"""Reading token responses: what a refresh keeps from the old pair, and both error dialects."""

from __future__ import annotations

from collections.abc import Iterator

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from heartkeep import http_client
from heartkeep.auth.client_secrets import ClientCredentials
from heartkeep.auth.endpoints import endpoints_for
from heartkeep.auth.token_client import TokenClient, _parse_error
from heartkeep.clock import FakeClock
from heartkeep.model import TokenSet

PREVIOUS = TokenSet(
    access_token="old-access",
    refresh_token="old-refresh",
    expires_at_s=10.0,
    scopes=("a", "b"),
    refresh_expires_at_s=999.0,
    user_id="ABC123",
)


@pytest.fixture(scope="module", autouse=True)
def token_client() -> Iterator[TokenClient]:
    """One real TokenClient (its HTTP client; TLS trust is made on the first https request) at
    now = 1000 s, shared by every example: reading an answer does not change the client."""
    with TokenClient(
        endpoints_for("google", "http://127.0.0.1:9"),
        ClientCredentials("id", "secret"),
        clock=FakeClock(1000.0),
    ) as client:
        _CLIENT.append(client)
        yield client
        _CLIENT.clear()


_CLIENT: list[TokenClient] = []


def parse(payload: dict, previous: TokenSet | None = PREVIOUS) -> TokenSet:
    """The token set the shared client (now = 1000 s) reads from a 200 answer carrying `payload`."""
    (client,) = _CLIENT
    return client._token_set(
        http_client.Response(200, content=orjson.dumps(payload)), previous=previous
    )


# No deadline: on a loaded machine (the suite under xdist beside other jobs) an example can
# exceed hypothesis' 200 ms default and fail on timing alone.  Speed is measured in bench/,
# never asserted here.
@settings(deadline=None)
@given(
    expires_in=st.integers(min_value=1, max_value=10**7),
    as_text=st.booleans(),
    rotated=st.booleans(),
    scope=st.sampled_from([None, "", "b a", "c"]),
)
def test_a_refresh_answer_keeps_what_the_provider_left_out(
    expires_in: int, as_text: bool, rotated: bool, scope: str | None
) -> None:
    payload: dict = {
        "access_token": "new-access",
        "expires_in": str(expires_in) if as_text else expires_in,
    }
    if rotated:
        payload["refresh_token"] = "new-refresh"
    if scope is not None:
        payload["scope"] = scope
    tokens = parse(payload)
    assert tokens.expires_at_s == 1000.0 + expires_in
    assert tokens.obtained_at_s == 1000.0
    assert tokens.refresh_token == ("new-refresh" if rotated else "old-refresh")
    assert tokens.scopes == (tuple(sorted(scope.split())) if scope else ("a", "b"))
    assert tokens.user_id == "ABC123"
    # A rotated refresh token without a stated lifetime does not inherit the old one's death.
    assert tokens.refresh_expires_at_s == (None if rotated else 999.0)


def test_testing_mode_lifetime_is_recorded_from_the_exchange() -> None:
    tokens = parse(
        {
            "access_token": "a",
            "expires_in": 3599,
            "refresh_token": "r",
            "refresh_token_expires_in": 604799,
        },
        previous=None,
    )
    assert tokens.refresh_expires_at_s == 1000.0 + 604799


def test_both_error_dialects_are_understood_and_echoed_tokens_masked() -> None:
    google = _parse_error(
        http_client.Response(
            400, json={"error": "invalid_grant", "error_description": "Bad Request"}
        )
    )
    assert (google.code, google.description) == ("invalid_grant", "Bad Request")
    echoed = "f" * 64
    fitbit = _parse_error(
        http_client.Response(
            400,
            json={
                "errors": [
                    {"errorType": "invalid_grant", "message": f"Refresh token invalid: {echoed}."}
                ],
                "success": False,
            },
        )
    )
    assert fitbit.code == "invalid_grant"
    assert echoed not in fitbit.description
    garbage = _parse_error(http_client.Response(502, content=b"<html>Bad gateway</html>"))
    assert (garbage.status, garbage.code) == (502, "")
