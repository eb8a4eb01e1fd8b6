"""Many workers, one PostgreSQL store: writers of one participant queue, nothing is lost.

A study's workers write from many processes.  Packed hours are read, changed and written back,
so two writers of one participant must never interleave (the second would write back an hour
without the first one's samples); `lock_account` queues them.  Here two connections write the
same hours of one participant at once (even and odd seconds, pages in transactions, as sync
jobs do), while a third writes another participant into months no partition exists for yet.
"""

from __future__ import annotations

import threading

from heartkeep.model import Sample, Source
from heartkeep.store import open_postgres_store

T0 = 1_790_000_000  # 2026-09-21
KEY = "google-health:shared"
PAGE = 600


def _writer(url: str, key: str, samples: list[Sample], failures: list[BaseException]) -> None:
    try:
        with open_postgres_store(url) as store:
            for start in range(0, len(samples), PAGE):
                with store.transaction():
                    store.write_samples(key, samples[start : start + PAGE], Source.GOOGLE_HEALTH)
    except BaseException as failure:
        failures.append(failure)


def test_concurrent_writers_of_one_participant_lose_no_sample(postgres_url: str) -> None:
    even = [Sample(T0 + i, 60 + i % 50, 60) for i in range(0, 12_000, 2)]
    odd = [Sample(T0 + i, 70 + i % 40, 60) for i in range(1, 12_000, 2)]
    months = [Sample(T0 + k * 2_700_000, 80, 0) for k in range(6)]  # a new month each
    failures: list[BaseException] = []
    open_postgres_store(postgres_url).close()  # the schema, before the race
    threads = [
        threading.Thread(target=_writer, args=(postgres_url, KEY, part, failures))
        for part in (even, odd)
    ] + [
        threading.Thread(
            target=_writer, args=(postgres_url, f"google-health:other{n}", months, failures)
        )
        for n in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not failures, failures
    with open_postgres_store(postgres_url) as store:
        stored = [s for batch in store.iter_samples(KEY) for s in batch]
        assert stored == sorted(even + odd)
        assert store.sample_count("google-health:other0") == len(months)
        store.refresh_aggregates(KEY)
        assert store.aggregate_problems(KEY, full=True) == []
        assert sum(day.samples for day in store.day_aggregates(KEY)) == 12_000
