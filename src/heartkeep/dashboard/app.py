"""The dashboard's Starlette app: the page, its static files and the data endpoints.

Every handler is a few lines: parse the query, open the store read-only (`mode=ro`, exactly as
`heartkeep status` does, so the dashboard never writes the database and never blocks a sync),
call `queries`/`overview`, answer with orjson.  Sync and export go through `heartkeep.api`,
the same functions the CLI calls.  `Guard` (security.py) sits in front of all of it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from heartkeep import api, daterange
from heartkeep.clock import Clock
from heartkeep.config import Settings
from heartkeep.dashboard import bundle, overview, page, queries
from heartkeep.dashboard.prefetch import Prefetcher
from heartkeep.dashboard.security import Secrets
from heartkeep.dashboard.sync_job import SyncJob
from heartkeep.errors import HeartkeepError
from heartkeep.model import Account
from heartkeep.redaction import redact
from heartkeep.store import SqliteStore, open_store

STATIC = Path(str(files("heartkeep.dashboard") / "static"))
_EXPORTS = {"csv": ("text/csv", "csv"), "parquet": ("application/vnd.apache.parquet", "parquet")}


@dataclass
class Context:
    """What the handlers share: settings, the clock, the run's secrets, its sync job and the
    data requests started with the page (`prefetched`)."""

    settings: Settings
    clock: Clock
    secrets: Secrets
    test_hooks: bool = False
    job: SyncJob = field(init=False)
    prefetched: Prefetcher = field(init=False, default_factory=Prefetcher)

    def __post_init__(self) -> None:
        self.job = SyncJob(
            lambda on_event: api.sync(self.settings, clock=self.clock, on_event=on_event)
        )

    @contextmanager
    def store(self) -> Iterator[SqliteStore]:
        with open_store(self.settings.database, readonly=True, missing_ok=True) as store:
            yield store


class BadRequest(Exception):
    """A query the page would never send: 400 with the reason."""


def _json(data: Any, status: int = 200) -> Response:
    return Response(
        orjson.dumps(data, option=orjson.OPT_SERIALIZE_NUMPY),
        status_code=status,
        media_type="application/json",
    )


def _account(store: SqliteStore, request: Request) -> Account:
    key = request.query_params.get("account")
    accounts = store.accounts()
    if key:
        for account in accounts:
            if account.key == key:
                return account
        raise BadRequest(f"no account {key!r} in the store")
    if not accounts:
        raise BadRequest("no accounts yet: run `heartkeep sync` (or `heartkeep demo`) first")
    return accounts[0]


def _date(text: str | None, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text or "")
    except ValueError:
        raise BadRequest(f"{name} must be a date YYYY-MM-DD") from None


def _local(account: Account, text: str | None, name: str, *, end: bool) -> int:
    try:
        return queries.local_bound(account, text or "", end=end)
    except ValueError:
        raise BadRequest(f"{name} must be a date YYYY-MM-DD or a time YYYY-MM-DDTHH:MM") from None


def _moment(text: object, name: str) -> dt.date:
    """An export bound as the page sends it: a local day or a local date-time (the range's
    `from`/`to`), exactly as `heartkeep export --since/--until` reads them."""
    try:
        found = daterange.parse_moment(str(text or ""), name)
    except HeartkeepError:
        raise BadRequest(f"{name} must be a date YYYY-MM-DD or a time YYYY-MM-DDTHH:MM") from None
    assert found is not None
    return found


def _file_part(bound: dt.date) -> str:
    """A bound in a file name: the day, or the day and time without colons."""
    if isinstance(bound, dt.datetime):
        return bound.strftime("%Y-%m-%dT%H%M%S" if bound.second else "%Y-%m-%dT%H%M")
    return bound.isoformat()


def _int(text: str | None, name: str) -> int:
    try:
        return int(text or "")
    except ValueError:
        raise BadRequest(f"{name} must be an integer") from None


def handler(body: Callable[[Request], Any]) -> Callable[[Request], Coroutine[Any, Any, Response]]:
    """Wrap a data handler: a bad query is 400, a store problem 503, both with a message."""

    async def endpoint(request: Request) -> Response:
        try:
            result = await asyncio.to_thread(body, request)
        except BadRequest as bad:
            return _json({"error": str(bad)}, 400)
        except HeartkeepError as failure:
            return _json({"error": redact(str(failure)), "exit": failure.exit_code}, 503)
        return result if isinstance(result, Response) else _json(result)

    return endpoint


def create_app(context: Context) -> Starlette:
    """The app (without the Guard, which the server wraps around it once the port is known)."""
    version = page.static_version(STATIC)
    joined = {  # one script and one style sheet for the page (bundle.py)
        "app.js": (bundle.script(STATIC).encode(), "text/javascript; charset=utf-8"),
        "app.css": (bundle.styles(STATIC).encode(), "text/css; charset=utf-8"),
    }
    template = (STATIC / "index.html").read_text()
    template = template.replace("{{csrf}}", context.secrets.csrf)
    template = template.replace("{{test}}", "1" if context.test_hooks else "0")
    template = template.replace("/static/", f"/static/{version}/")

    def account_list() -> list[dict[str, Any]]:
        now_s = int(context.clock.now_s())
        with context.store() as store:
            return [page.account_json(store, a, now_s) for a in store.accounts()]

    async def index(request: Request) -> Response:
        try:
            found = await asyncio.to_thread(account_list)
        except HeartkeepError:
            found = []  # the page asks /api/accounts again and shows the store's message
        first = page.preload_url(found, request.query_params)
        path, _, query = first.partition("?")
        if path in prefetchable:  # read the data while the browser loads the page
            scope = dict(request.scope, path=path, raw_path=path.encode())
            scope["query_string"] = query.encode()
            prefetched.start(first, prefetchable[path](Request(scope)))
        return HTMLResponse(page.render(template, found, request.query_params, first))

    def accounts(request: Request) -> Any:
        return {"accounts": account_list(), "now_s": int(context.clock.now_s())}

    def day(request: Request) -> Any:
        with context.store() as store:
            account = _account(store, request)
            return queries.day(store, account, _date(request.query_params.get("date"), "date"))

    def span(request: Request) -> Any:
        """[start_s, end_s), or `from`/`to` in the account's zone (dates: whole days, `to`
        inclusive; local date-times: instants); `compare`: the start of a second span of the
        same length, sent along as `other`."""
        query = request.query_params
        with context.store() as store:
            account = _account(store, request)
            if "from" in query or "to" in query:
                start = _local(account, query.get("from"), "from", end=False)
                end = _local(account, query.get("to"), "to", end=True)
            else:
                start = _int(query.get("start_s"), "start_s")
                end = _int(query.get("end_s"), "end_s")
            if end <= start:
                raise BadRequest("the range must end after it starts")
            out = queries.span(store, account, start, end)
            if query.get("compare"):
                other = _local(account, query.get("compare"), "compare", end=False)
                out["other"] = queries.span(store, account, other, other + end - start)
            return out

    def summary(request: Request) -> Any:
        now_s = int(context.clock.now_s())
        statuses = {s.account_key: s for s in api.status(context.settings, clock=context.clock)}
        out = []
        with context.store() as store:
            for account in store.accounts():
                stored = store.sample_span(account.key)
                last_s = now_s if stored is None else min(now_s, stored.end_s - 1)
                last = queries.local_day_of(last_s, account)
                first = last - dt.timedelta(days=overview.CALENDAR_DAYS - 1)
                stats = queries.day_stats(store, account, first, last)
                status = statuses.get(account.key)
                out.append(overview.account_overview(account, status, stats, first, last, now_s))
        return {"accounts": out, "now_s": now_s}

    def sync_state(request: Request) -> Any:
        """This page's run, and every account's recent runs from any source (cron, a terminal,
        this page): a sync still "running" there is one in progress, or one that was killed."""
        now_s = int(context.clock.now_s())
        runs: list[dict[str, Any]] = []
        with context.store() as store:
            for account in store.accounts():
                for run in store.runs(account.key, limit=5):
                    runs.append(
                        {
                            "account": account.key,
                            "started_s": run.started_s,
                            "age_s": max(0, now_s - run.started_s),
                            "finished_s": run.finished_s,
                            "status": run.status,
                            "samples_added": run.samples_added,
                            "requests": run.requests,
                            "error": None if run.error is None else redact(run.error),
                        }
                    )
        runs.sort(key=lambda run: -run["started_s"])
        return context.job.snapshot() | {"runs": runs[:10]}

    def sync_start(request: Request) -> Any:
        return context.job.start()

    async def sync_events(request: Request) -> Response:
        start = _int(request.query_params.get("from") or "0", "from")

        async def stream() -> AsyncIterator[bytes]:
            index = start
            while True:
                events, ended = await asyncio.to_thread(context.job.events_since, index, 1.0)
                for event in events:
                    yield b"data: " + orjson.dumps(event) + b"\n\n"
                index += len(events)
                if ended and not events:
                    yield b"event: end\ndata: {}\n\n"
                    return
                if await request.is_disconnected():
                    return

        return StreamingResponse(stream(), media_type="text/event-stream")

    def export(request: Request, form: dict[str, Any]) -> Response:
        fmt = str(form.get("format", ""))
        if fmt not in _EXPORTS:
            raise BadRequest("format must be csv or parquet")
        since = _moment(form.get("since"), "since")
        until = _moment(form.get("until"), "until")
        folder = Path(tempfile.mkdtemp(prefix="heartkeep-dashboard-"))
        target = folder / f"heart-rate.{_EXPORTS[fmt][1]}"
        account = form.get("account") or None
        try:
            api.export(context.settings, fmt, target, account=account, since=since, until=until)
        except BaseException:
            _remove(folder)
            raise
        name = f"heartkeep-{_file_part(since)}-{_file_part(until)}.{_EXPORTS[fmt][1]}"
        return FileResponse(
            target,
            media_type=_EXPORTS[fmt][0],
            filename=name,
            background=BackgroundTask(_remove, folder),
        )

    async def export_endpoint(request: Request) -> Response:
        try:
            form = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return _json({"error": "the body must be JSON"}, 400)
        if not isinstance(form, dict):
            return _json({"error": "the body must be a JSON object"}, 400)
        return await handler(lambda r: export(r, form))(request)

    prefetched = context.prefetched
    prefetchable = {
        "/api/overview": handler(summary),
        "/api/day": handler(day),
        "/api/range": handler(span),
        "/api/sync": handler(sync_state),
    }

    def first_or_fresh(path: str) -> Callable[[Request], Awaitable[Response]]:
        """The endpoint for `path`: the answer `index` started for this exact request, if any."""
        fresh = prefetchable[path]

        async def endpoint(request: Request) -> Response:
            query = request.scope.get("query_string", b"").decode("latin-1")
            started = prefetched.take(f"{path}?{query}" if query else path)
            return await (started if started is not None else fresh(request))

        return endpoint

    routes = [
        Route("/", index),
        Route("/api/accounts", handler(accounts)),
        Route("/api/overview", first_or_fresh("/api/overview")),
        Route("/api/day", first_or_fresh("/api/day")),
        Route("/api/range", first_or_fresh("/api/range")),
        Route("/api/sync", first_or_fresh("/api/sync"), methods=["GET"]),
        Route("/api/sync", handler(sync_start), methods=["POST"]),
        Route("/api/sync/events", sync_events),
        Route("/api/export", export_endpoint, methods=["POST"]),
        *(
            Route(f"/static/{version}/{name}", page.cached(body, media_type))
            for name, (body, media_type) in joined.items()
        ),
        Mount(f"/static/{version}", page.CachedStaticFiles(directory=STATIC)),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    return Starlette(routes=routes)


def _remove(folder: Path) -> None:
    for path in folder.iterdir():
        path.unlink(missing_ok=True)
    folder.rmdir()
