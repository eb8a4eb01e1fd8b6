"""`heartkeep study init | status | export | doctor` as a study's operator runs them.

Against a real PostgreSQL (an empty schema of the test's own, tests/postgres_server.py): `init`
writes the config and creates the schema; participants' data is then written through the store
as workers would, and `status`, `export` and `doctor` read it back from the user's side (the
CLI), the export as DuckDB, pandas and pyarrow users read a hive-partitioned dataset.
"""

from __future__ import annotations

import datetime as dt
import stat
import tomllib
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from heartkeep.cli import app
from heartkeep.model import Account, Sample, Source, TokenSet
from heartkeep.sandbox.config import TEST_START_S
from heartkeep.store import open_postgres_store
from heartkeep.store.protocol import StreamState
from heartkeep.store.token_cipher import TokenCipher, new_key
from heartkeep.study import grant_state
from heartkeep.study.coordinator_auth import check_password
from heartkeep.study.grant_state import GrantState

DAY_S = 86_400
ALICE = Account("google-health", "1001", "Alice", "UTC")
BOB = Account("google-health", "1002", "Bob", "Europe/Berlin")
CAROL = Account("google-health", "1003", "Carol", "UTC")


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


@pytest.fixture
def study(home: Path, postgres_url: str) -> Path:
    """A study made by `heartkeep study init` against the sandbox; its config file."""
    path = home / "study" / "study.toml"
    code, out = run(
        "study", "init", "--config", str(path), "--database-url", postgres_url,
        "--sandbox-url", "http://127.0.0.1:9", "--name", "Sleep and heart",
    )  # fmt: skip
    assert code == 0, out
    return path


def cipher_of(config: Path) -> TokenCipher:
    keys = (config.parent / "study-token-keys").read_text()
    return TokenCipher.from_environment({"HEARTKEEP_STUDY_TOKEN_KEYS": keys})


def fill(config: Path, url: str) -> None:
    """Three participants as workers leave them (a sample a minute: worn, by the gap rule):
    Alice worn all along (two UTC months), Bob stopped three days ago, Carol whose last sync
    was refused (grant revoked)."""
    now = int(TEST_START_S)
    with open_postgres_store(url, token_cipher=cipher_of(config)) as store:
        alice_from = now - 25 * DAY_S  # 2026-10-26: October and November
        store.write_samples(
            ALICE.key,
            [Sample(s, 60 + s % 30, 0) for s in range(alice_from, now - 600, 60)],
            Source.GOOGLE_HEALTH,
        )
        store.write_samples(
            BOB.key,
            [Sample(s, 70, 60) for s in range(now - 6 * DAY_S, now - 3 * DAY_S, 60)],
            Source.GOOGLE_HEALTH,
        )
        for account in (ALICE, BOB, CAROL):
            store.upsert_account(account)
            store.save_stream_state(account.key, "heart-rate", StreamState(last_success_s=now))
            store.save_tokens(
                account.key,
                TokenSet("ya29.a", "1//r", now + 3600, ("s",), user_id=account.user_id),
            )
        run_id = store.begin_run(CAROL.key, now - 60)
        store.finish_run(
            run_id,
            finished_s=now - 50,
            status="failed",
            requests=1,
            samples_added=0,
            rate_limit_waits=0,
            error="access was revoked or expired, run `heartkeep auth login` again",
        )
        # as the worker records what the token client classified (invalid_grant)
        grant_state.record(store.connection(), CAROL.key, GrantState.REVOKED, "refused", now)


def test_init_writes_a_private_config_with_fresh_secrets_and_creates_the_schema(
    study: Path, postgres_url: str
) -> None:
    table = tomllib.loads(study.read_text())
    for path in (study, study.parent / "study-token-keys", study.parent / "consent.md"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert table["database"]["url"] == postgres_url
    assert table["web"]["webhook_authorization"].startswith("Bearer ")
    assert len(table["web"]["invite_signing_key"]) >= 40
    assert table["provider"]["client_id"]  # the sandbox's web client
    with open_postgres_store(postgres_url, readonly=True) as store:
        assert store.accounts() == []  # the schema is there (a reader finds it)


def test_init_prints_the_coordinator_password_once_and_keeps_only_its_hash(
    home: Path, postgres_url: str
) -> None:
    path = home / "s.toml"
    code, out = run("study", "init", "--config", str(path), "--database-url", postgres_url)
    assert code == 0, out
    password = out.split("Coordinator login: coordinator / ")[1].split()[0]
    stored = tomllib.loads(path.read_text())["coordinator"]["password_hash"]
    assert password not in path.read_text()
    assert check_password(password, stored)
    assert not check_password(password + "x", stored)


def test_init_never_replaces_an_existing_config(study: Path, postgres_url: str) -> None:
    before = study.read_text()
    code, out = run("study", "init", "--config", str(study), "--database-url", postgres_url)
    assert code == 3
    assert "exists already" in out
    assert study.read_text() == before


def test_init_against_an_unreachable_database_writes_nothing(home: Path) -> None:
    path = home / "study" / "study.toml"
    code, out = run(
        "study", "init", "--config", str(path),
        "--database-url", "postgresql://postgres@127.0.0.1:1/nothing",
    )  # fmt: skip
    assert code == 9
    assert "could not connect to PostgreSQL" in out
    assert not path.exists()


def test_a_missing_config_says_how_to_make_one(home: Path) -> None:
    code, out = run("study", "status")
    assert code == 3
    assert "no study configuration at" in out
    assert "heartkeep study init" in out


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.replace("[web]", "[web\n"), "is not valid TOML"),
        (lambda t: t + "\n[extra]\nthing = 1\n", "unknown setting [extra] thing"),
        (lambda t: t.replace("listen_port = 8080", 'listen_port = "x"'), "whole number"),
        (lambda t: t.replace('app_class = "unverified"', 'app_class = "gold"'), "app_class"),
    ],
)
def test_an_invalid_config_is_exit_3_naming_the_setting(study: Path, edit, message) -> None:
    study.write_text(edit(study.read_text()))
    code, out = run("study", "doctor", "--config", str(study))
    assert code == 3, out
    assert message in out


def test_the_environment_wins_over_the_file(study: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEARTKEEP_STUDY_CONFIG", str(study))
    monkeypatch.setenv("HEARTKEEP_STUDY_DATABASE_URL", "postgresql://postgres@127.0.0.1:1/x")
    code, out = run("study", "status")
    assert code == 9
    assert "127.0.0.1:1" in out


def test_status_shows_completeness_stopped_series_and_revoked_grants(
    study: Path, postgres_url: str, pinned_wall_clock: float
) -> None:
    fill(study, postgres_url)
    code, out = run("study", "status", "--config", str(study), "--json")
    assert code == 0, out
    report = orjson.loads(out)
    by_key = {p["account_key"]: p for p in report["participants"]}
    assert set(by_key) == {ALICE.key, BOB.key, CAROL.key}
    alice = by_key[ALICE.key]
    assert [share for _, share in alice["days"]] == [pytest.approx(1.0, abs=0.01)] * 7
    assert report["stopped"] == [BOB.key]
    assert report["revoked"] == [CAROL.key]
    assert by_key[CAROL.key]["grant_state"] == "revoked"
    assert by_key[ALICE.key]["grant_state"] is None
    code, out = run("study", "status", "--config", str(study))
    assert code == 0
    assert "11-19" in out
    assert "100%" in out
    assert f"{CAROL.key}: access revoked" in out


def test_export_is_a_dataset_duckdb_pandas_and_pyarrow_read_by_participant_and_month(
    study: Path, postgres_url: str, tmp_path: Path
) -> None:
    import duckdb
    import pandas as pd
    import pyarrow.dataset as ds

    fill(study, postgres_url)
    out_dir = tmp_path / "export"
    code, out = run("study", "export", str(out_dir), "--config", str(study), "--json")
    assert code == 0, out
    summary = orjson.loads(out)
    with open_postgres_store(postgres_url, readonly=True) as store:
        stored = {a.key: store.sample_count(a.key) for a in store.accounts()}
    assert summary["samples"] == sum(stored.values())
    assert sorted(p.name for p in out_dir.iterdir()) == [
        "participant=google-health_1001",
        "participant=google-health_1002",
    ]
    assert sorted(p.name for p in (out_dir / "participant=google-health_1001").iterdir()) == [
        "month=2026-10",
        "month=2026-11",
    ]
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in out_dir.rglob("*.parquet"))

    dataset = ds.dataset(out_dir, format="parquet", partitioning="hive")
    alice = dataset.to_table(filter=ds.field("participant") == "google-health_1001")
    assert alice.num_rows == stored[ALICE.key]

    con = duckdb.connect()
    rows = con.execute(
        "SELECT participant, month, count(*), min(bpm), max(bpm) FROM read_parquet(?, "
        "hive_partitioning = true) GROUP BY ALL ORDER BY ALL",
        [str(out_dir / "**" / "*.parquet")],
    ).fetchall()
    assert [r[:2] for r in rows] == [
        ("google-health_1001", "2026-10"),
        ("google-health_1001", "2026-11"),
        ("google-health_1002", "2026-11"),
    ]
    assert rows[0][2] + rows[1][2] == stored[ALICE.key]
    assert rows[2][2:] == (stored[BOB.key], 70, 70)

    frame = pd.read_parquet(out_dir, engine="pyarrow")
    bob = frame[frame["participant"] == "google-health_1002"]
    assert len(bob) == stored[BOB.key]
    assert (bob["utc_offset_min"] == 60).all()
    first = bob["instant"].min().to_pydatetime()
    assert first == dt.datetime.fromtimestamp(TEST_START_S - 6 * DAY_S, dt.UTC)


def test_export_refuses_a_folder_with_files_and_leaves_it_alone(
    study: Path, postgres_url: str, tmp_path: Path
) -> None:
    fill(study, postgres_url)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "mine.txt").write_text("keep")
    code, out = run("study", "export", str(tmp_path / "out"), "--config", str(study))
    assert code == 2
    assert "not an empty folder" in out
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["mine.txt"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_export_with_nobody_enrolled_is_exit_10(study: Path, tmp_path: Path) -> None:
    code, out = run("study", "export", str(tmp_path / "x"), "--config", str(study))
    assert code == 10
    assert "nobody is enrolled" in out
    assert not (tmp_path / "x").exists()


def test_doctor_warns_of_an_unverified_app_and_the_consent_placeholder(study: Path) -> None:
    code, out = run("study", "doctor", "--config", str(study), "--json")
    assert code == 11, out
    findings = {f["check"]: f for f in orjson.loads(out)["findings"]}
    assert findings["app"]["level"] == "warning"
    assert "100 users" in findings["app"]["message"]
    assert "2.5 requests/s" in findings["app"]["message"]
    assert findings["consent"]["level"] == "warning"
    assert findings["database"]["level"] == "ok"
    (study.parent / "consent.md").write_text("We study sleep. You may withdraw at any time.\n")
    study.write_text(study.read_text().replace('"unverified"', '"verified"'))
    code, out = run("study", "doctor", "--config", str(study))
    assert code == 0, out


def test_doctor_finds_tokens_the_keys_cannot_open(
    study: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(study, postgres_url)
    monkeypatch.setenv("HEARTKEEP_STUDY_TOKEN_KEYS", new_key())  # the old key dropped too early
    code, out = run("study", "doctor", "--config", str(study), "--json")
    assert code == 12, out
    keys = next(f for f in orjson.loads(out)["findings"] if f["check"] == "keys")
    assert keys["level"] == "problem"
    assert "3 participants' tokens do not open" in keys["message"]
    assert "ya29" not in out


def test_doctor_reports_an_unreachable_database_and_a_plain_http_public_url(
    study: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HEARTKEEP_STUDY_DATABASE_URL", "postgresql://postgres@127.0.0.1:1/x")
    monkeypatch.setenv("HEARTKEEP_STUDY_PUBLIC_BASE_URL", "http://study.example.org")
    code, out = run("study", "doctor", "--config", str(study), "--json")
    assert code == 12
    findings = {f["check"]: f for f in orjson.loads(out)["findings"]}
    assert findings["database"]["level"] == "problem"
    assert findings["web"]["level"] == "problem"
    assert "HTTPS only" in findings["web"]["message"]
