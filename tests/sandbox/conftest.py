"""Fixtures shared by the Google-side sandbox tests: an authorized client and the user's id."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest
from sandbox_tokens import api, grant

from heartkeep.sandbox.server import SandboxServer


@pytest.fixture
def sandbox_factory(
    sandbox_factory: Callable[..., SandboxServer],
) -> Callable[..., SandboxServer]:
    """The root factory with the per-second quota off unless a test names it: these tests walk
    the API with a raw client on a clock that stands still, and are about other things (the
    quota tests pass `per_user_per_second=None`, the app class's own rate)."""

    def start(**overrides: object) -> SandboxServer:
        overrides.setdefault("per_user_per_second", 0)
        return sandbox_factory(**overrides)

    return start


@pytest.fixture
def client(sandbox: SandboxServer) -> Iterator[httpx.Client]:
    """A client on the sandbox carrying a token with every scope heartkeep asks for."""
    with api(sandbox, grant(sandbox)["access_token"]) as http:
        yield http


@pytest.fixture
def user_id(sandbox: SandboxServer) -> str:
    """The health user id of the sandbox's (first) user."""
    return next(iter(sandbox.state.users))
