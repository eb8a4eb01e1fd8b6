"""The sandbox: a local emulator of Google's OAuth 2.0, the Google Health API v4 and the legacy
Fitbit Web API, serving a synthetic person's heart rate.

It imports nothing from heartkeep's client side (providers, sync, auth, store), so a misreading
of the API cannot be shared by both sides.  Start one with `SandboxServer(SandboxConfig(...))`;
`server.state` (a `SandboxState`) holds the clock, users, tokens, quotas, faults and test hooks.
See docs/sandbox.md.
"""

from __future__ import annotations

from heartkeep.sandbox.clock import SimClock, WallClock
from heartkeep.sandbox.config import TEST_START_S, SandboxConfig
from heartkeep.sandbox.credentials import (
    FITBIT_CLIENT_ID,
    FITBIT_CLIENT_SECRET,
    GOOGLE_CLIENT_ID,
    GOOGLE_CLIENT_SECRET,
    google_client_json,
)
from heartkeep.sandbox.faults import Faults
from heartkeep.sandbox.physiology import Physiology, UserSpec, demo_user
from heartkeep.sandbox.server import SandboxServer
from heartkeep.sandbox.state import SandboxState

__all__ = [
    "FITBIT_CLIENT_ID",
    "FITBIT_CLIENT_SECRET",
    "Faults",
    "GOOGLE_CLIENT_ID",
    "GOOGLE_CLIENT_SECRET",
    "Physiology",
    "SandboxConfig",
    "SandboxServer",
    "SandboxState",
    "SimClock",
    "TEST_START_S",
    "UserSpec",
    "WallClock",
    "demo_user",
    "google_client_json",
]
