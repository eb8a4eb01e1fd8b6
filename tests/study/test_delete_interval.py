"""A webhook DELETE on the PostgreSQL store: exactly the interval's samples go, summaries exact."""

from __future__ import annotations

from heartkeep.model import Sample, Source, Window
from heartkeep.store import open_postgres_store

KEY = "google-health:111111256096816351"
START = 1_795_000_000 - 1_795_000_000 % 3_600  # an hour boundary


def test_delete_removes_exactly_the_interval_across_hours_and_keeps_summaries_exact(
    postgres_url: str,
) -> None:
    samples = [Sample(START + 5 * n, 60 + n % 40, 60) for n in range(3 * 720)]  # three hours
    with open_postgres_store(postgres_url) as store:
        store.write_samples(KEY, samples, Source.GOOGLE_HEALTH)
        store.refresh_aggregates(KEY)
        gone = Window(START + 3_000, START + 7_300)  # the end of hour 0 to the start of hour 2
        deleted = store.delete_samples(KEY, gone)
        expected = [s for s in samples if not gone.start_s <= s.instant_s < gone.end_s]
        assert deleted == len(samples) - len(expected)
        kept = [s for batch in store.iter_samples(KEY) for s in batch]
        assert kept == expected
        assert store.delete_samples(KEY, gone) == 0
        assert store.delete_samples("google-health:nobody", gone) == 0
        store.refresh_aggregates(KEY)
        assert store.aggregate_problems(KEY, full=True) == []
        (day,) = store.day_aggregates(KEY)
        assert day.samples == len(expected)
