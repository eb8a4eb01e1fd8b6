"""`heartkeep dashboard`: a local web page over the store, fast at one-second resolution.

Served by Starlette/uvicorn on 127.0.0.1 only, behind a per-run token, a Host check, CSRF
checks and a strict Content-Security-Policy (`security.py`).  The page is plain ES modules and
vendored uPlot (`static/`): it loads nothing from any other host and needs no build step.
Data endpoints are columnar (`queries.py`); sync and export call the same `heartkeep.api`
functions as the CLI.  Imported only by the `dashboard` command (starlette and uvicorn stay out
of `heartkeep --help`).
"""

from __future__ import annotations

from heartkeep.dashboard.server import DashboardServer

__all__ = ["DashboardServer"]
