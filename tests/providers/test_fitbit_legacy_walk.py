"""The legacy Fitbit provider's walk over a window, against the sandbox on loopback.

What the sync engine relies on (providers/__init__.py): pages newest first whose `covers` tile
the window exactly, each page's samples inside its span, one request per local day, and no
request where no data can exist (before joining, after the tracker's last sync).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from fitbit_session import heartkeep_login
from heartkeep import timeline
from heartkeep.clock import FakeClock
from heartkeep.errors import ProviderGone
from heartkeep.model import Window
from heartkeep.providers import get_provider_factory
from heartkeep.providers.fitbit_legacy import FitbitLegacyProvider, make_provider
from heartkeep.sandbox.config import TEST_START_S
from heartkeep.sandbox.physiology import UserSpec

START_DAY = dt.datetime.fromtimestamp(TEST_START_S, dt.UTC).date()
ZONE = "Europe/Berlin"


@pytest.fixture
def walk(sandbox_factory: Any) -> Iterator[Any]:
    """(server, provider) for a Berlin user who joined 6 days before the test clock."""
    spec = UserSpec(
        health_user_id="5150",
        legacy_user_id="WALK01",
        display_name="Walker",
        time_zone=ZONE,
        member_since=START_DAY - dt.timedelta(days=6),
        seed=3,
    )
    server = sandbox_factory(users=(spec,))
    with httpx.Client(base_url=server.url) as http, heartkeep_login(http) as client:
        yield server, make_provider(client, clock=FakeClock(TEST_START_S))


def test_the_factory_is_found_by_name() -> None:
    assert get_provider_factory("fitbit-legacy") is make_provider


def test_account_comes_from_the_profile(walk: Any) -> None:
    _server, provider = walk
    account = provider.account()
    assert account.key == "fitbit-legacy:WALK01"
    assert account.time_zone == ZONE
    assert account.member_since == START_DAY - dt.timedelta(days=6)


def test_pages_tile_a_window_newest_first_one_request_per_local_day(walk: Any) -> None:
    server, provider = walk
    window = Window(int(TEST_START_S) - 3 * 86_400 + 1234, int(TEST_START_S) - 3600)
    pages = list(provider.sample_pages(window))
    assert pages[0].covers.end_s == window.end_s
    assert pages[-1].covers.start_s == window.start_s
    for newer, older in itertools.pairwise(pages):
        assert older.covers.end_s == newer.covers.start_s
    for page in pages:
        assert all(page.covers.contains(s.instant_s) for s in page.samples)
        start = timeline.local_date(
            page.covers.start_s, timeline.zone_offset_min(ZONE, page.covers.start_s)
        )
        assert page.covers.end_s <= timeline.local_day_window(start, ZONE).end_s
    assert [p.requests for p in pages] == [1, 1, 1, 1]
    assert server.state.requests_to("/activities/heart/") == 4
    (health_id,) = server.state.users
    truth = server.state.ground_truth_samples(health_id, window.start_s, window.end_s)
    ours = sorted((s.instant_s, s.bpm, s.offset_min * 60) for p in pages for s in p.samples)
    assert ours == truth


def test_days_before_joining_cost_no_request(walk: Any) -> None:
    server, provider = walk
    window = Window(int(TEST_START_S) - 30 * 86_400, int(TEST_START_S) - 4 * 86_400)
    pages = list(provider.sample_pages(window))
    assert pages[-1].requests == 0
    assert pages[-1].samples == ()
    assert pages[-1].covers.start_s == window.start_s
    assert sum(p.requests for p in pages) == server.state.requests_to("/activities/heart/")
    assert sum(p.requests for p in pages) == 3  # the three local days from joining on


def test_a_shut_down_api_raises_provider_gone(walk: Any) -> None:
    server, provider = walk
    assert isinstance(provider, FitbitLegacyProvider)
    server.state.config = dataclasses.replace(server.state.config, fitbit_shutdown=True)
    with pytest.raises(ProviderGone):
        list(provider.sample_pages(Window(int(TEST_START_S) - 86_400, int(TEST_START_S))))
