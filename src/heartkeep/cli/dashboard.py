"""`heartkeep dashboard`: serve the local web dashboard and open it in the browser.

A skin over `heartkeep.dashboard.DashboardServer`, imported inside the command so that
starlette and uvicorn never load for `heartkeep --help` or a cron sync.
"""

from __future__ import annotations

from typing import Annotated

import typer

from heartkeep.cli import options, render


def dashboard(
    port: Annotated[
        int,
        typer.Option("--port", min=0, max=65535, help="Port on 127.0.0.1 (default: a free one)."),
    ] = 0,
    no_browser: Annotated[
        bool,
        typer.Option("--no-browser", help="Print the address instead of opening a browser."),
    ] = False,
) -> None:
    """Serve a local web dashboard of the stored heart rate on 127.0.0.1 (Ctrl-C stops it).

    The address carries a token made for this run: only a browser that opened it can read the
    data.  Views: overview, day (every sample), range, sync now, export.  See docs/dashboard.md.
    """
    from heartkeep.dashboard import DashboardServer

    server = DashboardServer(options.settings(), port=port).start()
    try:
        render.address(f"heartkeep dashboard: {server.url}")
        render.info("Ctrl-C stops it.")
        if not no_browser:
            import webbrowser  # here: `heartkeep --help` builds this command, never runs it

            webbrowser.open(server.url)
        server.serve_forever()
    except KeyboardInterrupt:  # the way to stop it: not a failure
        render.info("Dashboard stopped.")
    finally:
        server.stop()


def register(app: typer.Typer) -> None:
    app.command("dashboard")(dashboard)
