"""Create `.venv` with a working pip on a machine that has only `python3`.

Debian and Ubuntu ship `python3` without `ensurepip` unless `python3-venv` is installed, so
`python3 -m venv` fails there.  In that case we make the environment without pip and install pip
from its wheel on PyPI (the one package index every machine here may reach), running pip from the
wheel itself, which is how pip's own docs bootstrap it.  Standard library only, on purpose.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import urllib.request
import venv
from pathlib import Path

VENV = Path(".venv")


def _python() -> Path:
    return VENV / "bin" / "python"


def _has_pip() -> bool:
    if not _python().exists():
        return False
    probe = subprocess.run([str(_python()), "-m", "pip", "--version"], capture_output=True)
    return probe.returncode == 0


def _pip_wheel_url() -> str:
    with urllib.request.urlopen("https://pypi.org/pypi/pip/json", timeout=60) as response:
        release = json.load(response)
    for file in release["urls"]:
        if file["filename"].endswith(".whl"):
            return str(file["url"])
    raise SystemExit("no pip wheel found on PyPI")


def main() -> None:
    if _has_pip():
        return
    try:
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    except (subprocess.CalledProcessError, OSError) as error:
        print(f"python3 -m venv with pip failed ({error}); bootstrapping pip from PyPI")
        venv.EnvBuilder(with_pip=False, clear=True).create(VENV)
    if _has_pip():
        return
    with tempfile.TemporaryDirectory() as tmp:
        wheel = Path(tmp) / "pip-latest-py3-none-any.whl"
        url = _pip_wheel_url()
        wheel = Path(tmp) / url.rsplit("/", 1)[-1]
        urllib.request.urlretrieve(url, wheel)
        subprocess.run(
            [str(_python()), f"{wheel}/pip", "install", "--no-index", str(wheel)], check=True
        )
    if not _has_pip():
        sys.exit("could not give .venv a working pip")


if __name__ == "__main__":
    main()
