"""Everything that changes while a sandbox runs, and the hooks tests use to change it.

`SandboxState` holds the config, the clock, the users and their physiology, the authorization
server's records, quotas, faults and a request log.  Routes in every thread go through its
`lock`.  Data visibility lives here because both APIs and the ground truth must agree on it:
a sample is served only once the user's device has synced it, i.e. at or before
`last_sync_s(user)` — by default the clock minus `sync_lag_s`, or what a test set.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import lru_cache
from typing import Any, NamedTuple, Protocol

import numpy as np
import numpy.typing as npt

from heartkeep.sandbox.clock import SimClock, WallClock
from heartkeep.sandbox.config import SandboxConfig
from heartkeep.sandbox.credentials import (
    GOOGLE_CLIENT_ID,
    GOOGLE_CLIENT_SECRET,
    GOOGLE_WEB_CLIENT_ID,
    GOOGLE_WEB_CLIENT_SECRET,
    GOOGLE_WEB_REDIRECT_URIS,
)
from heartkeep.sandbox.faults import Faults
from heartkeep.sandbox.grants import Grants, OAuthClient
from heartkeep.sandbox.physiology import Physiology, UserSpec
from heartkeep.sandbox.quotas import Quotas
from heartkeep.sandbox.webhooks import Webhooks

SampleArrays = tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]


class ServerClock(Protocol):
    """What the sandbox needs from a clock (SimClock and WallClock both fit)."""

    def now_s(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


@lru_cache(maxsize=64)
def shared_physiology(spec: UserSpec) -> Physiology:
    """One `Physiology` per distinct user spec in this process.

    Physiology is a pure function of its spec, so sandboxes of the same user (a fresh one per
    test) can share its day caches: the second sandbox serves a year of dailies at once.
    """
    return Physiology(spec)


class RequestRecord(NamedTuple):
    """One served request (status 0: no answer, e.g. a reset), for assertions and counting.

    A NamedTuple, so it compares equal to a plain `(method, path, status)` tuple.
    """

    method: str
    path: str
    status: int


class SandboxState:
    """The sandbox's mutable world.  Create one per server; tests reach it as `server.state`."""

    def __init__(self, config: SandboxConfig | None = None, clock: ServerClock | None = None):
        self.config = config or SandboxConfig()
        if clock is None:
            if self.config.start_s is None:
                clock = WallClock()
            else:
                clock = SimClock(self.config.start_s)
        self.clock: ServerClock = clock
        self.lock = threading.RLock()
        specs = self.config.resolved_users(self.clock.now_s())
        self.users: dict[str, UserSpec] = {spec.health_user_id: spec for spec in specs}
        self.physiology: dict[str, Physiology] = {
            spec.health_user_id: shared_physiology(spec) for spec in specs
        }
        self.grants = Grants(self.config)
        self.grants.register(
            OAuthClient(GOOGLE_CLIENT_ID, GOOGLE_CLIENT_SECRET, "installed", ("http://localhost",))
        )
        self.grants.register(
            OAuthClient(
                GOOGLE_WEB_CLIENT_ID, GOOGLE_WEB_CLIENT_SECRET, "web", GOOGLE_WEB_REDIRECT_URIS
            )
        )
        self.quotas = Quotas(self.config)
        self.faults = Faults(seed=self.config.fault_seed)
        self.request_log: list[RequestRecord] = []
        # Consent hooks: scopes the simulated user unticks, and who logs in by default.
        self.declined_scopes: set[str] = set()
        self.login_user_id: str = specs[0].health_user_id
        # Users whose Google account has no Google Health (Fitbit) profile: every API call of
        # theirs fails with 400 FAILED_PRECONDITION ACCOUNT_NOT_LINKED.
        self.unlinked_users: set[str] = set()
        # Room for the legacy Fitbit emulator's own records (tokens, counters), keyed by name.
        self.extensions: dict[str, Any] = {}
        self._last_sync_s: dict[str, float] = {}
        # Intervals [start, end) of each user's data deleted at the source (`delete_samples`).
        self._deleted: dict[str, list[tuple[int, int]]] = {}
        # Webhook subscribers, the signing key and the outbox (see webhooks.py, delivery.py).
        self.webhooks = Webhooks(self.config)
        # Set by the server that runs the app: aborts the TCP connection of a client address
        # (the `reset` fault).  None when the app runs without a socket (in-process ASGI).
        self.connection_aborter: Callable[[tuple[str, int]], bool] | None = None

    def allow_web_redirect(self, redirect_uri: str) -> None:
        """Register one more redirect URI on the web client, as a study's operator adds the
        study site's callback in Cloud Console (Google then accepts exactly that URI)."""
        with self.lock:
            self.grants.register(
                OAuthClient(
                    GOOGLE_WEB_CLIENT_ID,
                    GOOGLE_WEB_CLIENT_SECRET,
                    "web",
                    (*GOOGLE_WEB_REDIRECT_URIS, redirect_uri),
                )
            )

    # --- time and visibility -------------------------------------------------------------

    def now_s(self) -> float:
        return self.clock.now_s()

    def last_sync_s(self, user_id: str) -> float:
        """When the user's device last synced: a test's setting, else now minus the lag."""
        with self.lock:
            fixed = self._last_sync_s.get(user_id)
        if fixed is not None:
            return fixed
        return self.clock.now_s() - self.config.sync_lag_s

    def set_last_sync(self, user_id: str, instant_s: float | None) -> None:
        """Pin the device's last sync to `instant_s` (None: back to clock minus the lag).

        Data after it is invisible until it moves forward: "late-arriving data" in a test.
        """
        self._require_user(user_id)
        with self.lock:
            if instant_s is None:
                self._last_sync_s.pop(user_id, None)
            else:
                self._last_sync_s[user_id] = float(instant_s)

    def pinned_last_sync(self, user_id: str) -> float | None:
        """The instant `set_last_sync` pinned for the user, or None when it follows the clock."""
        with self.lock:
            return self._last_sync_s.get(user_id)

    def visible_end_s(self, user_id: str) -> int:
        """The exclusive end of what the API serves: samples at or before the last sync."""
        return int(self.last_sync_s(user_id) // 1) + 1

    def visible_samples(self, user_id: str, start_s: int, end_s: int) -> SampleArrays:
        """Samples in [start_s, end_s) that the API serves now, ascending."""
        end_s = min(end_s, self.visible_end_s(user_id))
        if end_s <= start_s:
            empty = np.empty(0, dtype=np.int64)
            return empty, empty.copy(), empty.copy()
        instants, bpm, offsets = self.physiology[user_id].samples(start_s, end_s)
        arrays = (
            np.asarray(instants, dtype=np.int64),
            np.asarray(bpm, dtype=np.int64),
            np.asarray(offsets, dtype=np.int64),
        )
        with self.lock:
            deleted = list(self._deleted.get(user_id, ()))
        if not deleted:
            return arrays
        keep = np.ones(arrays[0].size, dtype=bool)
        for lo, hi in deleted:
            keep &= (arrays[0] < lo) | (arrays[0] >= hi)
        return arrays[0][keep], arrays[1][keep], arrays[2][keep]

    def delete_samples(self, user_id: str, start_s: int, end_s: int) -> int:
        """The user deletes `[start_s, end_s)` of their heart rate at the source: the API no
        longer serves it, and webhook subscribers get a DELETE.  Returns how many samples went.
        """
        self._require_user(user_id)
        gone = int(self.visible_samples(user_id, start_s, end_s)[0].size)
        with self.lock:
            self._deleted.setdefault(user_id, []).append((int(start_s), int(end_s)))
            if gone:  # announced as DELETE at the next webhook pump
                self.webhooks.deletions.append((user_id, int(start_s), int(end_s)))
        return gone

    def ground_truth_samples(
        self, user_id: str, start_s: int, end_s: int
    ) -> list[tuple[int, int, int]]:
        """(instant_s, bpm, offset_s) ascending: exactly what the API would serve now."""
        self._require_user(user_id)
        instants, bpm, offsets = self.visible_samples(user_id, start_s, end_s)
        return list(zip(instants.tolist(), bpm.tolist(), offsets.tolist(), strict=True))

    # --- token hooks ---------------------------------------------------------------------

    def revoke_all_tokens(self, user_id: str) -> None:
        """As if the user removed the app's access: every grant of theirs dies."""
        self._require_user(user_id)
        with self.lock:
            self.grants.revoke_user(user_id)

    def expire_access_tokens(self, user_id: str | None = None) -> None:
        """Every live access token (of one user, or of all) expires now; refresh still works."""
        with self.lock:
            self.grants.expire_access_tokens(self.clock.now_s(), user_id)

    def issue_tokens(self, user_id: str, scopes: tuple[str, ...]) -> dict[str, Any]:
        """A token response for `user_id` as the Desktop demo client, skipping the OAuth
        redirect: for tests and benchmarks that are not about logging in."""
        self._require_user(user_id)
        with self.lock:
            return self.grants.issue_direct(GOOGLE_CLIENT_ID, user_id, scopes, self.clock.now_s())

    def refresh_uses(self, token: str) -> int:
        """How many refresh requests presented `token` (any outcome): proves single use."""
        with self.lock:
            return self.grants.refresh_presentations.get(token, 0)

    def consented(self, user_id: str, scope: str) -> bool:
        """Whether the user holds a live grant of `scope` to any of the project's clients."""
        with self.lock:
            return any(
                grant.user_id == user_id and not grant.revoked and scope in grant.scopes
                for grant in self.grants.grants.values()
            )

    # --- logging ---------------------------------------------------------------------------

    def log_request(self, method: str, path: str, status: int) -> None:
        with self.lock:
            self.request_log.append(RequestRecord(method, path, status))

    def requests_to(self, path_contains: str) -> int:
        """How many logged requests had `path_contains` in their path."""
        with self.lock:
            return sum(1 for record in self.request_log if path_contains in record.path)

    def _require_user(self, user_id: str) -> None:
        if user_id not in self.users:
            raise KeyError(f"no sandbox user {user_id!r}; known: {sorted(self.users)}")
