"""Follow Google's key rotation: fetch the public keyset again when a signature names a key
the receiver has not seen.

Google does not publish when it rotates its webhook signing key.  A receiver holding yesterday's
keyset would refuse every notification signed with the new key, and Google would retry them for
7 days against an endpoint that can never accept them.  `RefreshingKeyset` fetches the keyset
again when, and only when, a signature names an unknown key id — at most once per
`min_refetch_s` (a forger sending made-up key ids cannot turn the endpoint into a keyset
downloader).  A failed fetch keeps the old keys; the notification is refused and Google retries.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from heartkeep import http_client
from heartkeep.clock import Clock, SystemClock
from heartkeep.study.keyset import GOOGLE_KEYSET_URL, Keyset, KeysetError, parse_keyset
from heartkeep.study.keyset import signing_key_id as _key_id


class RefreshingKeyset:
    """A `Keyset` that refetches itself on an unknown key id (see the module docstring).

    `fetch` returns the keyset document's bytes; `fetch_keyset_from(url)` makes one.  The first
    fetch happens here, so a misconfigured URL fails at start-up (KeysetError,
    `http_client` errors).
    """

    def __init__(
        self,
        fetch: Callable[[], bytes],
        *,
        clock: Clock | None = None,
        min_refetch_s: float = 60.0,
    ) -> None:
        self._fetch = fetch
        self._clock = clock or SystemClock()
        self._min_refetch_s = min_refetch_s
        self._lock = threading.Lock()
        self._keyset = parse_keyset(fetch())
        self._fetched_s = self._clock.now_s()
        self.fetches = 1

    @property
    def keyset(self) -> Keyset:
        with self._lock:
            return self._keyset

    def verify(self, signature_header: str | None, body: bytes) -> bool:
        """As `Keyset.verify`, after refetching once if the signature names an unknown key."""
        key_id = _key_id(signature_header)
        current = self.keyset
        if key_id is not None and key_id not in current.keys:
            current = self._refetch() or current
        return current.verify(signature_header, body)

    def _refetch(self) -> Keyset | None:
        with self._lock:
            now = self._clock.now_s()
            if now - self._fetched_s < self._min_refetch_s:
                return None
            self._fetched_s = now
            self.fetches += 1
            try:
                self._keyset = parse_keyset(self._fetch())
            except (KeysetError, http_client.HTTPError):
                return None
            return self._keyset


def fetch_keyset_from(
    url: str = GOOGLE_KEYSET_URL, *, client: http_client.Client | None = None
) -> Callable[[], bytes]:
    """A `fetch` for `RefreshingKeyset`: GET `url` (Google's keyset by default)."""

    def fetch() -> bytes:
        http = client or http_client.Client(timeout=10)
        try:
            response = http.get(url)
            response.raise_for_status()
            return response.content
        finally:
            if client is None:
                http.close()

    return fetch
