"""What a provider is: something that turns time windows into pages of samples and dailies.

Providers know one API's wire format and nothing about storage, retries or quotas: they are
handed an `http_client.Client` whose transport already applies the quota, retry and auth policy
(built in `sync/` and `auth/`, wired in `api.py`).  The engine relies on one ordering rule:

`sample_pages(window)` yields pages **newest first**, and their `covers` windows tile the requested
window without gaps from `window.end_s` down to `window.start_s`.  Once a page is committed,
every sample the provider has inside `page.covers` is in the store — that is what lets the cursor
move page by page and a killed sync resume where it stopped.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Iterator, Sequence
from typing import Protocol

import msgspec

from heartkeep import http_client
from heartkeep.clock import Clock
from heartkeep.errors import ConfigError
from heartkeep.model import Account, Daily, Sample, Source, Window

PROVIDER_NAMES = ("google-health", "fitbit-legacy")


class Page(msgspec.Struct, frozen=True):
    """One unit of fetched data and the span of time it proves complete."""

    samples: Sequence[Sample]
    covers: Window
    dailies: Sequence[Daily] = ()
    requests: int = 1
    zone_changes_inferred: int = 0
    """Backward jumps of a wall clock read as a change of zone (sources with wall times only)."""
    samples_reoffset: int = 0
    """Samples given an inferred offset instead of the one the account zone's rules give."""


class DailyPage(msgspec.Struct, frozen=True):
    """Dailies for local days in [start, end)."""

    dailies: Sequence[Daily]
    start: dt.date
    end: dt.date
    requests: int = 1


class Provider(Protocol):
    name: str
    source: Source

    def account(self) -> Account:
        """Who is connected: user id, display name, IANA time zone, membership start."""
        ...

    def sample_pages(self, window: Window) -> Iterator[Page]:
        """Pages newest first whose `covers` tile `window` (see module docstring)."""
        ...

    def daily_pages(self, start: dt.date, end: dt.date) -> Iterator[DailyPage]:
        """Dailies for local days in [start, end); empty where dailies ride on sample pages."""
        ...

    def delivered_until_s(self) -> int | None:
        """The instant up to which the provider holds the user's data (the devices' last sync),
        or None when it cannot tell.  Samples after it may still arrive, however long the watch
        was away from its phone, so the engine never records a span after it as complete."""
        ...


# --- provider lookup (issue 4) ----------------------------------------------------------------


class ProviderFactory(Protocol):
    """`make_provider(client, *, clock)`: `client` already carries base URL, auth and quota."""

    def __call__(self, client: http_client.Client, *, clock: Clock) -> Provider: ...


_FACTORY_MODULES = {
    "google-health": "heartkeep.providers.google_health",
    "fitbit-legacy": "heartkeep.providers.fitbit_legacy",
}


def get_provider_factory(name: str) -> ProviderFactory:
    """The `make_provider` of a provider by name ("google-health", "fitbit-legacy").

    Imported lazily so one provider's code never loads for the other.  Raises `ConfigError`
    for an unknown name.
    """
    module_name = _FACTORY_MODULES.get(name)
    if module_name is None:
        raise ConfigError(f"unknown provider {name!r}; known: {', '.join(PROVIDER_NAMES)}")
    factory: ProviderFactory = importlib.import_module(module_name).make_provider
    return factory
