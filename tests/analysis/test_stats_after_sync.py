"""End to end over loopback: sync from the sandbox, then stats and an export describe exactly
what the sandbox served (its ground truth), day by day."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq

from heartkeep import api
from heartkeep.timeline import local_date


def test_stats_and_parquet_match_the_sandbox_ground_truth(
    world_factory, small_user, tmp_path: Path
):
    world = world_factory(users=(small_user(4),))
    world.sync()
    truth = world.truth(world.history())
    assert truth, "the sandbox served nothing"

    rows = api.daily_report(world.settings)
    per_day = Counter(local_date(s.instant_s, s.offset_min) for s in truth)
    assert {r.day: r.samples for r in rows if r.samples} == dict(per_day)
    physiology = world.state.physiology[world.user_id]
    for row in rows:
        if row.samples:
            day_samples = [s.bpm for s in truth if local_date(s.instant_s, s.offset_min) == row.day]
            assert (row.min_bpm, row.max_bpm) == (min(day_samples), max(day_samples))
    resting = {r.day: r.resting_provider for r in rows if r.resting_provider is not None}
    assert resting, "the sync stored no provider resting HR"
    assert resting == {day: float(physiology.resting_hr(day)) for day in resting}

    api.export(world.settings, "parquet", tmp_path / "hr.parquet")
    table = pq.read_table(tmp_path / "hr.parquet")
    exported = list(
        zip(
            (int(t.timestamp()) for t in table.column("instant").to_pylist()),
            table.column("bpm").to_pylist(),
            table.column("utc_offset_min").to_pylist(),
            strict=True,
        )
    )
    assert exported == [tuple(s) for s in truth]
    assert rows[-1].day <= dt.date(2026, 11, 20)
