"""The sandbox's fixed, public demo OAuth clients.

These are not secrets: anyone may use them against the sandbox (and they work nowhere else).
`google_client_json` produces the file a person would download from Google Cloud Console for a
Desktop-app client, pointed at a sandbox, so the same login code path serves both.
"""

from __future__ import annotations

from typing import Any

GOOGLE_CLIENT_ID = "heartkeep-sandbox.apps.googleusercontent.com"
GOOGLE_CLIENT_SECRET = "sandbox-google-secret"
FITBIT_CLIENT_ID = "23SBOX"
FITBIT_CLIENT_SECRET = "sandbox-fitbit-secret"

# A second Google client of the "Web application" kind: redirect URIs must match exactly, as
# Google enforces for web clients (the Health setup guide tells developers to create one).
GOOGLE_WEB_CLIENT_ID = "heartkeep-sandbox-web.apps.googleusercontent.com"
GOOGLE_WEB_CLIENT_SECRET = "sandbox-google-web-secret"
GOOGLE_WEB_REDIRECT_URIS = ("https://www.google.com",)

SANDBOX_PROJECT_ID = "heartkeep-sandbox"
# The Cloud project number: webhook subscribers live under projects/{number}, never the id.
SANDBOX_PROJECT_NUMBER = "314159265358"


def google_client_json(base_url: str) -> dict[str, Any]:
    """The Desktop-app client file, in Console's download shape, pointing at `base_url`."""
    base = base_url.rstrip("/")
    return {
        "installed": {
            "client_id": GOOGLE_CLIENT_ID,
            "project_id": SANDBOX_PROJECT_ID,
            "auth_uri": f"{base}/o/oauth2/v2/auth",
            "token_uri": f"{base}/token",
            "auth_provider_x509_cert_url": f"{base}/oauth2/v1/certs",
            "client_secret": GOOGLE_CLIENT_SECRET,
            "redirect_uris": ["http://localhost"],
        }
    }
