"""The page's first data request, started by the server as it serves the page.

The HTML names the view's first data request in a `<link rel="preload">` (page.py), but the
browser sends it only once it has committed the page and parsed its head: 40-60 ms after the
HTML left the server on a busy machine, and only then does the server start reading the store.
The server knows that request when it writes the HTML, so it starts it right then, in the
background, and the browser's request — checked by the Guard like every other — takes the
answer that is ready or on its way.  The data is read while the browser commits the page and
loads its scripts, instead of after.

Each answer is handed out once, to the exact request the HTML named, and dropped after
`TTL_S` when nobody asked for it; at most `MAX_PENDING` are kept.  Nothing is computed that
the page would not ask for anyway, and a later request for the same data reads the store again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from typing import Any

from starlette.responses import Response

TTL_S = 10.0  # a page that has not asked for its data by then never will
MAX_PENDING = 8  # pages opened at once (tabs restored together): more are simply not prefetched


class Prefetcher:
    """Answers started early, keyed by the request's path and query exactly as sent."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._pending: dict[str, tuple[float, asyncio.Task[Response]]] = {}

    def start(self, key: str, work: Coroutine[Any, Any, Response]) -> None:
        """Run `work` in the background for the request `key` (one answer per key)."""
        self._forget_stale()
        if key in self._pending or len(self._pending) >= MAX_PENDING:
            work.close()
            return
        self._pending[key] = (self._clock(), asyncio.get_running_loop().create_task(work))

    def take(self, key: str) -> asyncio.Task[Response] | None:
        """The answer started for `key`, once; None when there is none (or it is stale)."""
        self._forget_stale()
        found = self._pending.get(key)
        if found is None or self._clock() - found[0] > TTL_S:
            return None
        del self._pending[key]
        return found[1]

    def _forget_stale(self) -> None:
        now = self._clock()
        for key, (started, task) in list(self._pending.items()):
            # a stale answer still being computed stays referenced until it ends
            if now - started > TTL_S and task.done():
                del self._pending[key]
                if not task.cancelled():
                    task.exception()  # retrieved: no "exception never retrieved" warning

    def __len__(self) -> int:
        return len(self._pending)
