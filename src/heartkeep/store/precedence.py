"""One rule for which value stays when two sources give the same second or the same day.

Why one module: the rule used to be an accident of the code path (the last file on the command
line won a day, the first import won across runs, the CSV twin won within one run), so the
stored data depended on the order things were done in.  Here it is a total order on records:

1. **Provider data beats archive data.**  A sync (Google Health, the legacy Fitbit API) reports
   the offset the device used and the provider's own daily values; an archive only allows a
   zone-rule guess.  An import never replaces a synced row; a sync replaces archive rows.
   Between two syncs, the later one wins (a provider corrects itself).
2. **Among archives, the fuller record wins**: for zones, more minutes in zones, then more zones
   with minutes, then more zones with bounds; for a value, a value beats no value.
3. **Ties go to the larger value** (bpm, then offset; for zones their canonical JSON), so the
   result is the same whatever order files are named in or imports are run.

Pure functions on plain values: the SQLite backend (and a future PostgreSQL one) call them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from heartkeep.model import Daily, DailyKind, Source

# Sources whose rows come from a provider's API rather than an archive file.
PROVIDER_CODES = frozenset({Source.GOOGLE_HEALTH.code, Source.FITBIT_LEGACY.code})

SampleValue = tuple[int, int]
"""(bpm, offset_min) of a sample: what decides between two readings of one second."""

DailyRank = tuple[float, int, int, int, float, str]


def is_provider(source_code: int) -> bool:
    """True for rows a sync wrote (they always beat archive rows)."""
    return source_code in PROVIDER_CODES


def sample_wins(new: SampleValue, old: SampleValue) -> bool:
    """Does an archive reading `new` replace the archive reading `old` of the same second?

    Both are complete records (bpm and offset), so the larger wins; equal values keep `old`.
    """
    return new > old


def samples_win(new_bpm: Any, new_offset: Any, old_bpm: Any, old_offset: Any) -> Any:
    """`sample_wins` over numpy columns, element by element: (bpm, offset) compared as pairs.

    Plain operators only, so this module needs no numpy of its own."""
    return (new_bpm > old_bpm) | ((new_bpm == old_bpm) & (new_offset > old_offset))


def daily_rank(daily: Daily) -> DailyRank:
    """A key under which the fuller (then larger) of two archive dailies is the greater."""
    if daily.kind is DailyKind.ZONES:
        minutes = [zone.minutes for zone in daily.zones if zone.minutes is not None]
        with_bounds = sum(1 for zone in daily.zones if zone.min_bpm or zone.max_bpm)
        # A zone's missing minutes and its 0.0 minutes must not tie (both orders of two such
        # days would each keep the first): a known value ranks above an unknown one.
        canonical = repr(
            sorted(
                (z.name, z.min_bpm, z.max_bpm, z.minutes is not None, z.minutes or 0.0)
                for z in daily.zones
            )
        )
        return (sum(minutes), len(minutes), with_bounds, len(daily.zones), 0.0, canonical)
    present = daily.value is not None
    return (0.0, 0, 0, int(present), daily.value if daily.value is not None else 0.0, "")


def daily_wins(new: Daily, old: Daily) -> bool:
    """Does archive daily `new` replace archive daily `old` of the same day and kind?"""
    return daily_rank(new) > daily_rank(old)


def best_dailies(dailies: Iterable[Daily]) -> list[Daily]:
    """One daily per (day, kind): the winner under `daily_wins`, whatever the input order."""
    best: dict[tuple[object, DailyKind], Daily] = {}
    for daily in dailies:
        key = (daily.day, daily.kind)
        held = best.get(key)
        if held is None or daily_wins(daily, held):
            best[key] = daily
    return [best[key] for key in sorted(best, key=lambda k: (str(k[0]), k[1].value))]
