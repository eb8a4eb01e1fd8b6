"""The outputs' glue: what `export`, `daily_report`, the plots and the report read and draw.

Each function opens the store read-only, picks the account and the local-day range, and hands
the samples to an exporter, the daily statistics or a chart.  Kept apart from `api.py` (the
wiring of auth and sync) so each file has one job; `heartkeep.api` re-exports every public name
here, which is where callers import them from.  matplotlib loads only inside the functions that
draw, numpy with the statistics: an export needs neither.
"""

from __future__ import annotations

import datetime as dt
import pathlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from heartkeep import timeline
from heartkeep.analysis.max_hr import DEFAULT_MAX_HR, check_max_hr
from heartkeep.auth import connected_accounts as _connected_accounts
from heartkeep.config import Settings
from heartkeep.daterange import check_order
from heartkeep.errors import ConfigError, HeartkeepError, NoAccounts, UsageError
from heartkeep.exporters import ExportFormat, ExportReport, export_format
from heartkeep.exporters import export as _export
from heartkeep.model import Account, Window
from heartkeep.output_target import OutputTarget
from heartkeep.store import Store, open_store
from heartkeep.store.failures import NoDatabase

if TYPE_CHECKING:  # matplotlib loads only when a chart is drawn, numpy with the statistics
    from matplotlib.figure import Figure

    from heartkeep.analysis.daily import DayStats

HEATMAP_METRICS = ("coverage", "resting")


def _no_data_yet(settings: Settings, key: str | None = None) -> NoAccounts | None:
    """ "No data yet, run `heartkeep sync`" when an account is connected (or `key` is) but
    nothing of it is stored: after `auth login`, before the first sync.  None otherwise."""
    try:
        connected = _connected_accounts(settings)
    except (HeartkeepError, OSError):
        return None
    if key is not None:
        connected = [k for k in connected if k == key]
    if not connected:
        return None
    return NoAccounts(
        f"no data yet: {', '.join(connected)} is connected but has not been synced",
        hint="Run `heartkeep sync` to fetch its heart-rate history, then try again.",
    )


@contextmanager
def _reading(settings: Settings) -> Iterator[Store]:
    """The store opened read-only for a command that shows data; a database that does not
    exist yet after `auth login` is "no data yet, run `heartkeep sync`", not "no accounts"."""
    try:
        store = open_store(settings.database, readonly=True)
    except NoDatabase as missing:
        raise (_no_data_yet(settings) or missing) from None
    with store:
        yield store


def _output_account(store: Store, key: str | None, settings: Settings) -> Account:
    if key is not None:
        found = store.account(key)
        if found is None:
            raise _no_data_yet(settings, key) or NoAccounts(f"no account {key!r} in the store")
        return found
    accounts = store.accounts()
    if not accounts:
        raise _no_data_yet(settings) or NoAccounts(
            "no accounts yet",
            hint="connect one with `heartkeep auth login` or import an archive",
        )
    if len(accounts) > 1:
        keys = ", ".join(a.key for a in accounts)
        raise ConfigError(f"several accounts exist ({keys}): choose one with --account")
    return accounts[0]


def _window(account: Account, since: dt.date | None, until: dt.date | None) -> Window | None:
    """UTC span of the local days [since, until] (inclusive) in the account's zone; an end
    given as a naive `datetime` is that local wall time's instant (`until` exclusive)."""
    if since is None and until is None:
        return None
    check_order(since, until)
    start = 0 if since is None else _instant(since, account.time_zone, end=False)
    end = 2**62 if until is None else _instant(until, account.time_zone, end=True)
    return Window(start, end)


def _instant(bound: dt.date, zone_name: str, *, end: bool) -> int:
    """A day's first instant (with `end`: the instant after it) or a wall time's instant."""
    if isinstance(bound, dt.datetime):
        return timeline.local_to_instant(bound, zone_name)
    day = timeline.local_day_window(bound, zone_name)
    return day.end_s if end else day.start_s


def export(
    settings: Settings,
    fmt: ExportFormat | str,
    output: pathlib.Path,
    *,
    account: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    fhir_bundle: bool = False,
) -> ExportReport:
    """Export an account's samples on the local days [since, until] (inclusive, either open).

    Either end may also be a naive `datetime`, a wall time in the account's zone: the range
    then starts (or stops, exclusive) at that instant, as the dashboard's Range view does.

    Raises `NoAccounts` (also "no data yet" before the first sync), `ConfigError` (ambiguous
    account), `UsageError` (unknown format, `until` before `since`) — usage before the store.
    """
    export_format(fmt)
    check_order(since, until)
    with _reading(settings) as store:
        target = _output_account(store, account, settings)
        return _export(
            store,
            fmt,
            output,
            account_key=target.key,
            window=_window(target, since, until),
            fhir_bundle=fhir_bundle,
        )


def _last_day(store: Store, account: Account) -> dt.date:
    span = store.sample_span(account.key)
    if span is None:
        days = [d.day for d in store.dailies(account.key)]
        return max(days) if days else dt.datetime.now(timeline.zone(account.time_zone)).date()
    last = span.end_s - 1
    return timeline.local_date(last, timeline.zone_offset_min(account.time_zone, last))


def _range(
    store: Store, account: Account, since: dt.date | None, until: dt.date | None, days: int
) -> tuple[dt.date, dt.date]:
    """[since, until]; open ends default to the last day with data and `days` days back (but
    not before the first day with data).  A `since` after the last day with data is a range of
    days without data, never "until before since": the person did not type that `until`."""
    check_order(since, until)
    end = until or _last_day(store, account)
    if until is None and since is not None:
        end = max(end, since)
    start = since or end - dt.timedelta(days=days - 1)
    span = store.sample_span(account.key)
    if since is None and span is not None:
        first = timeline.local_date(
            span.start_s, timeline.zone_offset_min(account.time_zone, span.start_s)
        )
        start = max(start, min(first, end))
    return start, end


def _stats(
    store: Store, account: Account, since: dt.date | None, until: dt.date | None, max_hr: int
) -> list[DayStats]:
    # The store's day aggregates (exact even for days a killed sync left to refresh): a row a
    # day, finished with the provider's values for this `max_hr` — O(days), not O(samples).
    from heartkeep.analysis.daily import stats_from_aggregates

    end = until + dt.timedelta(days=1) if until else None
    return stats_from_aggregates(
        store.day_aggregates(account.key, since, end),
        store.dailies(account.key, start=since, end=end),
        since=since,
        until=until,
        max_hr=max_hr,
        zone_name=account.time_zone,
    )


def _period_stats(
    settings: Settings,
    store: Store,
    account: str | None,
    since: dt.date | None,
    until: dt.date | None,
    default_days: int,
    max_hr: int,
) -> tuple[Account, dt.date, dt.date, list[DayStats]]:
    """The account, the [start, end] days (open ends: the last `default_days` with data) and
    their statistics: what every chart and the report start from."""
    target = _output_account(store, account, settings)
    start, end = _range(store, target, since, until, default_days)
    return target, start, end, _stats(store, target, start, end, max_hr)


def daily_report(
    settings: Settings,
    *,
    account: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    max_hr: int = DEFAULT_MAX_HR,
) -> list[DayStats]:
    """Per-local-day statistics for [since, until] (inclusive; all days when both are open).

    Raises `NoAccounts` (also "no data yet" before the first sync), `UsageError` (`until`
    before `since`, `max_hr` outside 100–250 bpm).
    """
    check_order(since, until)
    check_max_hr(max_hr)
    with _reading(settings) as store:
        return _stats(store, _output_account(store, account, settings), since, until, max_hr)


def _day_figure(store: Store, account: Account, day: dt.date, max_hr: int) -> Figure:
    """The day's chart as a matplotlib figure (`plot day`), from what `charts.day_source`
    chooses to draw it from."""
    from heartkeep.charts.day import draw_day
    from heartkeep.charts.day_source import day_chart

    return draw_day(day_chart(store, account, day, max_hr))


def plot_day(
    settings: Settings,
    day: dt.date,
    output: pathlib.Path,
    *,
    account: str | None = None,
    max_hr: int = DEFAULT_MAX_HR,
) -> pathlib.Path:
    """Draw one local day's heart rate with zones and gaps; PNG or SVG by `output`'s suffix."""
    from heartkeep.charts import image_format, save

    image_format(output)
    check_max_hr(max_hr)
    with _reading(settings) as store:
        target = _output_account(store, account, settings)
        return save(_day_figure(store, target, day, max_hr), output)


def _heatmap_figure(
    stats: Sequence[DayStats], since: dt.date, until: dt.date, metric: str
) -> Figure:
    from heartkeep.charts.calendar import calendar_figure

    if metric == "coverage":
        values = {row.day: row.coverage * 100 for row in stats if row.samples}
        return calendar_figure(
            values,
            since,
            until,
            label="Coverage (% of the day)",
            title="Wear coverage per day",
            cmap="Greens",
            vmin=0,
            vmax=100,
        )
    if metric == "resting":
        resting = {row.day: row.resting_provider or row.resting_estimate for row in stats}
        return calendar_figure(
            resting,
            since,
            until,
            label="Resting heart rate (bpm)",
            title="Resting heart rate per day",
            cmap="magma_r",
        )
    raise AssertionError(metric)  # plot_heatmap checked it


HEATMAP_METRICS = ("coverage", "resting")


def plot_heatmap(
    settings: Settings,
    output: pathlib.Path,
    *,
    metric: str = "coverage",
    account: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    max_hr: int = DEFAULT_MAX_HR,
) -> pathlib.Path:
    """Calendar heatmap of coverage or resting HR; default range: the last 365 days with data."""
    from heartkeep.charts import image_format, save

    image_format(output)
    if metric not in HEATMAP_METRICS:
        raise UsageError(f"unknown heatmap metric {metric!r} (choose coverage or resting)")
    check_max_hr(max_hr)
    with _reading(settings) as store:
        _, start, end, stats = _period_stats(settings, store, account, since, until, 365, max_hr)
        return save(_heatmap_figure(stats, start, end, metric), output)


def plot_trend(
    settings: Settings,
    output: pathlib.Path,
    *,
    account: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    max_hr: int = DEFAULT_MAX_HR,
) -> pathlib.Path:
    """Resting-HR trend (provider, estimate, 7-day mean); default: the last 365 days with data."""
    from heartkeep.charts import image_format, save
    from heartkeep.charts.trend import trend_figure

    image_format(output)
    check_max_hr(max_hr)
    with _reading(settings) as store:
        _, start, end, stats = _period_stats(settings, store, account, since, until, 365, max_hr)
        return save(trend_figure(stats, start, end), output)


def report(
    settings: Settings,
    output: pathlib.Path,
    *,
    account: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    max_hr: int = DEFAULT_MAX_HR,
    generated_at: dt.datetime | None = None,
) -> pathlib.Path:
    """A self-contained HTML report for [since, until]; default: the last 30 days with data."""
    from heartkeep.charts.day_source import day_chart
    from heartkeep.charts.report import ReportFigure, render_report
    from heartkeep.charts.svg import calendar_svg, day_svg, trend_svg

    check_max_hr(max_hr)
    with _reading(settings) as store:
        target, start, end, stats = _period_stats(
            settings, store, account, since, until, 30, max_hr
        )
        worn = [row for row in stats if row.samples]
        coverage = {row.day: row.coverage * 100 for row in stats if row.samples}
        figures = [
            ReportFigure(
                "Wear coverage per day",
                calendar_svg(coverage, start, end, title="Wear coverage per day",
                             label="Coverage (% of the day)"),
            ),
            ReportFigure("Resting heart rate", trend_svg(stats, start, end)),
        ]  # fmt: skip
        if worn:
            last = worn[-1].day
            chart = day_svg(day_chart(store, target, last, max_hr))
            figures.append(ReportFigure(f"The last day with data, {last}", chart))
        document = render_report(
            stats,
            figures,
            title=f"Heart rate · {target.display_name or target.key}",
            since=start,
            until=end,
            generated_at=generated_at or dt.datetime.now(dt.UTC),
        )
    with OutputTarget(output) as sink:
        sink.write(document.encode())
    return output
