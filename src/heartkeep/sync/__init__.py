"""The sync engine: plans spans, drives a provider through a quota- and retry-aware client,
commits each page with its cursor, and reports.

`sync_account` syncs one account; `heartkeep.api.sync` wires settings, vault, client, provider
and store around it for every connected account.

The names below load on first use, so that importing one part (the events the CLI draws, the
status `heartkeep status` reads, the lock) does not load the engine and its HTTP client.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from heartkeep.lazy_names import on_first_use

if TYPE_CHECKING:  # what `__getattr__` loads on first use, spelled out for type checkers
    from heartkeep.sync.engine import sync_account as sync_account
    from heartkeep.sync.events import AccountFinished as AccountFinished
    from heartkeep.sync.events import EventHandler as EventHandler
    from heartkeep.sync.events import EventTally as EventTally
    from heartkeep.sync.events import JobStarted as JobStarted
    from heartkeep.sync.events import PageCommitted as PageCommitted
    from heartkeep.sync.events import RateLimitWait as RateLimitWait
    from heartkeep.sync.events import RequestSent as RequestSent
    from heartkeep.sync.events import RetryScheduled as RetryScheduled
    from heartkeep.sync.events import SyncEvent as SyncEvent
    from heartkeep.sync.quota import QuotaPolicy as QuotaPolicy
    from heartkeep.sync.report import AccountReport as AccountReport
    from heartkeep.sync.report import SyncReport as SyncReport
    from heartkeep.sync.retry import RetryPolicy as RetryPolicy
    from heartkeep.sync.transport import build_client as build_client

__all__ = [
    "AccountFinished",
    "AccountReport",
    "EventHandler",
    "EventTally",
    "JobStarted",
    "PageCommitted",
    "QuotaPolicy",
    "RateLimitWait",
    "RequestSent",
    "RetryPolicy",
    "RetryScheduled",
    "SyncEvent",
    "SyncReport",
    "build_client",
    "sync_account",
]

_WHERE = {
    "AccountFinished": "heartkeep.sync.events",
    "AccountReport": "heartkeep.sync.report",
    "EventHandler": "heartkeep.sync.events",
    "EventTally": "heartkeep.sync.events",
    "JobStarted": "heartkeep.sync.events",
    "PageCommitted": "heartkeep.sync.events",
    "QuotaPolicy": "heartkeep.sync.quota",
    "RateLimitWait": "heartkeep.sync.events",
    "RequestSent": "heartkeep.sync.events",
    "RetryPolicy": "heartkeep.sync.retry",
    "RetryScheduled": "heartkeep.sync.events",
    "SyncEvent": "heartkeep.sync.events",
    "SyncReport": "heartkeep.sync.report",
    "build_client": "heartkeep.sync.transport",
    "sync_account": "heartkeep.sync.engine",
}


__getattr__, __dir__ = on_first_use(globals(), _WHERE)
