"""Several workers reaching a month no partition exists for yet, at once: all write, none fails.

Found by `heartkeep study demo` on the first of a month: of three workers' first syncs, one
created the month's partition and the others failed with "relation hr_hour_p… already exists".
Each had waited on the month's advisory lock, then looked again with `to_regclass`, which
answers from the backend's catalog cache — and taking an advisory lock does not refresh it.
The second look now reads pg_class with a fresh snapshot.
"""

from __future__ import annotations

import threading

from heartkeep.model import Sample, Source
from heartkeep.store import open_postgres_store

T0 = 1_790_000_000  # 2026-09-21
WRITERS = 4


def test_writers_of_a_new_month_at_once_all_succeed(postgres_url: str) -> None:
    open_postgres_store(postgres_url).close()  # the schema, before the race
    failures: list[BaseException] = []
    barrier = threading.Barrier(WRITERS)

    def write(index: int, start_s: int) -> None:
        key = f"google-health:{index}"
        try:
            with open_postgres_store(postgres_url) as store:
                store.sample_count(key)  # a connection in use, its catalog cache warm
                barrier.wait(30)
                with store.transaction():
                    samples = [Sample(start_s + s, 60, 0) for s in range(index, 3000, 5)]
                    store.write_samples(key, samples, Source.GOOGLE_HEALTH)
        except BaseException as failure:
            failures.append(failure)

    for month in range(3):
        start_s = T0 + month * 2_700_000  # a new month each round
        threads = [threading.Thread(target=write, args=(i, start_s)) for i in range(WRITERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        barrier.reset()
    assert not failures, failures[:2]
    with open_postgres_store(postgres_url, readonly=True) as store:
        assert sum(store.sample_count(f"google-health:{i}") for i in range(WRITERS)) == 3 * 600 * 4
