"""`heartkeep auth login | status | logout`: connect an account, see its grant, disconnect it.

A skin over `heartkeep.api`: parse options, call one function, render what it returns.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from heartkeep.cli import render
from heartkeep.cli.grouphelp import HelpGroup
from heartkeep.config import load_settings
from heartkeep.errors import VaultDamaged
from heartkeep.redaction import redact

if TYPE_CHECKING:  # loaded by the commands that use it: `--help` and start-up stay light
    from heartkeep import api

auth_app = typer.Typer(
    cls=HelpGroup,
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
        None,
        "--port",
        min=0,
        max=65_535,
        help="Port for the login redirect on 127.0.0.1 (default: any free one).",
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
    from heartkeep import api

    settings = load_settings({"sandbox_url": sandbox})

    def read_line() -> str:
        return str(typer.prompt("Paste the address the browser landed on (or just the code)"))

    result = api.login(
        settings,
        provider=provider,
        client_file=Path(client_file) if client_file else None,
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
    if result.damaged_kept_as is not None:
        render.warning(
            f"the previous token vault was damaged and has been replaced; it is kept as "
            f"{result.damaged_kept_as} (delete it when you no longer need it)"
        )
    if result.refresh_expires_at_s is not None:
        render.warning(
            f"this refresh token dies on {_when(result.refresh_expires_at_s)} UTC: your Google "
            "Cloud OAuth app is in 'Testing' status (7-day refresh tokens); publish it, see "
            "docs/google-oauth-setup.md"
        )


def _access_line(status: api.AccountStatus) -> str:
    """The access token's state in words, with what (if anything) the person should do."""
    expiry = _when(status.access_expires_at_s) + " UTC"
    if status.access_state == "valid":
        return f"valid until {expiry}"
    if status.access_state == "expired":
        return f"expired {expiry} (renewed automatically by the next command)"
    if status.access_state == "refused":
        return "refused by the provider: run `heartkeep auth login` again"
    return "unusable (cannot be renewed): see the warnings below"


def _damaged_json(failure: VaultDamaged) -> dict[str, object]:
    return {
        "account": failure.account_key,
        "access_state": "damaged",
        "vault_path": failure.path,
        "error": {
            "code": "vault_damaged",
            "exit_code": failure.exit_code,
            "message": redact(failure.message),
            "hint": failure.hint,
        },
    }


@auth_app.command("status")
def status_command(
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Show each connected account: permissions, token state and age, warnings, and the
    Google quota heartkeep paces to (app_class: unverified or verified).

    Offline: reads the vault, never contacts the provider, never shows a token.  The access
    token is valid, expired (renewed by the next command), refused (log in again) or unusable.
    Exit code 4 when a vault file is damaged (the message says how to recover).
    """
    from heartkeep import api

    settings = load_settings()
    statuses = api.auth_status(settings)
    damaged = api.damaged_vaults(settings)
    quota = api.quota_assumption(settings)
    if as_json:
        rows = []
        for status in statuses:
            row = status.to_dict()
            if status.provider == "google-health":
                row["quota"] = quota.to_dict()
            rows.append(row)
        render.print_json(rows + [_damaged_json(f) for f in damaged])
    elif not statuses and not damaged:
        render.line("No account is connected.  Run `heartkeep auth login`.")
    for index, status in enumerate([] if as_json else statuses):
        if index:
            render.line("")
        refresh = (
            f"issued {_age(status.refresh_token_age_s)} ago"
            if status.refresh_token_present
            else "none"
        )
        if status.refresh_expires_at_s is not None:
            refresh += f", dies {_when(status.refresh_expires_at_s)} UTC"
        render.line(status.account_key + (" (sandbox)" if status.sandbox_url else ""))
        render.line(f"  provider       {status.provider}")
        if status.sandbox_url:
            render.line(f"  sandbox        {status.sandbox_url}")
        render.line(f"  access token   {_access_line(status)}")
        render.line(f"  refresh token  {refresh}")
        last = _when(status.last_refresh_at_s)
        render.line(f"  last refresh   {last + ' UTC' if status.last_refresh_at_s else 'never'}")
        render.line(f"  connected      {_when(status.connected_at_s)} UTC")
        render.line("  permissions    " + "\n                 ".join(status.scopes))
        if status.provider == "google-health":
            render.line(f"  quota assumed  {quota.describe()}")
        for warning in status.warnings:
            render.line(f"  warning        {warning}")
    if damaged:
        if not as_json:
            for failure in damaged:
                render.error(redact(str(failure)))
        raise typer.Exit(damaged[0].exit_code)


@auth_app.command("logout")
def logout_command(
    account: str | None = typer.Argument(
        None, help="Account key (see `heartkeep auth status`); optional when only one exists."
    ),
    every: bool = typer.Option(False, "--all", help="Log out of every connected account."),
    local: bool = typer.Option(
        False,
        "--local",
        help="Only delete the tokens on this machine, without contacting the provider (when it "
        "cannot be reached, or the vault is damaged).",
    ),
) -> None:
    """Revoke heartkeep's access at the provider, then delete the local tokens.

    Your heart-rate data stays in the database; `heartkeep forget ACCOUNT` deletes it.  With
    --local the provider is not contacted and the grant may stay valid there: withdraw it on
    https://myaccount.google.com/permissions (Google) or in Fitbit's settings (legacy Fitbit).
    """
    from heartkeep import api

    for key in api.logout(load_settings(), account, every=every, local=local):
        if local:
            render.line(
                f"Forgot {key} on this machine: local tokens deleted (heart-rate data kept).  "
                f"The grant may stay valid at the provider: withdraw it at {api.revoke_page(key)}"
            )
        else:
            render.line(
                f"Logged out {key}: access revoked at the provider, local tokens deleted "
                "(heart-rate data kept)."
            )


def register(app: typer.Typer) -> None:
    """Attach `heartkeep auth ...` to the root app."""
    app.add_typer(auth_app)
