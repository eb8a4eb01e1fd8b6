"""JSON Lines export: one sample per line, for jq, DuckDB, pandas and streaming readers.

Each line: `{"time":"2026-11-20T13:00:00+01:00","instant_s":1795179600,"utc_offset_min":60,
"bpm":64}` — `time` is RFC 3339 local time with the reported offset (one field that carries
both the instant and the local clock), `instant_s` the UTC epoch second for easy arithmetic.
Every value is a time or an integer, so nothing needs JSON escaping and SQLite formats the
lines itself (`sqltext.py`): no Python object per sample.
"""

from __future__ import annotations

from heartkeep.exporters.source import SampleSource
from heartkeep.exporters.sqltext import iso_sql
from heartkeep.output_target import Writable

# RFC 3339 local time: the wall clock under the reported offset, then `+HH:MM` / `-HH:MM`.
LOCAL_TIME_SQL = (
    f"{iso_sql('instant + offset_min * 60')} || "
    "CASE WHEN offset_min < 0 THEN '-' ELSE '+' END || "
    "printf('%02d:%02d', abs(offset_min) / 60, abs(offset_min) % 60)"
)

LINE_SQL = (
    f"""'{{"time":"' || {LOCAL_TIME_SQL} || '","instant_s":' || instant || """
    """',"utc_offset_min":' || offset_min || ',"bpm":' || bpm || '}'"""
)


def write_jsonl(source: SampleSource, handle: Writable) -> None:
    """Stream the samples as UTF-8 JSON Lines, one object per line, into a binary stream."""
    for chunk in source.text(LINE_SQL):
        handle.write(chunk.text)
