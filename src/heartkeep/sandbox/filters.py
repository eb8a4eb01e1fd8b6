"""The AIP-160 subset the Google Health API accepts for `dataPoints.list`, parsed and checked.

Grammar: `term (AND term)*`, a term being `member op "literal"` with `op` one of `>=` and `<`
(the only operators the discovery document allows).  Members depend on the data type's record
kind (`heart_rate.sample_time.physical_time`, `…civil_time`, `daily_resting_heart_rate.date`…).
Errors come back as the API's 400 INVALID_ARGUMENT: `ErrorInfo` reason
`INVALID_DATA_POINT_FILTER` with the comma-joined `detailedReasons`, plus one `BadRequest` field
violation per offending term, each with its line and column.

The result is a `TimeFilter`: closed-open bounds in physical time (UTC seconds), civil time
(local wall-clock seconds, evaluated against each sample's own offset) and dates.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from heartkeep.sandbox.catalog import DATA_TYPES_BY_FILTER_ID, FILTER_MEMBERS, DataType
from heartkeep.sandbox.rpc import ApiError, invalid_argument
from heartkeep.sandbox.wire import parse_timestamp

_TOKEN = re.compile(
    r'\s*(?:(?P<string>"(?:[^"\\]|\\.)*")|(?P<op>>=|<=|!=|=|<|>|:)'
    r"|(?P<word>[A-Za-z_][A-Za-z0-9_.]*)|(?P<paren>[()])|(?P<other>\S))"
)
_CIVIL = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}):(\d{2}))?$")
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_EPOCH = dt.datetime(1970, 1, 1)


@dataclass(frozen=True)
class TimeFilter:
    """Closed-open bounds; None = unbounded.  Physical in UTC s, civil in local s."""

    physical_start_s: int | None = None
    physical_end_s: int | None = None
    civil_start_s: int | None = None
    civil_end_s: int | None = None
    date_start: dt.date | None = None
    date_end: dt.date | None = None

    def key(self) -> str:
        """A canonical text of the bounds, to bind page tokens to the query's meaning."""
        return repr(
            (
                self.physical_start_s,
                self.physical_end_s,
                self.civil_start_s,
                self.civil_end_s,
                self.date_start,
                self.date_end,
            )
        )


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    column: int


def _tokens(text: str) -> list[_Token]:
    out: list[_Token] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:  # only trailing whitespace is left
            break
        kind = match.lastgroup or "other"
        out.append(_Token(kind, match.group(kind), match.start(kind) + 1))
        position = match.end()
    return out


class _Problems:
    def __init__(self) -> None:
        self.reasons: list[str] = []
        self.violations: list[tuple[str, str]] = []

    def add(self, reason: str, description: str, column: int) -> None:
        if reason not in self.reasons:
            self.reasons.append(reason)
        self.violations.append(("filter", f"{description} (at line 1, column {column})"))

    def error(self) -> ApiError:
        joined = ",".join(self.reasons)
        return invalid_argument(
            f"Invalid data point filter: {joined}.",
            "INVALID_DATA_POINT_FILTER",
            self.violations,
            metadata={"detailedReasons": joined},
        )


def parse_filter(text: str | None, data_type: DataType) -> TimeFilter:
    """Parse and check a filter for `data_type`; raises `ApiError` (400) when it is invalid."""
    if text is None or not text.strip():
        return TimeFilter()
    tokens = _tokens(text)
    problems = _Problems()
    terms: list[tuple[_Token, _Token, _Token]] = []
    index = 0
    while True:
        triple = tokens[index : index + 3]
        if len(triple) < 3:
            column = triple[0].column if triple else len(text) + 1
            problems.add(
                "INVALID_DATA_POINT_FILTER_MISSING_TOKEN",
                'Expected a restriction of the form: member >= "value"',
                column,
            )
            break
        member, op, literal = triple
        if member.kind != "word" or member.text in ("AND", "OR", "NOT"):
            problems.add(
                "INVALID_DATA_POINT_FILTER_SYNTAX",
                f"Unexpected token '{member.text}'",
                member.column,
            )
            break
        if op.kind != "op" or op.text not in (">=", "<"):
            problems.add(
                "INVALID_DATA_POINT_FILTER_SYNTAX",
                f"Operator '{op.text}' is not supported; use >= or <",
                op.column,
            )
            break
        if literal.kind != "string":
            problems.add(
                "INVALID_DATA_POINT_FILTER_SYNTAX",
                f"Expected a quoted string literal, found '{literal.text}'",
                literal.column,
            )
            break
        terms.append((member, op, literal))
        index += 3
        if index >= len(tokens):
            break
        joiner = tokens[index]
        if joiner.kind == "word" and joiner.text == "AND":
            index += 1
            continue
        problems.add(
            "INVALID_DATA_POINT_FILTER_SYNTAX",
            f"Unexpected token '{joiner.text}'; only AND may join restrictions",
            joiner.column,
        )
        break
    if problems.reasons:
        raise problems.error()
    bounds = _Bounds()
    for member, op, literal in terms:
        _apply(member, op, literal, data_type, bounds, problems)
    if problems.reasons:
        raise problems.error()
    return bounds.result()


class _Bounds:
    def __init__(self) -> None:
        self.physical: list[int | None] = [None, None]
        self.civil: list[int | None] = [None, None]
        self.dates: list[dt.date | None] = [None, None]

    def result(self) -> TimeFilter:
        return TimeFilter(
            self.physical[0], self.physical[1], self.civil[0], self.civil[1], *self.dates
        )


def _tighten_int(pair: list[int | None], op: str, value: int) -> None:
    if op == ">=":
        pair[0] = value if pair[0] is None else max(pair[0], value)
    else:
        pair[1] = value if pair[1] is None else min(pair[1], value)


def _tighten_date(pair: list[dt.date | None], op: str, value: dt.date) -> None:
    if op == ">=":
        pair[0] = value if pair[0] is None else max(pair[0], value)
    else:
        pair[1] = value if pair[1] is None else min(pair[1], value)


def _apply(
    member: _Token,
    op: _Token,
    literal: _Token,
    data_type: DataType,
    bounds: _Bounds,
    problems: _Problems,
) -> None:
    prefix, _, rest = member.text.partition(".")
    if prefix != data_type.filter_id:
        if prefix in DATA_TYPES_BY_FILTER_ID:
            problems.add(
                "INVALID_DATA_POINT_FILTER_COLLECTION_MISMATCH",
                f"Member '{member.text}' refers to data type '{prefix}', not "
                f"'{data_type.filter_id}'.",
                member.column,
            )
        else:
            problems.add(
                "INVALID_DATA_POINT_FILTER_DATA_TYPE_RESTRICTION",
                f"Member '{member.text}' does not name a data type.",
                member.column,
            )
        return
    literal_kind = FILTER_MEMBERS[data_type.kind].get(rest)
    if literal_kind is None:
        problems.add(
            "INVALID_DATA_POINT_FILTER_DATA_TYPE_MEMBER",
            f"Member '{member.text}' is not supported for filtering.",
            member.column,
        )
        return
    value = literal.text[1:-1]
    try:
        if literal_kind == "timestamp":
            _tighten_int(bounds.physical, op.text, parse_timestamp(value))
        elif literal_kind == "civil":
            _tighten_int(bounds.civil, op.text, parse_civil(value))
        else:
            _tighten_date(bounds.dates, op.text, parse_date(value))
    except ValueError:
        expected = {
            "timestamp": 'an RFC 3339 timestamp such as "2026-09-25T00:00:00Z"',
            "civil": 'a civil date-time such as "2026-09-25" or "2026-09-25T08:00:00"',
            "date": 'a date such as "2026-09-25"',
        }[literal_kind]
        problems.add(
            "INVALID_FILTER_FORMAT",
            f"Invalid value {literal.text} for member '{member.text}': expected {expected}.",
            literal.column,
        )


def parse_civil(text: str) -> int:
    """`YYYY-MM-DD[THH:mm:ss]` (no zone) → seconds since the local epoch."""
    match = _CIVIL.match(text)
    if match is None:
        raise ValueError(text)
    year, month, day, hour, minute, second = (int(g) if g else 0 for g in match.groups())
    moment = dt.datetime(year, month, day, hour, minute, second)  # a civil time has no zone
    return int((moment - _EPOCH).total_seconds())


def parse_date(text: str) -> dt.date:
    """`YYYY-MM-DD` → date; ValueError otherwise."""
    match = _DATE.match(text)
    if match is None:
        raise ValueError(text)
    return dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
