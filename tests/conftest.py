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
