"""Enrolment end to end over HTTP: invite → consent → Google OAuth (the sandbox's web client) →
tokens sealed in PostgreSQL → backfill queued; and every way off that path a participant can
take: declining, denying or unticking at Google (then retrying), a reused, expired or forged
invite, a callback in another browser."""

from __future__ import annotations

from urllib.parse import urlencode

import httpx
import psycopg
import pytest
from study_site import CONSENT, consent_form_id, follow, study_site

from heartkeep.auth.endpoints import GOOGLE_SCOPES
from heartkeep.errors import UsageError
from heartkeep.study import enrolment_tables as tables
from heartkeep.study.queue import QUEUE_BACKFILL, SYNC_TASK, apply_schema
from heartkeep.study.webhook_app import DEFAULT_PATH, webhook_app

HEART = GOOGLE_SCOPES[0]


@pytest.fixture
def site(sandbox_factory, postgres_url):
    with study_site(sandbox_factory(), postgres_url) as running:
        yield running


@pytest.fixture
def manual_site(sandbox_factory, postgres_url):
    """The sandbox shows its consent screen instead of approving at once."""
    with study_site(sandbox_factory(auto_approve=False), postgres_url) as running:
        yield running


def _submit(browser, site, fields: list[tuple[str, str]]) -> httpx.Response:
    """Post the sandbox's consent form (repeated `scope` fields, as a browser sends them)."""
    return browser.post(
        f"{site.sandbox.url}/o/oauth2/v2/auth",
        content=urlencode(fields),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )


def _rows(site) -> list[tables.Enrolment]:
    with site.store() as store:
        return tables.all_enrolments(tables.connection(store))


def test_invite_consent_oauth_tokens_and_backfill_queued(site) -> None:
    invite = site.invite("P-001")
    browser = site.browser()
    page = browser.get(invite.url)
    assert page.status_code == 200
    assert "We will collect your heart rate" in page.text
    assert "<script>" not in page.text
    assert "&lt;script&gt;" in page.text
    csp = page.headers["content-security-policy"]
    assert "script-src" not in csp
    assert "default-src 'none'" in csp
    to_google = browser.post(invite.url, data={"decision": "accept"})
    assert to_google.status_code == 303
    assert to_google.headers["location"].startswith(site.sandbox.url + "/o/oauth2/v2/auth?")
    assert "code_challenge_method=S256" in to_google.headers["location"]
    done = follow(browser, to_google)
    assert done.status_code == 200, done.text
    assert "You are enrolled" in done.text
    assert "P-001" in done.text

    user = site.sandbox.state.login_user_id
    key = f"google-health:{user}"
    assert site.enrolled == [key]  # the backfill was handed to the queue, once
    with site.store() as store:
        tokens = store.load_tokens(key)
        assert tokens is not None
        assert tokens.refresh_token
        assert set(GOOGLE_SCOPES) <= set(tokens.scopes)
        sealed = store.connection().execute("SELECT sealed FROM participant_token").fetchone()
        assert tokens.refresh_token.encode() not in bytes(sealed[0])
    (row,) = _rows(site)
    assert row.status == tables.ENROLLED
    assert row.account_key == key
    assert row.consent_s is not None
    assert row.backfill_queued_s is not None
    assert row.consent_sha256 is not None
    assert row.state_digest is None

    again = site.browser().get(invite.url)  # single use, in any browser
    assert again.status_code == 410
    assert "already enrolled" in again.text
    with pytest.raises(UsageError, match="already enrolled"):
        site.invite("P-001")


def test_declining_is_recorded_and_ends_politely(site) -> None:
    invite = site.invite("P-002")
    browser = site.browser()
    declined = browser.post(invite.url, data={"decision": "decline"})
    assert declined.status_code == 200
    assert "decision has been recorded" in declined.text
    (row,) = _rows(site)
    assert row.status == tables.DECLINED
    assert row.declined_s is not None
    assert row.consent_s is None
    assert site.enrolled == []
    again = browser.get(invite.url)
    assert again.status_code == 410
    assert "chose not to take part" in again.text


def test_unticked_heart_rate_is_named_and_a_retry_enrols(manual_site) -> None:
    site = manual_site
    state = site.sandbox.state
    invite = site.invite("P-003")
    browser = site.browser()
    screen = follow(browser, browser.post(invite.url, data={"decision": "accept"}))
    assert screen.status_code == 200  # the sandbox's consent screen
    without_heart = [("consent_id", consent_form_id(screen.text)), ("decision", "allow")]
    without_heart += [("scope", scope) for scope in GOOGLE_SCOPES if scope != HEART]
    back = _submit(browser, site, without_heart)
    told = follow(browser, back)
    assert told.status_code == 400
    assert "your heart rate" in told.text
    assert "Try again" in told.text
    assert all(grant.revoked for grant in state.grants.grants.values())  # partial grant gone
    with site.store() as store:
        assert store.accounts() == []  # nothing kept from the attempt

    # "Try again" posts to the invite; this time everything is ticked.
    screen = follow(browser, browser.post(invite.url, data={"decision": "accept"}))
    everything = [("consent_id", consent_form_id(screen.text)), ("decision", "allow")]
    everything += [("scope", scope) for scope in GOOGLE_SCOPES]
    done = follow(browser, _submit(browser, site, everything))
    assert done.status_code == 200
    assert "You are enrolled" in done.text
    (row,) = _rows(site)
    assert row.status == tables.ENROLLED
    assert row.scope_refusals == 1


def test_denied_at_google_offers_a_retry(manual_site) -> None:
    site = manual_site
    invite = site.invite("P-004")
    browser = site.browser()
    screen = follow(browser, browser.post(invite.url, data={"decision": "accept"}))
    deny = {"consent_id": consent_form_id(screen.text), "decision": "deny"}
    told = follow(browser, browser.post(f"{site.sandbox.url}/o/oauth2/v2/auth", data=deny))
    assert told.status_code == 400
    assert "not allowed" in told.text
    assert "Try again" in told.text
    (row,) = _rows(site)
    assert row.status == tables.CONSENTED  # consent to the study stands; no tokens
    assert site.enrolled == []


def test_expired_and_forged_invites_get_a_page_not_a_traceback(site) -> None:
    invite = site.invite("P-005", valid_for_s=3600)
    forged = invite.url[:-3] + ("AAA" if not invite.url.endswith("AAA") else "BBB")
    page = site.browser().get(forged)
    assert page.status_code == 404
    assert "not valid" in page.text
    site.clock.advance(3600)
    expired = site.browser().get(invite.url)
    assert expired.status_code == 410
    assert "expired" in expired.text
    posted = site.browser().post(invite.url, data={"decision": "accept"})
    assert posted.status_code == 410


def test_the_callback_must_come_back_to_the_browser_that_started(site) -> None:
    invite = site.invite("P-006")
    started = site.browser()
    to_google = started.post(invite.url, data={"decision": "accept"})
    at_callback = httpx.get(to_google.headers["location"])  # another browser, no cookie
    assert at_callback.status_code == 302
    page = site.browser().get(at_callback.headers["location"])
    assert page.status_code == 400
    assert "same browser" in page.text
    assert site.enrolled == []
    # An attacker replaying a state without the cookie spent nothing: the starter can finish.
    assert follow(started, started.get(to_google.headers["location"])).status_code == 200


def test_a_second_callback_with_the_same_state_is_refused(site) -> None:
    invite = site.invite("P-007")
    browser = site.browser()
    to_google = browser.post(invite.url, data={"decision": "accept"})
    callback = browser.get(to_google.headers["location"]).headers["location"]
    assert browser.get(callback).status_code == 200
    replay = browser.get(callback)
    assert replay.status_code == 400
    assert "not the latest" in replay.text
    assert len(site.enrolled) == 1


def test_a_decision_posted_from_another_site_is_refused(site) -> None:
    invite = site.invite("P-009")
    foreign = site.browser().post(
        invite.url, data={"decision": "decline"}, headers={"Origin": "https://evil.example"}
    )
    assert foreign.status_code == 403
    (row,) = _rows(site)
    assert row.status == tables.INVITED


def test_unknown_host_is_refused(site) -> None:
    response = httpx.get(site.base + "/", headers={"Host": "evil.example"})
    assert response.status_code == 421


def test_enrolment_tables_hold_no_secret(site) -> None:
    invite = site.invite("P-008")
    browser = site.browser()
    follow(browser, browser.post(invite.url, data={"decision": "accept"}))
    with psycopg.connect(site.store_url) as conn:
        text = str(conn.execute("SELECT * FROM study_enrolment").fetchall())
    assert invite.url.rsplit("/", 1)[1] not in text  # the link itself is not stored
    assert CONSENT not in text


def test_without_a_hook_the_backfill_goes_to_the_task_queue(sandbox_factory, postgres_url) -> None:
    """The default `on_enrolled` defers the participant's backfill on the study's queue."""
    apply_schema(postgres_url)
    with study_site(sandbox_factory(), postgres_url, on_enrolled=None) as site:
        invite = site.invite("P-010")
        browser = site.browser()
        assert follow(browser, browser.post(invite.url, data={"decision": "accept"})).is_success
        key = f"google-health:{site.sandbox.state.login_user_id}"
        with psycopg.connect(postgres_url) as conn:
            jobs = conn.execute(
                "SELECT task_name, queue_name, args->>'account_key' FROM procrastinate_jobs"
            ).fetchall()
        assert jobs == [(SYNC_TASK, QUEUE_BACKFILL, key)]
        (row,) = _rows(site)
        assert row.backfill_queued_s is not None


def test_a_queue_that_cannot_take_the_job_leaves_the_enrolment_flagged(
    sandbox_factory, postgres_url
) -> None:
    """No queue schema: the participant is enrolled all the same, and flagged for the team."""
    with study_site(sandbox_factory(), postgres_url, on_enrolled=None) as site:
        invite = site.invite("P-011")
        browser = site.browser()
        done = follow(browser, browser.post(invite.url, data={"decision": "accept"}))
        assert "You are enrolled" in done.text
        (row,) = _rows(site)
        assert row.status == tables.ENROLLED
        assert row.backfill_queued_s is None


class _NoKeys:
    """A keyset that verifies nothing (the handshake needs no signature)."""

    def verify(self, signature_header: str | None, body: bytes) -> bool:
        return False


def test_the_webhook_endpoint_answers_beside_the_pages(sandbox_factory, postgres_url) -> None:
    """`study serve` mounts the webhook app into the site: Google's handshake reaches it
    through the site's guard, and an unknown path is still a plain 404."""
    received = []
    hook = webhook_app(
        authorization="Bearer hook-secret",
        keyset=_NoKeys(),
        on_notification=received.append,
    )
    with study_site(sandbox_factory(), postgres_url, webhook=hook) as site:
        probe = b'{"type": "verification"}'
        url = site.base + DEFAULT_PATH
        headers = {"Content-Type": "application/json"}
        assert httpx.post(url, content=probe, headers=headers).status_code == 401
        with_secret = {**headers, "Authorization": "Bearer hook-secret"}
        answer = httpx.post(url, content=probe, headers=with_secret)
        assert answer.status_code == 201
        assert "content-security-policy" in answer.headers
        assert httpx.get(site.base + "/no/such/page").status_code == 404
        assert site.browser().get(site.base + "/").status_code == 200
    assert received == []


def test_a_queue_failure_still_enrols_and_says_why_in_the_log(
    sandbox_factory, postgres_url, caplog: pytest.LogCaptureFixture
) -> None:
    """The participant is enrolled and thanked; the row shows no queued backfill (the
    coordinator's flag), and the operator's log names what failed."""

    def queue_down(account_key: str) -> None:
        raise ConnectionError("queue database unreachable")

    with study_site(sandbox_factory(), postgres_url, on_enrolled=queue_down) as site:
        invite = site.invite("P-009")
        browser = site.browser()
        browser.get(invite.url)
        done = follow(browser, browser.post(invite.url, data={"decision": "accept"}))
        assert done.status_code == 200, done.text
        assert "You are enrolled" in done.text
        (row,) = _rows(site)
        assert row.backfill_queued_s is None
    assert "backfill was not queued (ConnectionError: queue database unreachable)" in caplog.text


def test_a_database_failure_under_a_page_is_a_page_not_a_traceback(site, postgres_url) -> None:
    """The invite table is gone (a database restored badly, a schema dropped): the visitor
    gets a page that says the site is unavailable and nothing changed (503, Retry-After),
    in the site's own look and headers — not Starlette's bare 500."""
    invite = site.invite("P-090")
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("ALTER TABLE study_enrolment RENAME TO study_enrolment_away")
    try:
        answer = site.browser().get(invite.url)
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute("ALTER TABLE study_enrolment_away RENAME TO study_enrolment")
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "60"
    assert "Temporarily unavailable" in answer.text
    assert "Nothing was changed" in answer.text
    assert "default-src 'none'" in answer.headers["content-security-policy"]
    assert "Traceback" not in answer.text
    assert site.browser().get(invite.url).status_code == 200  # back once the table is
