"""Start-up cost: a cron-run `sync`, a `status` or a `--help` must not pay for charts, Parquet,
servers, OAuth or HTTP.

Each heavy module belongs to the commands that use it, so the CLI loads it inside those commands
(issue 11: `--help`, `status` and a `sync` with nothing to do start in ≤ 0.15 s of CPU).  Checked
in a fresh interpreter, because this test process has long since imported everything; the
measured figure itself comes from `bench/bench_reads.py`, never from a timed assertion here.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from heartkeep.config import load_settings
from heartkeep.model import Account, Sample, Source
from heartkeep.store import open_store

# What must not load at start-up, and why: roughly what each costs in CPU on a quiet machine.
HEAVY = {
    "matplotlib": "charts only (plot, report): about 0.5 s",
    "pyarrow": "Parquet export only",
    "adbc_driver_manager": "Parquet export only (the ADBC SQLite driver, Arrow batches)",
    "numpy": "analysis, zone inference on import, the sandbox's physiology",
    "starlette": "the sandbox and dashboard servers only",
    "uvicorn": "the sandbox and dashboard servers only",
    "heartkeep.sandbox.server": "the emulator: `sandbox serve`, `demo` and the tests",
    "heartkeep.dashboard": "`heartkeep dashboard` only",
    "httpx": "not heartkeep's client (`http_client.py`): ~300 M instructions, 0.15 s, to import",
    "authlib": "the OAuth flows of `auth login` only",
    "heartkeep.http_client": "a sync that fetches, login, logout, doctor",
    "heartkeep.auth.vault": "reading or writing tokens (a sync that fetches, login, logout); "
    "which accounts are connected is `auth/accounts.py`",
    "pydantic": "typer coerces values with it; a string, digits or a path need none of it "
    "(cli/coercion.py): 0.15 s",
    "heartkeep.sync.engine": "a sync with an account to fetch for",
    "heartkeep.api_outputs": "export, stats, plots and the report",
    "heartkeep.api_imports": "the imports",
    "heartkeep.doctor": "`heartkeep doctor` only",
    "rich": "a terminal, a table or progress bars: plain lines and click's help need none of it",
    "heartkeep.api_study": "research studies: `heartkeep study …` only",
    "heartkeep.api_study_participants": "`heartkeep study invite` and `study withdraw` only",
    "heartkeep.study": "research studies: `heartkeep study …` only",
    "psycopg": "the PostgreSQL store of a study only (an optional extra)",
    "tomllib": "reading config.toml, only when there is one (none here)",
    "csv": "`stats --csv` only (SQLite writes the CSV export itself)",
    "hashlib": "an import's file digests (OpenSSL: a tenth of `status`'s start-up)",
    "heartkeep.store.import_rows": "the records of an import (`import`, `imports`, `undo`): "
    "their frozen dataclasses were a tenth of `status`'s start-up",
}

# Also kept out of `--help`: it prints the commands' help, it runs none of them.
HELP_ONLY = {
    "heartkeep.api": "the front door: a command's work, not its help",
    "heartkeep.api_sync": "the sync's wiring (sync, watch, status): a command's work, not its help",
    "heartkeep.store": "the database: a command's work, not its help",
    "sqlite3": "the database (`cli/failures.py` asks for it only once something loaded it)",
    "heartkeep.config": "the settings (platformdirs, config.toml): a command's, not its help",
    "platformdirs": "the settings' default folders: a command's, not its help",
    "heartkeep.model": "the data types (`heartkeep/__init__` loads them on first use)",
}

PROBE = """
import os, sys
from heartkeep.cli.app import main
sys.argv = ["heartkeep", *sys.argv[1:]]
sys.stdout = open(os.devnull, "w")
try:
    main()
except SystemExit:
    pass
print(" ".join(sorted(sys.modules)), file=sys.stderr)
"""


def _loaded(args: list[str], home: Path, watch: dict[str, str]) -> list[str]:
    """The modules of `watch` loaded by the end of `heartkeep ARGS` in a fresh interpreter."""
    env = {**os.environ, "COLUMNS": "80"}  # `home` set HEARTKEEP_HOME, removed the rest
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, env=env, check=True
    )
    modules = set(done.stderr.split("\n")[-2].split())
    return sorted(
        name for name in watch if any(m == name or m.startswith(name + ".") for m in modules)
    )


def test_importing_the_cli_loads_nothing_heavy(home: Path) -> None:
    probe = "import sys, heartkeep.cli.app; print(' '.join(sorted(sys.modules)))"
    modules = set(
        subprocess.run(
            [sys.executable, "-c", probe], capture_output=True, text=True, check=True
        ).stdout.split()
    )
    watch = {**HEAVY, **HELP_ONLY}
    assert sorted(n for n in watch if any(m == n or m.startswith(n + ".") for m in modules)) == []


@pytest.mark.parametrize(
    "args", [["--help"], ["sync", "--help"], ["--version"], ["study", "--help"]]
)
def test_help_loads_nothing_heavy(args: list[str], home: Path) -> None:
    assert _loaded(args, home, {**HEAVY, **HELP_ONLY}) == []


@pytest.mark.parametrize(
    "args",
    [
        ["status"],
        ["sync"],
        ["status", "--json"],
        ["status", "--database", "elsewhere.sqlite"],
        ["sync", "--trailing-days", "0", "--since", "2026-11-01", "-q"],
    ],
)
def test_status_and_a_sync_with_nothing_to_do_load_nothing_heavy(
    args: list[str], home: Path
) -> None:
    """Nothing connected (a fresh install, or cron before `auth login`): the sync says so and
    exits 10 without loading what a fetch would need.  Options given a value cost no pydantic
    (`cli/coercion.py`)."""
    assert _loaded(args, home, HEAVY) == []


def test_status_of_a_store_through_a_pipe_needs_no_rich(home: Path) -> None:
    """Off a terminal the table is plain aligned lines (`render.table`), every cell in full."""
    account = Account("google-health", "a-rather-long-user-id-0123456789", "Long", "UTC")
    with open_store(load_settings().database) as store:
        store.upsert_account(account)
        samples = [Sample(1_790_000_000 + i, 60, 0) for i in range(0, 600, 5)]
        store.write_samples(account.key, samples, Source.GOOGLE_HEALTH)
    assert _loaded(["status"], home, HEAVY) == []
    shown = subprocess.run(
        [sys.executable, "-m", "heartkeep", "status"], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert shown[0] == "Sync status"
    assert shown[1].split() == ["account", "synced", "newest", "7d", "30d", "merged"]
    assert shown[2].split()[0] == account.key
    assert shown[1].index("synced") == shown[2].index(shown[2].split()[1])  # aligned


def test_a_sync_with_nothing_connected_opens_no_store(home: Path) -> None:
    """Cron before `auth login`: the vault says there is nothing to sync, so neither the
    database nor the sync's reports are loaded."""
    watch = {
        "heartkeep.store": "the database",
        "sqlite3": "the database",
        "heartkeep.model": "samples and accounts: nothing to fetch or store",
        "heartkeep.sync.report": "a sync's report",
    }
    assert _loaded(["sync", "-q"], home, watch) == []


def test_the_sync_lock_loads_no_filelock(tmp_path: Path) -> None:
    """The sync lock is flock(2) itself (`sync/lock.py`): filelock's import was a tenth of an
    up-to-date cron sync.  (Fresh tokens take no vault lock either: tests/auth.)"""
    probe = (
        "import sys\n"
        "from pathlib import Path\n"
        "from heartkeep.sync.lock import sync_lock\n"
        "with sync_lock(Path(sys.argv[1])):\n"
        "    pass\n"
        "print(' '.join(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, str(tmp_path)], capture_output=True, text=True, check=True
    )
    assert [m for m in done.stdout.split() if m.split(".")[0] == "filelock"] == []


# What a text export must not load: the charts, the statistics and Parquet are other commands'.
EXPORT_HEAVY = {name: why for name, why in HEAVY.items() if name != "heartkeep.api_outputs"}


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_a_text_export_loads_no_numpy_charts_or_parquet(
    fmt: str, home: Path, tmp_path: Path
) -> None:
    """SQLite formats the text itself (issue 11): an export is start-up plus SQLite's work,
    so it must not pay 0.1–0.5 s for numpy, pydantic or Rich it does not use."""
    account = Account("google-health", "startup", "Start Up", "Europe/Berlin")
    with open_store(load_settings().database) as store:
        store.upsert_account(account)
        samples = [Sample(1_790_000_000 + i, 60 + i % 40, 60) for i in range(0, 3600, 5)]
        store.write_samples(account.key, samples, Source.GOOGLE_HEALTH)
    output = tmp_path / f"out.{fmt}"
    assert _loaded(["export", "-f", fmt, "-o", str(output)], home, EXPORT_HEAVY) == []
    assert output.stat().st_size > 0


def test_the_report_draws_its_charts_without_matplotlib(home: Path, tmp_path: Path) -> None:
    """The report writes its three charts as SVG itself (`charts/svg.py`): matplotlib's import
    and rendering were two thirds of a year's report (issue 11: ≤ 1.5 s of CPU)."""
    account = Account("google-health", "report", "Re Port", "Europe/Berlin")
    with open_store(load_settings().database) as store:
        store.upsert_account(account)
        samples = [Sample(1_790_000_000 + i, 60 + i % 40, 60) for i in range(0, 7200, 5)]
        store.write_samples(account.key, samples, Source.GOOGLE_HEALTH)
    output = tmp_path / "report.html"
    assert _loaded(["report", "-o", str(output)], home, {"matplotlib": "plots only"}) == []
    assert output.read_text().count("<svg") == 3


def test_help_piped_into_head_exits_quietly_with_0(home: Path) -> None:
    """`heartkeep --help | head -1`: the reader leaves early; that is no failure."""
    reader = subprocess.Popen(["head", "-c", "0"], stdin=subprocess.PIPE)
    reader.wait()  # gone before heartkeep writes: every write meets a closed pipe
    assert reader.stdin is not None
    done = subprocess.run(
        [sys.executable, "-m", "heartkeep", "--help"],
        stdout=reader.stdin,
        stderr=subprocess.PIPE,
        text=True,
    )
    reader.stdin.close()
    assert (done.returncode, done.stderr) == (0, "")


@pytest.mark.parametrize("args", [["--help"], ["sync", "--help"]])
def test_help_fits_80_columns(args: list[str], home: Path) -> None:
    """Wrapped by click to the terminal's width: no line longer, no frame of a wider one."""
    env = {**os.environ, "COLUMNS": "80"}
    text = subprocess.run(
        [sys.executable, "-m", "heartkeep", *args],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout
    assert text.startswith("Usage: ")
    assert max(len(line) for line in text.splitlines()) <= 80
    assert not [line for line in text.splitlines() if line != line.rstrip()]


def test_loading_the_cli_pauses_the_collector_and_gives_it_back() -> None:
    """The CLI's modules load with the cyclic collector paused (`cli/__init__.py`); a program
    that imports `heartkeep.cli` gets it back as it was, on or off."""
    probe = (
        "import gc\n"
        "was = gc.isenabled()\n"
        "import heartkeep.cli\n"
        "print(was, gc.isenabled())\n"
        "gc.disable()\n"
        "import importlib, sys\n"
        "del sys.modules['heartkeep.cli']\n"
        "importlib.import_module('heartkeep.cli')\n"
        "print(gc.isenabled())\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["True", "True", "False"]


# What an up-to-date sync (cron, hourly: one account, nothing new) must not load: HEAVY but for
# what asking the provider needs (heartkeep's own HTTP client, not httpx) and the aggregates'
# upkeep (numpy: wt-ingest's part of issue 11).  csv and hashlib are the probe's (time_machine):
# `test_the_vault_loads_no_hashlib_until_a_refresh` keeps hashlib out of heartkeep's side.
_A_FETCH_NEEDS = {
    "heartkeep.http_client",
    "heartkeep.auth.vault",
    "heartkeep.sync.engine",
    "numpy",
}
UP_TO_DATE_HEAVY = {
    **{name: why for name, why in HEAVY.items() if name not in {*_A_FETCH_NEEDS, "csv", "hashlib"}},
    "filelock": "the sync lock is flock(2) (`sync/lock.py`); fresh tokens take no vault lock",
    "httpcore": "httpx's transport: the wire is http.client's (`http_wire.py`)",
    "h11": "httpcore's HTTP/1.1 parser: http.client parses the answers",
    "anyio": "httpcore's locks: none of its async side is used",
    "certifi": "plain http builds no trust; https trusts the system directory first",
}

# The probe of a sync on the test's (pinned, ticking) wall clock: the sandbox runs on it too.
PINNED_PROBE = (
    "import sys, time_machine\n"
    "time_machine.travel(float(sys.argv.pop(1)), tick=True).start()\n"
    + PROBE.replace(
        "print(",
        "print(' '.join(f'{m}.{k}' for m, module in list(sys.modules.items())"
        " if m.startswith('heartkeep') for k, v in vars(module).items()"
        " if isinstance(v, type) and '__dataclass_fields__' in vars(v)"
        " and v.__module__ == m), file=sys.stderr)\n"
        "print(",
        1,
    )
)


def test_an_up_to_date_sync_loads_no_oauth_library_or_heavy_module(cli_world, home: Path) -> None:
    """The hourly cron sync with tokens still good and nothing new: it asks the provider once
    per stream, so it needs heartkeep's HTTP client and the store, but not httpx (issue 11: its
    import alone was ~300 M instructions), Authlib (only a refresh or a login builds a token
    request), Rich, pydantic or the charts."""
    import time

    from typer.testing import CliRunner

    from heartkeep.cli import app

    cli_world(2)
    assert CliRunner().invoke(app, ["sync", "-q"]).exit_code == 0
    env = {**os.environ, "COLUMNS": "80"}
    args = [str(time.time()), "sync", "--trailing-days", "0", "-q"]
    done = subprocess.run(
        [sys.executable, "-c", PINNED_PROBE, *args], capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr
    modules = set(done.stderr.split("\n")[-2].split())
    assert "heartkeep.http_wire" in modules  # it did ask the provider
    loaded = sorted(
        name
        for name in UP_TO_DATE_HEAVY
        if any(m == name or m.startswith(name + ".") for m in modules)
    )
    assert loaded == []
    # ... and defines no dataclass: each cost ~4.4 M instructions to create (its methods are
    # generated and compiled), a msgspec Struct ~0.4 M; 41 of them were a quarter of this sync
    assert done.stderr.split("\n")[-3].split() == []


def test_start_up_compiles_none_of_heartkeeps_patterns(home: Path) -> None:
    """Redaction's patterns compile on the first message that needs them, and the exit-code
    names and option values need no regular expression at all: compiling them was a few per
    cent of every `--help` (issue 11)."""
    probe = PROBE.replace(
        "print(",
        "import heartkeep.redaction as r\n"
        "assert r._patterns.cache_info().currsize == 0, 'redaction compiled at start-up'\n"
        "print(",
        1,
    )
    for args in (["--help"], ["sync", "--help"]):
        done = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    from heartkeep.redaction import redact

    assert redact("Authorization: Bearer abcdefghijkl") == "Authorization: Bearer [redacted]"


def test_the_vault_loads_no_hashlib_until_a_refresh() -> None:
    """A sync with good tokens reads the vault but fingerprints no refresh token, so it loads
    neither hashlib (OpenSSL) nor `secrets` (hmac) for the vault (issue 11)."""
    probe = (
        "import sys\n"
        "from heartkeep.auth.vault import fingerprint\n"
        "print(sorted({'hashlib', 'hmac', 'secrets'} & set(sys.modules)))\n"
        "print(len(fingerprint('a-refresh-token')), 'hashlib' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines() == ["[]", "16 True"]
