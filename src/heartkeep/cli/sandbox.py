"""CLI commands: `heartkeep sandbox serve` — the Google Health / Fitbit emulator on loopback.

For people who want to point another tool (or a browser) at the same emulator the tests and the
demo use.  The command only parses options, asks `api.sandbox_server` for a server, prints how to
reach it, and serves until Ctrl-C.
"""

from __future__ import annotations

import signal
from types import FrameType

import typer

from heartkeep.cli import render
from heartkeep.cli.grouphelp import HelpGroup

sandbox_app = typer.Typer(
    cls=HelpGroup,
    name="sandbox",
    help="The built-in emulator of Google's OAuth, the Google Health API v4 and the legacy "
    "Fitbit Web API, with synthetic heart rate.",
    no_args_is_help=True,
)


@sandbox_app.command("serve")
def serve(
    port: int = typer.Option(
        8765, "--port", min=0, max=65_535, help="Port on 127.0.0.1 (0 picks a free one)."
    ),
    seed: int | None = typer.Option(
        None, "--seed", help="Seed of the demo user's synthetic heart rate (default: fixed)."
    ),
    documented_page_sizes: bool = typer.Option(
        False,
        "--documented-pages",
        help="Google's documented page sizes (1440 by default, 10000 at most) instead of those "
        "seen live (about 50 by default, 5000 at most, now and then an empty page).",
    ),
    verified_app: bool = typer.Option(
        False,
        "--verified-app",
        help="The quota of a verified app (5 requests/s, 300/min per user) instead of an "
        "unverified one's 2.5 requests/s.",
    ),
    retry_after: bool = typer.Option(
        False, "--retry-after", help="Send Retry-After on 429 (Google documents none)."
    ),
    deadline_above: int = typer.Option(
        0,
        "--deadline-above",
        min=0,
        help="Heart-rate pages of more than N points time out with 504 DEADLINE_EXCEEDED "
        "(0: never).",
    ),
    consent_page: bool = typer.Option(
        False,
        "--consent-page",
        help="Show the consent screen (Allow / Deny, scopes to untick) instead of approving at "
        "once.",
    ),
    testing_app: bool = typer.Option(
        False,
        "--testing-app",
        help="Refresh tokens die 7 days after consent, as for an app in 'Testing' status.",
    ),
    rotate_refresh_tokens: bool = typer.Option(
        False, "--rotate-refresh-tokens", help="Every refresh returns a new refresh token."
    ),
    fitbit_shutdown: bool = typer.Option(
        False, "--fitbit-shutdown", help="The legacy Fitbit Web API answers 410 Gone everywhere."
    ),
    sync_lag_s: int = typer.Option(
        900, "--sync-lag", help="Seconds the device's last sync trails the clock.", min=0
    ),
    http_webhooks: bool = typer.Option(
        False,
        "--http-webhooks",
        help="Accept plain http:// webhook endpoints (Google accepts HTTPS only).",
    ),
) -> None:
    """Serve the sandbox on 127.0.0.1 until Ctrl-C, printing its URL and demo credentials."""
    from heartkeep import api
    from heartkeep.sandbox import credentials

    server = api.sandbox_server(
        port=port,
        seed=seed,
        documented_page_sizes=documented_page_sizes,
        verified_app=verified_app,
        retry_after=retry_after,
        deadline_above_points=deadline_above,
        consent_page=consent_page,
        testing_app=testing_app,
        rotate_refresh_tokens=rotate_refresh_tokens,
        fitbit_shutdown=fitbit_shutdown,
        sync_lag_s=sync_lag_s,
        http_webhooks=http_webhooks,
    )
    server.start()
    url = server.url
    user = next(iter(server.state.users.values()))
    rows = [
        ("Google authorization", f"{url}/o/oauth2/v2/auth"),
        ("Google token", f"{url}/token"),
        ("Google revoke", f"{url}/revoke"),
        ("Google Health API root", f"{url}/   (try {url}/v4/users/me/identity)"),
        ("Google client id", credentials.GOOGLE_CLIENT_ID),
        ("Google client secret", credentials.GOOGLE_CLIENT_SECRET),
        (
            "Webhook subscribers",
            f"{url}/v4/projects/{credentials.SANDBOX_PROJECT_NUMBER}/subscribers",
        ),
        ("Fitbit authorize", f"{url}/oauth2/authorize"),
        ("Fitbit token", f"{url}/oauth2/token"),
        ("Fitbit client id", credentials.FITBIT_CLIENT_ID),
        ("Fitbit client secret", credentials.FITBIT_CLIENT_SECRET),
        ("Demo user", f"{user.display_name} ({user.time_zone})"),
        ("  healthUserId", user.health_user_id),
        ("  legacy Fitbit id", user.legacy_user_id),
    ]
    render.line(f"heartkeep sandbox serving on {url}  (Ctrl-C stops it)")
    render.line("The client credentials below are public demo values; they work only here.")
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        render.line(f"  {name:<{width}}  {value}")
    previous = signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops it as cleanly as Ctrl-C
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        render.line("sandbox stopped")
    finally:
        server.stop()
        signal.signal(signal.SIGTERM, previous)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def register(app: typer.Typer) -> None:
    """Attach this module's commands to the root app."""
    app.add_typer(sandbox_app)
