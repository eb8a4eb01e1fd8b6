"""`heartkeep study serve`, `study worker` and `study demo` from the operator's side.

`serve` runs as a person starts it (a child process, stopped with SIGTERM as systemd does) and
answers the site's home page and Google's webhook verification handshake.  `demo` runs the
whole study — a database, the sandbox with synthetic participants, enrolment over HTTP, two
`study worker` processes — against the test's own PostgreSQL schema and prints the table.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import orjson
import pytest
from typer.testing import CliRunner

from heartkeep.cli import app
from heartkeep.store import open_postgres_store


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serve_answers_the_site_and_googles_webhook_handshake_then_stops_on_sigterm(
    home: Path, postgres_url: str, sandbox_factory
) -> None:
    sandbox = sandbox_factory()
    config = home / "study.toml"
    code, out = run(
        "study", "init", "--config", str(config), "--database-url", postgres_url,
        "--sandbox-url", sandbox.url,
    )  # fmt: skip
    assert code == 0, out
    port = free_port()
    env = {
        **os.environ,
        "HEARTKEEP_STUDY_CONFIG": str(config),
        "HEARTKEEP_STUDY_LISTEN_PORT": str(port),
        "HEARTKEEP_STUDY_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
    }
    child = subprocess.Popen(
        [sys.executable, "-m", "heartkeep", "study", "serve"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = child.stdout.readline() if child.stdout else ""
        assert first.startswith(f"study site serving on http://127.0.0.1:{port}"), first + (
            child.stderr.read() if child.stderr and child.poll() is not None else ""
        )
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(base + "/").status_code == 200
        secret = _setting(config, "webhook_authorization")
        probe = orjson.dumps({"type": "verification"})
        hook = base + "/webhooks/google-health"
        headers = {"Content-Type": "application/json"}
        assert httpx.post(hook, content=probe, headers=headers).status_code == 401
        with_secret = {**headers, "Authorization": secret}
        assert httpx.post(hook, content=probe, headers=with_secret).status_code == 201
    finally:
        child.send_signal(signal.SIGTERM)
        out, errors = child.communicate(timeout=60)
    assert child.returncode == 0, errors
    assert "study site stopped" in out


def test_serve_on_a_port_in_use_says_so(
    home: Path, postgres_url: str, sandbox_factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox = sandbox_factory()
    config = home / "study.toml"
    run(
        "study", "init", "--config", str(config), "--database-url", postgres_url,
        "--sandbox-url", sandbox.url,
    )  # fmt: skip
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        monkeypatch.setenv("HEARTKEEP_STUDY_LISTEN_PORT", str(taken.getsockname()[1]))
        code, out = run("study", "serve", "--config", str(config))
    assert code == 2
    assert "cannot listen on 127.0.0.1:" in out


def test_worker_refuses_a_quota_speedup_against_google(home: Path, postgres_url: str) -> None:
    config = home / "study.toml"
    run("study", "init", "--config", str(config), "--database-url", postgres_url)
    config.write_text(config.read_text().replace('client_id = ""', 'client_id = "x"'))
    code, out = run("study", "worker", "--config", str(config), "--quota-speedup", "10")
    assert code == 2
    assert "sandbox only" in out


def test_demo_enrols_everyone_over_http_and_two_workers_sync_them(
    home: Path, postgres_url: str
) -> None:
    started = time.monotonic()
    code, out = run(
        "study", "demo", "--participants", "3", "--days", "1", "--database-url", postgres_url
    )
    assert code == 0, out
    assert "3 participants enrolled over HTTP" in out
    assert "2 workers syncing" in out
    # the table leads with the study's own ids, as invited, then the account each one joined with
    table = [line for line in out.splitlines() if line.startswith("P-00")]
    assert [line.split()[0] for line in table] == ["P-001", "P-002", "P-003"]
    assert all(line.split()[1].startswith("google-health:") for line in table)
    assert all("never" not in line for line in table)  # every participant synced
    with open_postgres_store(postgres_url, readonly=True) as store:
        keys = [a.key for a in store.accounts()]
        assert len(keys) == 3
        assert all(store.sample_count(key) > 10_000 for key in keys)
        assert all(store.runs(key)[0].status == "ok" for key in keys)
    assert time.monotonic() - started < 600


def _setting(config: Path, key: str) -> str:
    import tomllib

    return str(tomllib.loads(config.read_text())["web"][key])
