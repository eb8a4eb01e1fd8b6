"""`heartkeep auth ...` as a person uses it, against the sandbox over loopback HTTP.

The browser is a test double that follows the consent address (the sandbox auto-approves) and
lands on heartkeep's one-shot callback server, patched in for `webbrowser.open`.  The last test
collects every byte these commands print or log and greps it for every secret in play.
"""

from __future__ import annotations

import logging
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
import orjson
import pytest
from typer.testing import CliRunner

from heartkeep.auth import connected_accounts, open_connection
from heartkeep.cli import app
from heartkeep.clock import SystemClock
from heartkeep.config import load_settings
from heartkeep.errors import HeartkeepError
from heartkeep.sandbox import credentials
from heartkeep.sandbox.fitbit import fitbit_sandbox
from heartkeep.sandbox.server import SandboxServer


@dataclass
class Browser:
    """Follows the consent address and lands on the redirect, optionally after a detour."""

    on_redirect: Callable[[], None] = lambda: None
    landings: list[httpx.Response] = field(default_factory=list)

    def __call__(self, url: str, *args: object, **kwargs: object) -> bool:
        # The browser's own traffic (whose addresses carry the code) is not heartkeep's output:
        # keep it out of the captured logs that the secret test greps.
        logging.disable(logging.CRITICAL)
        try:
            consent = httpx.get(url, follow_redirects=False, timeout=10)
            if consent.status_code in (302, 303):
                self.on_redirect()
                self.landings.append(httpx.get(consent.headers["location"], timeout=10))
        finally:
            logging.disable(logging.NOTSET)
        return True


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> Browser:
    fake = Browser()
    monkeypatch.setattr(webbrowser, "open", fake)
    return fake


@dataclass
class Transcript:
    """Everything the commands printed, to grep for secrets at the end."""

    texts: list[str] = field(default_factory=list)

    def run(self, *args: str, input: str | None = None) -> object:
        result = CliRunner().invoke(app, list(args), input=input)
        self.texts.append(result.output)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            self.texts.append(repr(result.exception))
        return result


def test_login_status_logout_story(sandbox: SandboxServer, home: object, browser: Browser) -> None:
    transcript = Transcript()
    login = transcript.run("auth", "login", "--sandbox", sandbox.url)
    assert login.exit_code == 0, login.output
    key = f"google-health:{sandbox.state.login_user_id}"
    assert f"Connected {key}." in login.output
    assert "/o/oauth2/v2/auth?" in login.output  # the address is shown in case no browser opens
    assert browser.landings[0].status_code == 200

    status = transcript.run("auth", "status")
    assert status.exit_code == 0
    assert key in status.output
    assert "health_metrics_and_measurements.readonly" in status.output
    assert "unverified app: Google allows 2.5 requests/s per user" in status.output
    assert "app_class from default" in status.output

    as_json = transcript.run("auth", "status", "--json")
    (entry,) = orjson.loads(as_json.output)
    assert entry["account"] == key
    assert entry["provider"] == "google-health"
    assert entry["refresh_token_present"] is True
    assert entry["warnings"] == []
    assert entry["quota"]["app_class"] == "unverified"
    assert entry["quota"]["requests_per_second"] == 2.5
    assert entry["quota"]["source"] == "default"
    assert "access_token" not in as_json.output

    logout = transcript.run("auth", "logout")
    assert logout.exit_code == 0
    assert f"Logged out {key}" in logout.output
    assert "data kept" in logout.output
    assert "No account is connected" in transcript.run("auth", "status").output


def test_the_app_class_comes_from_the_environment_and_a_wrong_one_exits_3(
    sandbox: SandboxServer, home: object, browser: Browser, monkeypatch: pytest.MonkeyPatch
) -> None:
    transcript = Transcript()
    assert transcript.run("auth", "login", "--sandbox", sandbox.url).exit_code == 0
    monkeypatch.setenv("HEARTKEEP_APP_CLASS", "verified")
    (entry,) = orjson.loads(transcript.run("auth", "status", "--json").output)
    assert entry["quota"]["app_class"] == "verified"
    assert entry["quota"]["requests_per_second"] == 5.0
    assert entry["quota"]["source"] == "environment HEARTKEEP_APP_CLASS"
    monkeypatch.setenv("HEARTKEEP_APP_CLASS", "premium")
    wrong = transcript.run("auth", "status")
    assert wrong.exit_code == 3
    assert "app_class" in wrong.output
    assert "unverified" in wrong.output
    assert "Traceback" not in wrong.output


def test_expired_code_exits_4_with_the_ten_minute_explanation(
    sandbox: SandboxServer, home: object, browser: Browser
) -> None:
    browser.on_redirect = lambda: sandbox.state.clock.advance(15 * 60)
    result = CliRunner().invoke(app, ["auth", "login", "--sandbox", sandbox.url])
    assert result.exit_code == 4
    assert "expired or was already used" in result.output
    assert "10 minutes" in result.output


def test_wrong_client_secret_exits_3_without_echoing_it(
    sandbox: SandboxServer, home: object, browser: Browser
) -> None:
    result = CliRunner().invoke(
        app,
        [
            "auth",
            "login",
            "--sandbox",
            sandbox.url,
            "--client-id",
            credentials.GOOGLE_CLIENT_ID,
            "--client-secret",
            "definitely-wrong-secret",
        ],
    )
    assert result.exit_code == 3
    assert "client ID or client secret is wrong" in result.output
    assert "definitely-wrong-secret" not in result.output


def test_client_file_from_google_console_is_accepted(
    sandbox: SandboxServer, home: object, browser: Browser, tmp_path: object
) -> None:
    from pathlib import Path

    client_file = Path(str(tmp_path)) / "client_secret.json"
    client_file.write_bytes(orjson.dumps(credentials.google_client_json(sandbox.url)))
    result = CliRunner().invoke(
        app, ["auth", "login", "--sandbox", sandbox.url, "--client-file", str(client_file)]
    )
    assert result.exit_code == 0, result.output
    assert credentials.GOOGLE_CLIENT_SECRET not in result.output


def test_fitbit_after_shutdown_exits_5_and_points_to_google(
    sandbox_factory: Callable[..., SandboxServer], home: object, browser: Browser
) -> None:
    server = sandbox_factory(fitbit_shutdown=True)
    result = CliRunner().invoke(
        app, ["auth", "login", "--provider", "fitbit", "--sandbox", server.url]
    )
    assert result.exit_code == 5
    assert "2026-11-02" in result.output
    assert "heartkeep auth login --provider google" in result.output


def test_logout_needs_a_name_when_several_accounts_are_connected(
    sandbox: SandboxServer, home: object, browser: Browser, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HEARTKEEP_SANDBOX_URL", sandbox.url)
    runner = CliRunner()
    assert runner.invoke(app, ["auth", "login"]).exit_code == 0
    assert runner.invoke(app, ["auth", "login", "--provider", "fitbit"]).exit_code == 0
    ambiguous = runner.invoke(app, ["auth", "logout"])
    assert ambiguous.exit_code == 1
    assert "name one, or pass --all" in ambiguous.output
    unknown = runner.invoke(app, ["auth", "logout", "google-health:nobody"])
    assert unknown.exit_code == 10
    everything = runner.invoke(app, ["auth", "logout", "--all"])
    assert everything.exit_code == 0
    assert everything.output.count("Logged out") == 2


def _with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.update(changes)
    return urlunsplit(parts._replace(query=urlencode(query)))


def test_no_secret_ever_reaches_output_or_logs(
    sandbox: SandboxServer,
    home: object,
    browser: Browser,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Log in to both providers, look around, lose access, fail in every way, log out: then
    grep everything printed and logged for every token, code and client secret in play."""
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("HEARTKEEP_SANDBOX_URL", sandbox.url)
    transcript = Transcript()
    transcript.run("auth", "login")
    transcript.run("auth", "login", "--provider", "fitbit")
    transcript.run("auth", "status")
    transcript.run("auth", "status", "--json")
    # Access is lost: the provider refuses the refresh token (its message echoes it).
    sandbox.state.revoke_all_tokens(sandbox.state.login_user_id)
    fitbit_sandbox(sandbox.state).auth.revoke_all_tokens(
        sandbox.state.users[sandbox.state.login_user_id].legacy_user_id
    )
    settings = load_settings()
    for key in connected_accounts(settings):
        try:
            open_connection(settings, key, clock=SystemClock()).auth.refresh()
        except HeartkeepError as failure:
            transcript.texts.append(str(failure))
            transcript.texts.append(repr(failure))
    transcript.run("auth", "status")
    transcript.run("auth", "status", "--json")
    transcript.run(
        "auth",
        "login",
        "--client-id",
        credentials.GOOGLE_CLIENT_ID,
        "--client-secret",
        "wrong-but-secret",
    )
    browser.on_redirect = lambda: sandbox.state.clock.advance(20 * 60)
    transcript.run("auth", "login", "--provider", "fitbit")
    browser.on_redirect = lambda: None
    transcript.run("auth", "login")
    transcript.run("auth", "logout", "--all")

    secrets = {
        credentials.GOOGLE_CLIENT_SECRET,
        credentials.FITBIT_CLIENT_SECRET,
        "wrong-but-secret",
        *sandbox.state.grants.access_tokens,
        *sandbox.state.grants.refresh_tokens,
        *sandbox.state.grants.codes,
        *fitbit_tokens(sandbox),
    }
    assert len(secrets) > 10
    everything = "\n".join(transcript.texts) + "\n" + caplog.text
    leaked = sorted(secret for secret in secrets if secret in everything)
    assert leaked == []


def fitbit_tokens(sandbox: SandboxServer) -> set[str]:
    return fitbit_sandbox(sandbox.state).auth.issued_secrets()
