"""`--since`/`--until` and `--max-hr` as people type them, and what every command says back.

A reversed range or one starting in the future is a usage error (exit 2) naming the dates as
typed; a range ending in the future is clipped with a note; `--max-hr` outside 100–250 is a
usage error; before the first sync the reading commands say "run `heartkeep sync`".  The wall
clock is pinned (2026-11-20T12:00Z), so "the future" never depends on the day the suite runs.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from heartkeep.config import Settings
from heartkeep.daterange import latest_date, parse_range
from heartkeep.errors import UsageError
from heartkeep.model import Account, Sample, Source
from heartkeep.store import open_store

ACCOUNT = Account("google-health", "4809", "Jo Doe", "Europe/Berlin")
START = 1_792_800_000  # 2026-10-24T00:00Z
PINNED_S = 1_795_176_000  # 2026-11-20T12:00Z, the `pinned_wall_clock` instant


def invoke(*args: str):
    from heartkeep.cli import app

    return CliRunner().invoke(app, list(args))


@pytest.fixture
def filled(settings: Settings, pinned_wall_clock: float) -> Settings:
    """Three days of samples, 2026-10-24 to 2026-10-26, on a pinned wall clock."""
    assert int(pinned_wall_clock) == PINNED_S
    with open_store(settings.database) as store:
        store.upsert_account(ACCOUNT)
        samples = [Sample(t, 50 + t % 90, 120) for t in range(START, START + 3 * 86_400, 60)]
        store.write_samples(ACCOUNT.key, samples, Source.GOOGLE_HEALTH)
    return settings


REVERSED = ["--since", "2026-10-26", "--until", "2026-10-25"]


@pytest.mark.parametrize(
    "command",
    [
        ["stats"],
        ["export", "-f", "csv", "-o", "out.csv"],
        ["report", "-o", "r.html"],
        ["plot", "heatmap", "-o", "h.png"],
        ["plot", "trend", "-o", "t.png"],
        ["sync"],
    ],
    ids=lambda c: c[0] if c[0] != "plot" else f"plot-{c[1]}",
)
def test_a_range_reversed_by_one_day_is_a_usage_error_naming_the_typed_dates(
    filled: Settings, command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(tmp_path)
    result = invoke(*command, *REVERSED)
    assert result.exit_code == 2, result.output
    assert "--until 2026-10-25 is before --since 2026-10-26" in result.stderr
    assert "Traceback" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home"]  # nothing written


def test_the_message_names_the_dates_as_typed_not_the_widened_ones(filled: Settings):
    result = invoke("stats", "--since", "2026-11-25", "--until", "2026-11-20")
    assert result.exit_code == 2
    assert "--until 2026-11-20 is before --since 2026-11-25" in result.stderr


def test_a_range_starting_in_the_future_is_refused_and_one_ending_there_is_clipped(
    filled: Settings,
):
    future = invoke("stats", "--since", "2026-12-24")
    assert future.exit_code == 2
    assert "--since 2026-12-24 is in the future" in future.stderr
    assert invoke("sync", "--since", "2027-01-01").exit_code == 2

    clipped = invoke("stats", "--json", "--since", "2026-10-25", "--until", "2030-01-01")
    assert clipped.exit_code == 0, clipped.output
    assert "note: --until 2030-01-01 is in the future: stopping at today" in clipped.stderr
    assert '"day": "2026-10-25"' in clipped.stdout


def test_a_since_after_the_last_day_with_data_is_an_empty_range_not_an_error(filled: Settings):
    result = invoke("report", "-o", "-", "--since", "2026-11-01")
    assert result.exit_code == 0, result.output
    assert "2026-11-01 to 2026-11-01" in result.stdout


def test_a_malformed_date_names_the_option(filled: Settings):
    result = invoke("stats", "--until", "2026-13-01")
    assert result.exit_code == 2
    assert "--until '2026-13-01' is not a date like 2026-11-20" in result.stderr


@pytest.mark.parametrize("value", ["0", "99", "251", "-5"])
@pytest.mark.parametrize(
    "command",
    [["stats"], ["report", "-o", "-"], ["plot", "day", "2026-10-25", "-o", "-"]],
    ids=lambda c: c[0],
)
def test_max_hr_outside_100_to_250_is_a_usage_error(
    filled: Settings, command: list[str], value: str
):
    result = invoke(*command, "--max-hr", value)
    assert result.exit_code == 2, result.output
    assert f"--max-hr {value} is not a maximum heart rate: give 100 to 250 bpm" in result.stderr


def test_max_hr_at_the_bounds_is_accepted(filled: Settings):
    for value in ("100", "250"):
        assert invoke("stats", "--max-hr", value).exit_code == 0


def test_after_login_before_the_first_sync_the_readers_say_run_sync(
    world_factory, small_user, tmp_path: Path
):
    world = world_factory(users=(small_user(2),))
    for command in (
        ["stats"],
        ["export", "-f", "csv", "-o", str(tmp_path / "x.csv")],
        ["report", "-o", str(tmp_path / "r.html")],
        ["plot", "trend", "-o", str(tmp_path / "t.png")],
    ):
        result = invoke(*command)
        assert result.exit_code == 10, result.output
        assert f"no data yet: {world.account_key} is connected" in result.stderr
        assert "Run `heartkeep sync`" in result.stderr
        assert "no accounts yet" not in result.stderr


# --- the parser itself ------------------------------------------------------------------------

days = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2100, 12, 31))


@given(days, days)
def test_parse_range_accepts_ordered_days_and_refuses_reversed_ones(a: dt.date, b: dt.date):
    if a <= b:
        chosen = parse_range(a.isoformat(), b.isoformat())
        assert (chosen.since, chosen.until, chosen.note) == (a, b, None)
    else:
        with pytest.raises(UsageError, match=f"--until {b} is before --since {a}"):
            parse_range(a.isoformat(), b.isoformat())


@given(days, st.integers(min_value=946_684_800, max_value=4_102_444_800))
def test_no_range_ever_reaches_past_the_latest_date_on_earth(day: dt.date, now_s: int):
    last = latest_date(now_s)
    utc_today = dt.datetime.fromtimestamp(now_s, dt.UTC).date()
    assert utc_today <= last <= utc_today + dt.timedelta(days=1)
    if day > last:
        with pytest.raises(UsageError, match="in the future"):
            parse_range(day.isoformat(), None, now_s=now_s)
        clipped = parse_range(None, day.isoformat(), now_s=now_s)
        assert clipped.until == last
        assert clipped.note is not None
    else:
        assert parse_range(day.isoformat(), day.isoformat(), now_s=now_s).until == day


@given(st.text(max_size=12))
def test_anything_that_is_not_a_date_is_a_usage_error_never_a_crash(text: str):
    try:
        expected: dt.date | None = dt.date.fromisoformat(text.strip())
    except ValueError:
        expected = None
    if expected is None:
        with pytest.raises(UsageError, match="--since") as raised:
            parse_range(text, None)
        assert raised.value.exit_code == 2
    else:
        assert parse_range(text, None).since == expected


# --- export's local times -----------------------------------------------------------------------


def test_export_takes_local_times_and_writes_exactly_that_span(filled: Settings, tmp_path: Path):
    """What the dashboard's Range view exports: 10:00 up to 11:00 in the account's zone
    (Berlin, UTC+1 on 2026-10-25 after the clock change at 01:00 UTC), not the whole day."""
    out = tmp_path / "hour.csv"
    result = invoke(
        "export", "-f", "csv", "-o", str(out), "--since", "2026-10-25T10:00",
        "--until", "2026-10-25 11:00",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = out.read_text().splitlines()[1:]
    assert len(rows) == 60  # a sample a minute
    assert rows[0].startswith("2026-10-25T09:00:00Z,")  # 10:00 in Berlin (UTC+1)
    late = ["--since", "2026-10-26T23:00", "--until", "2026-10-26"]
    mixed = invoke("export", "-f", "csv", "-o", str(out), *late)
    assert mixed.exit_code == 0, mixed.output  # a day at --until stays whole: 23:00 to midnight
    assert len(out.read_text().splitlines()) == 1 + 60


@pytest.mark.parametrize(
    ("since", "until", "message"),
    [
        ("2026-10-25T11:00", "2026-10-25T11:00", "--until 2026-10-25T11:00 is not after --since"),
        ("2026-10-26", "2026-10-25T23:59", "--until 2026-10-25T23:59 is not after --since"),
        ("2026-10-25T10:00Z", None, "is not a date like 2026-11-20 or a local time"),
        ("2026-10-25T10:00+02:00", None, "is not a date like 2026-11-20 or a local time"),
        ("2026-10-25T25:00", None, "--since '2026-10-25T25:00' is not a date"),
    ],
)
def test_export_times_that_make_no_range_are_usage_errors(
    filled: Settings, tmp_path: Path, since: str, until: str | None, message: str
):
    bounds = ["--since", since] + (["--until", until] if until else [])
    result = invoke("export", "-f", "csv", "-o", str(tmp_path / "x.csv"), *bounds)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert not (tmp_path / "x.csv").exists()


def test_only_export_takes_times(filled: Settings):
    result = invoke("stats", "--since", "2026-10-25T10:00")
    assert result.exit_code == 2
    assert "is not a date like 2026-11-20" in result.stderr


walls = st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2100, 1, 1))


@given(walls, walls)
def test_parse_range_with_times_orders_instants_and_keeps_them(a: dt.datetime, b: dt.datetime):
    a, b = a.replace(microsecond=0), b.replace(microsecond=0)
    if a < b:
        chosen = parse_range(a.isoformat(), b.isoformat(), times=True)
        assert (chosen.since, chosen.until) == (a, b)
    else:
        with pytest.raises(UsageError, match="is not after"):
            parse_range(a.isoformat(), b.isoformat(), times=True)


@given(st.text(max_size=30))
def test_anything_that_is_not_a_date_or_a_time_is_a_usage_error_never_a_crash(text: str):
    try:
        parse_range(text, None, times=True)
    except UsageError as refused:
        code = refused.exit_code
    else:
        code = 2
    assert code == 2
