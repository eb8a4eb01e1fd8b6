"""Helpers shared by the auth tests: settings pointed at a sandbox server."""

from __future__ import annotations

from collections.abc import Callable

from msgspec.structs import replace

from heartkeep.auth import LoginResult
from heartkeep.config import Settings
from heartkeep.sandbox.server import SandboxServer

LoginFn = Callable[..., LoginResult]


def settings_for(settings: Settings, server: SandboxServer) -> Settings:
    """`settings` with every endpoint on `server` (and a short HTTP timeout for tests)."""
    return replace(settings, sandbox_url=server.url, http_timeout_s=10.0)
