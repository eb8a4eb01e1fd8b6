"""Auth test helpers: settings pointed at a sandbox, a login driven by a test browser, and a
sandbox on the wall clock that the CLI logs in to."""

from __future__ import annotations

import webbrowser
from collections.abc import Callable
from typing import Any

import pytest
from oauth_browser import Browser
from sandbox_login import settings_for

from heartkeep.auth import LoginResult, login
from heartkeep.config import Settings
from heartkeep.sandbox.server import SandboxServer


@pytest.fixture
def login_to(settings: Settings) -> Callable[..., LoginResult]:
    """`login_to(server, provider="google", browser=None, **kwargs)`: a loopback login."""

    def run(
        server: SandboxServer,
        provider: str = "google",
        browser: Browser | None = None,
        **kwargs: Any,
    ) -> LoginResult:
        return login(
            settings_for(settings, server),
            clock=server.state.clock,
            provider=provider,
            open_browser=browser or Browser(),
            timeout_s=10.0,
            **kwargs,
        )

    return run


@pytest.fixture
def wall_world(cli_world, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """A sandbox user with two days on the (pinned) wall clock, for CLI commands: the CLI
    finds it through HEARTKEEP_SANDBOX_URL, and its browser is the test browser."""
    world = cli_world(2)
    monkeypatch.setattr(webbrowser, "open", lambda url, *args, **kwargs: Browser()(url))
    return world
