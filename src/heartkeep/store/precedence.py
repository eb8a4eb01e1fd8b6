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

Pure functions on plain values (and on numpy columns, numpy loaded where they are used): both
stores call them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgspec

from heartkeep.model import Daily, DailyKind, SampleColumns, Source

# Sources whose rows come from a provider's API rather than an archive file.
PROVIDER_CODES = frozenset({Source.GOOGLE_HEALTH.code, Source.FITBIT_LEGACY.code})

# A sample's stored `source` is import_id * IMPORT_STRIDE + source code (plain codes for synced
# rows and rows imported before SQLite's schema 4): who owns a row costs synced rows no byte.
IMPORT_STRIDE = 16

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


class SampleContest(msgspec.Struct, frozen=True):
    """How an import's readings fare against stored rows of the same seconds (masks over
    those pairs, and the counts an `ImportWrite` reports)."""

    wins: Any  # the import's reading is stored
    displace: Any  # ...over another import's row, which is set aside first (undo restores it)
    kept: int  # stored rows that stay against a different reading of another source
    conflicts: int  # the import's own rows it disagrees with (a file's twin)
    replaced: int  # rows of other imports it won over


def contest_samples(new_bpm: Any, new_offset: Any, old_rows: Any, import_id: int) -> SampleContest:
    """The precedence rule between an import's readings (`new_bpm`, `new_offset` columns) and
    the stored rows of the same seconds (`old_rows`: instant, bpm, offset, source): a synced
    row always stays; the import's own row or another import's gives way to a larger reading;
    equal readings change nothing."""
    import numpy as np

    old_bpm, old_offset, old_source = old_rows[:, 1], old_rows[:, 2], old_rows[:, 3]
    provider = np.isin(old_source % IMPORT_STRIDE, sorted(PROVIDER_CODES))
    same = (new_bpm == old_bpm) & (new_offset == old_offset)
    ours = old_source // IMPORT_STRIDE == import_id
    contested = ~provider & ~same
    wins = contested & samples_win(new_bpm, new_offset, old_bpm, old_offset)
    loses = contested & ~wins
    displace = wins & ~ours
    return SampleContest(
        wins=wins,
        displace=displace,
        kept=int((provider & ~same).sum()) + int((loses & ~ours).sum()),
        conflicts=int((loses & ours).sum()) + int((wins & ours).sum()),
        replaced=int(displace.sum()),
    )


def ascending_unique(columns: SampleColumns) -> SampleColumns:
    """The columns by ascending instant, one row per second: the largest (bpm, offset) of
    each, the reading the rule keeps.  A day file is usually in order already."""
    import numpy as np

    instants = columns.instants_s
    if len(instants) < 2 or bool(np.all(instants[1:] > instants[:-1])):
        return columns
    order = np.lexsort((columns.offsets_min, columns.bpm, instants))
    ordered = SampleColumns(instants[order], columns.bpm[order], columns.offsets_min[order])
    last = np.ones(len(order), dtype=bool)
    last[:-1] = ordered.instants_s[1:] != ordered.instants_s[:-1]
    return ordered.where(last)


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
