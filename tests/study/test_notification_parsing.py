"""The notification parser and the coalescer, by property: whatever Google sends, the parser
returns a Notification whose intervals cover the announced instants, or refuses it with
NotificationError — never another exception; and a burst coalesces to the same pending sync in
any order."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math

import orjson
from hypothesis import given
from hypothesis import strategies as st

from heartkeep.study import (
    Coalescer,
    Interval,
    Notification,
    NotificationError,
    is_verification,
    parse_notification,
)

EPOCH_2000 = 946_684_800
EPOCH_2100 = 4_102_444_800

instants = st.floats(min_value=EPOCH_2000, max_value=EPOCH_2100, allow_nan=False)
offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda m: m * 60)
user_ids = st.text(alphabet="0123456789", min_size=1, max_size=30)
data_types = st.sampled_from(["heart-rate", "heart-rate-variability", "daily-resting-heart-rate"])


def rfc3339(instant: float, offset_s: int, digits: int) -> str:
    """`instant` written in the zone `offset_s`, with `digits` fractional digits (0-9)."""
    whole = math.floor(instant)
    fraction = instant - whole
    zone = dt.timezone(dt.timedelta(seconds=offset_s))
    text = dt.datetime.fromtimestamp(whole, zone).strftime("%Y-%m-%dT%H:%M:%S")
    if digits:
        text += "." + f"{fraction:.9f}"[2 : 2 + digits]
    if offset_s == 0:
        return text + "Z"
    sign = "+" if offset_s > 0 else "-"
    hours, minutes = divmod(abs(offset_s) // 60, 60)
    return f"{text}{sign}{hours:02d}:{minutes:02d}"


@st.composite
def announced(draw: st.DrawFn) -> tuple[bytes, list[tuple[float, float]], dict[str, object]]:
    count = draw(st.integers(min_value=1, max_value=4))
    spans: list[tuple[float, float]] = []
    intervals = []
    for _ in range(count):
        a, b = sorted((draw(instants), draw(instants)))
        digits = draw(st.integers(min_value=0, max_value=9))
        start = rfc3339(a, draw(offsets), digits)
        end = rfc3339(b, draw(offsets), digits)
        # What the text says, to the written precision.
        spans.append((_written(start), _written(end)))
        intervals.append({"physicalTimeInterval": {"startTime": start, "endTime": end}})
    data = {
        "version": "1",
        "healthUserId": draw(user_ids),
        "operation": draw(st.sampled_from(["UPSERT", "DELETE"])),
        "dataType": draw(data_types),
        "intervals": intervals,
    }
    if draw(st.booleans()):
        data["clientProvidedSubscriptionName"] = "hk-sub-1"
    if draw(st.booleans()):
        data["somethingGoogleAddsLater"] = {"x": 1}
    return orjson.dumps({"data": data}), spans, data


def _written(text: str) -> float:
    """The instant an RFC 3339 text names (exact to the microsecond, then the 7th-9th digits)."""
    head, _, tail = text.partition(".")
    zone_at = max(text.rfind("+"), text.rfind("-"), text.find("Z"))
    zone = text[zone_at:]
    digits = tail[: len(tail) - len(zone)] if tail else ""
    base = dt.datetime.fromisoformat(head[:19] + zone.replace("Z", "+00:00")).timestamp()
    return base + (int(digits) / 10 ** len(digits) if digits else 0.0)


@given(announced())
def test_a_valid_notification_parses_and_its_intervals_cover_what_was_announced(
    case: tuple[bytes, list[tuple[float, float]], dict[str, object]],
) -> None:
    body, spans, data = case
    parsed = parse_notification(body)
    assert parsed.health_user_id == data["healthUserId"]
    assert parsed.data_type == data["dataType"]
    assert parsed.operation == data["operation"]
    assert parsed.subscription_name == data.get("clientProvidedSubscriptionName")
    assert len(parsed.intervals) == len(spans)
    for interval, (start, end) in zip(parsed.intervals, spans, strict=True):
        # Whole seconds that cover the announced instants, and no more than one second wider.
        assert interval.start_s <= start < interval.start_s + 1
        assert interval.end_s - 1 < end <= interval.end_s
    assert not is_verification(body)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)


@given(json_values)
def test_arbitrary_json_parses_or_is_refused_cleanly(value: object) -> None:
    for candidate in (value, {"data": value}):
        with contextlib.suppress(NotificationError):
            parse_notification(json.dumps(candidate).encode())


@given(st.binary(max_size=200))
def test_arbitrary_bytes_parse_or_are_refused_cleanly(body: bytes) -> None:
    with contextlib.suppress(NotificationError):
        parse_notification(body)


@given(announced(), st.sampled_from(["startTime", "endTime"]), st.text(max_size=30))
def test_a_broken_timestamp_is_refused(
    case: tuple[bytes, list[tuple[float, float]], dict[str, object]], which: str, text: str
) -> None:
    _, _, data = case
    intervals = data["intervals"]
    assert isinstance(intervals, list)
    intervals[0]["physicalTimeInterval"][which] = text + "not-a-time"
    try:
        parse_notification(orjson.dumps({"data": data}))
    except NotificationError:
        return
    raise AssertionError("a broken timestamp was accepted")


def test_an_end_past_a_whole_second_by_less_than_a_microsecond_rounds_up() -> None:
    """Hypothesis found it: datetime keeps 6 fractional digits, so an end 100 ns past the
    start parsed as the start itself, an empty interval that a sync would skip."""
    body = orjson.dumps(
        {
            "data": {
                "version": "1",
                "healthUserId": "0",
                "operation": "UPSERT",
                "dataType": "heart-rate",
                "intervals": [
                    {
                        "physicalTimeInterval": {
                            "startTime": "2000-01-01T00:00:00.0000000Z",
                            "endTime": "2000-01-01T00:00:00.0000001Z",
                        }
                    }
                ],
            }
        }
    )
    (interval,) = parse_notification(body).intervals
    assert (interval.start_s, interval.end_s) == (946_684_800, 946_684_801)


def test_the_reference_example_parses() -> None:
    """The example body of reference §12, verbatim."""
    body = (
        b'{"data": {"version": "1", "clientProvidedSubscriptionName": "hk-sub-1", '
        b'"healthUserId": "4809172653309184512", "operation": "UPSERT", "dataType": "heart-rate",'
        b' "intervals": [{"physicalTimeInterval": {"startTime": "2026-09-25T06:00:00Z", '
        b'"endTime": "2026-09-25T06:15:00Z"}, "civilDateTimeInterval": {"startDateTime": '
        b'{"date": {"year": 2026, "month": 9, "day": 25}, "time": {"hours": 8}}, "endDateTime":'
        b' {"date": {"year": 2026, "month": 9, "day": 25}, "time": {"hours": 8, "minutes": 15}}}'
        b', "civilIso8601TimeInterval": {"startTime": "2026-09-25T08:00:00", "endTime": '
        b'"2026-09-25T08:15:00"}}]}}'
    )
    start = int(dt.datetime(2026, 9, 25, 6, tzinfo=dt.UTC).timestamp())
    assert parse_notification(body) == Notification(
        "4809172653309184512",
        "heart-rate",
        "UPSERT",
        (Interval(start, start + 900),),
        "hk-sub-1",
    )
    assert is_verification(b'{"type": "verification"}')


notifications = st.builds(
    lambda user, op, a, b: Notification(user, "heart-rate", op, (Interval(min(a, b), max(a, b)),)),
    st.sampled_from(["p1", "p2", "p3"]),
    st.sampled_from(["UPSERT", "DELETE"]),
    st.integers(min_value=0, max_value=10**6),
    st.integers(min_value=0, max_value=10**6),
)


@given(st.lists(notifications, min_size=1, max_size=30), st.randoms())
def test_a_burst_coalesces_into_one_pending_sync_per_participant_in_any_order(
    burst: list[Notification], rng: object
) -> None:
    forward, shuffled = Coalescer(), Coalescer()
    opened = sum(forward.add(n) for n in burst)
    mixed = list(burst)
    rng.shuffle(mixed)  # type: ignore[attr-defined]
    for n in mixed:
        shuffled.add(n)
    users = {n.health_user_id for n in burst}
    assert opened == len(users) == len(forward)
    for user in users:
        mine = [n for n in burst if n.health_user_id == user]
        pending = forward.take(user)
        assert pending is not None
        assert pending == shuffled.take(user)
        assert pending.notifications == len(mine)
        for op, got in (("UPSERT", pending.upsert), ("DELETE", pending.delete)):
            spans = [n.span() for n in mine if n.operation == op]
            if not spans:
                assert got is None
            else:
                assert got == Interval(min(s.start_s for s in spans), max(s.end_s for s in spans))
    assert len(forward) == 0
