"""A participant's browser for `heartkeep study demo`: enrol through the real web flow over HTTP.

Why a browser of our own and not a shortcut into the database: the demo shows the study as a
participant meets it — the invite link, the consent page, Google's sign-in and consent, the
redirect back to the study with a code, the thank-you page — so every request goes over HTTP to
the study site and the provider, carrying cookies as a browser does.  The only liberty taken:
the participant "signs in" as their synthetic account by the `login_hint` a Google account
chooser would fill in.
"""

from __future__ import annotations

from urllib.parse import urlencode

from heartkeep import http_client
from heartkeep.errors import AuthorizationFailed

ENROLLED_MARK = "You are enrolled"
_MAX_HOPS = 6


def enrol_by_browser(invite_url: str, login_hint: str, *, timeout_s: float = 60.0) -> None:
    """Open `invite_url`, accept the consent, sign in at the provider as `login_hint`, follow
    the redirects back; `AuthorizationFailed` (exit 4) naming the step if any page refuses."""
    origin = invite_url.split("/enrol/", 1)[0]
    with _Browser(http_client.Client(timeout=timeout_s, headers={"Origin": origin})) as browser:
        page = browser.get(invite_url)
        _expect(page, 200, "the invite page")
        response = browser.post(invite_url, data={"decision": "accept"})
        _expect(response, 303, "accepting the consent")
        location = response.headers["location"]
        location += ("&" if "?" in location else "?") + urlencode({"login_hint": login_hint})
        response = browser.get(location)
        for _ in range(_MAX_HOPS):
            if response.status_code not in (302, 303):
                break
            response = browser.get(response.headers["location"])
        _expect(response, 200, "the return from the provider")
        if ENROLLED_MARK not in response.text:
            raise AuthorizationFailed(
                f"enrolment of {login_hint} did not end on the thank-you page ({response.url.path})"
            )


class _Browser:
    """A client that keeps cookies as a browser does, per host (the study site's session and
    the provider's sign-in): enough for this walk, not a general cookie jar (no paths, no
    expiry dates; a cookie set empty or with `Max-Age=0` is dropped)."""

    def __init__(self, client: http_client.Client) -> None:
        self.client = client
        self.jars: dict[str, dict[str, str]] = {}

    def __enter__(self) -> _Browser:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.client.close()

    def get(self, url: str) -> http_client.Response:
        return self._send("GET", url, None)

    def post(self, url: str, *, data: dict[str, str]) -> http_client.Response:
        return self._send("POST", url, data)

    def _send(self, method: str, url: str, data: dict[str, str] | None) -> http_client.Response:
        jar = self.jars.setdefault(http_client.URL(url).host, {})
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())} if jar else {}
        response = self.client.request(method, url, data=data, headers=headers)
        for line in response.headers.get_list("set-cookie"):
            pair, *attributes = line.split(";")
            name, _, value = pair.strip().partition("=")
            gone = any(a.strip().lower() == "max-age=0" for a in attributes)
            if not value or gone:
                jar.pop(name, None)
            else:
                jar[name] = value
        return response


def _expect(response: http_client.Response, status: int, step: str) -> None:
    if response.status_code != status:
        raise AuthorizationFailed(
            f"{step} answered {response.status_code} instead of {status} ({response.url.path})"
        )
