"""README's install step on a fresh machine: `make install` puts a working `heartkeep` on disk.

A person who ran `make demo` then types `heartkeep auth login`; the command must exist.  This
builds the wheel of the working tree, installs it into a fresh virtual environment under a
temporary PREFIX (as `make install PREFIX=…` does) and runs the installed command, outside the
development `.venv`, with a clean environment.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _clean_env(home: Path) -> dict[str, str]:
    keep = ("PATH", "LANG", "LC_ALL", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS")
    env = {key: os.environ[key] for key in keep if key in os.environ}
    env["HOME"] = str(home)
    env["HEARTKEEP_HOME"] = str(home / "heartkeep")
    # The person's own pip settings (a package mirror, wheels on disk) live under the real
    # HOME, which this clean one replaces: without them pip would go to PyPI, or fail where a
    # mirror is the only way to packages.
    real_home = Path.home()
    for config in (
        os.environ.get("PIP_CONFIG_FILE"),
        Path(os.environ.get("XDG_CONFIG_HOME") or real_home / ".config") / "pip" / "pip.conf",
        real_home / ".pip" / "pip.conf",
    ):
        if config and Path(config).is_file():
            env["PIP_CONFIG_FILE"] = str(config)
            break
    # Not the development environment's interpreter: the install must stand on its own.
    env["PATH"] = os.pathsep.join(
        part for part in env.get("PATH", "").split(os.pathsep) if ".venv" not in part
    )
    return env


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_make_install_gives_a_heartkeep_command_that_runs_the_demo(tmp_path: Path) -> None:
    if shutil.which("make") is None:
        pytest.fail("make is not installed; README's install step needs it")
    prefix = tmp_path / "prefix"
    env = _clean_env(tmp_path)
    python = shutil.which("python3", path=env["PATH"]) or sys.executable
    installed = subprocess.run(
        ["make", "--no-print-directory", "install", f"PREFIX={prefix}", f"PYTHON={python}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=540,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    command = prefix / "bin" / "heartkeep"
    assert f"Installed {command}" in installed.stdout
    assert "is not on your PATH" in installed.stdout  # and it says how to add it

    version = subprocess.run(
        [str(command), "--version"], env=env, capture_output=True, text=True, timeout=60
    )
    assert version.returncode == 0, version.stderr
    assert version.stdout.startswith("heartkeep ")

    # The installed package carries everything the demo needs (sandbox, templates, report).
    demo_dir = tmp_path / "demo"
    demo = subprocess.run(
        [str(command), "demo", "--days", "1", "--dir", str(demo_dir)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "Traceback" not in demo.stderr
    assert (demo_dir / "report.html").is_file()
    assert list(demo_dir.rglob("heartkeep.sqlite"))
    # The code that ran is the installed copy, not the working tree.
    origin = subprocess.run(
        [
            str(prefix / "share" / "heartkeep" / "venv" / "bin" / "python"),
            "-c",
            "import heartkeep; print(heartkeep.__file__)",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert str(prefix) in origin.stdout, origin.stdout + origin.stderr
