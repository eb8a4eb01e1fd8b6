"""The sync engine: plans spans, drives a provider through a quota- and retry-aware client,
commits each page with its cursor, and reports.

`sync_account` syncs one account; `heartkeep.api.sync` wires settings, vault, client, provider
and store around it for every connected account.
"""

from heartkeep.sync.engine import sync_account
from heartkeep.sync.events import (
    AccountFinished,
    EventHandler,
    EventTally,
    JobStarted,
    PageCommitted,
    RateLimitWait,
    RequestSent,
    RetryScheduled,
    SyncEvent,
)
from heartkeep.sync.quota import QuotaPolicy
from heartkeep.sync.report import AccountReport, SyncReport
from heartkeep.sync.retry import RetryPolicy
from heartkeep.sync.transport import build_client

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
