"""The library's front door and the only place where the parts are wired together.

config → vault → HTTP client (auth, quota, retry) → provider → sync engine → store → outputs.
The CLI calls these functions and renders what they return; Python users call them directly.
Each function documents what it raises (always a `HeartkeepError` subclass for user-facing
failures).

Sections below belong to the issue that built them; keep each function a few lines of wiring.
"""

from __future__ import annotations

from heartkeep.config import Settings, load_settings

__all__ = ["Settings", "load_settings"]

# --- auth (issue 3) ---------------------------------------------------------------------------

# --- sync and store (issue 4) -----------------------------------------------------------------

# --- imports, exports, stats, charts, report (issue 6) ----------------------------------------
