"""A test acting as the person's browser: follows the consent address, lands on the redirect.

The sandbox auto-approves consent and answers with a redirect; this browser can tamper with the
request or the redirect on the way (another `state`, another PKCE challenge, an unticked scope)
and can let simulated time pass before landing, as a person who walked away would.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from collections.abc import Callable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx


def with_query(url: str, **changes: str | None) -> str:
    """`url` with query parameters replaced (None removes one)."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    for key, value in changes.items():
        if value is None:
            query.pop(key, None)
        else:
            query[key] = value
    return urlunsplit(parts._replace(query=urlencode(query)))


def query_of(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class Browser:
    """Callable as `open_browser(url)` (loopback flow) or as the source of a pasted address.

    `before_consent(url) -> url` rewrites the consent address, `before_landing(url) -> url` the
    redirect; `on_redirect()` runs between the two (e.g. to move a simulated clock).
    """

    def __init__(
        self,
        *,
        before_consent: Callable[[str], str] | None = None,
        before_landing: Callable[[str], str] | None = None,
        on_redirect: Callable[[], None] | None = None,
    ) -> None:
        self.before_consent = before_consent or (lambda url: url)
        self.before_landing = before_landing or (lambda url: url)
        self.on_redirect = on_redirect or (lambda: None)
        self.consent_urls: list[str] = []
        self.landing: httpx.Response | None = None
        self.consent_response: httpx.Response | None = None

    def consent(self, url: str) -> str | None:
        """Visit the consent address; return where the provider redirects (None if it does not)."""
        self.consent_urls.append(url)
        response = httpx.get(self.before_consent(url), follow_redirects=False, timeout=10)
        self.consent_response = response
        if response.status_code not in (301, 302, 303, 307):
            return None
        self.on_redirect()
        return self.before_landing(response.headers["location"])

    def __call__(self, url: str) -> bool:
        location = self.consent(url)
        if location is not None:
            self.landing = httpx.get(location, timeout=10)
        return True

    def paste_source(self, shown: list[str]) -> Callable[[], str]:
        """A `read_line` that consents at the last shown address and 'pastes' the redirect."""

        def read_line() -> str:
            location = self.consent(shown[-1])
            assert location is not None, "the provider did not redirect"
            return location

        return read_line


class ConsentPageBrowser:
    """A person on the sandbox's Google consent page (auto-approve off): Allow or Deny, with
    some permission boxes unticked."""

    def __init__(self, decision: str = "allow", untick: tuple[str, ...] = ()) -> None:
        self.decision = decision
        self.untick = untick
        self.landing: httpx.Response | None = None
        self.shown_scopes: list[str] = []

    def __call__(self, url: str) -> bool:
        page = httpx.get(url, timeout=10)
        found = re.search(r'name="consent_id" value="([^"]+)"', page.text)
        assert found is not None, "no consent page was shown"
        self.shown_scopes = [
            html.unescape(s) for s in re.findall(r'name="scope" value="([^"]+)"', page.text)
        ]
        form = [("consent_id", html.unescape(found.group(1))), ("decision", self.decision)]
        form += [("scope", s) for s in self.shown_scopes if s not in self.untick]
        action = urlunsplit(urlsplit(url)._replace(query=""))
        answer = httpx.post(
            action,
            content=urlencode(form),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            follow_redirects=False,
            timeout=10,
        )
        self.landing = httpx.get(answer.headers["location"], timeout=10)
        return True
