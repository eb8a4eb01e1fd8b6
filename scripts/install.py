"""Install the `heartkeep` command for your own account: `make install` (PREFIX=~/.local).

A person who ran `make demo` has heartkeep inside the project's development `.venv`, which is
not on their PATH.  This builds a wheel of the working tree, installs it into a private virtual
environment (`PREFIX/share/heartkeep/venv`, so nothing touches the system Python, which Debian
marks externally managed) and links `PREFIX/bin/heartkeep` to it.  Running it again upgrades in
place.  Standard library only: it must work on a machine that has just `python3` and `make`.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bootstrap_venv import create

ROOT = Path(__file__).resolve().parents[1]


def install(prefix: Path) -> Path:
    """Build the wheel, install it into PREFIX/share/heartkeep/venv, link PREFIX/bin/heartkeep."""
    venv_dir = prefix / "share" / "heartkeep" / "venv"
    python = create(venv_dir)
    pip = [str(python), "-m", "pip", "--quiet", "--disable-pip-version-check"]
    with tempfile.TemporaryDirectory() as wheels:
        subprocess.run([*pip, "wheel", "--no-deps", "--wheel-dir", wheels, str(ROOT)], check=True)
        (wheel,) = Path(wheels).glob("heartkeep-*.whl")
        subprocess.run([*pip, "install", str(wheel)], check=True)
        # The same version number again (a newer checkout) must still replace the old code;
        # dependencies already satisfied stay as they are.
        no_deps = ["--force-reinstall", "--no-deps"]
        subprocess.run([*pip, "install", *no_deps, str(wheel)], check=True)
    bin_dir = prefix / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    link = bin_dir / "heartkeep"
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(venv_dir / "bin" / "heartkeep")
    return link


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument(
        "--prefix",
        type=Path,
        default=Path.home() / ".local",
        help="install under PREFIX/bin and PREFIX/share/heartkeep (default: ~/.local)",
    )
    prefix = parser.parse_args().prefix.expanduser().resolve()
    link = install(prefix)
    print(f"Installed {link} -> {link.resolve()}")
    on_path = str(link.parent) in os.environ.get("PATH", "").split(os.pathsep)
    if not on_path:
        print(f"{link.parent} is not on your PATH; add it, e.g. in ~/.profile:")
        print(f'  export PATH="{link.parent}:$PATH"')
    print("Next: heartkeep auth login --client-file ~/Downloads/client_secret_XXXX.json")


if __name__ == "__main__":
    main()
