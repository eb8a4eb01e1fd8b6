"""Create `.venv` with a working pip on a machine that has only `python3`.

Debian and Ubuntu ship `python3` without `ensurepip` unless `python3-venv` is installed, so
`python3 -m venv` fails there.  In that case we make the environment without pip and install pip
from its wheel on PyPI (the one package index every machine here may reach), running pip from the
wheel itself, which is how pip's own docs bootstrap it.  Standard library only, on purpose.

Usage: `python3 scripts/bootstrap_venv.py [FOLDER]` (default `.venv`); `scripts/install.py` uses it
for the environment `make install` puts heartkeep in.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import urllib.request
import venv
from pathlib import Path

DEFAULT_VENV = Path(".venv")


def _python(venv_dir: Path) -> Path:
    return venv_dir / "bin" / "python"


def _has_pip(venv_dir: Path) -> bool:
    if not _python(venv_dir).exists():
        return False
    probe = subprocess.run([str(_python(venv_dir)), "-m", "pip", "--version"], capture_output=True)
    return probe.returncode == 0


def _pip_wheel_url() -> str:
    with urllib.request.urlopen("https://pypi.org/pypi/pip/json", timeout=60) as response:
        release = json.load(response)
    for file in release["urls"]:
        if file["filename"].endswith(".whl"):
            return str(file["url"])
    raise SystemExit("no pip wheel found on PyPI")


def create(venv_dir: Path = DEFAULT_VENV) -> Path:
    """Make `venv_dir` a virtual environment with a working pip; returns its python."""
    if _has_pip(venv_dir):
        return _python(venv_dir)
    try:
        venv.EnvBuilder(with_pip=True, clear=True).create(venv_dir)
    except (subprocess.CalledProcessError, OSError) as error:
        print(f"python3 -m venv with pip failed ({error}); bootstrapping pip from PyPI")
        venv.EnvBuilder(with_pip=False, clear=True).create(venv_dir)
    if _has_pip(venv_dir):
        return _python(venv_dir)
    with tempfile.TemporaryDirectory() as tmp:
        wheel = Path(tmp) / "pip-latest-py3-none-any.whl"
        url = _pip_wheel_url()
        wheel = Path(tmp) / url.rsplit("/", 1)[-1]
        urllib.request.urlretrieve(url, wheel)
        subprocess.run(
            [str(_python(venv_dir)), f"{wheel}/pip", "install", "--no-index", str(wheel)],
            check=True,
        )
    if not _has_pip(venv_dir):
        sys.exit(f"could not give {venv_dir} a working pip")
    return _python(venv_dir)


if __name__ == "__main__":
    create(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_VENV)
