"""`heartkeep study …` as a careless or hostile operator meets it: every failure a documented exit
code and a message that says what to do, never a traceback, nothing lost or half written.

Each test here failed before its fix (a traceback as exit 1, a worker hanging on a database
that is down, an invite written into the wrong database, an export that filled the wrong disk,
a demo database left behind by Ctrl-C, advice that did not fit).  Against a real PostgreSQL
(a schema of the test's own); the tests that need a disk of their own (a tiny or read-only
tmpfs) mount one as root and are skipped, saying why, elsewhere.
"""

from __future__ import annotations

import contextlib
import os
import random
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from heartkeep.cli import app
from heartkeep.model import Account, Sample, Source, TokenSet
from heartkeep.store import open_postgres_store
from heartkeep.store.token_cipher import TokenCipher
from heartkeep.study import enrolment_tables as tables
from heartkeep.study.local_postgres import MACHINE_SERVER

DOWN = "postgresql://postgres@127.0.0.1:1/nothing"
DANA = Account("google-health", "1004", "Dana", "UTC")


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    assert "Traceback" not in result.output, result.output
    return result.exit_code, result.output


@pytest.fixture
def study(home: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`study init` against the sandbox's address (nothing listens there); $…_CONFIG set."""
    path = home / "study" / "study.toml"
    code, out = run(
        "study", "init", "--config", str(path), "--database-url", postgres_url,
        "--sandbox-url", "http://127.0.0.1:9",
    )  # fmt: skip
    assert code == 0, out
    monkeypatch.setenv("HEARTKEEP_STUDY_CONFIG", str(path))
    return path


def cipher_of(config: Path) -> TokenCipher:
    keys = (config.parent / "study-token-keys").read_text()
    return TokenCipher.from_environment({"HEARTKEEP_STUDY_TOKEN_KEYS": keys})


def enrol_dana(config: Path, url: str, *, label: str = "P-004") -> None:
    """Dana with a day of samples and sealed tokens, enrolled as `label` (as the web flow
    leaves a participant)."""
    with open_postgres_store(url, token_cipher=cipher_of(config)) as store:
        store.upsert_account(DANA)
        store.write_samples(
            DANA.key,
            [Sample(1_795_000_000 + 60 * i, 61, 0) for i in range(200)],
            Source.GOOGLE_HEALTH,
        )
        store.save_tokens(DANA.key, TokenSet("ya29.d", "1//d", 1_795_100_000, ("s",)))
        conn = tables.connection(store)
        tables.ensure_tables(conn)
        row = tables.insert_invite(conn, label, "nonce-" + label, 1_795_000_000, 1_796_000_000)
        tables.update(
            conn, row.invite_id, status=tables.ENROLLED, account_key=DANA.key,
            enrolled_s=1_795_000_100,
        )  # fmt: skip


# --- hostile option and setting values -------------------------------------------------------


def test_an_invite_valid_for_centuries_is_refused_not_a_crash(study: Path) -> None:
    code, out = run("study", "invite", "P-009", "--valid-days", "100000000")
    assert code == 2, out
    assert "--valid-days" in out
    study.write_text(study.read_text().replace("valid_days = 14", "valid_days = 1000000000"))
    code, out = run("study", "invite", "P-009")
    assert code == 3, out
    assert "invite_valid_days" in out
    assert "between 1 and 365" in out


@pytest.mark.parametrize(
    "option", [["--concurrency", "1000000"], ["--quota-speedup", "inf"]], ids=["slots", "speedup"]
)
def test_worker_refuses_absurd_numbers_before_starting(study: Path, option: list[str]) -> None:
    code, out = run("study", "worker", "--until-idle", *option)
    assert code == 2, out
    assert option[0] in out


def test_a_config_asking_a_worker_for_a_million_slots_is_exit_3(study: Path) -> None:
    study.write_text(study.read_text().replace("concurrency = 4", "concurrency = 1000000"))
    code, out = run("study", "worker", "--until-idle")
    assert code == 3, out
    assert "[worker] concurrency" in out
    assert "more `heartkeep study worker` processes" in out


def test_a_database_url_libpq_cannot_read_is_a_config_error_naming_its_source(
    study: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HEARTKEEP_STUDY_DATABASE_URL", "postgresql://[broken")
    code, out = run("study", "status")
    assert code == 3, out
    assert "[database] url (environment HEARTKEEP_STUDY_DATABASE_URL)" in out
    assert "broken" not in out  # the URL may hold a password: never echoed


# --- the database: down, the wrong one, no permission ----------------------------------------


def test_a_worker_against_a_database_that_is_down_stops_at_once_with_exit_9(
    study: Path, home: Path
) -> None:
    """It used to retry its connection pool forever, logging the URL."""
    env = {**os.environ, "HEARTKEEP_STUDY_DATABASE_URL": DOWN}
    done = subprocess.run(
        [sys.executable, "-m", "heartkeep", "study", "worker", "--until-idle"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 9, done.stderr
    assert "could not connect to PostgreSQL at 127.0.0.1:1/nothing" in done.stderr
    assert "Traceback" not in done.stderr
    assert "error connecting in 'pool" not in done.stderr


@pytest.fixture
def empty_schema(postgres) -> Iterator[str]:  # type: ignore[no-untyped-def]
    url, schema = postgres.fresh_url()
    yield url
    postgres.drop(schema)


@pytest.mark.parametrize(
    "command",
    [
        ["status"],
        ["invite", "P-001"],
        ["withdraw", "P-001", "--no-revoke"],
        ["export", "{tmp}/out"],
        ["worker", "--until-idle"],
    ],
    ids=lambda c: c[0],
)
def test_a_database_without_the_study_is_named_and_left_untouched(
    study: Path, empty_schema: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, command
) -> None:
    monkeypatch.setenv("HEARTKEEP_STUDY_DATABASE_URL", empty_schema)
    code, out = run("study", *[part.format(tmp=tmp_path) for part in command])
    assert code == 9, out
    assert "holds no heartkeep study" in out
    assert "[database] url" in out
    with psycopg.connect(empty_schema, autocommit=True) as conn:
        tables_made = conn.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()"
        ).fetchone()
    assert tables_made == (0,)  # no study's tables quietly made in the wrong database
    assert not (tmp_path / "out").exists()


def test_doctor_says_the_database_holds_no_study(
    study: Path, empty_schema: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HEARTKEEP_STUDY_DATABASE_URL", empty_schema)
    code, out = run("study", "doctor")
    assert code == 12, out
    assert "holds no heartkeep study" in out


@pytest.fixture
def stranger(postgres, postgres_url: str) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The study's URL as a role that may log in but not use the study's tables."""
    role = f"hk_stranger_{uuid.uuid4().hex[:8]}"
    admin_url = postgres.server.url(postgres.database)
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE ROLE "{role}" LOGIN'.encode())
        schema = postgres_url.rsplit("%3D", 1)[1]
        admin.execute(f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"'.encode())
    try:
        yield postgres_url.replace("postgresql://postgres@", f"postgresql://{role}@")
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP OWNED BY "{role}"'.encode())
            admin.execute(f'DROP ROLE IF EXISTS "{role}"'.encode())


@pytest.mark.parametrize("command", [["status"], ["worker", "--until-idle"]], ids=lambda c: c[0])
def test_a_role_without_privileges_is_told_to_use_the_owner_or_grant(
    study: Path, stranger: str, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    monkeypatch.setenv("HEARTKEEP_STUDY_DATABASE_URL", stranger)
    code, out = run("study", *command)
    assert code == 9, out
    assert "permission denied" in out
    assert "GRANT" in out


# --- the token keys ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda keys: keys.unlink(), "cannot be read"),
        (lambda keys: keys.write_text("not-base64!!\n"), "not valid base64"),
        (lambda keys: keys.write_text("AAAA\n"), "must be 32 bytes"),
        (lambda keys: keys.write_text(""), "holds no key"),
    ],
    ids=["missing", "garbage", "short", "empty"],
)
def test_damaged_token_keys_name_the_file_and_say_restore_from_backup(
    study: Path, postgres_url: str, damage, reason: str
) -> None:
    enrol_dana(study, postgres_url)
    damage(study.parent / "study-token-keys")
    for command in (["worker", "--until-idle"], ["withdraw", "P-004"]):
        code, out = run("study", *command)
        assert code == 3, out
        assert f"the token keys file {study.parent / 'study-token-keys'}" in out
        assert "[tokens] keys_file" in out
        assert reason in out
        assert "Restore the keys from your backup" in out
    with open_postgres_store(postgres_url, readonly=True) as store:
        assert store.sample_count(DANA.key) == 200  # nothing withdrawn


def test_withdrawing_with_the_wrong_key_deletes_nothing_and_says_which_key(
    study: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from heartkeep.store.token_cipher import new_key

    enrol_dana(study, postgres_url)
    monkeypatch.setenv("HEARTKEEP_STUDY_TOKEN_KEYS", new_key())
    code, out = run("study", "withdraw", "P-004")
    assert code == 9, out
    assert "nothing was deleted" in out
    assert "Put back the token key" in out
    with open_postgres_store(postgres_url, readonly=True) as store:
        assert store.sample_count(DANA.key) == 200


# --- withdraw ---------------------------------------------------------------------------------


def test_withdrawing_twice_names_the_first_withdrawal(study: Path, postgres_url: str) -> None:
    enrol_dana(study, postgres_url)
    code, out = run("study", "withdraw", "P-004", "--no-revoke")
    assert code == 0, out
    for name in ("P-004", DANA.key):
        code, out = run("study", "withdraw", name, "--no-revoke")
        assert code == 10, out
        assert "withdrawn already on" in out
        assert "audit record 1" in out


def test_withdrawing_while_google_cannot_be_reached_keeps_everything_and_says_so(
    study: Path, postgres_url: str, pinned_wall_clock: float
) -> None:
    enrol_dana(study, postgres_url)
    code, out = run("study", "withdraw", "P-004")  # the sandbox URL answers nothing
    assert code == 6, out
    assert "nothing was deleted" in out
    assert "--no-revoke" in out
    with open_postgres_store(postgres_url, readonly=True, token_cipher=cipher_of(study)) as store:
        assert store.sample_count(DANA.key) == 200
        assert store.load_tokens(DANA.key) is not None


# --- serve ------------------------------------------------------------------------------------


def test_serve_on_an_address_not_of_this_machine_says_so_not_port_in_use(
    study: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HEARTKEEP_STUDY_LISTEN_HOST", "192.0.2.1")  # TEST-NET: never ours
    code, out = run("study", "serve")
    assert code == 2, out
    assert "cannot listen on 192.0.2.1:" in out
    assert "listen_host" in out
    assert "Another program uses that port" not in out


# --- export -----------------------------------------------------------------------------------


def test_export_names_participants_by_study_id_too(
    study: Path, postgres_url: str, tmp_path: Path
) -> None:
    enrol_dana(study, postgres_url)
    code, out = run("study", "export", str(tmp_path / "out"), "--participant", "P-004", "--json")
    assert code == 0, out
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["participant=google-health_1004"]
    code, out = run("study", "export", str(tmp_path / "o2"), "--participant", "P-404")
    assert code == 2, out
    assert "no participant P-404" in out
    assert "study status" in out


def test_ctrl_c_during_export_leaves_nothing_and_says_so(
    study: Path, postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pyarrow.parquet as pq

    enrol_dana(study, postgres_url)
    with open_postgres_store(postgres_url, token_cipher=cipher_of(study)) as store:
        other = Account("google-health", "1005", "Eve", "UTC")
        store.upsert_account(other)
        store.write_samples(other.key, [Sample(1_795_000_000, 70, 0)], Source.GOOGLE_HEALTH)
    real_write = pq.write_table
    calls: list[int] = []

    def write_then_ctrl_c(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_write(*args, **kwargs)

    monkeypatch.setattr(pq, "write_table", write_then_ctrl_c)
    (tmp_path / "empty").mkdir()
    for target in (tmp_path / "new", tmp_path / "empty"):
        calls.clear()
        code, out = run("study", "export", str(target), "--config", str(study))
        assert code == 130, out
        assert f"nothing was written to {target}" in out
        assert not target.exists() or list(target.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "home"]


@contextlib.contextmanager
def tmpfs(where: Path, *options: str) -> Iterator[Path]:
    """A small tmpfs mounted at `where` (root only), unmounted afterwards."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root: run as root (as CI does) to test this")
    where.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", ",".join(("size=64k", *options)), "tmpfs", str(where)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.strip()}): not testable")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True, check=False)


def test_export_onto_a_full_disk_says_free_space_and_leaves_nothing(
    study: Path, postgres_url: str, tmp_path: Path
) -> None:
    noise = random.Random(13)  # heart rates that compress badly: more than the disk holds
    with open_postgres_store(postgres_url, token_cipher=cipher_of(study)) as store:
        store.upsert_account(DANA)
        store.write_samples(
            DANA.key,
            [Sample(1_790_000_000 + 5 * i, noise.randint(40, 200), 0) for i in range(150_000)],
            Source.GOOGLE_HEALTH,
        )
    with tmpfs(tmp_path / "small") as disk:
        code, out = run("study", "export", str(disk / "out"))
        assert code == 9, out
        assert "The disk is full" in out
        assert "nothing was exported" in out
        assert list(disk.iterdir()) == []


def test_export_into_an_empty_mounted_disk_writes_there(
    study: Path, postgres_url: str, tmp_path: Path
) -> None:
    """An empty disk mounted for the export is the destination itself: it used to be staged
    beside the mount point (on the other disk) and then fail to replace it (EBUSY)."""
    enrol_dana(study, postgres_url)
    with tmpfs(tmp_path / "disk") as disk:
        code, out = run("study", "export", str(disk))
        assert code == 0, out
        assert [p.name for p in disk.iterdir()] == ["participant=google-health_1004"]
        assert (disk / "participant=google-health_1004").stat().st_mode & 0o777 == 0o700
    assert sorted(p.name for p in tmp_path.iterdir()) == ["disk", "home"]


def test_export_into_a_read_only_disk_says_so(
    study: Path, postgres_url: str, tmp_path: Path
) -> None:
    enrol_dana(study, postgres_url)
    with tmpfs(tmp_path / "ro", "ro") as disk:
        for target in (disk, disk / "sub"):
            code, out = run("study", "export", str(target))
            assert code == 9, out
            assert "read-only" in out
            assert "writable disk" in out


# --- demo -------------------------------------------------------------------------------------


def test_demo_refuses_a_database_url_that_is_no_url_or_holds_a_study_before_starting(
    study: Path, postgres_url: str
) -> None:
    code, out = run("study", "demo", "--participants", "1", "--days", "1", "--database-url", "db")
    assert code == 2, out
    assert "--database-url" in out
    assert "sandbox" not in out  # refused before anything started
    enrol_dana(study, postgres_url)
    code, out = run(
        "study", "demo", "--participants", "1", "--days", "1", "--database-url", postgres_url
    )
    assert code == 2, out
    assert "already holds a study (1 participants)" in out
    with open_postgres_store(postgres_url, readonly=True) as store:
        assert [a.key for a in store.accounts()] == [DANA.key]


def test_ctrl_c_while_the_demo_makes_its_database_drops_it(
    home: Path,
    postgres,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    from heartkeep.cli import render

    made: list[str] = []

    def say(text: str) -> None:
        if text.startswith("PostgreSQL:"):
            made.append(text.rsplit("database ", 1)[1])
            raise KeyboardInterrupt  # the first moment after CREATE DATABASE returns

    monkeypatch.setattr(render, "info", say)
    code, out = run("study", "demo", "--participants", "1", "--days", "1")
    assert code == 130, out
    assert "study demo interrupted" in out
    assert made
    if (postgres.server.host, postgres.server.port) != MACHINE_SERVER:
        return  # the demo made a throw-away server of its own, gone with its database
    with psycopg.connect(postgres.server.url(), autocommit=True) as admin:
        left = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (made[0],)).fetchall()
    assert left == []


# --- init -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "named"),
    [
        (["--name", " "], "--name"),
        (["--public-url", "ftp://study.example.org"], "--public-url"),
        (["--sandbox-url", "localhost:9"], "--sandbox-url"),
        (["--consent", "/nonexistent/consent.md"], "--consent"),
        (["--database-url", "mysql://root:hunter2@db/x"], "--database-url"),
        (["--database-url", "postgresql://u:hunter2@[broken"], "--database-url"),
    ],
    ids=["name", "public-url", "sandbox-url", "consent", "not-postgres", "unparsable"],
)
def test_init_refuses_a_bad_option_before_writing_anything(
    home: Path, postgres_url: str, options: list[str], named: str
) -> None:
    """It used to create the schema and write a config every later command refused — and that
    `init` would not replace."""
    path = home / "study" / "study.toml"
    args = ["study", "init", "--config", str(path), "--database-url", postgres_url, *options]
    code, out = run(*args)
    assert code == 2, out
    assert named in out
    assert "hunter2" not in out
    assert not path.parent.exists()
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        made = conn.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()"
        ).fetchone()
    assert made == (0,)


# --- invite -----------------------------------------------------------------------------------


def test_invite_makes_no_link_at_all_when_one_id_is_refused(study: Path, postgres_url: str) -> None:
    """The links made before the refused id used to stay valid, never shown to anyone."""
    code, out = run("study", "invite", "P-001", "P-002", "not an id", "P-003")
    assert code == 2, out
    assert "'not an id' is not a usable participant id" in out
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        if conn.execute("SELECT to_regclass('study_enrolment')").fetchone() != (None,):
            assert conn.execute("SELECT count(*) FROM study_enrolment").fetchone() == (0,)
    code, out = run("study", "invite", "P-001", "P-001", "--json")
    assert code == 0, out
    assert out.count('"participant"') == 1


def test_a_worker_with_the_wrong_token_keys_refuses_to_start(
    study: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It used to start, and every job failed and was retried without a word on its terminal."""
    from heartkeep.store.token_cipher import new_key

    enrol_dana(study, postgres_url)
    monkeypatch.setenv("HEARTKEEP_STUDY_TOKEN_KEYS", new_key())
    code, out = run("study", "worker", "--until-idle")
    assert code == 3, out
    assert "the token keys open none of the 1 participants' tokens" in out
    assert "wrong keys" in out
    monkeypatch.delenv("HEARTKEEP_STUDY_TOKEN_KEYS")
    code, out = run("study", "worker", "--until-idle")  # the right keys: it runs
    assert code == 0, out
