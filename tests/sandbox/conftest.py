"""Fixtures shared by the Google-side sandbox tests: an authorized client and the user's id."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sandbox_tokens import api, grant

from heartkeep.sandbox.server import SandboxServer


@pytest.fixture
def client(sandbox: SandboxServer) -> Iterator[httpx.Client]:
    """A client on the sandbox carrying a token with every scope heartkeep asks for."""
    with api(sandbox, grant(sandbox)["access_token"]) as http:
        yield http


@pytest.fixture
def user_id(sandbox: SandboxServer) -> str:
    """The health user id of the sandbox's (first) user."""
    return next(iter(sandbox.state.users))
