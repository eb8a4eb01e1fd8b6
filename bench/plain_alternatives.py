"""What a skilled user would type instead of heartkeep, for `bench_reads.py` to measure against.

Each alternative does the same work as the heartkeep command it stands beside, no more and no
less, on the same SQLite file: the same days, the same columns, the same output format.  Kept
apart from the driver so the code being compared can be read on its own.

- `STATS_SQL`: per local day (from each sample's own offset, as heartkeep counts it) samples,
  wear seconds, min/mean/max bpm.  Wear is heartkeep's: each sample stands for the time until the
  next sample of the account, capped at 120 s (`analysis/daily.py`), so the last sample of the
  stream counts for nothing and a sample's gap may run into the next day.
- `CSV_SQL`: `heartkeep export --format csv` as one `sqlite3 -csv -header` query (ISO UTC with
  `Z`, wall time under the reported offset, offset, bpm) — used until heartkeep exposes its own
  equivalent (`heartkeep.exporters.csv`, issue 11), which `bench_reads.py` then prefers.
- `adbc_parquet`: the ADBC SQLite driver streaming Arrow record batches (a day of rows each)
  into pyarrow's `ParquetWriter` with zstd, the same three typed columns.
- `minimal_import`: orjson + `executemany` over the Takeout archive's JSON day files, UTC offsets
  from the zone as heartkeep assigns them, into a `WITHOUT ROWID` table — used only until
  `bench_import_export.py` has its `minimal_import` (issue 11), which then serves both benches.

Run as `python bench/plain_alternatives.py adbc DB OUT` or `… import ARCHIVE DB ZONE` (the driver
starts each in a fresh process, so its CPU and peak RSS are its own).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import sys
import zipfile
from pathlib import Path
from zoneinfo import ZoneInfo

STATS_SQL = """
SELECT date(instant + offset_min * 60, 'unixepoch') AS day,
       count(*) AS samples,
       sum(min(coalesce(next_instant - instant, 0), 120)) AS wear_s,
       min(bpm) AS min_bpm, round(avg(bpm), 1) AS mean_bpm, max(bpm) AS max_bpm
  FROM (SELECT instant, bpm, offset_min,
               lead(instant) OVER (PARTITION BY account_id ORDER BY instant) AS next_instant
          FROM heart_rate)
 GROUP BY day
 ORDER BY day;
"""

CSV_SQL = """
SELECT strftime('%Y-%m-%dT%H:%M:%SZ', instant, 'unixepoch') AS instant_utc,
       strftime('%Y-%m-%dT%H:%M:%S', instant + offset_min * 60, 'unixepoch') AS local_time,
       offset_min AS utc_offset_min,
       bpm
  FROM heart_rate
 ORDER BY account_id, instant;
"""

# A day of one-second rows per Arrow batch, so the Parquet file has day-sized row groups as
# heartkeep's has (the driver's default, 1,024 rows, would make a row group of each).
ADBC_BATCH_ROWS = 86_400


def adbc_parquet(database: Path, out: Path) -> int:
    """Stream the store's samples into a zstd Parquet file through ADBC; return the rows."""
    import adbc_driver_sqlite.dbapi as adbc
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema(
        [
            pa.field("instant", pa.timestamp("s", tz="UTC"), nullable=False),
            pa.field("utc_offset_min", pa.int64(), nullable=False),
            pa.field("bpm", pa.int64(), nullable=False),
        ]
    )
    rows = 0
    with adbc.connect(f"file:{database}?mode=ro") as connection, connection.cursor() as cursor:
        cursor.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": str(ADBC_BATCH_ROWS)})
        cursor.execute(
            "SELECT instant, offset_min, bpm FROM heart_rate ORDER BY account_id, instant"
        )
        reader = cursor.fetch_record_batch()
        with pq.ParquetWriter(out, schema, compression="zstd") as writer:
            for batch in reader:
                instant = batch.column(0).cast(pa.int64()).cast(pa.timestamp("s", tz="UTC"))
                columns = [instant, batch.column(1).cast(pa.int64()), batch.column(2)]
                writer.write_batch(pa.RecordBatch.from_arrays(columns, schema=schema))
                rows += batch.num_rows
    return rows


def minimal_import(archive: Path, database: Path, zone: str) -> int:
    """orjson + executemany over `Takeout/Fitbit/Global Export Data/heart_rate-*.json`."""
    import orjson

    tz = ZoneInfo(zone)
    db = sqlite3.connect(database, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute(
        "CREATE TABLE IF NOT EXISTS heart_rate (instant INTEGER PRIMARY KEY, "
        "bpm INTEGER NOT NULL, offset_min INTEGER NOT NULL) WITHOUT ROWID"
    )
    day_start: dict[str, int] = {}
    offset_of_hour: dict[int, int] = {}
    rows = 0
    with zipfile.ZipFile(archive) as zipped:
        for name in sorted(zipped.namelist()):
            if "/heart_rate-" not in name or not name.endswith(".json"):
                continue
            batch = []
            for record in orjson.loads(zipped.read(name)):
                stamp = record["dateTime"]  # "MM/DD/YY HH:MM:SS", UTC
                date = stamp[:8]
                start = day_start.get(date)
                if start is None:
                    day = dt.datetime.strptime(date, "%m/%d/%y").replace(tzinfo=dt.UTC)
                    start = day_start[date] = int(day.timestamp())
                instant = start + int(stamp[9:11]) * 3600 + int(stamp[12:14]) * 60
                instant += int(stamp[15:17])
                hour = instant - instant % 3600
                offset = offset_of_hour.get(hour)
                if offset is None:
                    local = dt.datetime.fromtimestamp(hour, tz).utcoffset()
                    offset = offset_of_hour[hour] = int(local.total_seconds()) // 60 if local else 0
                batch.append((instant, record["value"]["bpm"], offset))
            db.execute("BEGIN")
            db.executemany("INSERT OR REPLACE INTO heart_rate VALUES (?, ?, ?)", batch)
            db.execute("COMMIT")
            rows += len(batch)
    db.close()
    return rows


def main() -> None:
    kind, *args = sys.argv[1:]
    if kind == "adbc":
        print(adbc_parquet(Path(args[0]), Path(args[1])))
    elif kind == "import":
        # bench_import_export's own minimal import once it has one (issue 11's yardstick, shared
        # by both benches); the one above until then.
        try:
            from bench_import_export import minimal_import as shared
        except ImportError:
            print(minimal_import(Path(args[0]), Path(args[1]), args[2]))
        else:
            print(shared(Path(args[0]), Path(args[1])))
    else:
        raise SystemExit(f"unknown alternative {kind!r}")


if __name__ == "__main__":
    main()
