"""Participants' tokens in the study database: sealed at rest, refreshed by one worker at a time.

Against a real PostgreSQL (tests/postgres_server.py) and the sandbox's real token endpoint: two
workers, each with its own connection and HTTP client, find the same participant's access token
expired at once; exactly one spends the refresh token, the other waits on the row lock and
takes the pair the first committed.
"""

from __future__ import annotations

import base64
import threading
import time

import msgspec
import psycopg
import pytest

from heartkeep.auth.client_secrets import ClientCredentials
from heartkeep.auth.endpoints import endpoints_for
from heartkeep.auth.token_client import TokenClient
from heartkeep.clock import FakeClock
from heartkeep.errors import ConfigError, HeartkeepError, StoreError
from heartkeep.model import TokenSet
from heartkeep.sandbox.credentials import GOOGLE_CLIENT_ID, GOOGLE_CLIENT_SECRET
from heartkeep.store import open_postgres_store
from heartkeep.store.token_cipher import KEYS_VARIABLE, TokenCipher, key_id, new_key
from heartkeep.study import grant_state
from heartkeep.study.grant_state import GrantState
from heartkeep.study.tokens import participant_tokens

KEY = "google-health:111111256096816351"
OTHER = "google-health:222222256096816351"


def cipher(*keys: str) -> TokenCipher:
    return TokenCipher.from_environment({KEYS_VARIABLE: ",".join(keys)})


def pair(access: str = "ya29.access-secret", expires_at_s: float = 2_000.0) -> TokenSet:
    return TokenSet(
        access_token=access,
        refresh_token="1//refresh-secret",
        expires_at_s=expires_at_s,
        scopes=("https://www.googleapis.com/auth/googlehealth.health_metrics.readonly",),
        obtained_at_s=1_000.0,
        user_id="111111256096816351",
    )


def test_tokens_are_stored_sealed_and_open_only_for_their_own_participant(
    postgres_url: str,
) -> None:
    key = new_key()
    with open_postgres_store(postgres_url, token_cipher=cipher(key)) as store:
        store.save_tokens(KEY, pair())
        store.save_tokens(OTHER, pair("ya29.other-secret"))
        assert store.load_tokens(KEY) == pair()
        raw = store.connection().execute("SELECT key_id, sealed FROM participant_token").fetchall()
        assert {row[0] for row in raw} == {key_id(base64.b64decode(key))}
        assert all(b"secret" not in bytes(row[1]) for row in raw)
        # A sealed pair copied onto another participant's row does not open there.
        store.connection().execute(
            "UPDATE participant_token SET sealed = (SELECT sealed FROM participant_token "
            "WHERE account_id = 0) WHERE account_id = 1"
        )
        with pytest.raises(StoreError, match="sealed for another participant"):
            store.load_tokens(OTHER)


def test_keys_rotate_old_seals_open_until_resealed(postgres_url: str) -> None:
    old, new = new_key(), new_key()
    with open_postgres_store(postgres_url, token_cipher=cipher(old)) as store:
        store.save_tokens(KEY, pair())
    with (
        open_postgres_store(postgres_url, token_cipher=cipher(new)) as store,
        pytest.raises(StoreError, match="not among HEARTKEEP_STUDY_TOKEN_KEYS"),
    ):
        store.load_tokens(KEY)
    with open_postgres_store(postgres_url, token_cipher=cipher(new, old)) as store:
        assert store.load_tokens(KEY) == pair()
        assert store.reseal_tokens() == 1
    with open_postgres_store(postgres_url, token_cipher=cipher(new)) as store:
        assert store.load_tokens(KEY) == pair()


def test_no_key_configured_is_a_config_error_that_says_what_to_set(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(KEYS_VARIABLE, raising=False)
    monkeypatch.delenv("HEARTKEEP_STUDY_TOKEN_KEYS_FILE", raising=False)
    with open_postgres_store(postgres_url) as store:
        with pytest.raises(ConfigError, match="no key to encrypt") as missing:
            store.save_tokens(KEY, pair())
        assert KEYS_VARIABLE in (missing.value.hint or "")
        assert store.load_tokens(KEY) is None  # nothing was stored unsealed


@pytest.fixture
def google_sandbox(sandbox_factory) -> tuple[str, TokenSet, float]:
    """The sandbox and a real grant for its demo user: (URL, expired token pair, now)."""
    return _expired_grant(sandbox_factory())


def _expired_grant(server) -> tuple[str, TokenSet, float]:
    now = server.state.clock.now_s()
    scopes = endpoints_for("google", server.url).scopes
    issued = server.state.grants.issue_direct(
        GOOGLE_CLIENT_ID, "111111256096816351", scopes, now - 7_200
    )
    expired = TokenSet(
        access_token=issued["access_token"],
        refresh_token=issued["refresh_token"],
        expires_at_s=now - 3_600,
        scopes=scopes,
        obtained_at_s=now - 7_200,
    )
    return server.url, expired, now


def _backend_waits_for_a_lock(url: str, deadline_s: float = 30.0) -> bool:
    """True once some other connection to this database waits on a row lock."""
    with psycopg.connect(url, autocommit=True) as watcher:
        stop = time.monotonic() + deadline_s
        while time.monotonic() < stop:
            (waiting,) = watcher.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND pid != pg_backend_pid()"
            ).fetchone()
            if waiting:
                return True
            time.sleep(0.01)
    return False


def test_two_workers_racing_to_refresh_spend_the_refresh_token_once(
    postgres_url: str, google_sandbox: tuple[str, TokenSet, float]
) -> None:
    base_url, expired, now = google_sandbox
    keys = cipher(new_key())
    with open_postgres_store(postgres_url, token_cipher=keys) as store:
        store.save_tokens(KEY, expired)

    spent: list[str] = []
    second_waits = threading.Event()
    results: dict[str, TokenSet] = {}
    failures: list[BaseException] = []

    class CountingClient(TokenClient):
        def refresh(self, refresh_token: str, *, previous: TokenSet) -> TokenSet:
            spent.append(threading.current_thread().name)
            # Hold the row until the other worker is queued behind it: the race, made certain.
            assert second_waits.wait(30), "the second worker never reached the row lock"
            return super().refresh(refresh_token, previous=previous)

    def worker(name: str, start: threading.Barrier) -> None:
        try:
            with (
                open_postgres_store(postgres_url, token_cipher=keys) as store,
                CountingClient(
                    endpoints_for("google", base_url),
                    ClientCredentials(GOOGLE_CLIENT_ID, GOOGLE_CLIENT_SECRET),
                    clock=FakeClock(now),
                ) as client,
            ):
                start.wait()
                results[name] = participant_tokens(store, KEY, client)
        except BaseException as failure:
            failures.append(failure)
            second_waits.set()

    start = threading.Barrier(2)
    threads = [
        threading.Thread(target=worker, args=(name, start), name=name) for name in ("a", "b")
    ]
    for thread in threads:
        thread.start()
    if _backend_waits_for_a_lock(postgres_url):
        second_waits.set()
    for thread in threads:
        thread.join(60)
    assert not failures, failures
    assert len(spent) == 1, f"the refresh token was spent {len(spent)} times"
    assert results["a"] == results["b"]
    fresh = results["a"]
    assert fresh.access_token != expired.access_token
    assert fresh.expires_at_s > now
    assert fresh.refresh_token == expired.refresh_token  # Google does not rotate it
    with open_postgres_store(postgres_url, token_cipher=keys) as store:
        assert store.load_tokens(KEY) == fresh  # committed, sealed, for the next job


@pytest.mark.parametrize(
    ("case", "state"),
    [
        ("revoked", GrantState.REVOKED),
        ("wrong client secret", GrantState.CLIENT_REJECTED),
        ("endpoint unreachable", GrantState.REFRESH_FAILED_TRANSIENT),
        ("no refresh token", GrantState.NO_REFRESH_TOKEN),
    ],
)
def test_a_refused_refresh_records_why_as_a_code(
    postgres_url: str, sandbox_factory, case: str, state: GrantState
) -> None:
    """The token client's classification (invalid_grant, a rejected client, no answer) is
    recorded as the participant's grant state, after the refresh's transaction rolled back;
    the stored pair is unchanged and the failure still reaches the job."""
    server = sandbox_factory()
    base_url, expired, now = _expired_grant(server)
    secret = GOOGLE_CLIENT_SECRET
    if case == "revoked":
        server.state.revoke_all_tokens("111111256096816351")
    elif case == "wrong client secret":
        secret = "not-the-secret"
    elif case == "endpoint unreachable":
        base_url = "http://127.0.0.1:9"  # discard: nothing listens
    elif case == "no refresh token":
        expired = msgspec.structs.replace(expired, refresh_token=None)
    keys = cipher(new_key())
    with (
        open_postgres_store(postgres_url, token_cipher=keys) as store,
        TokenClient(
            endpoints_for("google", base_url),
            ClientCredentials(GOOGLE_CLIENT_ID, secret),
            clock=FakeClock(now),
            timeout_s=2.0,
        ) as client,
    ):
        grant_state.ensure(store.connection())
        store.save_tokens(KEY, expired)
        with pytest.raises(HeartkeepError):
            participant_tokens(store, KEY, client)
        assert store.load_tokens(KEY) == expired
        recorded = grant_state.states(store.connection())
        assert list(recorded) == [KEY]
        assert recorded[KEY][0] is state
        assert recorded[KEY][1] >= int(now)  # when the client gave up (it retries a while)
