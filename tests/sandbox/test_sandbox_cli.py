"""`heartkeep sandbox serve` as a person runs it: says where it listens, serves, stops on Ctrl-C."""

from __future__ import annotations

import signal
import subprocess
import sys

import httpx
from typer.testing import CliRunner

from child_signals import sigint_as_usual
from heartkeep import api
from heartkeep.cli import app
from heartkeep.sandbox.credentials import GOOGLE_CLIENT_ID


def test_serve_prints_the_url_and_demo_credentials_then_stops_on_ctrl_c(home) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "heartkeep", "sandbox", "serve", "--port", "0", "--seed", "7"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=sigint_as_usual,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith("heartkeep sandbox serving on http://127.0.0.1:")
        url = first.split()[4]
        lines = [process.stdout.readline() for _ in range(14)]
        assert any(GOOGLE_CLIENT_ID in line for line in lines)
        response = httpx.get(url + "/v4/users/me/identity")
        assert response.status_code == 401
        assert response.json()["error"]["status"] == "UNAUTHENTICATED"
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert "sandbox stopped" in out


def test_serve_refuses_a_port_in_use_with_a_clear_message(home) -> None:
    with api.sandbox_server() as taken:
        result = CliRunner().invoke(app, ["sandbox", "serve", "--port", str(taken.port)])
    assert result.exit_code != 0
    assert "cannot serve the sandbox" in result.output + (result.stderr or "")
    assert "--port" in result.output + (result.stderr or "")


def test_sandbox_help_names_its_switches() -> None:
    result = CliRunner().invoke(app, ["sandbox", "serve", "--help"])
    assert result.exit_code == 0
    switches = (
        "--port",
        "--seed",
        "--documented-pages",
        "--verified-app",
        "--retry-after",
        "--deadline-above",
        "--consent-page",
        "--testing-app",
    )
    for switch in switches:
        assert switch in result.output


def test_the_library_builds_a_configured_sandbox() -> None:
    default = api.sandbox_server()
    assert default.config.page_size_mode == "observed"
    assert default.config.app_class == "unverified"
    assert default.config.send_retry_after is False
    server = api.sandbox_server(
        documented_page_sizes=True,
        verified_app=True,
        retry_after=True,
        deadline_above_points=2000,
        consent_page=True,
        seed=11,
    )
    assert server.config.page_size_mode == "documented"
    assert server.config.app_class == "verified"
    assert server.config.send_retry_after is True
    assert server.config.deadline_above_points == 2000
    assert server.config.auto_approve is False
    assert next(iter(server.state.users.values())).seed == 11
