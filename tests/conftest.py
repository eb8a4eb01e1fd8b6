"""Shared fixtures: a temporary home with a clean environment for every test.

No test touches the real home directory or a real provider: `home` points HEARTKEEP_HOME at a
temp folder and strips every other HEARTKEEP_* variable.  The sandbox fixtures (a Google Health
and legacy Fitbit emulator on loopback) live in the section below.
"""

from __future__ import annotations

import datetime as dt
import gc
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from heartkeep.config import Settings, load_settings

# Property tests check logic, not speed (bench/ measures speed).  Hypothesis's default 200 ms
# deadline per example and its too-slow health check fail on a loaded 2-core machine for no
# fault of the code, so a busy CI run or a `make test-hours` beside other work stays green.
hypothesis_settings.register_profile(
    "heartkeep", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.load_profile("heartkeep")

WALL_CLOCK_SWITCH = "HEARTKEEP_TEST_WALL_CLOCK"


def wall_clock_destination(value: str, today: dt.date) -> dt.datetime:
    """Parse the switch: an ISO instant (`2026-11-30T18:30:00Z`) or a UTC time of day (`18:30`),
    which means that time on `today`.  Naive instants are UTC."""
    if len(value) <= 5 and ":" in value:
        hour, minute = (int(part) for part in value.split(":"))
        return dt.datetime.combine(today, dt.time(hour, minute), tzinfo=dt.UTC)
    instant = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return instant if instant.tzinfo else instant.replace(tzinfo=dt.UTC)


def pytest_configure(config: pytest.Config) -> None:
    """Point the per-user data and config folders at a throw-away folder for the whole run.

    `home` is opt-in, so a test that forgets it (or a parameter that shadows it, as one
    dashboard test's did) would otherwise read and write the real `~/.local/share/heartkeep`:
    fail whenever another run holds that store's lock, and leave a store behind.  platformdirs
    honours the XDG variables, so without HEARTKEEP_HOME heartkeep lands here instead.  Child
    processes inherit them.  Runs in each xdist worker too.
    """
    scratch = Path(tempfile.mkdtemp(prefix="heartkeep-tests-xdg-"))
    os.environ["XDG_DATA_HOME"] = str(scratch / "data")
    os.environ["XDG_CONFIG_HOME"] = str(scratch / "config")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked `slow` run first, each followed by one other test; the rest keep their order.

    Under `pytest -n 2` (with `--maxschedchunk 2` from pyproject's addopts, xdist hands a worker
    two tests at a time) each long test then starts at once on its own worker while the other
    worker takes the many short ones, instead of a long test starting late and ending the run
    alone, or two long ones queueing behind each other on one worker.
    """
    slow = [item for item in items if item.get_closest_marker("slow") is not None]
    rest = [item for item in items if item.get_closest_marker("slow") is None]
    ordered: list[pytest.Item] = []
    for item in slow:
        ordered += [item, *rest[:1]]
        rest = rest[1:]
    items[:] = ordered + rest


def pytest_collection_finish(session: pytest.Session) -> None:
    """Take what collection built (every test module, item and fixture definition: ~240k
    objects in a worker that collected the suite) out of the garbage collector's sight.

    They live for the whole session anyway, yet every full collection scanned them again, and
    a sync allocates enough per page to trigger one every few dozen pages.  Measured with
    gc.callbacks: the year-of-history test spent 11 s in full collections, 6 s after this;
    each worker of `pytest -n 2 tests/cli tests/store` 28 s in the collector, 16 s after this.
    Objects made later are collected exactly as before.
    """
    gc.collect()
    gc.freeze()


@pytest.fixture(autouse=True)
def _wall_clock_switch() -> Iterator[None]:
    """Opt-in proof that no test depends on the time of day: `make test-hours`.

    With HEARTKEEP_TEST_WALL_CLOCK set, every test starts with the wall clock (`time.time()`,
    `datetime.now()`) at that instant and ticking; the monotonic clock, and so thread and socket
    timeouts, stays real.  Unset (the default and CI), tests run on the real clock.  See
    docs/development.md.
    """
    value = os.environ.get(WALL_CLOCK_SWITCH)
    if not value:
        yield
        return
    import time_machine

    # The real date, read once before travelling: the switch names an hour of that day.
    destination = wall_clock_destination(value, dt.datetime.now(dt.UTC).date())
    with time_machine.travel(destination, tick=True):
        yield


@pytest.fixture
def pinned_wall_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[float]:
    """The wall clock at a fixed instant (2026-11-20T12:00Z), ticking: for tests that drive the
    CLI, which reads the system clock, against a sandbox on wall time.  Their answers then never
    depend on the hour the suite runs at.  Yields the instant in seconds.

    Waiting on the system clock (`SystemClock.sleep`: the CLI's quota pacing and retry back-off)
    moves this wall clock on at once instead of sleeping, as `SimClock.sleep` does: the CLI and
    the wall-time sandbox still agree on "now", and a minute of back-off costs no real minute.
    """
    import time_machine

    from heartkeep.clock import SystemClock
    from heartkeep.sandbox.config import TEST_START_S

    with time_machine.travel(TEST_START_S, tick=True) as traveller:

        def sleep_by_moving_the_clock(_clock: SystemClock, seconds: float) -> None:
            if seconds > 0:
                traveller.shift(seconds)

        monkeypatch.setattr(SystemClock, "sleep", sleep_by_moving_the_clock)
        yield float(TEST_START_S)


@pytest.fixture(autouse=True)
def _forget_secrets_between_tests() -> None:
    """Secrets one test registered for redaction must not mask another test's output."""
    from heartkeep.redaction import forget_secrets

    forget_secrets()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private HEARTKEEP_HOME; data and config dirs live below it."""
    for key in list(os.environ):
        if key.startswith("HEARTKEEP_"):
            monkeypatch.delenv(key)
    root = tmp_path / "home"
    root.mkdir()
    monkeypatch.setenv("HEARTKEEP_HOME", str(root))
    return root


@pytest.fixture
def settings(home: Path) -> Settings:
    return load_settings()


# --- sandbox fixtures (issue 2) ---------------------------------------------------------------

from collections.abc import Callable  # noqa: E402 - the sandbox section stays self-contained

from heartkeep.sandbox.config import TEST_START_S, SandboxConfig  # noqa: E402
from heartkeep.sandbox.server import SandboxServer  # noqa: E402


@pytest.fixture
def sandbox_factory() -> Iterator[Callable[..., SandboxServer]]:
    """Start sandboxes with config overrides: `sandbox_factory(page_size_mode="observed")`.

    Each runs on its own free loopback port with a SimClock at TEST_START_S (2026-11-20T12:00Z)
    unless `start_s` is given; all are stopped at teardown.
    """
    servers: list[SandboxServer] = []

    def start(**overrides: object) -> SandboxServer:
        overrides.setdefault("start_s", TEST_START_S)
        server = SandboxServer(SandboxConfig(**overrides))  # type: ignore[arg-type]
        servers.append(server.start())
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def sandbox(sandbox_factory: Callable[..., SandboxServer]) -> SandboxServer:
    """A started sandbox with the default config and a SimClock at 2026-11-20T12:00:00Z."""
    return sandbox_factory()


# --- sync worlds (issue 4) --------------------------------------------------------------------
# A sandbox on loopback plus a temp home logged in to it, sharing one SimClock, with helpers to
# compare the store with the sandbox's ground truth.  Used by tests/sync and tests/cli.

from collections.abc import Callable as _Callable  # noqa: E402 - this section's own imports
from collections.abc import Iterator as _Iterator  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from typing import Any  # noqa: E402

import httpx  # noqa: E402
from msgspec.structs import replace  # noqa: E402

from heartkeep import api  # noqa: E402
from heartkeep.auth import login  # noqa: E402
from heartkeep.model import Sample, SampleColumns, Window  # noqa: E402
from heartkeep.sandbox.config import TEST_START_S as _TEST_START_S  # noqa: E402
from heartkeep.sandbox.config import SandboxConfig as _SandboxConfig  # noqa: E402
from heartkeep.sandbox.physiology import UserSpec  # noqa: E402
from heartkeep.sandbox.server import SandboxServer as _SandboxServer  # noqa: E402
from heartkeep.store import SqliteStore, open_store  # noqa: E402
from heartkeep.sync import SyncReport  # noqa: E402

DAY_S = 86_400


def consent_in_browser(url: str) -> bool:
    """Act as the person's browser: the sandbox auto-approves and redirects to our callback."""
    consent = httpx.get(url, follow_redirects=False, timeout=10)
    assert consent.status_code in (302, 303), consent.text
    httpx.get(consent.headers["location"], timeout=10)
    return True


@dataclass
class World:
    server: _SandboxServer
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

    # What `sync` pinned as each user's device sync, to tell it from a test's own pin.
    pins: dict[str, float] = field(default_factory=dict)

    def sync(self, **kwargs: Any) -> SyncReport:
        """`api.sync` with the devices' uploads frozen at its start: paced requests move the
        clock (2.5 a second), and `truth()` afterwards must mean what the sync could see."""
        self.hold_devices()
        return api.sync(self.settings, clock=self.clock, **kwargs)

    def freeze_devices(self) -> None:
        """No device uploads anything new for the rest of the test, however the clock moves
        (paced requests move it): for tests that compare runs, not about late data."""
        for user_id in self.state.users:
            self.state.set_last_sync(user_id, self.clock.now_s() - self.state.config.sync_lag_s)

    def hold_devices(self) -> None:
        """Pin every user's last device sync to now minus the lag, unless a test pinned it."""
        for user_id in self.state.users:
            pinned = self.state.pinned_last_sync(user_id)
            if pinned is not None and self.pins.get(user_id) != pinned:
                continue  # the test's own "late-arriving data" pin
            instant = self.clock.now_s() - self.state.config.sync_lag_s
            self.state.set_last_sync(user_id, instant)
            self.pins[user_id] = instant

    def store(self) -> SqliteStore:
        return open_store(self.settings.database)

    def stored(self, window: Window | None = None) -> list[Sample]:
        with self.store() as store:
            return [s for batch in store.iter_samples(self.account_key, window) for s in batch]

    def truth(self, window: Window) -> list[Sample]:
        rows = self.state.ground_truth_samples(self.user_id, window.start_s, window.end_s)
        return [Sample(i, b, o // 60) for i, b, o in rows]

    def stored_columns(self, window: Window) -> SampleColumns:
        """`stored(window)` as numpy columns (one SELECT, no `Sample` per row): for windows
        of millions of samples, where building the objects cost more than the comparison."""
        with self.store() as store:
            return store.sample_columns(self.account_key, window)

    def truth_columns(self, window: Window) -> SampleColumns:
        """`truth(window)` as numpy columns, straight from the sandbox's arrays."""
        instants, bpm, offsets_s = self.state.visible_samples(
            self.user_id, window.start_s, window.end_s
        )
        return SampleColumns(instants, bpm, offsets_s // 60)

    def assert_stored_is_truth(self, window: Window) -> int:
        """`assert stored(window) == truth(window)`, row for row (instant, bpm, offset), on
        numpy columns instead of a `Sample` per row; a failure names the first row that
        differs.  Returns how many samples the window holds."""
        import numpy as np

        stored, truth = self.stored_columns(window), self.truth_columns(window)
        columns = ("instants_s", "bpm", "offsets_min")
        if len(stored) == len(truth) and all(
            np.array_equal(getattr(stored, name), getattr(truth, name)) for name in columns
        ):
            return len(truth)
        common = min(len(stored), len(truth))
        differs = np.zeros(common, dtype=bool)
        for name in columns:
            differs |= getattr(stored, name)[:common] != getattr(truth, name)[:common]
        first = int(np.argmax(differs)) if differs.any() else common
        raise AssertionError(
            f"stored samples differ from the truth in {window}: {len(stored)} stored, "
            f"{len(truth)} true; first difference at row {first}: "
            f"stored {stored[first] if first < len(stored) else None}, "
            f"true {truth[first] if first < len(truth) else None}"
        )

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
    start_s: float = _TEST_START_S,
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
def world_factory(settings: Settings) -> _Iterator[_Callable[..., World]]:
    """`world_factory(**sandbox_config)` → a started sandbox and an account logged in to it.

    The sandbox runs on a SimClock at TEST_START_S unless `start_s` is given (None: wall time).
    """
    servers: list[_SandboxServer] = []

    def make(**config: Any) -> World:
        config.setdefault("start_s", _TEST_START_S)
        server = _SandboxServer(_SandboxConfig(**config)).start()
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


@pytest.fixture
def cli_world(
    world_factory: _Callable[..., World], monkeypatch: pytest.MonkeyPatch, pinned_wall_clock: float
) -> _Callable[[int], World]:
    """`cli_world(days)` → a sandbox on the (pinned) wall clock whose user joined `days` days
    ago, logged in, and named by HEARTKEEP_SANDBOX_URL: what the CLI, which reads the system
    clock and the environment, needs to sync it."""

    def make(days: int) -> World:
        world = world_factory(users=(small_user(days, start_s=pinned_wall_clock),), start_s=None)
        monkeypatch.setenv("HEARTKEEP_SANDBOX_URL", world.server.url)
        return world

    return make


# --- PostgreSQL (issue 13) ---------------------------------------------------------------------

from dataclasses import dataclass  # noqa: E402 - the PostgreSQL section stays self-contained

from postgres_server import (  # noqa: E402
    Server,
    drop_schema,
    fresh_schema_url,
    postgres_server,
    session_database,
)


@dataclass(frozen=True)
class PostgresSession:
    """The server and this session's own database (see tests/postgres_server.py)."""

    server: Server
    database: str

    def fresh_url(self) -> tuple[str, str]:
        return fresh_schema_url(self.server, self.database)

    def drop(self, schema: str) -> None:
        drop_schema(self.server, self.database, schema)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresSession]:
    """A PostgreSQL database for this session: the machine's server, else a throw-away one;
    neither → skipped with the reason (a failure under CI=true)."""
    with postgres_server() as (server, why):
        if server is None:
            message = f"no PostgreSQL to test against: {why}"
            if os.environ.get("CI") == "true":
                pytest.fail(message + " (CI=true: PostgreSQL tests must run)")
            pytest.skip(message)
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        with session_database(server, worker) as database:
            yield PostgresSession(server, database)


@pytest.fixture
def postgres_url(postgres: PostgresSession) -> Iterator[str]:
    """The URL of an empty schema of this test's own (dropped afterwards)."""
    url, schema = postgres.fresh_url()
    yield url
    postgres.drop(schema)
