"""Walking a listing page by page: the page-token state, and the JSON body of each page.

Google's list endpoints page by count with an opaque `nextPageToken`.  The rules that matter
(google-health-api.md §3.4): keep going until the token is absent or empty — never infer the end
from a short page, because an *empty* page may still carry a token.  `TokenPaginator` holds that
state as a small object with named steps, so the provider's loop reads
`while paginator.has_next: … paginator.update(body)`.

`response_json` returns a response's parsed body.  The sync transport validates JSON bodies
(a cut-short body must be retried, not parsed) and leaves the parsed value under the response
extension `PARSED_JSON`, so a 10,000-point page is decoded once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from heartkeep.errors import ProviderError

PARSED_JSON = "heartkeep.parsed_json"


def response_json(response: httpx.Response) -> Any:
    """The parsed JSON body (from the transport's cache when present)."""
    cached = response.extensions.get(PARSED_JSON)
    if cached is not None:
        return cached
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError as failure:
        raise ProviderError(
            f"{response.request.url.host} sent a response that is not valid JSON",
            status=response.status_code,
        ) from failure


@dataclass
class TokenPaginator:
    """Page-token state for one listing: `params()` for the next request, `update()` after it."""

    token: str | None = None
    pages: int = 0
    done: bool = False
    _seen: set[str] = field(default_factory=set)

    @property
    def has_next(self) -> bool:
        return not self.done

    def params(self) -> dict[str, str]:
        """Query parameters that continue the listing (none for the first page)."""
        return {"pageToken": self.token} if self.token else {}

    def update(self, body: Any) -> None:
        """Advance past a page body; the walk ends when `nextPageToken` is absent or empty."""
        self.pages += 1
        token = body.get("nextPageToken") if isinstance(body, dict) else None
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
