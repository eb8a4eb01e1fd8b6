"""What every page of the study site needs, passed in once: the store, the keys, the client.

Why a pool of stores: each request runs in a worker thread and needs its own connection (a
PostgreSQL connection carries one transaction at a time); opening one per request would pay
the connection and the schema check every time.  A store that failed is closed, not reused.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from heartkeep.auth.client_secrets import ClientCredentials
from heartkeep.auth.endpoints import ProviderEndpoints
from heartkeep.auth.token_client import TokenClient
from heartkeep.clock import Clock
from heartkeep.store import open_postgres_store
from heartkeep.store.postgres import PostgresStore
from heartkeep.store.token_cipher import TokenCipher
from heartkeep.study.web_signing import Signer

CALLBACK_PATH = "/enrol/callback"  # `study init` tells operators to register BASE + this


class StorePool:
    """Up to `size` open `PostgresStore`s, lent to one thread at a time."""

    def __init__(self, url: str, token_cipher: TokenCipher | None, size: int = 8) -> None:
        self._url = url
        self._cipher = token_cipher
        self._idle: queue.LifoQueue[PostgresStore] = queue.LifoQueue(maxsize=size)

    @contextmanager
    def store(self) -> Iterator[PostgresStore]:
        try:
            store = self._idle.get_nowait()
        except queue.Empty:
            store = open_postgres_store(self._url, token_cipher=self._cipher)
        try:
            yield store
        except BaseException:
            store.close()
            raise
        try:
            self._idle.put_nowait(store)
        except queue.Full:
            store.close()

    def close(self) -> None:
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return


@dataclass
class StudySite:
    """The study's web configuration (see `web.study_app` for each field's meaning)."""

    stores: StorePool
    signer: Signer
    clock: Clock
    public_base_url: str
    study_title: str
    consent_text: str
    client: ClientCredentials
    endpoints: ProviderEndpoints
    on_enrolled: Callable[[str], None]
    http_timeout_s: float = 30.0
    hosts: frozenset[str] = field(default_factory=frozenset)
    _token_client: TokenClient | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def token_client(self) -> TokenClient:
        """One client for the provider's token endpoint, shared by every request (its
        connections are reused: each enrolment's code exchange no longer opens its own)."""
        with self._lock:
            if self._token_client is None:
                self._token_client = TokenClient(
                    self.endpoints, self.client, clock=self.clock, timeout_s=self.http_timeout_s
                )
            return self._token_client

    def close(self) -> None:
        self.stores.close()
        with self._lock:
            if self._token_client is not None:
                self._token_client.close()
                self._token_client = None

    def __post_init__(self) -> None:
        self.public_base_url = self.public_base_url.rstrip("/")
        parts = urlsplit(self.public_base_url)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ValueError(f"the public base URL must be http(s)://host[:port], not {parts!r}")
        if not self.hosts:
            self.hosts = frozenset({parts.netloc.lower()})

    @property
    def secure(self) -> bool:
        """Cookies get `Secure` when the site is served over HTTPS (directly or via a proxy)."""
        return self.public_base_url.startswith("https://")

    @property
    def origin(self) -> str:
        parts = urlsplit(self.public_base_url)
        return f"{parts.scheme}://{parts.netloc}".lower()

    @property
    def redirect_uri(self) -> str:
        """The address Google sends the participant back to (register it on the web client)."""
        return self.public_base_url + CALLBACK_PATH

    def url(self, path: str) -> str:
        """A path of this site as the browser sees it (under the base URL's path, if any)."""
        return urlsplit(self.public_base_url).path + path
