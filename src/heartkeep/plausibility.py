"""The one rule for a heart rate heartkeep will store: 20 to 300 beats per minute.

Sync and every importer pass samples through `plausible()` before the store sees them;
samples outside the range are not stored and are counted (`samples_implausible` in the sync
and import reports), never dropped without a word.  Why these bounds (docs/formats.md):

* 20 bpm: the lowest rates recorded in living, conscious people are in the mid-20s (extreme
  bradycardia, elite endurance athletes asleep); wrist optical sensors do not report below 30.
  A reading under 20 is a sensor or file error, not a heartbeat.
* 300 bpm: the fastest human rhythms (atrial flutter with 1:1 conduction, rates in infants)
  stay under 300; 220 − age is the usual adult maximum.  Anything above is an overflow, a unit
  mix-up (70000) or garbage (1e9).

Zero is not counted here: Fitbit writes 0 for "no reading", and importers skip it as a gap.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import itemgetter

from heartkeep.model import Sample, SampleColumns

MIN_BPM = 20
MAX_BPM = 300

_BPM = itemgetter(1)  # Sample.bpm


def plausible(bpm: float) -> bool:
    """True if a heart rate of `bpm` can come from a living person's heart."""
    return MIN_BPM <= bpm <= MAX_BPM


def keep_plausible(samples: Sequence[Sample]) -> tuple[Sequence[Sample], int]:
    """The samples with plausible bpm (the same sequence when all are), and how many were not.
    Columns stay columns (`keep_plausible_columns`): a study's pages arrive as columns."""
    if isinstance(samples, SampleColumns):
        return keep_plausible_columns(samples)
    # Two passes at C speed (a sync page is 10,000 samples; the usual answer is "all good").
    if not samples or (min(map(_BPM, samples)) >= MIN_BPM and max(map(_BPM, samples)) <= MAX_BPM):
        return samples, 0
    kept = [sample for sample in samples if MIN_BPM <= sample.bpm <= MAX_BPM]
    return kept, len(samples) - len(kept)


def keep_plausible_columns(columns: SampleColumns) -> tuple[SampleColumns, int]:
    """`keep_plausible` for columns: the same rule over numpy arrays, no object per sample."""
    good = (columns.bpm >= MIN_BPM) & (columns.bpm <= MAX_BPM)
    if good.all():
        return columns, 0
    kept = columns.where(good)
    return kept, len(columns) - len(kept)


__all__ = ["MAX_BPM", "MIN_BPM", "keep_plausible", "keep_plausible_columns", "plausible"]
