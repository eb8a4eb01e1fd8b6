"""Start-up cost: a cron-run `sync` or a `--help` must not pay for charts, Parquet or the sandbox.

matplotlib alone costs about half a second of CPU; pyarrow, starlette and uvicorn add more.  They
belong to the commands that draw, export or serve, so the CLI module tree must not import them.
Checked in a fresh interpreter, because this test process has long since imported everything.
"""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("matplotlib", "pyarrow", "starlette", "uvicorn")


def test_the_cli_loads_without_charts_parquet_or_the_sandbox() -> None:
    probe = (
        f"import sys, heartkeep.cli.app\nprint(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.split()
    assert loaded == []
