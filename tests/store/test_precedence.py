"""The precedence rule is an order on records: no input order can change what is stored."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st
from import_readings import against_a_store, readings

from heartkeep.model import Daily, DailyKind, Sample, Source, Zone
from heartkeep.store.precedence import best_dailies
from heartkeep.store.protocol import ImportFile, Provenance

KEY = "takeout:me"
T0 = 1_790_000_000
DAY = dt.date(2026, 6, 1)

zones = st.builds(
    lambda minutes, bounds: Daily(
        DAY,
        DailyKind.ZONES,
        zones=tuple(
            Zone(name, bound, bound + 30 if bound else 0, m)
            for name, m, bound in zip(
                ("Out of Range", "Fat Burn", "Cardio"), minutes, bounds, strict=False
            )
        ),
    ),
    st.lists(st.one_of(st.none(), st.floats(0, 1440, allow_nan=False)), min_size=1, max_size=3),
    st.lists(st.sampled_from([0, 90, 120]), min_size=3, max_size=3),
)
resting = st.builds(
    lambda value: Daily(DAY, DailyKind.RESTING_HR, value=value),
    st.one_of(st.none(), st.floats(30, 120, allow_nan=False)),
)


@given(st.lists(st.one_of(zones, resting), min_size=1, max_size=6), st.randoms())
def test_the_chosen_daily_does_not_depend_on_the_order(dailies, rng) -> None:
    shuffled = list(dailies)
    rng.shuffle(shuffled)
    assert best_dailies(shuffled) == best_dailies(dailies)


@against_a_store
@given(readings, readings)
def test_two_imports_store_the_same_whatever_their_order(backend, first, second) -> None:
    outcomes = []
    for order in ((first, second), (second, first)):
        with backend.fresh() as store, store.transaction():
            for number, rows in enumerate(order):
                files = (ImportFile(f"f{number}", f"{number:064x}", 1),)
                run = store.begin_import(KEY, Provenance("takeout", "UTC", files), 0)
                batch = sorted(Sample(T0 + i, b, o) for i, b, o in rows)
                store.write_import_samples(KEY, run, batch, Source.TAKEOUT)
            outcomes.append([s for chunk in store.iter_samples(KEY) for s in chunk])
    assert outcomes[0] == outcomes[1]
    best: dict[int, Sample] = {}
    for i, b, o in first + second:
        best[T0 + i] = max(best.get(T0 + i, Sample(0, 0, -1)), Sample(T0 + i, b, o))
    assert outcomes[0] == [best[k] for k in sorted(best)]


def test_unknown_and_zero_minutes_in_zones_do_not_tie() -> None:
    """Found by the property above: None and 0.0 minutes once ranked equal, so two such days
    each won when named first."""

    def day(minutes: list[float | None]) -> Daily:
        names = ("Out of Range", "Fat Burn", "Cardio")
        bounds = (0, 90, 0)
        return Daily(
            DAY,
            DailyKind.ZONES,
            zones=tuple(
                Zone(n, b, b + 30 if b else 0, m)
                for n, m, b in zip(names, minutes, bounds, strict=True)
            ),
        )

    first, second = day([None, 0.0, 0.0]), day([0.0, None, 0.0])
    assert best_dailies([first, second]) == best_dailies([second, first])
