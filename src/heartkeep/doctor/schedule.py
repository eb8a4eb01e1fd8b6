"""Does anything run `heartkeep sync` on a schedule?  Best effort: cron and systemd timers.

Without a schedule the database is only as current as the last time someone typed `sync`, and
Google's refresh tokens lapse after six months unused.  The doctor looks at the user's crontab,
/etc/cron.d and systemd timers (user and system) for the word "heartkeep"; it cannot see other
schedulers (launchd, Task Scheduler, a NAS's own), so "nothing found" is a warning, never a
problem.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from heartkeep.doctor.findings import Finding

CHECK = "schedule"
_COMMANDS = (
    ("crontab", ["crontab", "-l"]),
    ("systemd user timer", ["systemctl", "--user", "list-timers", "--all", "--no-pager"]),
    ("systemd timer", ["systemctl", "list-timers", "--all", "--no-pager"]),
)


def check_schedule(home: Path | None = None) -> list[Finding]:
    for where, command in _COMMANDS:
        if shutil.which(command[0]) is None:
            continue
        try:
            done = subprocess.run(  # noqa: S603 - fixed commands, no user input
                command, capture_output=True, text=True, timeout=10, check=False
            )
        except (OSError, subprocess.SubprocessError):
            continue
        if done.returncode == 0 and _mentions_heartkeep(done.stdout):
            return [Finding(CHECK, "ok", f"a {where} runs heartkeep")]
    user_units = (home or Path.home()) / ".config" / "systemd" / "user"
    for folder in (Path("/etc/cron.d"), user_units):
        for path in sorted(folder.glob("*")) if folder.is_dir() else []:
            try:
                if path.is_file() and _mentions_heartkeep(path.read_text(errors="replace")):
                    return [Finding(CHECK, "ok", f"{path} runs heartkeep")]
            except OSError:
                continue
    return [
        Finding(
            CHECK,
            "warning",
            "nothing found that runs `heartkeep sync` on a schedule (crontab, systemd timers)",
            "schedule it (docs/scheduling.md), or ignore this if another scheduler runs it",
        )
    ]


def _mentions_heartkeep(text: str) -> bool:
    return any(
        "heartkeep" in line and not line.lstrip().startswith("#") for line in text.splitlines()
    )
