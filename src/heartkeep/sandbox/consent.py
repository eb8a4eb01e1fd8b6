"""The HTML the authorization endpoint shows: the consent screen and Google-style error pages.

The consent screen is a real form (one checkbox per requested scope, ticked, so a person can
untick one as Google's granular consent allows; Allow and Deny buttons).  Error pages are what
Google shows when it cannot safely redirect back (unknown client, unregistered redirect URI,
malformed request): "Error 400: redirect_uri_mismatch" and the like.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from starlette.responses import HTMLResponse

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem}"
    "h1{font-size:1.4rem}li{margin:.4rem 0;list-style:none}"
    "button{font-size:1rem;padding:.5rem 1.4rem;margin-right:1rem}"
    ".scope{font-family:monospace;font-size:.85rem}"
)

_SCOPE_TEXT = {
    "health_metrics_and_measurements.readonly": (
        "See your health metrics and measurements, such as heart rate"
    ),
    "settings.readonly": "See your Google Health settings, such as your time zone",
    "profile.readonly": "See your Google Health profile, such as your membership date",
    "activity_and_fitness.readonly": "See your activity and fitness data",
    "sleep.readonly": "See your sleep data",
}


def _describe(scope: str) -> str:
    suffix = scope.rsplit("googlehealth.", 1)[-1]
    return _SCOPE_TEXT.get(suffix, suffix)


def consent_page(
    *,
    consent_id: str,
    client_name: str,
    user_choices: Sequence[tuple[str, str]],
    chosen_user: str,
    scopes: Sequence[str],
) -> HTMLResponse:
    """The consent screen; the form posts back to the authorization endpoint."""
    users = "".join(
        f'<option value="{escape(uid)}"{" selected" if uid == chosen_user else ""}>'
        f"{escape(name)}</option>"
        for uid, name in user_choices
    )
    items = "".join(
        f'<li><label><input type="checkbox" name="scope" value="{escape(s)}" checked> '
        f'{escape(_describe(s))} <span class="scope">({escape(s)})</span></label></li>'
        for s in scopes
    )
    page = (
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
        f"<title>Sign in - Google Accounts (sandbox)</title><style>{_STYLE}</style></head><body>"
        f"<h1>{escape(client_name)} wants access to your Google Account</h1>"
        '<form method="post" action="/o/oauth2/v2/auth">'
        f'<input type="hidden" name="consent_id" value="{escape(consent_id)}">'
        f'<p><label>Account <select name="user">{users}</select></label></p>'
        f"<p>Select what {escape(client_name)} can access:</p><ul>{items}</ul>"
        '<p><button type="submit" name="decision" value="allow">Allow</button>'
        '<button type="submit" name="decision" value="deny">Deny</button></p>'
        "<p><small>This is the heartkeep sandbox: no real Google account is involved."
        "</small></p></form></body></html>"
    )
    return HTMLResponse(page)


def error_page(status: int, error: str, description: str) -> HTMLResponse:
    """Google's "Access blocked" page: shown instead of redirecting to an unsafe target."""
    page = (
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
        f"<title>Error {status}: {escape(error)}</title><style>{_STYLE}</style></head><body>"
        "<h1>Access blocked: authorization error</h1>"
        f"<p>{escape(description)}</p>"
        f"<p><b>Error {status}: {escape(error)}</b></p></body></html>"
    )
    return HTMLResponse(page, status_code=status)
