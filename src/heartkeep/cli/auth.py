"""`heartkeep auth login | status | logout`: connect an account, see its grant, disconnect it.

A skin over `heartkeep.api`: parse options, call one function, render what it returns.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer

from heartkeep import api
from heartkeep.cli import render
from heartkeep.config import load_settings

auth_app = typer.Typer(
    name="auth",
    help="Connect an account (login), see its access (status), disconnect it (logout).",
    no_args_is_help=True,
)


def _when(instant_s: float | None) -> str:
    if instant_s is None:
        return "-"
    return dt.datetime.fromtimestamp(instant_s, dt.UTC).strftime("%Y-%m-%d %H:%M")


def _age(seconds: float) -> str:
    days, rest = divmod(int(seconds), 86_400)
    if days:
        return f"{days} d {rest // 3600} h"
    if rest >= 3600:
        return f"{rest // 3600} h {rest % 3600 // 60} min"
    return f"{rest // 60} min"


def _show_url(url: str) -> None:
    render.line("Open this address in a browser to let heartkeep read your heart rate:")
    render.line(url)


@auth_app.command("login")
def login_command(
    provider: str = typer.Option(
        "google", "--provider", help="google (Google Health API) or fitbit (legacy Fitbit API)."
    ),
    client_file: str | None = typer.Option(
        None,
        "--client-file",
        help="Client-secret JSON downloaded from Google Cloud Console (Desktop app).",
    ),
    client_id: str | None = typer.Option(None, "--client-id", help="OAuth client ID."),
    client_secret: str | None = typer.Option(
        None,
        "--client-secret",
        help="OAuth client secret (prefer the client file or HEARTKEEP_*_CLIENT_SECRET).",
    ),
    no_browser: bool = typer.Option(
        False,
        "--no-browser",
        help="Print the address instead of opening a browser; paste back where it lands.",
    ),
    port: int | None = typer.Option(
        None, "--port", help="Port for the login redirect on 127.0.0.1 (default: any free one)."
    ),
    sandbox: str | None = typer.Option(
        None, "--sandbox", help="Log in to a heartkeep sandbox at this URL instead of the real API."
    ),
) -> None:
    """Connect an account: consent in the browser once; heartkeep keeps the tokens fresh.

    The browser opens on the provider's consent page; after you allow access it comes back to
    a one-time listener on 127.0.0.1 and the tokens are saved in the vault (mode 0600).  On a
    machine without a browser use --no-browser.
    """
    settings = load_settings({"sandbox_url": sandbox})

    def read_line() -> str:
        return str(typer.prompt("Paste the address the browser landed on (or just the code)"))

    result = api.login(
        settings,
        provider=provider,
        client_file=Path(client_file).expanduser() if client_file else None,
        client_id=client_id,
        client_secret=client_secret,
        no_browser=no_browser,
        port=port,
        show_url=_show_url,
        read_line=read_line,
    )
    render.line(f"Connected {result.account_key}.")
    render.line(f"Permissions: {', '.join(result.scopes)}")
    render.line(f"Tokens saved in {result.vault_path}")
    if result.refresh_expires_at_s is not None:
        render.warning(
            f"this refresh token dies on {_when(result.refresh_expires_at_s)} UTC: your Google "
            "Cloud OAuth app is in 'Testing' status (7-day refresh tokens); publish it, see "
            "docs/google-oauth-setup.md"
        )


@auth_app.command("status")
def status_command(
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Show each connected account: permissions, token expiry and age, warnings.

    Offline: reads the vault, never contacts the provider, never shows a token.
    """
    statuses = api.auth_status(load_settings())
    if as_json:
        render.print_json([status.to_dict() for status in statuses])
        return
    if not statuses:
        render.line("No account is connected.  Run `heartkeep auth login`.")
        return
    for index, status in enumerate(statuses):
        if index:
            render.line("")
        refresh = (
            f"issued {_age(status.refresh_token_age_s)} ago"
            if status.refresh_token_present
            else "none"
        )
        if status.refresh_expires_at_s is not None:
            refresh += f", dies {_when(status.refresh_expires_at_s)} UTC"
        render.line(status.account_key)
        render.line(f"  provider       {status.provider}")
        render.line(
            "  access token   "
            + ("valid until " if status.access_valid else "expired ")
            + _when(status.access_expires_at_s)
            + " UTC"
        )
        render.line(f"  refresh token  {refresh}")
        last = _when(status.last_refresh_at_s)
        render.line(f"  last refresh   {last + ' UTC' if status.last_refresh_at_s else 'never'}")
        render.line(f"  connected      {_when(status.connected_at_s)} UTC")
        render.line("  permissions    " + "\n                 ".join(status.scopes))
        for warning in status.warnings:
            render.line(f"  warning        {warning}")


@auth_app.command("logout")
def logout_command(
    account: str | None = typer.Argument(
        None, help="Account key (see `heartkeep auth status`); optional when only one exists."
    ),
    every: bool = typer.Option(False, "--all", help="Log out of every connected account."),
) -> None:
    """Revoke heartkeep's access at the provider, then delete the local tokens.

    Your heart-rate data stays in the database; deleting it is a separate, explicit command.
    """
    for key in api.logout(load_settings(), account, every=every):
        render.line(
            f"Logged out {key}: access revoked at the provider, local tokens deleted "
            "(heart-rate data kept)."
        )


def register(app: typer.Typer) -> None:
    """Attach `heartkeep auth ...` to the root app."""
    app.add_typer(auth_app)
