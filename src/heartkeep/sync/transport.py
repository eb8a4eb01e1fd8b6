"""The HTTP client every provider talks through: quota first, then retries, all on our Clock.

`build_client` returns a plain `http_client.Client` (base URL, auth, timeout) whose transport

1. waits until the account's budget allows a request (`quota.RequestBudget`),
2. sends it and reads the whole body, so a connection dropped mid-body surfaces here,
3. checks that a successful JSON body is well-formed (a body cut short with a consistent
   Content-Length is otherwise indistinguishable from a good one); msgspec scans a 3 MB page
   in ~2 ms without building any objects,
4. retries transient failures (`retry.py`) with bounded, jittered waits, honouring Retry-After,
5. raises `TransientError` / `RateLimited` when the bounds are spent,
6. or, for a request that can be made smaller (a listing page: the request carries the extension
   `SHRINK_AFTER_504S`), hands the 504 back after that many in a row, so the caller can ask for
   a smaller page instead of repeating one that times out.

Auth sits above the transport (the `http_client.Client` runs `Auth` flows), so a 401 is handed to
the connection's `VaultAuth`, which refreshes once through the vault and replays — and the
replay passes through this transport again, quota and all.

TLS trust is built on the first https request, never for plain http (the sandbox on loopback):
see `heartkeep.https_trust`, which the token client shares.
"""

from __future__ import annotations

import random

import msgspec

from heartkeep import __version__, http_client
from heartkeep.clock import Clock
from heartkeep.errors import RateLimited, TransientError
from heartkeep.https_trust import SchemeTransport
from heartkeep.providers.paging import SHRINK_AFTER_504S
from heartkeep.sync.events import EventHandler, RateLimitWait, RequestSent, RetryScheduled
from heartkeep.sync.quota import QuotaPolicy, RequestBudget
from heartkeep.sync.retry import (
    RETRYABLE_STATUSES,
    RetryPolicy,
    parse_retry_after_s,
    transient_reason,
)

# Decoding into Raw walks the whole document (so a cut-off body fails) but builds nothing.
_JSON_CHECK = msgspec.json.Decoder(msgspec.Raw)


class QuotaRetryTransport(http_client.Transport):
    """Wraps a real transport with the account's budget and the retry policy."""

    def __init__(
        self,
        inner: http_client.Transport,
        *,
        clock: Clock,
        policy: QuotaPolicy,
        retry: RetryPolicy,
        on_event: EventHandler | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.inner = inner
        self.clock = clock
        self.budget = RequestBudget(policy, clock)
        self.retry = retry
        self.on_event = on_event
        self.rng = rng or random.Random()  # jitter only; never used for secrets

    def _emit(self, event: RequestSent | RetryScheduled | RateLimitWait) -> None:
        if self.on_event is not None:
            self.on_event(event)

    def handle_request(self, request: http_client.Request) -> http_client.Response:
        waited_s = 0.0
        attempt = failures = refusals = deadlines = 0
        path = request.url.path
        shrink_after = request.extensions.get(SHRINK_AFTER_504S)
        while True:
            attempt += 1
            wait_s, cause = self.budget.wait_needed()
            if wait_s > 0:
                self._emit(RateLimitWait(cause=cause, wait_s=wait_s))
                self.clock.sleep(wait_s)
            self.budget.record_sent()
            response, reason = self._attempt(request)
            status = None if response is None else response.status_code
            self._emit(RequestSent(request.method, path, status, attempt))
            if response is not None:
                self.budget.observe_headers(response.headers)
            if reason is None:
                assert response is not None
                self.budget.on_success()
                return response
            deadlines = deadlines + 1 if status == 504 else 0
            if response is not None and shrink_after and deadlines >= shrink_after:
                self._emit(RetryScheduled(request.method, path, "smaller page", attempt, 0.0))
                return response
            if response is not None:
                response.close()
            if status == 429:
                assert response is not None
                refusals += 1
                self.budget.on_rate_limited()
                retry_after = parse_retry_after_s(
                    response.headers.get("Retry-After"), self.clock.now_s()
                )
                delay_s = self.retry.rate_limit_wait_s(retry_after, refusals, self.rng)
            else:
                failures += 1
                delay_s = self.retry.backoff_s(failures, self.rng)
            if (
                failures >= self.retry.max_attempts
                or refusals >= self.retry.max_rate_limited_attempts
                or waited_s + delay_s > self.retry.max_total_wait_s
            ):
                raise self._give_up(request, reason, status, attempt, waited_s)
            self._emit(RetryScheduled(request.method, path, reason, attempt, delay_s))
            if status == 429:
                self._emit(RateLimitWait(cause="429", wait_s=delay_s))
            self.clock.sleep(delay_s)
            waited_s += delay_s

    def _attempt(
        self, request: http_client.Request
    ) -> tuple[http_client.Response | None, str | None]:
        """Send once and read the body; return the response (if any) and a retry reason."""
        try:
            response = self.inner.handle_request(request)
            response.read()
        except http_client.TransportError as failure:
            reason = transient_reason(failure)
            if reason is None:
                raise
            return None, reason
        if response.status_code in RETRYABLE_STATUSES:
            return response, f"HTTP {response.status_code}"
        if response.is_success and "json" in response.headers.get("Content-Type", ""):
            try:
                _JSON_CHECK.decode(response.content)
            except msgspec.DecodeError:
                return response, "truncated JSON body"
        return response, None

    def _give_up(
        self,
        request: http_client.Request,
        reason: str,
        status: int | None,
        attempts: int,
        waited_s: float,
    ) -> RateLimited | TransientError:
        host = request.url.host
        spent = f"{attempts} attempts over {waited_s:.0f} s of waiting"
        if status == 429:
            return RateLimited(
                f"{host} kept refusing requests for quota reasons ({spent})",
                hint="Everything fetched so far is saved; run `heartkeep sync` again later.",
            )
        return TransientError(
            f"{host} kept failing ({reason}; {spent})",
            hint="Everything fetched so far is saved; run `heartkeep sync` again later.",
        )

    def close(self) -> None:
        self.inner.close()


# OpenSSL's hashed-directory names: the subject hash, a dot, a counter (`c_rehash`).
def build_client(
    *,
    base_url: str,
    auth: http_client.Auth | None,
    clock: Clock,
    policy: QuotaPolicy,
    on_event: EventHandler | None = None,
    timeout_s: float = 30.0,
    retry: RetryPolicy | None = None,
    rng: random.Random | None = None,
    inner: http_client.Transport | None = None,
) -> http_client.Client:
    """An `http_client.Client` for one account: base URL, auth, quota, retries, events.

    Requests that still fail after the retry bounds raise `TransientError` (network, 5xx) or
    `RateLimited` (429); other statuses come back as responses for the provider to judge.
    Pass a seeded `rng` for reproducible jitter.  `inner` replaces the plain HTTP transport
    under the quota and retries (a study charges each attempt to its project's shared quota).
    """
    transport = QuotaRetryTransport(
        inner or SchemeTransport(),
        clock=clock,
        policy=policy,
        retry=retry or RetryPolicy(),
        on_event=on_event,
        rng=rng,
    )
    return http_client.Client(
        base_url=base_url,
        auth=auth,
        transport=transport,
        timeout=timeout_s,
        headers={"User-Agent": f"heartkeep/{__version__}", "Accept": "application/json"},
    )
