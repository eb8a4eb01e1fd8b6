"""What `heartkeep doctor` reports: findings, each with a level, what is wrong and what to do.

The levels map to the exit status so a script or a monitoring check can act on it without
parsing text: 0 all well, 1 warnings only (worth a look, nothing is failing yet), 2 at least one
problem (something fails now or data is at risk).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Level = Literal["ok", "warning", "problem"]
_LEVELS: tuple[Level, ...] = ("ok", "warning", "problem")
_RANK: dict[Level, int] = {level: rank for rank, level in enumerate(_LEVELS)}
_STATUS: dict[Level, int] = {"ok": 0, "warning": 11, "problem": 12}


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing the doctor looked at.  `action` says what to do ('' when nothing is needed)."""

    check: str
    level: Level
    message: str
    action: str = ""

    def as_json(self) -> dict[str, str]:
        return {
            "check": self.check,
            "level": self.level,
            "message": self.message,
            "action": self.action,
        }


@dataclass(frozen=True, slots=True)
class DoctorReport:
    """Everything the doctor found, in the order it looked."""

    findings: tuple[Finding, ...]

    @property
    def exit_code(self) -> int:
        """0 all well, 11 warnings only, 12 a problem: statuses of their own in the exit-code
        table, so a monitoring job never mistakes a finding for a bug (1) or bad usage (2)."""
        return _STATUS[self.worst]

    @property
    def worst(self) -> Level:
        """The most serious level among the findings ("ok" when there are none)."""
        rank = max((_RANK[finding.level] for finding in self.findings), default=0)
        return _LEVELS[rank]

    def of(self, check: str) -> list[Finding]:
        return [finding for finding in self.findings if finding.check == check]

    def as_json(self) -> dict[str, object]:
        return {
            "status": self.worst,
            "exit_code": self.exit_code,
            "findings": [finding.as_json() for finding in self.findings],
        }
