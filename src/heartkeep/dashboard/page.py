"""The page itself: index.html with what the first paint needs, and static files that stay cached.

A first paint used to be a chain: the HTML, then nine modules and uPlot (each fetched again on
every visit: everything was `no-store`), then `/api/accounts`, then the view's data.  Here:

- static files are served under a path that carries a hash of their contents
  (`/static/<hash>/…`) with `Cache-Control: immutable`, so a second visit reads them from the
  browser's cache (and V8's code cache), and a new heartkeep can never meet a stale file; the
  page loads one script and one style sheet, joined from those files (bundle.py);
- the accounts the page would ask for are in the HTML (an escaped `<meta>`; no inline script,
  the CSP stays strict);
- the HTML names the view's data request in a `<link rel="preload">`, so the browser fetches it
  while the scripts load.  The page builds the same URL (`dataUrl` in api.js) and the browser
  hands it the preloaded response.  Health data itself stays `no-store`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from heartkeep.dashboard import queries
from heartkeep.model import Account
from heartkeep.store import SqliteStore

CACHED = "private, max-age=31536000, immutable"


def static_version(folder: Path) -> str:
    """A short hash of every static file's path and bytes: the cache key in the URLs."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


class CachedStaticFiles(StaticFiles):
    """Static files whose URL changes with their contents: cache them for good."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            response.headers["cache-control"] = CACHED
        return response


def cached(body: bytes, media_type: str) -> Callable[[Request], Awaitable[Response]]:
    """An endpoint answering `body` (a file built at start, under the versioned path) with
    the static files' caching."""

    async def endpoint(request: Request) -> Response:
        return Response(body, media_type=media_type, headers={"cache-control": CACHED})

    return endpoint


def form_query(pairs: list[tuple[str, str]]) -> str:
    """`pairs` encoded exactly as the browser's URLSearchParams does (the preload must match
    the page's own request byte for byte): space as +, only `*-._` and alphanumerics bare."""
    return "&".join(f"{_form(key)}={_form(value)}" for key, value in pairs)


def _form(text: str) -> str:
    return quote_plus(text, safe="*").replace("~", "%7E")


def data_url(path: str, pairs: list[tuple[str, str]]) -> str:
    return f"{path}?{form_query(pairs)}" if pairs else path


def account_json(store: SqliteStore, account: Account, now_s: int) -> dict[str, Any]:
    """An account as the page knows it: its zone, and its first and last local days with data
    (the views' defaults; the day of `now_s` when nothing is stored yet)."""
    span = store.sample_span(account.key)
    last_s = now_s if span is None else span.end_s - 1
    first_s = last_s if span is None else span.start_s
    return {
        "key": account.key,
        "display_name": account.display_name,
        "time_zone": account.time_zone,
        "first_s": None if span is None else span.start_s,
        "last_s": None if span is None else span.end_s - 1,
        "first_day": queries.local_day_of(first_s, account).isoformat(),
        "last_day": queries.local_day_of(last_s, account).isoformat(),
    }


def first_request(view: str, query: Mapping[str, str], account: dict[str, Any] | None) -> str:
    """The data request the page makes first for this address (see the views' `dataUrl` calls);
    empty when the view has none worth preloading."""
    if view == "overview" or view not in {"day", "range", "sync"}:
        return "/api/overview"
    if view == "sync":
        return "/api/sync"
    if account is None:
        return ""
    key = account["key"]
    if view == "day":
        return data_url(
            "/api/day", [("account", key), ("date", query.get("date") or account["last_day"])]
        )
    to = query.get("to") or account["last_day"]
    pairs = [("account", key), ("from", query.get("from") or _days_before(to, 6)), ("to", to)]
    if query.get("compare"):
        pairs.append(("compare", query["compare"]))
    return data_url("/api/range", pairs)


def _days_before(text: str, days: int) -> str:
    try:
        return (dt.date.fromisoformat(text[:10]) - dt.timedelta(days=days)).isoformat()
    except ValueError:
        return text


def preload_url(accounts: list[dict[str, Any]], query: Mapping[str, str]) -> str:
    """The first data request of the page at this address (empty: none worth preloading)."""
    chosen = next((a for a in accounts if a["key"] == query.get("account")), None)
    if chosen is None and accounts:
        chosen = accounts[0]
    return first_request(query.get("view", "overview"), query, chosen)


def render(
    template: str, accounts: list[dict[str, Any]], query: Mapping[str, str], first: str
) -> str:
    """index.html for this address: the accounts in a meta tag, the first data request
    (`preload_url`) preloaded."""
    boot = html.escape(orjson.dumps({"accounts": accounts}).decode(), quote=True)
    preload = (
        f'<link rel="preload" as="fetch" crossorigin href="{html.escape(first, quote=True)}">'
        if first
        else ""
    )
    # the preload first: the accounts' text must never be read as a placeholder
    return template.replace("{{preload}}", preload).replace("{{boot}}", boot)
