"""Which failed syncs the queue retries: those that may pass, never those that need a person."""

from __future__ import annotations

import pytest

from heartkeep.study.jobs import SYNC_RETRY
from heartkeep.study.worker_sync import RetryableSyncFailed, SyncFailed, raise_for
from heartkeep.sync.report import AccountReport

KEY = "google-health:1"


def failed(exit_code: int) -> AccountReport:
    return AccountReport(KEY, "failed", error="it broke", exit_code=exit_code)


@pytest.mark.parametrize("exit_code", [5, 6, 7, 9])
def test_passing_failures_are_retried(exit_code: int) -> None:
    with pytest.raises(RetryableSyncFailed):
        raise_for(failed(exit_code))


@pytest.mark.parametrize("exit_code", [3, 4])
def test_failures_that_need_a_person_are_not(exit_code: int) -> None:
    with pytest.raises(SyncFailed) as raised:
        raise_for(failed(exit_code))
    assert not isinstance(raised.value, RetryableSyncFailed)
    assert SYNC_RETRY.retry_exceptions is not None
    assert not isinstance(raised.value, tuple(SYNC_RETRY.retry_exceptions))


def test_a_successful_report_passes_through() -> None:
    report = AccountReport(KEY, "ok")
    assert raise_for(report) is report


def test_backoff_grows_exponentially_to_about_23_minutes() -> None:
    waits = [SYNC_RETRY.exponential_wait ** (attempt + 1) for attempt in range(5)]
    assert waits == [4, 16, 64, 256, 1024]
    assert SYNC_RETRY.max_attempts == 6
