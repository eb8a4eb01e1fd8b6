"""Bytes per sample in PostgreSQL, indexes included: packed participant-hours against plain rows.

A study's cost is storage (issue 13: 10,000 participants write ~275 M samples a day).  This
writes `--days` of the sandbox's synthetic physiology (the demo user, one reading every few
seconds as a Pixel Watch gives them) through `PostgresStore.write_samples` in 5,000-sample
pages, newest first, as a sync does, and the same samples with `COPY` into the plain
alternative: one row per sample, (account_id integer, instant bigint, bpm smallint, offset_min
smallint, source smallint), primary key (account_id, instant).  Then, for each:

- bytes per sample: `pg_total_relation_size` (heap, TOAST, every index) of the samples' tables
  over the number of samples, as written (after a plain VACUUM, what a running server keeps)
  and repacked (VACUUM FULL);
- the packed store's per-minute summaries (`hr_minute`), which the plain rows do not have;
- write time: seconds of wall time for the whole load, and samples per second;
- read time: the month back in ascending order, `iter_samples` (`Sample` tuples) and
  `sample_columns` (numpy) against a plain `SELECT … ORDER BY instant` of the plain rows.

Prints figures and ratios; asserts nothing.  Needs a PostgreSQL server: `--url` (default the
machine's, postgresql://postgres@127.0.0.1:5432/postgres); works in a database it creates and
drops.  Usage: python bench/bench_pg_store.py [--days 30] [--url URL]
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
import uuid
from collections.abc import Iterator

import numpy as np
import psycopg

from heartkeep.model import Sample, Source
from heartkeep.sandbox.physiology import Physiology, demo_user
from heartkeep.store import open_postgres_store

CLOCK_S = int(dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC).timestamp())
DAY_S = 86_400
PAGE = 5_000
ACCOUNT = "google-health:111111256096816351"


def month_of_samples(days: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    phys = Physiology(demo_user(CLOCK_S))
    end = CLOCK_S // DAY_S * DAY_S
    instants, bpm, offsets_s = phys.samples(end - days * DAY_S, end)
    return instants, bpm, offsets_s // 60


def pages(instants: np.ndarray, bpm: np.ndarray, offsets: np.ndarray) -> Iterator[list[Sample]]:
    """5,000-sample pages, newest first, each ascending (as the sync engine writes them)."""
    for end in range(len(instants), 0, -PAGE):
        start = max(0, end - PAGE)
        yield list(
            map(
                Sample._make,
                zip(
                    instants[start:end].tolist(),
                    bpm[start:end].tolist(),
                    offsets[start:end].tolist(),
                    strict=True,
                ),
            )
        )


def size_of(conn: psycopg.Connection, pattern: str) -> int:
    (total,) = conn.execute(
        "SELECT COALESCE(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class AS c "
        "WHERE c.relname LIKE %s AND c.relkind = 'r' "
        "AND c.relnamespace = 'public'::regnamespace",
        (pattern,),
    ).fetchone()
    return int(total)


def vacuum(conn: psycopg.Connection, tables: list[str], *, full: bool) -> None:
    for table in tables:
        conn.execute(f"VACUUM {'FULL ' if full else ''}ANALYZE {table}".encode())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()

    instants, bpm, offsets = month_of_samples(args.days)
    n = len(instants)
    print(f"samples                       : {n:,} ({args.days} days of the sandbox's demo user, "
          f"{n / args.days:,.0f} a day)")  # fmt: skip

    name = f"heartkeep_bench_{uuid.uuid4().hex[:8]}"
    base = psycopg.conninfo.conninfo_to_dict(args.url)
    with psycopg.connect(args.url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"'.encode())
    url = psycopg.conninfo.make_conninfo(**{**base, "dbname": name})
    try:
        started = time.perf_counter()
        with open_postgres_store(url) as store:
            for page in pages(instants, bpm, offsets):
                with store.transaction():
                    store.write_samples(ACCOUNT, page, Source.GOOGLE_HEALTH)
            store.refresh_aggregates(ACCOUNT)
            assert store.sample_count(ACCOUNT) == n
        packed_s = time.perf_counter() - started

        with open_postgres_store(url, readonly=True) as store:
            started = time.perf_counter()
            read = sum(len(batch) for batch in store.iter_samples(ACCOUNT))
            iter_s = time.perf_counter() - started
            started = time.perf_counter()
            columns = store.sample_columns(ACCOUNT)
            columns_s = time.perf_counter() - started
            assert read == len(columns) == n

        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(
                "CREATE TABLE heart_rate_plain (account_id integer NOT NULL, "
                "instant bigint NOT NULL, bpm smallint NOT NULL, offset_min smallint NOT NULL, "
                "source smallint NOT NULL, PRIMARY KEY (account_id, instant))"
            )
            started = time.perf_counter()
            for page in pages(instants, bpm, offsets):
                with (
                    conn.transaction(),
                    conn.cursor() as cursor,
                    cursor.copy(
                        "COPY heart_rate_plain (account_id, instant, bpm, offset_min, source) "
                        "FROM STDIN"
                    ) as copy,
                ):
                    for sample in page:
                        copy.write_row((0, *sample, 0))
            plain_s = time.perf_counter() - started
            started = time.perf_counter()
            with conn.cursor() as cursor:
                cursor.execute(
                    "SELECT instant, bpm, offset_min FROM heart_rate_plain "
                    "WHERE account_id = 0 ORDER BY instant"
                )
                plain_rows = len(cursor.fetchall())
            plain_read_s = time.perf_counter() - started
            assert plain_rows == n

            packed_tables = [
                row[0]
                for row in conn.execute(
                    "SELECT relname FROM pg_class WHERE relname LIKE 'hr_hour_p%' AND relkind = 'r'"
                )
            ]
            figures = {}
            for full in (False, True):
                vacuum(conn, [*packed_tables, "hr_minute", "heart_rate_plain"], full=full)
                figures[full] = (
                    size_of(conn, "hr_hour_p%"),
                    size_of(conn, "hr_minute"),
                    size_of(conn, "heart_rate_plain"),
                )
            (rows,) = conn.execute("SELECT count(*) FROM hr_hour").fetchone()
    finally:
        with psycopg.connect(args.url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'.encode())

    print(f"packed rows (participant-hours): {rows:,} ({n / rows:,.0f} samples each)")
    for full, label in ((False, "as written (VACUUM)"), (True, "repacked (VACUUM FULL)")):
        packed, minutes, plain = figures[full]
        print(f"-- {label}")
        print(f"plain rows, bytes/sample      : {plain / n:6.2f}  ({plain / 2**20:7.1f} MiB)")
        print(f"packed hours, bytes/sample    : {packed / n:6.2f}  ({packed / 2**20:7.1f} MiB)"
              f"   plain/packed {plain / packed:5.1f}x")  # fmt: skip
        print(f"  + per-minute summaries      : {(packed + minutes) / n:6.2f}  "
              f"(hr_minute {minutes / n:.2f} a sample)")  # fmt: skip
    print("-- writing, wall time (a loaded machine inflates both)")
    print(f"plain COPY, pages of {PAGE:,}    : {plain_s:6.1f} s  ({n / plain_s:,.0f} samples/s)")
    print(f"PostgresStore.write_samples   : {packed_s:6.1f} s  ({n / packed_s:,.0f} samples/s, "
          f"upserts, summaries and refresh included; {packed_s / plain_s:.1f}x plain)")  # fmt: skip
    print("-- reading the month back, ascending, wall time")
    print(f"plain SELECT … ORDER BY instant: {plain_read_s:6.2f} s  "
          f"({n / plain_read_s:,.0f} samples/s)")  # fmt: skip
    print(f"iter_samples (Sample tuples)  : {iter_s:6.2f} s  ({n / iter_s:,.0f} samples/s, "
          f"{iter_s / plain_read_s:.2f}x plain)")  # fmt: skip
    print(f"sample_columns (numpy)        : {columns_s:6.2f} s  ({n / columns_s:,.0f} samples/s, "
          f"{columns_s / plain_read_s:.2f}x plain)")  # fmt: skip
    year = n / args.days * 365
    print(f"a participant-year           : packed {year * figures[False][0] / n / 2**30:.2f} GiB, "
          f"plain {year * figures[False][2] / n / 2**30:.2f} GiB")  # fmt: skip


if __name__ == "__main__":
    main()
