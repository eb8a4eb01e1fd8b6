"""Every command against every way a person's disk or network can fail them (issue 9).

Rows: the store-reading commands, `sync` and `auth status`.  Columns (cases):

  (a) a damaged token vault   — the account's vault file cut off in the middle.
  (b) a damaged database      — pages in the middle overwritten with garbage.
  (c) a read-only data folder — a read-only bind mount in a private mount namespace
                                (`unshare -rm`: as root, chmod alone restricts nothing).
  (d) a full disk             — the data folder copied onto a small tmpfs filled to the brim.
  (e) a stopped provider      — the sandbox shut down.

Each cell: a documented exit status, a message saying what to do, no traceback.  For (a)–(d),
nothing is lost: after the repair (`auth login` again / restore the backup copy / the folder
writable again / space freed) the next `sync` ends with exactly the sandbox's data.

(c) and (d) run the CLI in a subprocess inside the namespace, with the wall clock pinned to the
test's own (time-machine, as in-process), so the provider and the CLI agree on "now".
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from heartkeep.auth.vault import Vault
from heartkeep.cli import app
from heartkeep.model import Window

DAY = "2026-11-19"  # a whole local day of the pinned world's three
COMMANDS: dict[str, list[str]] = {
    "status": ["status"],
    "stats": ["stats"],
    "export": ["export", "--format", "csv", "--output", "{out}/export.csv"],
    "report": ["report", "--output", "{out}/report.html"],
    "plot day": ["plot", "day", DAY, "--output", "{out}/day.svg"],
    "plot heatmap": ["plot", "heatmap", "--output", "{out}/heatmap.png"],
    "plot trend": ["plot", "trend", "--output", "{out}/trend.png"],
    "auth status": ["auth", "status"],
    "sync": ["sync"],
}
READERS = [name for name in COMMANDS if name not in {"sync", "auth status"}]
DOCUMENTED = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 75}
# Words that tell a person what to do next, one of which every refusal carries.
ADVICE = ("run", "restore", "free", "make", "check", "point", "remount", "try", "log in", "again")

_WRAPPER = (
    "import sys, time_machine;"
    "time_machine.travel(float(sys.argv.pop(1)), tick=True).start();"
    "from heartkeep.cli.app import main;"
    "sys.argv[0] = 'heartkeep';"
    "main()"
)


@dataclass
class Outcome:
    exit_code: int
    output: str


@pytest.fixture
def world(cli_world):
    """Three days of a wall-time sandbox user, synced once through the CLI."""
    made = cli_world(3)
    first = CliRunner().invoke(app, ["sync"])
    assert first.exit_code == 0, first.output
    return made


def cli(args: list[str], out: Path) -> Outcome:
    result = CliRunner().invoke(app, [arg.format(out=out) for arg in args])
    return Outcome(result.exit_code, result.output)


def confined(setup: str, args: list[str], out: Path) -> Outcome:
    """Run the CLI after `setup` (mount commands) in a private user + mount namespace."""
    command = [sys.executable, "-c", _WRAPPER, repr(time.time())]
    command += [arg.format(out=out) for arg in args]
    script = f"{setup} && exec {shlex.join(command)}"
    done = subprocess.run(
        ["unshare", "-rm", "sh", "-c", script],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=120,
        check=False,
    )
    return Outcome(done.returncode, done.stdout + done.stderr)


def require_namespaces() -> None:
    if shutil.which("unshare") is None:
        pytest.skip("needs unshare(1) for a private mount namespace")
    probe = subprocess.run(
        ["unshare", "-rm", "sh", "-c", "mount -t tmpfs tmpfs /mnt"],
        capture_output=True,
        check=False,
    )
    if probe.returncode != 0:
        pytest.skip(f"this machine refuses user mount namespaces: {probe.stderr!r}")


def assert_refusal_is_clear(name: str, outcome: Outcome) -> None:
    assert "Traceback" not in outcome.output, f"{name}: {outcome.output}"
    assert outcome.exit_code in DOCUMENTED, f"{name}: exit {outcome.exit_code}: {outcome.output}"
    if outcome.exit_code != 0:
        lowered = outcome.output.lower()
        assert any(word in lowered for word in ADVICE), f"{name}: no advice: {outcome.output}"


def assert_nothing_lost(world, repair: Callable[[], None]) -> None:
    """After `repair`, one more sync ends with exactly the sandbox's data."""
    repair()
    end = world.visible_until()
    again = CliRunner().invoke(app, ["sync"])
    assert again.exit_code == 0, again.output
    window = Window(world.history().start_s, end)
    assert world.stored(window) == world.truth(window)


def damage(path: Path) -> None:
    data = bytearray(path.read_bytes())
    page = 4096
    pages = len(data) // page
    for number in range(pages // 4, 3 * pages // 4):
        data[number * page : (number + 1) * page] = bytes([0xA5]) * page
    path.write_bytes(bytes(data))


def test_a_damaged_vault(world, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    vault = Vault(world.settings.vault_dir, world.account_key).path
    damaged = vault.read_bytes()[: vault.stat().st_size // 2]  # cut off mid-write by hand
    vault.write_bytes(damaged)
    outcomes = {name: cli(args, tmp_path) for name, args in COMMANDS.items()}
    for name, outcome in outcomes.items():
        assert_refusal_is_clear(name, outcome)
    for name in READERS:  # the database alone answers them
        assert outcomes[name].exit_code == 0, f"{name}: {outcomes[name].output}"
    for name in ("sync", "auth status"):  # the account is named, with the way back
        assert outcomes[name].exit_code == 4, f"{name}: {outcomes[name].output}"
        assert world.account_key in outcomes[name].output
        assert "is damaged" in outcomes[name].output
        assert "heartkeep auth login" in outcomes[name].output

    def log_in_again() -> None:
        def browser(url: str, *args: object, **kwargs: object) -> bool:
            consent = httpx.get(url, follow_redirects=False, timeout=10)
            httpx.get(consent.headers["location"], timeout=10)
            return True

        monkeypatch.setattr(webbrowser, "open", browser)
        login = CliRunner().invoke(app, ["auth", "login"])
        assert login.exit_code == 0, login.output
        (kept,) = vault.parent.glob(f"{vault.name}.damaged-*")
        assert kept.read_bytes() == damaged

    assert_nothing_lost(world, log_in_again)


def test_b_damaged_database(world, tmp_path: Path) -> None:
    database = Path(world.settings.database)
    backup = tmp_path / "backup.sqlite"
    shutil.copyfile(database, backup)  # the CLI closed it: no -wal left to copy
    damage(database)
    outcomes = {name: cli(args, tmp_path) for name, args in COMMANDS.items()}
    for name, outcome in outcomes.items():
        assert_refusal_is_clear(name, outcome)
        if outcome.exit_code != 0:
            assert outcome.exit_code == 9, f"{name}: {outcome.output}"
            assert "is damaged" in outcome.output, f"{name}: {outcome.output}"
    assert outcomes["sync"].exit_code == 9  # the quick check refuses before any write
    assert ".recover" in outcomes["sync"].output
    assert outcomes["export"].exit_code == 9  # a full read meets the garbage
    assert outcomes["auth status"].exit_code == 0  # the vault is fine

    def restore() -> None:
        for sidecar in ("-wal", "-shm"):
            database.with_name(database.name + sidecar).unlink(missing_ok=True)
        shutil.copyfile(backup, database)

    assert_nothing_lost(world, restore)


def test_c_read_only_data_folder(world, tmp_path: Path) -> None:
    require_namespaces()
    data = shlex.quote(str(world.settings.data_dir))
    setup = f"mount --bind {data} {data} && mount -o remount,bind,ro {data}"
    outcomes = {name: confined(setup, args, tmp_path) for name, args in COMMANDS.items()}
    for name, outcome in outcomes.items():
        assert_refusal_is_clear(name, outcome)
    for name in [*READERS, "auth status"]:  # reading needs no write access
        assert outcomes[name].exit_code == 0, f"{name}: {outcomes[name].output}"
    assert outcomes["sync"].exit_code == 9
    assert "cannot write to" in outcomes["sync"].output
    assert (tmp_path / "report.html").exists()
    assert_nothing_lost(world, lambda: None)  # outside the namespace the folder is writable


def test_d_full_disk(world, tmp_path: Path) -> None:
    require_namespaces()
    data = world.settings.data_dir
    used = sum(path.stat().st_size for path in data.rglob("*") if path.is_file())
    disk = tmp_path / "small-disk"
    disk.mkdir()
    real, small = shlex.quote(str(data)), shlex.quote(str(disk))
    # The folder moves onto a tmpfs with 1 MiB to spare, the spare is filled, the command runs,
    # and the folder's bytes (as the failed command left them, filler removed: "space freed")
    # are copied back so that the next sync starts from exactly what a full disk left behind.
    setup = (
        f"mount -t tmpfs -o size={used + 1024 * 1024} tmpfs {small} && cp -a {real}/. {small}/ "
        f"&& mount --bind {small} {real} && "
        f"(dd if=/dev/zero of={real}/filler bs=4096 2>/dev/null; true)"
    )
    outcomes = {}
    for name, args in COMMANDS.items():
        outcomes[name] = confined(setup, args, tmp_path)
        assert_refusal_is_clear(name, outcomes[name])
    assert outcomes["sync"].exit_code == 9, outcomes["sync"].output
    assert "no room to write" in outcomes["sync"].output
    for name in READERS:
        if outcomes[name].exit_code != 0:
            assert outcomes[name].exit_code == 9, f"{name}: {outcomes[name].output}"
    assert outcomes["auth status"].exit_code == 0, outcomes["auth status"].output

    # Keep what a failed sync leaves: run it once more, then copy the folder back.
    copy_back = (
        f"{setup} && ({shlex.join([sys.executable, '-c', _WRAPPER, repr(time.time()), 'sync'])}"
        f"; rm -f {real}/filler; umount {real}; rm -rf {real}/* && cp -a {small}/. {real}/)"
    )
    subprocess.run(["unshare", "-rm", "sh", "-c", copy_back], check=True, timeout=120)
    assert_nothing_lost(world, lambda: None)


def test_e_stopped_provider(world, tmp_path: Path) -> None:
    world.server.stop()
    outcomes = {name: cli(args, tmp_path) for name, args in COMMANDS.items()}
    for name, outcome in outcomes.items():
        assert_refusal_is_clear(name, outcome)
    for name in READERS:  # the database alone answers them
        assert outcomes[name].exit_code == 0, f"{name}: {outcomes[name].output}"
    assert outcomes["sync"].exit_code == 6, outcomes["sync"].output
    assert outcomes["auth status"].exit_code in {0, 6}, outcomes["auth status"].output
