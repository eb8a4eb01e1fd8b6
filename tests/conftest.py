"""Shared fixtures: a temporary home with a clean environment for every test.

No test touches the real home directory or a real provider: `home` points HEARTKEEP_HOME at a
temp folder and strips every other HEARTKEEP_* variable.  The sandbox fixtures (a Google Health
and legacy Fitbit emulator on loopback) live in the section below.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from heartkeep.config import Settings, load_settings


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private HEARTKEEP_HOME; data and config dirs live below it."""
    for key in list(os.environ):
        if key.startswith("HEARTKEEP_"):
            monkeypatch.delenv(key)
    root = tmp_path / "home"
    root.mkdir()
    monkeypatch.setenv("HEARTKEEP_HOME", str(root))
    return root


@pytest.fixture
def settings(home: Path) -> Settings:
    return load_settings()


# --- sandbox fixtures (issue 2) ---------------------------------------------------------------

from collections.abc import Callable, Iterator  # noqa: E402 - the sandbox section stays self-contained

from heartkeep.sandbox.config import TEST_START_S, SandboxConfig  # noqa: E402
from heartkeep.sandbox.server import SandboxServer  # noqa: E402


@pytest.fixture
def sandbox_factory() -> Iterator[Callable[..., SandboxServer]]:
    """Start sandboxes with config overrides: `sandbox_factory(page_size_mode="observed")`.

    Each runs on its own free loopback port with a SimClock at TEST_START_S (2026-11-20T12:00Z)
    unless `start_s` is given; all are stopped at teardown.
    """
    servers: list[SandboxServer] = []

    def start(**overrides: object) -> SandboxServer:
        overrides.setdefault("start_s", TEST_START_S)
        server = SandboxServer(SandboxConfig(**overrides))  # type: ignore[arg-type]
        servers.append(server.start())
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def sandbox(sandbox_factory: Callable[..., SandboxServer]) -> SandboxServer:
    """A started sandbox with the default config and a SimClock at 2026-11-20T12:00:00Z."""
    return sandbox_factory()
