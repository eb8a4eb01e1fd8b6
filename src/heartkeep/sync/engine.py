"""The sync loop for one account: plan, fetch page by page, commit each page with its cursor.

The invariant everything hangs on (DESIGN invariant 2): a page's samples, the job frontier that
says "done down to here" and the ledger row describing the fetch commit in **one** transaction.
Kill the process anywhere and the database holds whole pages and a frontier that matches them;
the next run resumes below the frontier (see `planner.py`).  A job that reaches its lower
bound folds into the account's complete span and clears itself.

The engine is provider-agnostic: it trusts only the `Provider` contract (pages newest first
whose `covers` tile the window) and checks it, refusing to move a cursor over a hole.  Any
`HeartkeepError` stops this account cleanly — committed pages stay, the run is recorded as
failed with its exit code — and the caller goes on with the next account.
"""

from __future__ import annotations

import contextlib
import datetime as dt

import msgspec

from heartkeep.clock import Clock
from heartkeep.errors import HeartkeepError, ProviderError, StoreError
from heartkeep.model import Window
from heartkeep.plausibility import keep_plausible
from heartkeep.providers import Provider
from heartkeep.redaction import redact
from heartkeep.store.protocol import LedgerEntry, StreamState, SyncStore
from heartkeep.sync.events import (
    AccountFinished,
    EventHandler,
    EventTally,
    JobStarted,
    PageCommitted,
)
from heartkeep.sync.planner import (
    DAILIES,
    DAY_S,
    DEFAULT_HISTORY_DAYS,
    HEART_RATE,
    DailyJob,
    SampleJob,
    day_key_s,
    earliest_start_s,
    local_midnight_s,
    merge_coverage,
    plan_dailies,
    plan_samples,
    today_in,
)
from heartkeep.sync.report import AccountReport


class _Counts(msgspec.Struct):
    received: int = 0
    inserted: int = 0
    updated: int = 0
    merged: int = 0
    dailies: int = 0
    pages: int = 0
    provider_requests: int = 0
    days: float = 0.0
    zone_changes_inferred: int = 0
    samples_reoffset: int = 0
    implausible: int = 0


class _AccountSync:
    """One run for one account; holds the counters while it goes."""

    def __init__(
        self,
        provider: Provider,
        store: SyncStore,
        *,
        account_key: str,
        clock: Clock,
        events: EventTally,
    ) -> None:
        self.provider = provider
        self.store = store
        self.key = account_key
        self.clock = clock
        self.events = events
        self.counts = _Counts()
        # The devices' last sync: heart rate after it is never recorded as complete.
        self.delivered_until_s: int | None = None
        # Set on an account's first run: the local day its stored history starts from.
        self.history_from: dt.date | None = None

    def now_s(self) -> int:
        return int(self.clock.now_s())

    # heart rate -----------------------------------------------------------------------------
    def run_sample_job(self, job: SampleJob) -> None:
        state = self.store.stream_state(self.key, HEART_RATE)
        if job.kind != "resume":
            state = msgspec.structs.replace(
                state,
                job_lo_s=job.bounds.start_s,
                job_hi_s=job.bounds.end_s,
                job_frontier_s=None,
            )
            self.store.save_stream_state(self.key, HEART_RATE, state)
        self.events(JobStarted(self.key, HEART_RATE, job.fetch, job.kind))
        frontier = job.fetch.end_s
        for page in self.provider.sample_pages(job.fetch):
            covers = page.covers
            if covers.end_s != frontier or covers.start_s < job.fetch.start_s:
                raise ProviderError(
                    f"{self.provider.name} returned pages that do not tile the requested span "
                    f"(expected a page ending at {frontier}, got {covers.start_s}..{covers.end_s})",
                    hint="This is a bug in heartkeep's provider; nothing past the last good page "
                    "was recorded as complete.",
                )
            samples, implausible = keep_plausible(page.samples)
            with self.store.transaction():
                written = self.store.write_samples(self.key, samples, self.provider.source)
                if page.dailies:
                    daily_written = self.store.write_dailies(
                        self.key, page.dailies, self.provider.source
                    )
                    self.counts.dailies += daily_written.inserted
                state = msgspec.structs.replace(state, job_frontier_s=covers.start_s)
                self.store.save_stream_state(self.key, HEART_RATE, state)
                self.store.record_fetch(
                    self.key,
                    LedgerEntry(
                        stream=HEART_RATE,
                        fetched_at_s=self.now_s(),
                        start_s=covers.start_s,
                        end_s=covers.end_s,
                        requests=page.requests,
                        received=len(page.samples),
                        inserted=written.inserted,
                        updated=written.updated,
                    ),
                )
            frontier = covers.start_s
            self.counts.received += len(page.samples)
            self.counts.inserted += written.inserted
            self.counts.updated += written.updated
            self.counts.merged += written.merged
            self.counts.implausible += implausible
            self.counts.pages += 1
            self.counts.provider_requests += page.requests
            self.counts.days += covers.seconds / DAY_S
            self.counts.zone_changes_inferred += page.zone_changes_inferred
            self.counts.samples_reoffset += page.samples_reoffset
            self.events(
                PageCommitted(
                    account_key=self.key,
                    stream=HEART_RATE,
                    covers=covers,
                    job=job.fetch,
                    frontier_s=frontier,
                    received=len(page.samples),
                    inserted=written.inserted,
                    updated=written.updated,
                )
            )
        if frontier > job.fetch.start_s:
            raise ProviderError(
                f"{self.provider.name} stopped before the start of the requested span",
                hint="What was fetched is saved; the next sync resumes where this one stopped.",
            )
        self._finish_job(HEART_RATE, state, job.bounds)

    def _finish_job(self, stream: str, state: StreamState, bounds: Window) -> None:
        merged = merge_coverage(state, bounds)
        assert merged is not None
        covered_from_s, complete_until_s = merged
        if stream == HEART_RATE and self.delivered_until_s is not None:
            # What the watch has not handed over yet is not complete, however long it stays
            # away from its phone: the next run's trailing window starts below this point.
            delivered_end_s = self.delivered_until_s + 1
            complete_until_s = max(covered_from_s, min(complete_until_s, delivered_end_s))
        done = msgspec.structs.replace(
            state,
            covered_from_s=covered_from_s,
            complete_until_s=complete_until_s,
            job_lo_s=None,
            job_hi_s=None,
            job_frontier_s=None,
            last_success_s=self.now_s(),
        )
        self.store.save_stream_state(self.key, stream, done)

    # dailies --------------------------------------------------------------------------------
    def run_daily_job(self, job: DailyJob) -> None:
        window = Window(day_key_s(job.start), day_key_s(job.end))
        self.events(JobStarted(self.key, DAILIES, window, "dailies"))
        for page in self.provider.daily_pages(job.start, job.end):
            with self.store.transaction():
                written = self.store.write_dailies(self.key, page.dailies, self.provider.source)
                self.store.record_fetch(
                    self.key,
                    LedgerEntry(
                        stream=DAILIES,
                        fetched_at_s=self.now_s(),
                        start_s=day_key_s(page.start),
                        end_s=day_key_s(page.end),
                        requests=page.requests,
                        received=len(page.dailies),
                        inserted=written.inserted,
                        updated=written.updated,
                    ),
                )
            self.counts.dailies += written.inserted
            self.counts.provider_requests += page.requests
        state = self.store.stream_state(self.key, DAILIES)
        with self.store.transaction():
            self._finish_job(DAILIES, state, window)

    # the whole account ----------------------------------------------------------------------
    def run(
        self,
        *,
        since: dt.date | None,
        until: dt.date | None,
        trailing_days: int,
        window: Window | None = None,
    ) -> None:
        account = self.provider.account()
        if account.key != self.key:
            raise ProviderError(
                f"the provider says this connection belongs to {account.key}, not {self.key}",
                hint="Log in again with `heartkeep auth login` for the account you mean.",
            )
        self.store.upsert_account(account)
        self.delivered_until_s = self.provider.delivered_until_s()
        now = self.now_s()
        zone = account.time_zone
        first_day = account.member_since or (
            today_in(zone, now) - dt.timedelta(days=DEFAULT_HISTORY_DAYS)
        )
        state = self.store.stream_state(self.key, HEART_RATE)
        if state.covered_from_s is None and not state.job_open:
            # The first run: `--since` (or the membership start) is where history begins.
            self.history_from = since or first_day
        since_s = None if since is None else local_midnight_s(since, zone)
        until_s = None if until is None else local_midnight_s(until, zone)
        if window is not None:
            # An exact span (a webhook's interval); its dailies are the local days it touches.
            since_s, until_s = window.start_s, window.end_s
            since = today_in(zone, window.start_s)
            until = today_in(zone, window.end_s - 1) + dt.timedelta(days=1)
        jobs = plan_samples(
            state,
            now_s=now,
            first_start_s=earliest_start_s(first_day) if since_s is None else since_s,
            trailing_days=trailing_days,
            since_s=since_s,
            until_s=until_s,
        )
        for job in jobs:
            self.run_sample_job(job)
        daily_job = plan_dailies(
            self.store.stream_state(self.key, DAILIES),
            today=today_in(zone, now),
            first_day=since or first_day,
            trailing_days=trailing_days,
            since=since,
            until=until,
        )
        if daily_job is not None:
            self.run_daily_job(daily_job)

    def report(
        self, status: str, started_s: float, failure: HeartkeepError | None
    ) -> AccountReport:
        span = self.store.sample_span(self.key)
        return AccountReport(
            account_key=self.key,
            status=status,
            samples_received=self.counts.received,
            samples_added=self.counts.inserted,
            samples_updated=self.counts.updated,
            samples_merged=self.counts.merged,
            samples_implausible=self.counts.implausible,
            dailies_added=self.counts.dailies,
            pages=self.counts.pages,
            days_fetched=self.counts.days,
            zone_changes_inferred=self.counts.zone_changes_inferred,
            samples_reoffset=self.counts.samples_reoffset,
            requests=self.events.requests or self.counts.provider_requests,
            retries=self.events.retries,
            rate_limit_waits=self.events.rate_limit_waits,
            rate_limit_wait_s=self.events.rate_limit_wait_s,
            seconds=max(0.0, self.clock.now_s() - started_s),
            newest_sample_s=None if span is None else span.end_s - 1,
            history_from=None if self.history_from is None else self.history_from.isoformat(),
            error=None if failure is None else redact(str(failure)),
            exit_code=0 if failure is None else failure.exit_code,
            error_code=None if failure is None else failure.code,
        )


def sync_account(
    provider: Provider,
    store: SyncStore,
    *,
    account_key: str,
    clock: Clock,
    since: dt.date | None = None,
    until: dt.date | None = None,
    trailing_days: int = 3,
    on_event: EventHandler | None = None,
    window: Window | None = None,
) -> AccountReport:
    """Sync one account into `store` and report; never raises a `HeartkeepError`.

    `since`/`until` (local dates, `until` exclusive) re-fetch exactly that range; without them
    the run resumes an interrupted job, then fetches from `trailing_days` before the end of the
    complete span up to now (the whole history from the membership start on a first run).
    `window` re-fetches exactly that span of instants (and the dailies of the local days it
    touches) instead: a study's webhook names the interval that changed.
    Pass an `EventTally` as `on_event` — the same one given to `build_client` — to have every
    HTTP attempt counted in the report.  Exceptions that are not `HeartkeepError` (a bug, a
    KeyboardInterrupt, an exception raised by `on_event`) propagate after the run is recorded.
    """
    events = on_event if isinstance(on_event, EventTally) else EventTally(on_event)
    started_s = clock.now_s()
    run = _AccountSync(provider, store, account_key=account_key, clock=clock, events=events)
    run_id = store.begin_run(account_key, int(started_s))
    try:
        try:
            run.run(since=since, until=until, trailing_days=trailing_days, window=window)
        except HeartkeepError:
            # The pages committed before the failure still get their days summarised; should
            # that fail too, the days stay marked and every reader computes them exactly.
            with contextlib.suppress(StoreError):
                store.refresh_aggregates(account_key)
            raise
        # One pass over the days this run touched (not a day per page: a backfill of a year
        # would recompute each day a handful of times).
        store.refresh_aggregates(account_key)
    except HeartkeepError as failure:
        report = run.report("failed", started_s, failure)
    except BaseException:
        # Interrupted (Ctrl-C, a kill simulated by a test): committed pages stay; record it.
        with contextlib.suppress(StoreError):
            interrupted = run.report("failed", started_s, None)
            _finish(store, run_id, interrupted, finished_s=clock.now_s(), error="interrupted")
        raise
    else:
        report = run.report("ok", started_s, None)
    _finish(store, run_id, report, finished_s=clock.now_s(), error=report.error)
    events(
        AccountFinished(
            account_key=account_key,
            status="ok" if report.ok else "failed",
            samples_added=report.samples_added,
            requests=report.requests,
            error=report.error,
        )
    )
    return report


def _finish(
    store: SyncStore, run_id: int, report: AccountReport, *, finished_s: float, error: str | None
) -> None:
    store.finish_run(
        run_id,
        finished_s=int(finished_s),
        status=report.status,
        requests=report.requests,
        samples_added=report.samples_added,
        rate_limit_waits=report.rate_limit_waits,
        error=error,
    )
