"""The sandbox: a local emulator of Google's OAuth 2.0, the Google Health API v4 and the legacy
Fitbit Web API, serving a synthetic person's heart rate.

It imports nothing from heartkeep's client side (providers, sync, auth, store), so a misreading
of the API cannot be shared by both sides.  Start one with `SandboxServer(SandboxConfig(...))`;
`server.state` (a `SandboxState`) holds the clock, users, tokens, quotas, faults and test hooks.
The demo client credentials live in `heartkeep.sandbox.credentials`, the fixed test start
instant in `heartkeep.sandbox.config.TEST_START_S`.  See docs/sandbox.md.
"""

from __future__ import annotations

from heartkeep.sandbox.clock import SimClock, WallClock
from heartkeep.sandbox.config import SandboxConfig
from heartkeep.sandbox.credentials import google_client_json
from heartkeep.sandbox.faults import Faults
from heartkeep.sandbox.physiology import Physiology, UserSpec, demo_user
from heartkeep.sandbox.server import SandboxServer
from heartkeep.sandbox.state import SandboxState

__all__ = [
    "Faults",
    "Physiology",
    "SandboxConfig",
    "SandboxServer",
    "SandboxState",
    "SimClock",
    "UserSpec",
    "WallClock",
    "demo_user",
    "google_client_json",
]
