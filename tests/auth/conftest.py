"""Auth test helpers: settings pointed at a sandbox, and a login driven by a test browser."""

from __future__ import annotations

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
