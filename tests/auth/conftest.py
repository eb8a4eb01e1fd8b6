"""Auth test helpers: settings pointed at a sandbox, and a login driven by a test browser."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from oauth_browser import Browser
from sandbox_login import settings_for

from heartkeep.auth import LoginResult, login
from heartkeep.config import Settings
from heartkeep.sandbox.config import TEST_START_S, SandboxConfig
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
def sandbox_factory() -> Iterator[Callable[..., SandboxServer]]:
    """`sandbox_factory(**config_overrides)`: a started sandbox on a SimClock at the test instant.

    Same contract as the shared fixture of the sandbox section in tests/conftest.py; kept here so
    the auth tests state their own world.
    """
    started: list[SandboxServer] = []

    def start(**overrides: Any) -> SandboxServer:
        server = SandboxServer(SandboxConfig(start_s=TEST_START_S, **overrides))
        server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def sandbox(sandbox_factory: Callable[..., SandboxServer]) -> SandboxServer:
    return sandbox_factory()
