"""Sync test worlds: a sandbox on loopback, a temp home logged in to it, and helpers to compare
the store with the sandbox's ground truth.

Every world runs the sandbox and the client on the *same* `SimClock`, so rate-limit waits and
retry backoffs pass instantly and "a week later" is one call.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import httpx
import pytest

from heartkeep import api
from heartkeep.auth import login
from heartkeep.config import Settings
from heartkeep.model import Sample, Window
from heartkeep.sandbox.config import TEST_START_S, SandboxConfig
from heartkeep.sandbox.physiology import UserSpec
from heartkeep.sandbox.server import SandboxServer
from heartkeep.store import SqliteStore, open_store
from heartkeep.sync import SyncReport

DAY_S = 86_400


def consent_in_browser(url: str) -> bool:
    """Act as the person's browser: the sandbox auto-approves and redirects to our callback."""
    consent = httpx.get(url, follow_redirects=False, timeout=10)
    assert consent.status_code in (302, 303), consent.text
    httpx.get(consent.headers["location"], timeout=10)
    return True


@dataclass
class World:
    server: SandboxServer
    settings: Settings
    account_key: str

    @property
    def clock(self) -> Any:
        return self.server.state.clock

    @property
    def state(self) -> Any:
        return self.server.state

    @property
    def user_id(self) -> str:
        return self.account_key.split(":", 1)[1]

    def sync(self, **kwargs: Any) -> SyncReport:
        return api.sync(self.settings, clock=self.clock, **kwargs)

    def store(self) -> SqliteStore:
        return open_store(self.settings.database)

    def stored(self, window: Window | None = None) -> list[Sample]:
        with self.store() as store:
            return [s for batch in store.iter_samples(self.account_key, window) for s in batch]

    def truth(self, window: Window) -> list[Sample]:
        rows = self.state.ground_truth_samples(self.user_id, window.start_s, window.end_s)
        return [Sample(i, b, o // 60) for i, b, o in rows]

    def use_timeout(self, timeout_s: float) -> None:
        self.settings = replace(self.settings, http_timeout_s=timeout_s)

    def login_as(self, user_id: str) -> str:
        """Connect another sandbox user in the same home; returns its account key."""
        self.state.login_user_id = user_id
        result = login(
            self.settings,
            clock=self.clock,
            provider="google",
            open_browser=consent_in_browser,
            timeout_s=10.0,
        )
        return result.account_key

    def visible_until(self) -> int:
        """The exclusive end of what the API serves right now."""
        return int(self.state.visible_end_s(self.user_id))

    def history(self) -> Window:
        """From the user's membership start to now: everything the API can serve."""
        spec = self.state.users[self.user_id]
        first = int(spec_start_s(spec))
        return Window(first, int(self.clock.now_s()) + 1)


def small_user(
    days: int,
    *,
    user_id: str = "4809172653309184512",
    legacy_id: str = "SMALL1",
    zone: str = "Europe/Berlin",
    travel: tuple[tuple[Any, str], ...] = (),
    seed: int = 7,
    start_s: float = TEST_START_S,
) -> UserSpec:
    """A sandbox user who joined `days` days before the test clock's start: a short history."""
    import datetime as dt

    start_day = dt.datetime.fromtimestamp(start_s, dt.UTC).date()
    return UserSpec(
        health_user_id=user_id,
        legacy_user_id=legacy_id,
        display_name="Small Test",
        time_zone=zone,
        member_since=start_day - dt.timedelta(days=days),
        seed=seed,
        travel=travel,
    )


def spec_start_s(spec: Any) -> int:
    """Midnight UTC a day before the membership date: safely before the first sample."""
    import datetime as dt

    day = spec.member_since - dt.timedelta(days=1)
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp())


@pytest.fixture(name="small_user")
def small_user_fixture() -> Any:
    """`small_user(days, **kw)`: a `UserSpec` with a short history (see `small_user`)."""
    return small_user


@pytest.fixture
def world_factory(settings: Settings) -> Iterator[Any]:
    """`world_factory(**sandbox_config)` → a started sandbox and an account logged in to it."""
    servers: list[SandboxServer] = []

    def make(**config: Any) -> World:
        config.setdefault("start_s", TEST_START_S)
        server = SandboxServer(SandboxConfig(**config)).start()
        servers.append(server)
        pointed = replace(settings, sandbox_url=server.url, http_timeout_s=10.0)
        result = login(
            pointed,
            clock=server.state.clock,
            provider="google",
            open_browser=consent_in_browser,
            timeout_s=10.0,
        )
        return World(server, pointed, result.account_key)

    yield make
    for server in servers:
        server.stop()
