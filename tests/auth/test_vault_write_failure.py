"""A refreshed token that cannot be saved ends in exit 9 with what to do, and loses nothing.

`heartkeep sync` runs in a subprocess whose vault folder is a full disk (a tiny tmpfs, filled
up) or read-only (a read-only bind mount), each in a private mount namespace (`unshare -rm`), so
nothing outside the test is touched.  Its access token has expired, so the first request must
refresh and save.  Expected: exit 9, a message naming the vault and the cause, no traceback; the
vault file the run saw is byte-for-byte what it was, and its refresh token still works.
Skipped where the machine allows no mount namespaces.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from heartkeep.auth import open_connection
from heartkeep.auth.vault import Vault

SETUPS = {
    # A 4 KiB tmpfs over the vault folder, the vault copied in, the rest filled with zeros.
    "full disk": (
        'mount -t tmpfs -o size=4k tmpfs "$V" && cp -a "$SAVED/." "$V/" && '
        '{ dd if=/dev/zero of="$V/filler" bs=512 2>/dev/null || true; }'
    ),
    "read-only folder": 'mount --bind -o ro "$V" "$V"',
}


def namespaces_work() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "-rm", "sh", "-c", "mount -t tmpfs tmpfs /mnt"],
        capture_output=True,
        check=False,
    )
    return probe.returncode == 0


def sync_in_namespace(world: Any, setup: str, tmp_path: Path) -> tuple[int, str, bytes]:
    """Run `heartkeep sync` with the vault folder broken by `setup`; returns (exit, stderr, the
    vault file as the run left it)."""
    vault = Vault(world.settings.vault_dir, world.account_key)
    saved = tmp_path / "saved-vault"
    shutil.copytree(vault.directory, saved)
    seen = tmp_path / "seen.json"
    script = (
        f"set -e; {setup}; "
        f'{shlex.quote(sys.executable)} -m heartkeep sync 2>"$ERR" && rc=0 || rc=$?; '
        f'cp "$V/{vault.path.name}" "$SEEN"; exit $rc'
    )
    env = {
        **os.environ,
        "V": str(vault.directory),
        "SAVED": str(saved),
        "SEEN": str(seen),
        "ERR": str(tmp_path / "stderr"),
    }
    done = subprocess.run(
        ["unshare", "-rm", "sh", "-c", script],
        env=env,
        capture_output=True,
        check=False,
        timeout=120,
    )
    return done.returncode, (tmp_path / "stderr").read_text(), seen.read_bytes()


@pytest.mark.skipif(not namespaces_work(), reason="no mount namespaces (unshare -rm) here")
@pytest.mark.parametrize("setup", sorted(SETUPS))
def test_a_refresh_that_cannot_be_saved_exits_9_and_the_vault_still_works(
    setup: str, wall_world: Any, tmp_path: Path
) -> None:
    vault = Vault(wall_world.settings.vault_dir, wall_world.account_key)
    before = vault.path.read_bytes()
    # The child runs on the real clock, days after the pinned instant the token was issued at:
    # its access token has expired, so its first request refreshes and must save the answer.
    assert orjson.loads(before)["tokens"]["expires_at_s"] < wall_world.clock.now_s() + 3600

    exit_code, stderr, seen = sync_in_namespace(wall_world, SETUPS[setup], tmp_path)

    assert exit_code == 9, stderr
    assert "Traceback" not in stderr
    assert "cannot save the token vault" in stderr
    assert wall_world.account_key in stderr
    assert "unchanged" in stderr
    assert ("full" if setup == "full disk" else "read-only") in stderr
    assert seen == before  # the run left the file exactly as it was
    # ...and that file's refresh token still works: put it back and spend it.
    vault.path.write_bytes(seen)
    connection = open_connection(
        wall_world.settings, wall_world.account_key, clock=wall_world.clock
    )
    assert connection.auth.refresh().access_token
