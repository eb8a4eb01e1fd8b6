"""The PostgreSQL schema, versioned like SQLite's: each step applied once, in its own transaction.

Why it differs from the SQLite schema where it does (docs/studies.md, "The store"): a study of
10,000 participants stores ~275 M samples a day, and as one row per sample PostgreSQL spends
about 60 bytes on each with its index (a 24-byte tuple header, alignment, a B-tree entry).  So
samples are packed: `hr_hour` holds one row per (account, UTC hour) whose arrays carry the
hour's samples — seconds into the hour as deltas (`seconds[1]` is the first sample's second,
each next element the gap to the one before), bpm, offsets and sources (`import_id * 16 +
source code`, as in SQLite).  Arrays are stored `MAIN` (compressed, kept in the row) and every
partition has `toast_tuple_target = 128`, so PostgreSQL's own compression packs each hour; the
table is partitioned by month of `hour`, partitions created as data arrives
(`postgres_hours.ensure_partitions`).  The view `heart_rate` reads as one row per sample with
SQLite's columns, so SQL users see no difference; `hr_minute` keeps the per-minute summaries
packed the same way, one row per (account, hour).

The version is the `schema_version` row of `store_meta`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from heartkeep.errors import StoreError

if TYPE_CHECKING:
    import psycopg

_V1: Sequence[str] = (
    """
    CREATE TABLE store_meta (
        key   text PRIMARY KEY,
        value bigint NOT NULL
    )
    """,
    """
    CREATE TABLE account (
        id           integer PRIMARY KEY,  -- 0, 1, 2…
        key          text NOT NULL UNIQUE, -- "provider:user_id"
        provider     text NOT NULL,
        user_id      text NOT NULL,
        display_name text NOT NULL DEFAULT '',
        time_zone    text NOT NULL DEFAULT 'UTC',
        member_since date,
        created_s    bigint NOT NULL
    )
    """,
    """
    CREATE TABLE source (
        code smallint PRIMARY KEY,
        name text NOT NULL UNIQUE
    )
    """,
    """
    INSERT INTO source (code, name) VALUES
        (0, 'google-health'), (1, 'fitbit-legacy'), (2, 'takeout'), (3, 'fitbit-json')
    """,
    """
    CREATE TABLE hr_hour (
        account_id integer NOT NULL,     -- account.id
        hour       integer NOT NULL,     -- instant / 3600: UTC hours since 1970
        seconds    smallint[] NOT NULL,  -- second into the hour of the first sample, then gaps
        bpm        smallint[] NOT NULL,
        offset_min smallint[] NOT NULL,  -- UTC offset the provider reported, minutes east
        source     integer[] NOT NULL,   -- import_id * 16 + source.code
        PRIMARY KEY (account_id, hour)
    ) PARTITION BY RANGE (hour)
    """,
    "ALTER TABLE hr_hour ALTER COLUMN seconds SET STORAGE MAIN",
    "ALTER TABLE hr_hour ALTER COLUMN bpm SET STORAGE MAIN",
    "ALTER TABLE hr_hour ALTER COLUMN offset_min SET STORAGE MAIN",
    "ALTER TABLE hr_hour ALTER COLUMN source SET STORAGE MAIN",
    # The same columns, for COPY: a write packs its hours here, then one upsert moves them.
    """
    CREATE VIEW heart_rate AS
    SELECT h.account_id AS account_id,
           h.hour::bigint * 3600 + u.second AS instant,
           u.bpm::integer AS bpm,
           u.offset_min::integer AS offset_min,
           u.source AS source
      FROM hr_hour AS h
     CROSS JOIN LATERAL (
           SELECT sum(d) OVER (ORDER BY i) AS second, b AS bpm, o AS offset_min, s AS source
             FROM unnest(h.seconds, h.bpm, h.offset_min, h.source)
                  WITH ORDINALITY AS x(d, b, o, s, i)) AS u
    """,
    """
    CREATE TABLE hr_minute (
        account_id integer NOT NULL,
        hour       integer NOT NULL,
        minute     smallint[] NOT NULL,  -- minutes into the hour that have samples, ascending
        n          smallint[] NOT NULL,  -- samples in each
        sum_bpm    integer[] NOT NULL,
        min_bpm    smallint[] NOT NULL,
        max_bpm    smallint[] NOT NULL,
        PRIMARY KEY (account_id, hour)
    )
    """,
    """
    CREATE TABLE daily (
        account_id integer NOT NULL,
        day        date NOT NULL,     -- the user's local date
        kind       text NOT NULL,     -- 'resting_hr' | 'zones'
        value      double precision,
        zones      text,              -- JSON [{"name","min_bpm","max_bpm","minutes"}]
        source     integer NOT NULL,
        import_id  integer,           -- the import that wrote it (NULL: synced)
        PRIMARY KEY (account_id, day, kind)
    )
    """,
    """
    CREATE TABLE sync_state (
        account_id       integer NOT NULL,
        stream           text NOT NULL,
        covered_from_s   bigint,
        complete_until_s bigint,
        job_lo_s         bigint,
        job_hi_s         bigint,
        job_frontier_s   bigint,
        last_success_s   bigint,
        PRIMARY KEY (account_id, stream)
    )
    """,
    """
    CREATE TABLE fetch_ledger (
        id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        account_id   integer NOT NULL,
        stream       text NOT NULL,
        fetched_at_s bigint NOT NULL,
        start_s      bigint NOT NULL,
        end_s        bigint NOT NULL,
        requests     integer NOT NULL,
        received     integer NOT NULL,
        inserted     integer NOT NULL,
        updated      integer NOT NULL
    )
    """,
    "CREATE INDEX fetch_ledger_by_account ON fetch_ledger (account_id, id)",
    """
    CREATE TABLE sync_run (
        id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        account_id       integer NOT NULL,
        started_s        bigint NOT NULL,
        finished_s       bigint,
        status           text NOT NULL,
        requests         integer NOT NULL DEFAULT 0,
        samples_added    integer NOT NULL DEFAULT 0,
        rate_limit_waits integer NOT NULL DEFAULT 0,
        error            text
    )
    """,
    "CREATE INDEX sync_run_by_account ON sync_run (account_id, id)",
    """
    CREATE TABLE sample_merge (
        account_id integer NOT NULL,
        source     integer NOT NULL,
        merged     bigint NOT NULL,
        PRIMARY KEY (account_id, source)
    )
    """,
    """
    CREATE TABLE import_run (
        id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        account_id   integer NOT NULL,
        imported_s   bigint NOT NULL,
        kind         text NOT NULL,
        time_zone    text NOT NULL,
        files        text NOT NULL,
        digest       text NOT NULL,
        first_s      bigint,
        last_s       bigint,
        samples_read bigint NOT NULL DEFAULT 0,
        inserted     bigint NOT NULL DEFAULT 0,
        replaced     bigint NOT NULL DEFAULT 0,
        kept         bigint NOT NULL DEFAULT 0,
        merged       bigint NOT NULL DEFAULT 0,
        conflicts    bigint NOT NULL DEFAULT 0,
        dailies      bigint NOT NULL DEFAULT 0
    )
    """,
    "CREATE INDEX import_run_by_digest ON import_run (account_id, kind, digest)",
    """
    CREATE TABLE import_displaced_sample (
        displaced_by bigint NOT NULL,
        account_id   integer NOT NULL,
        instant      bigint NOT NULL,
        bpm          integer NOT NULL,
        offset_min   integer NOT NULL,
        source       bigint NOT NULL,
        PRIMARY KEY (displaced_by, account_id, instant)
    )
    """,
    """
    CREATE TABLE import_displaced_daily (
        displaced_by bigint NOT NULL,
        account_id   integer NOT NULL,
        day          date NOT NULL,
        kind         text NOT NULL,
        value        double precision,
        zones        text,
        source       integer NOT NULL,
        import_id    integer,
        PRIMARY KEY (displaced_by, account_id, day, kind)
    )
    """,
    """
    CREATE TABLE hr_day (
        account_id          integer NOT NULL,
        day                 date NOT NULL,
        samples             integer NOT NULL,
        sum_bpm             bigint NOT NULL,
        min_bpm             integer NOT NULL,
        max_bpm             integer NOT NULL,
        wear_s              integer NOT NULL,
        first_s             bigint NOT NULL,
        first_offset_min    integer NOT NULL,
        last_s              bigint NOT NULL,
        last_offset_min     integer NOT NULL,
        previous_s          bigint,
        previous_offset_min integer,
        resting_estimate    double precision,
        seconds_by_bpm      bytea NOT NULL,
        PRIMARY KEY (account_id, day)
    )
    """,
    """
    CREATE TABLE hr_day_dirty (
        account_id integer NOT NULL,
        day        date NOT NULL,
        PRIMARY KEY (account_id, day)
    )
    """,
    """
    CREATE VIEW heart_rate_readable AS
    SELECT a.key AS account,
           to_char(to_timestamp(h.instant) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
             AS time_utc,
           to_char(to_timestamp(h.instant + h.offset_min * 60) AT TIME ZONE 'UTC',
                   'YYYY-MM-DD"T"HH24:MI:SS')
             || CASE WHEN h.offset_min < 0 THEN '-' ELSE '+' END
             || lpad((abs(h.offset_min) / 60)::text, 2, '0') || ':'
             || lpad((abs(h.offset_min) % 60)::text, 2, '0') AS time_local,
           to_char(to_timestamp(h.instant + h.offset_min * 60) AT TIME ZONE 'UTC', 'YYYY-MM-DD')
             AS local_date,
           h.bpm AS bpm,
           h.offset_min AS utc_offset_min,
           s.name AS source,
           h.instant AS instant,
           NULLIF(h.source / 16, 0) AS import_id
      FROM heart_rate AS h
      JOIN account AS a ON a.id = h.account_id
      JOIN source AS s ON s.code = h.source % 16
    """,
    """
    CREATE VIEW heart_rate_minute AS
    SELECT a.key AS account, m.hour::bigint * 3600 + u.minute * 60 AS instant,
           u.n AS samples, u.min_bpm AS min_bpm, round(u.sum_bpm::numeric / u.n, 1) AS mean_bpm,
           u.max_bpm AS max_bpm
      FROM hr_minute AS m
      JOIN account AS a ON a.id = m.account_id
     CROSS JOIN LATERAL unnest(m.minute, m.n, m.sum_bpm, m.min_bpm, m.max_bpm)
           AS u(minute, n, sum_bpm, min_bpm, max_bpm)
    """,
    """
    CREATE VIEW daily_summary AS
    SELECT a.key AS account, d.day AS day, d.samples AS samples, d.wear_s AS wear_s,
           d.min_bpm AS min_bpm, round(d.sum_bpm::numeric / d.samples, 1) AS mean_bpm,
           d.max_bpm AS max_bpm, d.resting_estimate AS resting_estimate,
           NOT EXISTS (SELECT 1 FROM hr_day_dirty AS x
                        WHERE x.account_id = d.account_id AND x.day = d.day) AS current
      FROM hr_day AS d
      JOIN account AS a ON a.id = d.account_id
    """,
)

_V2: Sequence[str] = (
    # Participants' OAuth token pairs, sealed with AES-GCM (store/token_cipher.py): the database
    # never holds a usable token.  `expires_at_s` (when the access token ends) is not secret and
    # lets a scheduler find pairs due for a refresh without opening them.
    """
    CREATE TABLE participant_token (
        account_id   integer PRIMARY KEY,   -- account.id
        key_id       text NOT NULL,         -- which key sealed it (token_cipher.key_id)
        sealed       bytea NOT NULL,        -- version, nonce, AES-GCM(token pair JSON)
        expires_at_s double precision NOT NULL,
        updated_s    bigint NOT NULL
    )
    """,
)

STEPS: tuple[Sequence[str], ...] = (_V1, _V2)
LATEST_VERSION = len(STEPS)


def schema_version(conn: psycopg.Connection[tuple[object, ...]]) -> int | None:
    """The schema's version, or None when this database (search path) has no heartkeep store."""
    (found,) = conn.execute("SELECT to_regclass('store_meta') IS NOT NULL").fetchone() or (False,)
    if not found:
        return None
    row = conn.execute("SELECT value FROM store_meta WHERE key = 'schema_version'").fetchone()
    return None if row is None else int(str(row[0]))


def migrate(conn: psycopg.Connection[tuple[object, ...]], *, where: str) -> int:
    """Bring the schema up to `LATEST_VERSION`, one transaction per step (two processes opening
    a new database at once: an advisory lock makes the second wait, then find it done)."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.heartkeep'))")
        version = schema_version(conn) or 0
        if version > LATEST_VERSION:
            raise StoreError(
                f"{where} was written by a newer heartkeep (schema {version}; this one knows "
                f"{LATEST_VERSION})",
                hint="Upgrade heartkeep, or point --database at another database.",
            )
        for number in range(version + 1, LATEST_VERSION + 1):
            with conn.transaction():
                for statement in STEPS[number - 1]:
                    conn.execute(statement.encode())
                conn.execute(
                    "INSERT INTO store_meta (key, value) VALUES ('schema_version', %s) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (number,),
                )
    return LATEST_VERSION
