"""Walking a listing page by page: the page-token state, and the JSON body of each page.

Google's list endpoints page by count with an opaque `nextPageToken`.  The rules that matter
(google-health-api.md §3.4): keep going until the token is absent or empty — never infer the end
from a short page, because an *empty* page may still carry a token.  `TokenPaginator` holds that
state as a small object with named steps, so the provider's loop reads
`while paginator.has_next: … paginator.update(body)`.

`PageSizer` chooses the `pageSize` to ask for: the documented maximum, halved when a page times
out (504 DEADLINE_EXCEEDED, which big pages can meet live), grown back after a run of successes.

`response_json` returns a response's parsed body as plain Python values (small bodies: identity,
settings, dailies); the heart-rate hot path decodes straight into typed structs instead.
"""

from __future__ import annotations

from typing import Any

import msgspec
import orjson

from heartkeep import http_client
from heartkeep.errors import ProviderError

# Request extension read by the sync transport: a listing page that can be asked again
# smaller gets its 504 DEADLINE_EXCEEDED back after this many in a row, instead of more retries.
SHRINK_AFTER_504S = "heartkeep.shrink_after_504s"


def response_json(response: http_client.Response) -> Any:
    """The parsed JSON body; `ProviderError` if it is not JSON."""
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError as failure:
        raise ProviderError(
            f"{response.request.url.host} sent a response that is not valid JSON",
            status=response.status_code,
        ) from failure


class TokenPaginator(msgspec.Struct):
    """Page-token state for one listing: `params()` for the next request, `update()` after it."""

    token: str | None = None
    pages: int = 0
    done: bool = False
    _seen: set[str] = msgspec.field(default_factory=set)

    @property
    def has_next(self) -> bool:
        return not self.done

    def params(self) -> dict[str, str]:
        """Query parameters that continue the listing (none for the first page)."""
        return {"pageToken": self.token} if self.token else {}

    def update(self, body: Any) -> None:
        """Advance past a page body (a dict); see `advance`."""
        self.advance(body.get("nextPageToken") if isinstance(body, dict) else None)

    def advance(self, token: Any) -> None:
        """Advance past a page whose `nextPageToken` was `token`; absent or empty ends the walk."""
        self.pages += 1
        if not token:
            self.token = None
            self.done = True
            return
        if not isinstance(token, str):
            raise ProviderError(f"the provider sent a page token of type {type(token).__name__}")
        if token in self._seen:
            raise ProviderError(
                "the provider sent the same page token twice; stopping instead of looping"
            )
        self._seen.add(token)
        self.token = token


class PageSizer(msgspec.Struct):
    """The `pageSize` to ask for: halved after a page timed out, doubled after `grow_after`
    successes in a row.  When a grown size times out again, the next growth waits twice as
    long (up to `max_grow_after`), so a size that never works is probed ever more rarely."""

    largest: int
    smallest: int = 250
    grow_after: int = 20
    max_grow_after: int = 1000
    size: int = 0
    _successes: int = 0
    _just_grown: bool = False

    def __post_init__(self) -> None:
        self.size = self.size or self.largest

    @property
    def can_shrink(self) -> bool:
        return self.size > self.smallest

    def shrink(self) -> None:
        """A page of `size` timed out: ask for half (not below `smallest`)."""
        self.size = max(self.smallest, self.size // 2)
        self._successes = 0
        if self._just_grown:
            self.grow_after = min(self.max_grow_after, self.grow_after * 2)
        self._just_grown = False

    def succeeded(self) -> None:
        """A page was served: after enough of them, try a page twice as big again."""
        self._just_grown = False
        if self.size >= self.largest:
            return
        self._successes += 1
        if self._successes >= self.grow_after:
            self.size = min(self.largest, self.size * 2)
            self._successes = 0
            self._just_grown = True
