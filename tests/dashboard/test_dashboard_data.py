"""The dashboard's data endpoints and command, without a browser: compact columnar payloads,
the true length of a clock-change day, and `heartkeep dashboard` as a person starts it."""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import os
import re
import signal
import subprocess
import sys

import httpx
import numpy as np
import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from child_signals import sigint_as_usual
from heartkeep import timeline
from heartkeep.dashboard import queries
from heartkeep.model import Account
from heartkeep.sandbox.config import TEST_START_S
from heartkeep.store import open_store

BERLIN = Account("google-health", "1", "Test <b>Person</b>", "Europe/Berlin")


def test_a_full_day_of_seconds_is_one_response_under_400_kb(settings, write_day) -> None:
    day = dt.date(2026, 11, 18)
    assert write_day(settings.database, day, account=BERLIN) == 86_400
    with open_store(settings.database, readonly=True) as store:
        payload = queries.day(store, BERLIN, day)
    body = orjson.dumps(payload, option=orjson.OPT_SERIALIZE_NUMPY)  # as the app sends it
    assert len(payload["bpm"]) == 86_400
    assert payload["dt"] == [1, 86_399]  # every second: one run
    assert len(body) <= 400_000, len(body)


@pytest.mark.parametrize(
    ("day", "hours"), [(dt.date(2026, 3, 29), 23), (dt.date(2026, 10, 25), 25)]
)
def test_a_clock_change_day_has_its_true_length(settings, write_day, day, hours) -> None:
    write_day(settings.database, day, step_s=30, account=BERLIN)
    with open_store(settings.database, readonly=True) as store:
        payload = queries.day(store, BERLIN, day)
    assert payload["length_s"] == hours * 3600
    assert payload["stats"]["day_length_s"] == hours * 3600
    assert len({offset for _, offset in payload["offsets"]}) == 2  # the change, for the axis


def test_times_round_trip_through_run_length_deltas() -> None:
    instants = np.array([10, 11, 12, 13, 200, 201, 205, 209, 213], dtype=np.int64)
    encoded = queries.encode_times(instants)
    assert encoded == {"t0": 10, "dt": [1, 3, 187, 1, 1, 1, 4, 3]}
    decoded = [encoded["t0"]]
    runs = encoded["dt"]
    for delta, count in zip(runs[0::2], runs[1::2], strict=True):
        for _ in range(count):
            decoded.append(decoded[-1] + delta)
    assert decoded == instants.tolist()


def _decode(encoded: dict) -> list[int]:
    """What the page does (api.js decodeTimes), in Python."""
    if encoded["t0"] is None:
        return []
    decoded = [encoded["t0"]]
    runs = encoded["dt"]
    for delta, count in zip(runs[0::2], runs[1::2], strict=True):
        for _ in range(count):
            decoded.append(decoded[-1] + delta)
    return decoded


@given(st.lists(st.integers(1_500_000_000, 1_900_000_000), unique=True, max_size=300))
def test_any_sorted_instants_survive_the_encoding(instants) -> None:
    ordered = sorted(instants)
    encoded = queries.encode_times(np.array(ordered, dtype=np.int64))
    assert _decode(encoded) == ordered
    assert len(encoded["dt"]) <= 2 * max(0, len(ordered) - 1)


def test_a_week_is_drawn_from_minute_buckets_that_keep_every_extreme(settings, write_day) -> None:
    day = dt.date(2026, 11, 18)
    write_day(settings.database, day, step_s=7, account=BERLIN)
    with open_store(settings.database, readonly=True) as store:
        window = queries.days_window(BERLIN, day - dt.timedelta(days=6), day)
        payload = queries.span(store, BERLIN, window.start_s, window.end_s)
        samples = [s for batch in store.iter_samples(BERLIN.key) for s in batch]
    assert payload["resolution"] == "minutes"
    assert payload["bucket_s"] == 60  # a week fits in one-minute buckets
    orjson.dumps(payload, option=orjson.OPT_SERIALIZE_NUMPY)  # as the app sends it
    by_minute: dict[int, list[int]] = {}
    for sample in samples:
        by_minute.setdefault(sample.instant_s // 60 * 60, []).append(sample.bpm)
    assert payload["t0"] == min(by_minute)
    assert len(payload["min"]) == len(by_minute) == 1440
    assert payload["min"].tolist() == [min(v) for _, v in sorted(by_minute.items())]
    assert payload["max"].tolist() == [max(v) for _, v in sorted(by_minute.items())]


def test_the_resolution_follows_the_span() -> None:
    assert queries.resolution_for(3600) == "samples"
    assert queries.resolution_for(7 * 86_400) == "minutes"
    assert queries.resolution_for(365 * 86_400) == "days"
    assert queries.bucket_for(7 * 86_400) == 60
    assert queries.bucket_for(30 * 86_400) == 240
    assert queries.bucket_for(120 * 86_400) == 900


def test_heartkeep_dashboard_prints_its_address_and_stops_on_ctrl_c(
    settings, home, write_day
) -> None:
    write_day(settings.database, dt.date(2026, 11, 18), step_s=60, account=BERLIN)
    command = [sys.executable, "-m", "heartkeep", "dashboard", "--no-browser"]
    env = {**os.environ, "HEARTKEEP_HOME": str(home)}
    with subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
        preexec_fn=sigint_as_usual,
    ) as running:
        try:
            assert running.stdout is not None
            line = running.stdout.readline()
            assert line.startswith("heartkeep dashboard: http://127.0.0.1:")
            url = line.split(": ", 1)[1].strip()
            assert "?token=" in url
            with httpx.Client(timeout=10) as client:
                client.get(url)  # the token becomes the session cookie
                base = url.split("/?", 1)[0]
                accounts = client.get(f"{base}/api/accounts").json()["accounts"]
                assert [a["display_name"] for a in accounts] == ["Test <b>Person</b>"]
                day = client.get(f"{base}/api/day", params={"date": "2026-11-18"}).json()
                assert len(day["bpm"]) == 1440
        finally:
            running.send_signal(signal.SIGINT)
            _, err = running.communicate(timeout=20)
    assert running.returncode == 0, err
    assert "Traceback" not in err, err


def test_a_port_in_use_is_a_clear_usage_error(settings, home) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "heartkeep", "dashboard", "--no-browser", "--port", str(port)],
            capture_output=True,
            text=True,
            env={**os.environ, "HEARTKEEP_HOME": str(home)},
            timeout=60,
        )
    assert result.returncode == 2
    assert "--port" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("home_zone", "away"),
    [("Pacific/Kiritimati", "America/Los_Angeles"), ("America/Los_Angeles", "Pacific/Kiritimati")],
)
def test_a_flight_across_the_date_line_keeps_every_day_whole(
    world_factory, small_user, home_zone, away
) -> None:
    """22 hours between the zones, and the account's zone is the new one.  Flying west, the
    travel day is 46 hours long and starts 22 hours before the new zone's midnight; flying east,
    the day before the flight lies 22 hours from the new zone's day.  Each day shows every
    sample its own offsets put on it, within its span, and the numbers count them all.
    (`home_zone`, not `home`: a parameter named `home` replaced the fixture of that name, and
    the test synced into the real ~/.local/share/heartkeep.)"""
    start = dt.datetime.fromtimestamp(TEST_START_S, dt.UTC).date()
    travel_day = start - dt.timedelta(days=3)
    world = world_factory(users=(small_user(6, zone=home_zone, travel=((travel_day, away),)),))
    assert world.sync().exit_code == 0
    stored = world.stored()
    with world.store() as store:
        account = store.account(world.account_key)
        assert account is not None
        assert account.time_zone == away  # the zone the person is in now
        days = {k: travel_day + dt.timedelta(days=k) for k in (-1, 0, 1)}
        payloads = {k: queries.day(store, account, day) for k, day in days.items()}
    far = 15 * 3600  # beyond what a margin around the zone's day used to read
    reaches_far = False
    for k, day in days.items():
        payload = payloads[k]
        mine = [s for s in stored if timeline.local_date(s.instant_s, s.offset_min) == day]
        assert _decode(payload) == [s.instant_s for s in mine], day
        assert list(payload["bpm"]) == [s.bpm for s in mine], day
        assert payload["stats"]["samples"] == len(mine)
        assert payload["start_s"] <= mine[0].instant_s <= mine[-1].instant_s < payload["end_s"]
        zone_day = timeline.local_day_window(day, away)
        reaches_far |= mine[0].instant_s < zone_day.start_s - far
        reaches_far |= mine[-1].instant_s >= zone_day.end_s + far
    assert reaches_far  # the case that lost its edges is exercised
    if home_zone == "Pacific/Kiritimati":  # west: 24 h + 22 h
        assert payloads[0]["length_s"] == 46 * 3600
    assert payloads[-1]["length_s"] == 24 * 3600


def test_a_prefetched_answer_nobody_asks_for_is_dropped_and_few_are_kept() -> None:
    from starlette.responses import Response

    from heartkeep.dashboard.prefetch import MAX_PENDING, TTL_S, Prefetcher

    async def answer() -> Response:
        return Response(b"{}")

    async def story() -> None:
        now = [0.0]
        prefetched = Prefetcher(clock=lambda: now[0])
        prefetched.start("/api/day?date=2026-11-18", answer())
        await asyncio.sleep(0)  # it runs and ends
        now[0] = TTL_S + 1  # the page never asked
        assert prefetched.take("/api/day?date=2026-11-18") is None
        assert len(prefetched) == 0
        for i in range(MAX_PENDING + 3):
            prefetched.start(f"/api/day?date=2026-11-{i + 1:02}", answer())
        assert len(prefetched) == MAX_PENDING
        taken = prefetched.take("/api/day?date=2026-11-01")
        assert taken is not None
        assert (await taken).body == b"{}"
        await asyncio.gather(*(t for _, t in prefetched._pending.values()))

    # in a thread of its own: Playwright's sync API keeps an event loop running in this one
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, story()).result(timeout=30)


def test_the_page_script_joins_every_module_after_the_ones_it_imports() -> None:
    from heartkeep.dashboard import bundle
    from heartkeep.dashboard.app import STATIC

    joined = bundle.script(STATIC)
    assert joined.startswith("/*! https://github.com/leeoniya/uPlot")  # uPlot first
    modules = sorted(p.stem for p in (STATIC / "js").glob("*.js"))
    starts = {name: joined.index(f"const _{name} = ") for name in modules}  # each one, once
    assert all(joined.count(f"// ---- js/{name}.js") == 1 for name in modules)
    for name in modules:
        for imported in re.findall(
            r'from "\./(\w+)\.js"', (STATIC / "js" / f"{name}.js").read_text()
        ):
            assert starts[imported] < starts[name], (imported, name)
    assert "\nimport " not in joined
    assert "\nexport " not in joined
    assert "dashboard.css" not in bundle.styles(STATIC)  # the sheets' text, not their names
    assert bundle.styles(STATIC).index(".uplot") < bundle.styles(STATIC).index("--zone-light")


@pytest.mark.parametrize(
    "source",
    [
        'import * as dom from "./dom.js";\n',
        "export default function main() {}\n",
        "export { el };\n",
        'const later = () => import("./day.js");\n',
    ],
)
def test_module_syntax_the_join_does_not_know_is_refused(tmp_path, source) -> None:
    from heartkeep.dashboard import bundle

    (tmp_path / "js").mkdir()
    (tmp_path / "vendor").mkdir()
    (tmp_path / "vendor" / "uPlot.iife.min.js").write_text("var uPlot = {};\n")
    (tmp_path / "js" / "main.js").write_text(source)
    (tmp_path / "js" / "dom.js").write_text("export function el() {}\n")
    (tmp_path / "js" / "day.js").write_text("export function day() {}\n")
    with pytest.raises(bundle.BundleError):
        bundle.script(tmp_path)
