"""`heartkeep study invite` and `heartkeep study withdraw` from the operator's side.

The links `invite` prints open the enrolment site (tests/study/test_web_*.py follow them through
consent and OAuth); here: what the command prints and refuses.  `withdraw` revokes the grant at
the sandbox's real revoke endpoint, deletes the participant's data and tokens, and leaves the
audit record.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from heartkeep.cli import app
from heartkeep.model import Account, Sample, Source, TokenSet
from heartkeep.sandbox.credentials import GOOGLE_WEB_CLIENT_ID
from heartkeep.store import open_postgres_store
from heartkeep.store.token_cipher import TokenCipher
from heartkeep.study import enrolment_tables as tables


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


@pytest.fixture
def study(home: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = home / "study" / "study.toml"
    code, out = run(
        "study", "init", "--config", str(path), "--database-url", postgres_url,
        "--sandbox-url", "http://127.0.0.1:9", "--public-url", "https://study.example.org",
    )  # fmt: skip
    assert code == 0, out
    monkeypatch.setenv("HEARTKEEP_STUDY_CONFIG", str(path))
    return path


def test_invite_prints_one_signed_link_per_participant(study: Path) -> None:
    code, out = run("study", "invite", "P-001", "P-002", "--json")
    assert code == 0, out
    links = orjson.loads(out)
    assert [link["participant"] for link in links] == ["P-001", "P-002"]
    assert all(link["url"].startswith("https://study.example.org/enrol/") for link in links)
    assert links[0]["url"] != links[1]["url"]
    code, out = run("study", "invite", "P-003", "--valid-days", "2")
    assert code == 0
    assert out.startswith("P-003  https://study.example.org/enrol/")


def test_invite_refuses_an_id_that_cannot_be_one(study: Path) -> None:
    code, out = run("study", "invite", "no spaces please")
    assert code == 2
    assert "not a usable participant id" in out


def test_withdraw_revokes_at_google_deletes_everything_and_keeps_the_audit(
    study: Path, postgres_url: str, sandbox_factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox = sandbox_factory()
    monkeypatch.setenv("HEARTKEEP_STUDY_SANDBOX_URL", sandbox.url)
    now = sandbox.state.clock.now_s()
    user_id = "111111256096816351"
    issued = sandbox.state.grants.issue_direct(
        GOOGLE_WEB_CLIENT_ID, user_id, ("https://www.googleapis.com/auth/x",), now
    )
    account = Account("google-health", user_id, "Dana", "UTC")
    keys = (study.parent / "study-token-keys").read_text()
    cipher = TokenCipher.from_environment({"HEARTKEEP_STUDY_TOKEN_KEYS": keys})
    with open_postgres_store(postgres_url, token_cipher=cipher) as store:
        store.upsert_account(account)
        store.write_samples(
            account.key,
            [Sample(int(now) - i * 60, 62, 0) for i in range(100)],
            Source.GOOGLE_HEALTH,
        )
        tokens = TokenSet(issued["access_token"], issued["refresh_token"], now + 3600, ())
        store.save_tokens(account.key, tokens)

    code, out = run("study", "withdraw", account.key)
    assert code == 0, out
    assert "grant revoked" in out
    assert all(g.revoked for g in sandbox.state.grants.grants.values() if g.user_id == user_id)
    with open_postgres_store(postgres_url, readonly=True, token_cipher=cipher) as store:
        assert store.accounts() == []
        assert store.sample_count(account.key) == 0
        assert store.load_tokens(account.key) is None
        records = tables.audit_records(tables.connection(store))
    assert [(r.action, r.account_key, r.actor) for r in records] == [
        ("withdrawal", account.key, "cli")
    ]

    code, out = run("study", "withdraw", account.key)
    assert code == 10
    assert "no participant" in out
