"""The participant's path: invite → consent → Google OAuth (web client) → tokens → backfill.

`GET /enrol/{token}` shows the consent text of a usable invite (else a page saying why not).
`POST /enrol/{token}` records the decision.  Decline: the row says `declined`, a polite page,
the link is spent.  Accept: the row says `consented` (when, and the sha256 of the text agreed
to), a fresh OAuth `state` is made (random; its keyed hash is stored, and it is set in an
HttpOnly cookie so the callback must arrive in the same browser), the PKCE verifier is derived
from it with the site's key, and the browser goes to Google's consent screen with
`access_type=offline`, `prompt=consent` and S256.  The same POST is the "try again" button.

`GET /enrol/callback` finds the invite by the state's hash (row-locked, so a double-clicked
callback cannot enrol twice), refuses an invite a newer one replaced, checks the cookie,
exchanges the code (`auth.TokenClient`, as `heartkeep auth login` does), requires every scope
the study asked for — a participant who unticked heart rate is told so, the partial grant is
revoked, and they can retry — learns the `healthUserId`, refuses (revoking the fresh grant)
when the invite's label is enrolled already — re-checked under a per-label lock, so two
completions of one label cannot both enrol — seals the tokens into the store, marks the invite
`enrolled` in the same transaction, and only then hands the account to `on_enrolled` (the
backfill job).

A reconnect invite (`reconnect.py`) takes the same path: its consent page says the participant
is reconnecting, and at the callback only the enrolled Google account may replace its tokens.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from heartkeep.auth.login import google_user_id
from heartkeep.errors import (
    AuthorizationFailed,
    ConfigError,
    HeartkeepError,
    TransientError,
)
from heartkeep.study import enrolment_pages as pages
from heartkeep.study import enrolment_tables as tables
from heartkeep.study import reconnect
from heartkeep.study.invites import ENROL_PATH, check_invite, invite_token
from heartkeep.study.web_context import CALLBACK_PATH, StudySite
from heartkeep.study.web_signing import random_token

if TYPE_CHECKING:
    import psycopg

    from heartkeep.model import TokenSet
    from heartkeep.store.postgres import PostgresStore

STATE_COOKIE = "heartkeep_study_oauth"
OAUTH_WINDOW_S = 3600  # a consent screen left open longer than this starts again

_log = logging.getLogger(__name__)


def _verifier(site: StudySite, state: str) -> str:
    # 43 characters of base64url: a valid PKCE verifier that never has to be stored.
    return site.signer.digest("pkce", state)


def _state_digest(site: StudySite, state: str) -> str:
    return site.signer.digest("oauth-state", state)


class Enrolment:
    """The participant routes, bound to one `StudySite`."""

    def __init__(self, site: StudySite) -> None:
        self.site = site

    def routes(self) -> list[Route]:
        return [
            Route(CALLBACK_PATH, self.callback, methods=["GET"]),
            Route(ENROL_PATH + "{token}", self.invite, methods=["GET", "POST"]),
        ]

    # --- invite and consent ------------------------------------------------------------------

    async def invite(self, request: Request) -> Response:
        token = request.path_params["token"]
        if request.method == "GET":
            return await run_in_threadpool(self._show, token)
        origin = request.headers.get("origin")
        if origin is not None and origin.lower() != self.site.origin:
            # Only our own consent form may decide (the link is a secret, but a page that
            # learnt it must not be able to decline or start OAuth for the participant).
            return pages.callback_problem(
                self.site.study_title, "Please use the buttons on the study's own page.", status=403
            )
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
        return await run_in_threadpool(self._decide, token, form.get("decision", ""))

    def _show(self, token: str) -> Response:
        site = self.site
        with site.stores.store() as store:
            check = check_invite(tables.connection(store), site.signer, token, site.clock.now_s())
        if check.problem is not None or check.enrolment is None:
            return pages.invite_problem(site.study_title, check.problem or "invalid")
        return self._consent(check.enrolment, token)

    def _consent(self, row: tables.Enrolment, token: str) -> Response:
        site = self.site
        action = site.url(ENROL_PATH + token)
        reconnecting = row.label if row.reconnect_of is not None else None
        return pages.consent(site.study_title, site.consent_text, action, reconnecting)

    def _decide(self, token: str, decision: str) -> Response:
        site = self.site
        now_s = int(site.clock.now_s())
        with site.stores.store() as store, store.transaction():
            conn = tables.connection(store)
            check = check_invite(conn, site.signer, token, now_s, lock=True)
            if check.problem is not None or check.enrolment is None:
                return pages.invite_problem(site.study_title, check.problem or "invalid")
            row = check.enrolment
            if decision == "decline":
                tables.update(
                    conn, row.invite_id, status=tables.DECLINED, declined_s=now_s, state_digest=None
                )
                if row.reconnect_of is not None:
                    return pages.reconnect_declined(site.study_title, row.label)
                return pages.declined(site.study_title)
            if decision != "accept":
                return self._consent(row, token)
            state = random_token(24)
            consent = {}
            if row.status == tables.INVITED:
                digest = hashlib.sha256(site.consent_text.encode()).hexdigest()
                consent = {"consent_s": now_s, "consent_sha256": digest}
            tables.update(
                conn,
                row.invite_id,
                status=tables.CONSENTED,
                state_digest=_state_digest(site, state),
                oauth_started_s=now_s,
                **consent,
            )
        url = prepare_grant_uri(
            site.endpoints.auth_uri,
            client_id=site.client.client_id,
            response_type="code",
            redirect_uri=site.redirect_uri,
            scope=" ".join(site.endpoints.scopes),
            state=state,
            code_challenge=create_s256_code_challenge(_verifier(site, state)),
            code_challenge_method="S256",
            access_type="offline",
            prompt="consent",
        )
        response = RedirectResponse(url, status_code=303)
        response.set_cookie(
            STATE_COOKIE,
            state,
            max_age=OAUTH_WINDOW_S,
            path=site.url(CALLBACK_PATH),
            secure=site.secure,
            httponly=True,
            samesite="lax",  # the callback is a top-level navigation from Google's site
        )
        return response

    # --- the OAuth callback ------------------------------------------------------------------

    async def callback(self, request: Request) -> Response:
        params = dict(request.query_params)
        cookie = request.cookies.get(STATE_COOKIE, "")
        response = await run_in_threadpool(self._finish, params, cookie)
        response.delete_cookie(STATE_COOKIE, path=self.site.url(CALLBACK_PATH))
        return response

    def _finish(self, params: dict[str, str], cookie: str) -> Response:
        site = self.site
        title = site.study_title
        state = params.get("state", "")
        if not state:
            return pages.callback_problem(
                title, "The address is incomplete. Please open your invitation link again."
            )
        now_s = int(site.clock.now_s())
        with site.stores.store() as store:
            conn = tables.connection(store)
            with store.transaction():
                row = tables.by_state(conn, _state_digest(site, state))
                if row is None:
                    return pages.callback_problem(
                        title,
                        "This sign-in is not the latest one for your invitation (it was "
                        "finished already, or you started again in another tab). Please open "
                        "your invitation link again.",
                    )
                retry = site.url(ENROL_PATH + invite_token(site.signer, row.nonce, row.expires_s))
                if not hmac.compare_digest(cookie.encode(), state.encode()):
                    return pages.callback_problem(
                        title,
                        "Please finish in the same browser where you opened your invitation "
                        "link, with cookies allowed: open the link again there.",
                    )
                if row.status == tables.REPLACED:  # a newer invite came while at Google
                    tables.update(conn, row.invite_id, state_digest=None)
                    return pages.invite_problem(title, "replaced")
                if now_s >= row.expires_s:
                    return pages.invite_problem(title, "expired")
                if now_s - (row.oauth_started_s or 0) > OAUTH_WINDOW_S:
                    return pages.callback_problem(
                        title, "This sign-in took too long. Please open your invitation again."
                    )
                tables.update(conn, row.invite_id, state_digest=None)  # the state is spent
                error = params.get("error")
                if error:
                    return pages.denied_at_google(title, retry)
                code = params.get("code", "")
                if not code:
                    return pages.callback_problem(title, "Google sent no authorization code.")
                outcome = self._connect(conn, store, row, code, state, retry)
                if isinstance(outcome, Response):
                    return outcome
                account_key = outcome
        self._queue_backfill(row.invite_id, account_key)
        if row.reconnect_of is not None:
            return pages.reconnected(title, row.label)
        return pages.thanks(title, row.label)

    def _connect(
        self,
        conn: psycopg.Connection[Any],
        store: PostgresStore,
        row: tables.Enrolment,
        code: str,
        state: str,
        retry: str,
    ) -> str | Response:
        """Exchange, check scopes, identify, store: the account key, or the page to show."""
        site = self.site
        title = site.study_title
        client = site.token_client()
        try:
            tokens = client.exchange_code(
                code,
                redirect_uri=site.redirect_uri,
                code_verifier=_verifier(site, state),
            )
        except AuthorizationFailed:
            return pages.connect_failed(
                title, "Google did not accept this sign-in (it may have taken too long).", retry
            )
        except ConfigError:
            return pages.connect_failed(
                title,
                "The study's connection to Google is misconfigured; the study team "
                "has to fix it. Please tell them.",
                None,
            )
        except (TransientError, HeartkeepError):
            return pages.connect_failed(
                title,
                "Google could not be reached just now. Please try again in a few minutes.",
                retry,
            )
        missing = [scope for scope in site.endpoints.scopes if scope not in tokens.scopes]
        if missing:
            # A partial grant left behind (revocation failed) is harmless: never stored.
            client.discard_grant(tokens)
            tables.update(conn, row.invite_id, scope_refusals=row.scope_refusals + 1)
            return pages.scopes_missing(title, missing, retry)
        try:
            user_id = google_user_id(site.endpoints, tokens, site.http_timeout_s)
        except HeartkeepError:
            return pages.connect_failed(
                title, "Google did not say which account signed in. Please try again.", retry
            )
        account_key = f"{site.endpoints.provider}:{user_id}"
        if row.reconnect_of is not None:
            return self._reconnect(conn, store, row, account_key, tokens, retry)
        tables.lock_label(conn, row.label)  # a second completion of the label waits here
        other = tables.enrolled(conn, account_key)
        if other is not None and other.invite_id != row.invite_id:
            return pages.callback_problem(
                title,
                "This Google account is already enrolled in the study (with another "
                "invitation). Nothing was changed. If that surprises you, tell the study team.",
                status=409,
            )
        taken = tables.enrolled_as(conn, row.label)
        if taken is not None and taken.invite_id != row.invite_id:
            # Two links of one label both completed (raced, or made before invites replaced
            # each other): the label stays one person's.  This account is in the study under
            # no label (checked above), so its fresh grant is nobody's: revoke it.
            if not store.has_tokens(account_key):
                client.discard_grant(tokens)
            return pages.label_taken(title, row.label)
        store.save_tokens(account_key, tokens)
        tables.update(
            conn,
            row.invite_id,
            status=tables.ENROLLED,
            account_key=account_key,
            enrolled_s=int(site.clock.now_s()),
        )
        return account_key

    def _reconnect(
        self,
        conn: psycopg.Connection[Any],
        store: PostgresStore,
        row: tables.Enrolment,
        account_key: str,
        tokens: TokenSet,
        retry: str,
    ) -> str | Response:
        """A reconnect invite's end (`reconnect.py`): the enrolled account only."""
        site = self.site
        enrolled = reconnect.enrolled_row(conn, row)
        if enrolled is None:  # withdrawn since the link was made
            return pages.invite_problem(site.study_title, "invalid")
        done = reconnect.reconnect(
            conn,
            store,
            row,
            enrolled,
            account_key=account_key,
            tokens=tokens,
            client=site.token_client(),
            now_s=int(site.clock.now_s()),
        )
        if not done:
            return pages.other_account(site.study_title, row.label, retry)
        return account_key

    def _queue_backfill(self, invite_id: int, account_key: str) -> None:
        """Hand the new participant to the task queue; the row records that it was queued.
        A failure here loses nothing: the row stays without `backfill_queued_s`, which the
        coordinator pages show, and the periodic sync picks the participant up anyway.  What
        failed goes to `study serve`'s log (stderr), so the operator learns why."""
        site = self.site
        try:
            site.on_enrolled(account_key)
        except Exception as failure:  # noqa: BLE001 - enrolled and committed: they see thanks
            _log.warning(
                "%s is enrolled but their backfill was not queued (%s: %s); the hourly "
                "schedule syncs them, or check the task queue's database",
                account_key,
                type(failure).__name__,
                failure,
            )
            return
        with site.stores.store() as store:
            tables.update(
                tables.connection(store), invite_id, backfill_queued_s=int(site.clock.now_s())
            )
