"""The maximum heart rate the zones are computed from, and the check of a given one.

A module of its own, without numpy, so that the front door can take `max_hr` as an argument
(and check it) without loading the analysis: `export` needs neither (issue 11's start-up).
`heartkeep.analysis.zones` re-exports both names.
"""

from __future__ import annotations

from heartkeep.errors import UsageError

DEFAULT_MAX_HR = 190  # 220 − 30 years; `--max-hr` changes it
# A maximum heart rate outside this is a typo (`--max-hr 0` put 1,169 minutes in PEAK): the
# lowest maxima measured in adults are above 100 bpm, the highest below 250.
MAX_HR_RANGE = (100, 250)


def check_max_hr(max_hr: int) -> int:
    """`max_hr` if it is a plausible maximum heart rate (100–250 bpm); `UsageError` otherwise."""
    low, high = MAX_HR_RANGE
    if not low <= max_hr <= high:
        raise UsageError(
            f"--max-hr {max_hr} is not a maximum heart rate: give {low} to {high} bpm",
            hint="A common estimate is 220 minus your age (190 at 30).",
        )
    return max_hr
