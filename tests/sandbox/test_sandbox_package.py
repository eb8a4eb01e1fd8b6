"""The sandbox package's declared surface, and its independence from the client side."""

from __future__ import annotations

import subprocess
import sys

import heartkeep.sandbox


def test_all_is_sorted_and_complete() -> None:
    assert heartkeep.sandbox.__all__ == sorted(heartkeep.sandbox.__all__)
    for name in heartkeep.sandbox.__all__:
        assert hasattr(heartkeep.sandbox, name), name


def test_the_sandbox_imports_nothing_from_the_client_side() -> None:
    code = (
        "import sys, heartkeep.sandbox, heartkeep.sandbox.app; "
        "print(sorted(m for m in sys.modules if m.startswith('heartkeep.')))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    for side in ("providers", "sync", "auth", "store", "api", "cli"):
        assert f"'heartkeep.{side}" not in loaded, side
