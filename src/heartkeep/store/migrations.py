"""The SQLite schema, versioned: each step is applied once, in its own transaction, in order.

The version lives in `PRAGMA user_version`, so any SQLite tool can see which schema a file has.
A step is never edited once released; a change to the schema is a new step at the end.  A file
written by a newer heartkeep (a version above the last step here) is refused rather than guessed
at.

Layout decisions (measured in `bench/bench_sync.py`, documented in `docs/schema.md`):

- `heart_rate` is `WITHOUT ROWID` with primary key (account_id, instant): the table *is* its
  index, so a sample costs one B-tree cell of about 15 bytes.  Every column is an integer;
  `account_id` and `source` are small integers (SQLite stores 0 and 1 in zero body bytes), the
  instant is epoch seconds (4 bytes until 2038), the offset is in minutes (1 byte for most zones).
- Readable views (`heart_rate_readable`, `daily_resting_hr`, `daily_zones`, `sync_overview`,
  `daily_summary`, `heart_rate_minute`) give sqlite3, Datasette, DuckDB and pandas users ISO
  times, local dates and names instead of codes.
- Aggregates (`hr_minute`, `hr_day`, `hr_day_dirty`, schema 5) are kept current with the
  samples in the same transaction (`store/sqlite_aggregates.py`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from heartkeep.errors import StoreError

_V1 = (
    """
    CREATE TABLE account (
        id           INTEGER PRIMARY KEY,  -- 0, 1, 2…: small ids keep heart_rate cells short
        key          TEXT NOT NULL UNIQUE, -- "provider:user_id"
        provider     TEXT NOT NULL,
        user_id      TEXT NOT NULL,
        display_name TEXT NOT NULL DEFAULT '',
        time_zone    TEXT NOT NULL DEFAULT 'UTC',  -- IANA zone from the provider's settings
        member_since TEXT,                         -- YYYY-MM-DD, local
        created_s    INTEGER NOT NULL              -- UTC epoch seconds
    )
    """,
    """
    CREATE TABLE source (
        code INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE
    )
    """,
    """
    INSERT INTO source (code, name) VALUES
        (0, 'google-health'), (1, 'fitbit-legacy'), (2, 'takeout'), (3, 'fitbit-json')
    """,
    """
    CREATE TABLE heart_rate (
        account_id INTEGER NOT NULL,  -- account.id
        instant    INTEGER NOT NULL,  -- UTC epoch seconds
        bpm        INTEGER NOT NULL,  -- beats per minute
        offset_min INTEGER NOT NULL,  -- UTC offset the provider reported, minutes east
        source     INTEGER NOT NULL,  -- source.code
        PRIMARY KEY (account_id, instant)
    ) WITHOUT ROWID
    """,
    """
    CREATE TABLE daily (
        account_id INTEGER NOT NULL,
        day        TEXT NOT NULL,     -- the user's local date, YYYY-MM-DD
        kind       TEXT NOT NULL,     -- 'resting_hr' | 'zones'
        value      REAL,              -- resting_hr: bpm
        zones      TEXT,              -- zones: JSON [{"name","min_bpm","max_bpm","minutes"}]
        source     INTEGER NOT NULL,
        PRIMARY KEY (account_id, day, kind)
    ) WITHOUT ROWID
    """,
    """
    CREATE TABLE sync_state (
        account_id     INTEGER NOT NULL,
        stream         TEXT NOT NULL,  -- 'heart-rate', 'daily-resting-heart-rate', …
        covered_from_s INTEGER,        -- [covered_from_s, complete_until_s) is complete
        complete_until_s INTEGER,
        job_lo_s       INTEGER,        -- job in progress: [job_lo_s, job_hi_s), newest first,
        job_hi_s       INTEGER,        -- done down to job_frontier_s
        job_frontier_s INTEGER,
        last_success_s INTEGER,
        PRIMARY KEY (account_id, stream)
    ) WITHOUT ROWID
    """,
    """
    CREATE TABLE fetch_ledger (
        id           INTEGER PRIMARY KEY,
        account_id   INTEGER NOT NULL,
        stream       TEXT NOT NULL,
        fetched_at_s INTEGER NOT NULL,
        start_s      INTEGER NOT NULL,  -- the span this fetch proved complete
        end_s        INTEGER NOT NULL,
        requests     INTEGER NOT NULL,
        received     INTEGER NOT NULL,  -- rows the provider sent
        inserted     INTEGER NOT NULL,  -- rows new to the store
        updated      INTEGER NOT NULL   -- rows whose values changed
    )
    """,
    "CREATE INDEX fetch_ledger_by_account ON fetch_ledger (account_id, id)",
    """
    CREATE TABLE sync_run (
        id               INTEGER PRIMARY KEY,
        account_id       INTEGER NOT NULL,
        started_s        INTEGER NOT NULL,
        finished_s       INTEGER,
        status           TEXT NOT NULL,  -- 'running' | 'ok' | 'failed'
        requests         INTEGER NOT NULL DEFAULT 0,
        samples_added    INTEGER NOT NULL DEFAULT 0,
        rate_limit_waits INTEGER NOT NULL DEFAULT 0,
        error            TEXT
    )
    """,
    "CREATE INDEX sync_run_by_account ON sync_run (account_id, id)",
    """
    CREATE VIEW heart_rate_readable AS
    SELECT a.key AS account,
           strftime('%Y-%m-%dT%H:%M:%SZ', h.instant, 'unixepoch') AS time_utc,
           strftime('%Y-%m-%dT%H:%M:%S', h.instant + h.offset_min * 60, 'unixepoch')
             || CASE WHEN h.offset_min < 0 THEN '-' ELSE '+' END
             || printf('%02d:%02d', abs(h.offset_min) / 60, abs(h.offset_min) % 60)
             AS time_local,
           date(h.instant + h.offset_min * 60, 'unixepoch') AS local_date,
           h.bpm AS bpm,
           h.offset_min AS utc_offset_min,
           s.name AS source,
           h.instant AS instant
      FROM heart_rate AS h
      JOIN account AS a ON a.id = h.account_id
      JOIN source AS s ON s.code = h.source
    """,
    """
    CREATE VIEW daily_resting_hr AS
    SELECT a.key AS account, d.day AS day, d.value AS resting_bpm, s.name AS source
      FROM daily AS d
      JOIN account AS a ON a.id = d.account_id
      JOIN source AS s ON s.code = d.source
     WHERE d.kind = 'resting_hr'
    """,
    """
    CREATE VIEW daily_zones AS
    SELECT a.key AS account, d.day AS day,
           json_extract(z.value, '$.name') AS zone,
           json_extract(z.value, '$.min_bpm') AS min_bpm,
           json_extract(z.value, '$.max_bpm') AS max_bpm,
           json_extract(z.value, '$.minutes') AS minutes,
           s.name AS source
      FROM daily AS d
      JOIN account AS a ON a.id = d.account_id
      JOIN source AS s ON s.code = d.source,
           json_each(d.zones) AS z
     WHERE d.kind = 'zones'
    """,
    """
    CREATE VIEW sync_overview AS
    SELECT a.key AS account, st.stream AS stream,
           strftime('%Y-%m-%dT%H:%M:%SZ', st.covered_from_s, 'unixepoch') AS covered_from,
           strftime('%Y-%m-%dT%H:%M:%SZ', st.complete_until_s, 'unixepoch') AS complete_until,
           strftime('%Y-%m-%dT%H:%M:%SZ', st.last_success_s, 'unixepoch') AS last_success,
           st.job_lo_s IS NOT NULL AS job_interrupted
      FROM sync_state AS st
      JOIN account AS a ON a.id = st.account_id
    """,
)

_V2 = (
    """
    CREATE TABLE store_meta (
        key   TEXT PRIMARY KEY,  -- 'rows_since_compaction': rows written since the last VACUUM
        value INTEGER NOT NULL
    )
    """,
)

_V3 = (
    # Samples are keyed by whole seconds: two readings within one second (Google's times carry
    # fractions) leave one row.  Every such merge is counted here, per account and source, so
    # `status`, the sync report and `doctor` can say how many readings the store folded.
    """
    CREATE TABLE sample_merge (
        account_id INTEGER NOT NULL,  -- account.id
        source     INTEGER NOT NULL,  -- source.code of the readings that were merged
        merged     INTEGER NOT NULL,  -- readings folded into another of the same second
        PRIMARY KEY (account_id, source)
    ) WITHOUT ROWID
    """,
)

_V4 = (
    # Import provenance: which files (by digest) and which zone each import used, so that
    # importing the same files again replaces that import's rows instead of adding to them, and
    # `heartkeep import undo` can take an import back out.
    """
    CREATE TABLE import_run (
        id           INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused
        account_id   INTEGER NOT NULL,  -- account.id
        imported_s   INTEGER NOT NULL,  -- UTC epoch seconds
        kind         TEXT NOT NULL,     -- 'takeout' | 'fitbit-json'
        time_zone    TEXT NOT NULL,     -- the zone the archive's times were read in ('UTC')
        files        TEXT NOT NULL,     -- JSON [{"name", "sha256", "bytes"}], sorted by digest
        digest       TEXT NOT NULL,     -- sha256 over the sorted file digests: the identity
        first_s      INTEGER,           -- [first_s, last_s]: instants of its samples (undo
        last_s       INTEGER,           --   looks for its rows only there)
        samples_read INTEGER NOT NULL DEFAULT 0,
        inserted     INTEGER NOT NULL DEFAULT 0,  -- samples new to the store
        replaced     INTEGER NOT NULL DEFAULT 0,  -- archive samples it won over (kept aside)
        kept         INTEGER NOT NULL DEFAULT 0,  -- samples it lost to stored ones
        merged       INTEGER NOT NULL DEFAULT 0,  -- readings of one second in one file
        conflicts    INTEGER NOT NULL DEFAULT 0,  -- its own files disagreeing on a second
        dailies      INTEGER NOT NULL DEFAULT 0   -- daily values it wrote
    )
    """,
    "CREATE INDEX import_run_by_digest ON import_run (account_id, kind, digest)",
    # Which import wrote a sample is packed into `heart_rate.source` as import_id * 16 + code,
    # so synced rows (codes 0 and 1, stored in zero bytes) pay nothing for provenance; a column
    # would cost every sample a byte (15.2 → 16.2 bytes a sample, measured on a month).
    "DROP VIEW heart_rate_readable",
    """
    CREATE VIEW heart_rate_readable AS
    SELECT a.key AS account,
           strftime('%Y-%m-%dT%H:%M:%SZ', h.instant, 'unixepoch') AS time_utc,
           strftime('%Y-%m-%dT%H:%M:%S', h.instant + h.offset_min * 60, 'unixepoch')
             || CASE WHEN h.offset_min < 0 THEN '-' ELSE '+' END
             || printf('%02d:%02d', abs(h.offset_min) / 60, abs(h.offset_min) % 60)
             AS time_local,
           date(h.instant + h.offset_min * 60, 'unixepoch') AS local_date,
           h.bpm AS bpm,
           h.offset_min AS utc_offset_min,
           s.name AS source,
           h.instant AS instant,
           NULLIF(h.source / 16, 0) AS import_id
      FROM heart_rate AS h
      JOIN account AS a ON a.id = h.account_id
      JOIN source AS s ON s.code = h.source % 16
    """,
    # Dailies are few (two a day): a plain column is clearer there.  NULL: synced, or imported
    # before schema 4.
    "ALTER TABLE daily ADD COLUMN import_id INTEGER",
    # What an import replaced (an archive row it won over), so undoing it can put that back.
    """
    CREATE TABLE import_displaced_sample (
        displaced_by INTEGER NOT NULL,  -- import_run.id that replaced the row
        account_id   INTEGER NOT NULL,
        instant      INTEGER NOT NULL,
        bpm          INTEGER NOT NULL,
        offset_min   INTEGER NOT NULL,
        source       INTEGER NOT NULL,  -- as in heart_rate: import_id * 16 + source.code
        PRIMARY KEY (displaced_by, account_id, instant)
    ) WITHOUT ROWID
    """,
    """
    CREATE TABLE import_displaced_daily (
        displaced_by INTEGER NOT NULL,
        account_id   INTEGER NOT NULL,
        day          TEXT NOT NULL,
        kind         TEXT NOT NULL,
        value        REAL,
        zones        TEXT,
        source       INTEGER NOT NULL,
        import_id    INTEGER,
        PRIMARY KEY (displaced_by, account_id, day, kind)
    ) WITHOUT ROWID
    """,
)

_V5 = (
    # Aggregates kept current with the samples (store/sqlite_aggregates.py), so summaries cost
    # O(days), not O(samples).  Per UTC minute, for charts at coarse zoom:
    """
    CREATE TABLE hr_minute (
        account_id INTEGER NOT NULL,  -- account.id
        minute     INTEGER NOT NULL,  -- floor(instant / 60): UTC minutes since 1970
        n          INTEGER NOT NULL,  -- samples in the minute
        sum_bpm    INTEGER NOT NULL,
        min_bpm    INTEGER NOT NULL,
        max_bpm    INTEGER NOT NULL,
        PRIMARY KEY (account_id, minute)
    ) WITHOUT ROWID
    """,
    """
    INSERT INTO hr_minute (account_id, minute, n, sum_bpm, min_bpm, max_bpm)
    SELECT account_id, (instant - ((instant % 60) + 60) % 60) / 60, count(*), sum(bpm),
           min(bpm), max(bpm)
      FROM heart_rate GROUP BY account_id, (instant - ((instant % 60) + 60) % 60) / 60
    """,
    # Per local day (by each sample's own offset): what `DayStats` is finished from
    # (heartkeep.aggregates.DayAggregate).  A rowid table: the histogram makes rows ~1.3 kB.
    """
    CREATE TABLE hr_day (
        account_id          INTEGER NOT NULL,
        day                 TEXT NOT NULL,     -- local date, YYYY-MM-DD
        samples             INTEGER NOT NULL,
        sum_bpm             INTEGER NOT NULL,
        min_bpm             INTEGER NOT NULL,
        max_bpm             INTEGER NOT NULL,
        wear_s              INTEGER NOT NULL,  -- seconds worn: gaps to the next sample, <= 120 s
        first_s             INTEGER NOT NULL,  -- the day's first sample (instant, offset)
        first_offset_min    INTEGER NOT NULL,
        last_s              INTEGER NOT NULL,  -- its last sample
        last_offset_min     INTEGER NOT NULL,
        previous_s          INTEGER,           -- the sample before its first (NULL: none)
        previous_offset_min INTEGER,
        resting_estimate    REAL,              -- heartkeep's estimate (NULL: under 4 h of minutes)
        seconds_by_bpm      BLOB NOT NULL,     -- 301 little-endian uint32: seconds at 0..300 bpm
        PRIMARY KEY (account_id, day)
    )
    """,
    # Days whose samples (or neighbours' edge samples) changed since their hr_day row was made:
    # written with the samples, cleared by the refresh at the end of a sync or import.  Readers
    # compute these days from the samples, so answers are exact at every instant.
    """
    CREATE TABLE hr_day_dirty (
        account_id INTEGER NOT NULL,
        day        TEXT NOT NULL,
        PRIMARY KEY (account_id, day)
    ) WITHOUT ROWID
    """,
    # An upgraded file: every day with samples is dirty; the writer that upgrades computes them
    # right after this step (store/opening.py), and a killed upgrade leaves them dirty, not wrong.
    """
    INSERT INTO hr_day_dirty (account_id, day)
    SELECT account_id, date(local_day * 86400, 'unixepoch')
      FROM (SELECT DISTINCT account_id, (instant + offset_min * 60) / 86400 AS local_day
              FROM heart_rate)
    """,
    """
    CREATE VIEW daily_summary AS
    SELECT a.key AS account, d.day AS day, d.samples AS samples, d.wear_s AS wear_s,
           d.min_bpm AS min_bpm, round(1.0 * d.sum_bpm / d.samples, 1) AS mean_bpm,
           d.max_bpm AS max_bpm, d.resting_estimate AS resting_estimate,
           NOT EXISTS (SELECT 1 FROM hr_day_dirty AS x
                        WHERE x.account_id = d.account_id AND x.day = d.day) AS current
      FROM hr_day AS d
      JOIN account AS a ON a.id = d.account_id
    """,
    """
    CREATE VIEW heart_rate_minute AS
    SELECT a.key AS account,
           strftime('%Y-%m-%dT%H:%M:%SZ', m.minute * 60, 'unixepoch') AS minute_utc,
           m.n AS samples, m.min_bpm AS min_bpm, round(1.0 * m.sum_bpm / m.n, 1) AS mean_bpm,
           m.max_bpm AS max_bpm, m.minute * 60 AS instant
      FROM hr_minute AS m
      JOIN account AS a ON a.id = m.account_id
    """,
)

# Every schema step, in order; the step at index i takes the file to version i + 1.
STEPS: tuple[Sequence[str], ...] = (_V1, _V2, _V3, _V4, _V5)
LATEST_VERSION = len(STEPS)
AGGREGATES_VERSION = 5  # the step that added hr_minute, hr_day and hr_day_dirty


def schema_version(connection: sqlite3.Connection) -> int:
    row = connection.execute("PRAGMA user_version").fetchone()
    return int(row[0])


def migrate(connection: sqlite3.Connection, *, path: str) -> int:
    """Bring the file up to `LATEST_VERSION`, one transaction per step; return the version.

    `connection` must be in autocommit mode (isolation_level=None) so the explicit BEGIN here
    is the only transaction.  A step that fails rolls back whole and leaves the previous
    version intact.
    """
    version = schema_version(connection)
    if version > LATEST_VERSION:
        raise StoreError(
            f"{path} was written by a newer heartkeep (schema {version}; this one knows "
            f"{LATEST_VERSION})",
            hint="Upgrade heartkeep, or point --database at another file.",
        )
    for number in range(version + 1, LATEST_VERSION + 1):
        connection.execute("BEGIN IMMEDIATE")
        try:
            for statement in STEPS[number - 1]:
                connection.execute(statement)
            # PRAGMA takes no parameters; `number` is an int from our own table.
            connection.execute(f"PRAGMA user_version = {int(number)}")
        except sqlite3.Error as failure:
            connection.execute("ROLLBACK")
            raise StoreError(
                f"{path}: could not upgrade the schema to {number}: {failure}"
            ) from failure
        connection.execute("COMMIT")
    return LATEST_VERSION
