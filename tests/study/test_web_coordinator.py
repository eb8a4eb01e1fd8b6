"""The coordinator's pages over HTTP: the login guards everything, the overview shows wear
time and flags from the store, and withdrawal (button or function) revokes at Google, deletes
the participant and keeps only the audit record."""

from __future__ import annotations

import re

import psycopg
import pytest
from study_site import COORDINATOR_PASSWORD, COORDINATOR_USER, follow, study_site

from heartkeep.auth.client_secrets import ClientCredentials
from heartkeep.auth.endpoints import endpoints_for
from heartkeep.auth.token_client import TokenClient
from heartkeep.errors import NoAccounts, TransientError
from heartkeep.model import Sample, Source
from heartkeep.sandbox.credentials import GOOGLE_WEB_CLIENT_ID, GOOGLE_WEB_CLIENT_SECRET
from heartkeep.study import enrolment_tables as tables
from heartkeep.study import grant_state
from heartkeep.study.coordinator_auth import check_password, hash_password
from heartkeep.study.coordinator_data import overview
from heartkeep.study.grant_state import GrantState
from heartkeep.study.queue import apply_schema
from heartkeep.study.web_signing import new_signing_key
from heartkeep.study.withdrawal import withdraw


@pytest.fixture
def site(sandbox_factory, postgres_url):
    with study_site(sandbox_factory(), postgres_url) as running:
        yield running


def _enrol(site, label: str) -> str:
    invite = site.invite(label)
    browser = site.browser()
    done = follow(browser, browser.post(invite.url, data={"decision": "accept"}))
    assert done.status_code == 200, done.text
    return site.enrolled[-1]


def _some_data(site, key: str, hours: int = 3) -> int:
    """Samples every 5 s for `hours` ending an hour ago, and a finished sync run."""
    now = int(site.clock.now_s())
    samples = [Sample(t, 60 + t % 40, 60) for t in range(now - 3600 * (hours + 1), now - 3600, 5)]
    with site.store() as store:
        store.write_samples(key, samples, Source.GOOGLE_HEALTH)
        store.refresh_aggregates(key)
        run = store.begin_run(key, now - 3000)
        store.finish_run(
            run,
            finished_s=now - 2990,
            status="ok",
            requests=2,
            samples_added=len(samples),
            rate_limit_waits=0,
        )
    return len(samples)


def _login(site, password: str = COORDINATOR_PASSWORD):
    browser = site.browser()
    response = browser.post(
        site.base + "/coordinator/login", data={"user": COORDINATOR_USER, "password": password}
    )
    return browser, response


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


def test_pages_need_a_login_and_a_wrong_password_is_refused(site) -> None:
    anonymous = site.browser()
    for path in ("/coordinator/", "/coordinator/audit", "/coordinator/participants/P-1"):
        response = anonymous.get(site.base + path)
        assert response.status_code == 303
        assert response.headers["location"] == "/coordinator/login"
    anonymous.cookies.set("heartkeep_study_session", "YWxpY2U~1~x.sig")
    assert anonymous.get(site.base + "/coordinator/").status_code == 303  # forged session
    browser, wrong = _login(site, "guess")
    assert wrong.status_code == 401
    assert "Wrong user name or password" in wrong.text
    assert "heartkeep_study_session" not in browser.cookies
    browser, right = _login(site)
    assert right.status_code == 303
    assert browser.get(site.base + "/coordinator/").status_code == 200


def test_the_session_ends_after_its_lifetime(site) -> None:
    browser, _ = _login(site)
    assert browser.get(site.base + "/coordinator/").status_code == 200
    site.clock.advance(8 * 3600)
    assert browser.get(site.base + "/coordinator/").status_code == 303


def _logout(site, browser) -> None:
    page = browser.get(site.base + "/coordinator/")
    answer = browser.post(site.base + "/coordinator/logout", data={"csrf": _csrf(page.text)})
    assert answer.status_code == 303


def test_after_logout_the_old_cookie_is_refused(site) -> None:
    """The session lives on the server: a copy of the cookie kept from before the logout
    (another tab, a shared computer, a stolen cookie) opens nothing (fails before: the signed
    cookie stayed good for its 8 hours)."""
    browser, _ = _login(site)
    copied = browser.cookies["heartkeep_study_session"]
    _logout(site, browser)
    thief = site.browser()
    thief.cookies.set("heartkeep_study_session", copied)
    refused = thief.get(site.base + "/coordinator/")
    assert refused.status_code == 303
    assert refused.headers["location"] == "/coordinator/login"
    assert thief.post(site.base + "/coordinator/logout", data={"csrf": "x"}).status_code == 303
    with psycopg.connect(site.store_url, autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM study_coordinator_session").fetchone() == (0,)
    again, _ = _login(site)  # logging in again still works
    assert again.get(site.base + "/coordinator/").status_code == 200


def test_sessions_are_stored_hashed_and_each_has_its_own_csrf(site) -> None:
    first, _ = _login(site)
    second, _ = _login(site)
    cookies = [b.cookies["heartkeep_study_session"] for b in (first, second)]
    with psycopg.connect(site.store_url, autocommit=True) as conn:
        stored = [row[0] for row in conn.execute("SELECT id_sha256 FROM study_coordinator_session")]
    assert len(stored) == 2
    assert not any(part in cookie for part in stored for cookie in cookies)
    first_csrf = _csrf(first.get(site.base + "/coordinator/").text)
    assert first_csrf != _csrf(second.get(site.base + "/coordinator/").text)
    # One coordinator's logout ends only that session; the other's CSRF token is not a key.
    refused = second.post(site.base + "/coordinator/logout", data={"csrf": first_csrf})
    assert refused.status_code == 403
    _logout(site, first)
    assert first.get(site.base + "/coordinator/").status_code == 303
    assert second.get(site.base + "/coordinator/").status_code == 200


def _session_cookie_of_a_first_run(sandbox, postgres_url, key: str) -> str:
    """A logged-in coordinator's cookie from a site run that then stops (`study serve`
    restarted with a changed configuration next)."""
    with study_site(sandbox, postgres_url, signing_key=key) as before:
        browser, _ = _login(before)
        assert browser.get(before.base + "/coordinator/").status_code == 200
        return str(browser.cookies["heartkeep_study_session"])


def test_a_changed_password_ends_every_session(sandbox_factory, postgres_url) -> None:
    sandbox = sandbox_factory()
    key = new_signing_key()
    cookie = _session_cookie_of_a_first_run(sandbox, postgres_url, key)
    changed = hash_password("a new passphrase", n=2**10)
    with study_site(sandbox, postgres_url, signing_key=key, password_hash=changed) as after:
        stale = after.browser()
        stale.cookies.set("heartkeep_study_session", cookie)
        assert stale.get(after.base + "/coordinator/").status_code == 303
        fresh, answer = _login(after, "a new passphrase")
        assert answer.status_code == 303
        assert fresh.get(after.base + "/coordinator/").status_code == 200


def test_a_changed_user_name_ends_every_session(sandbox_factory, postgres_url) -> None:
    """Renaming the coordinator account (same password) is a new login: the old cookie no
    longer opens the pages, and the session row is gone."""
    sandbox = sandbox_factory()
    key = new_signing_key()
    cookie = _session_cookie_of_a_first_run(sandbox, postgres_url, key)
    with study_site(sandbox, postgres_url, signing_key=key, coordinator_user="bob") as after:
        with psycopg.connect(after.store_url, autocommit=True) as conn:
            rows = conn.execute("SELECT count(*) FROM study_coordinator_session").fetchone()
        assert rows == (0,)
        stale = after.browser()
        stale.cookies.set("heartkeep_study_session", cookie)
        assert stale.get(after.base + "/coordinator/").status_code == 303


def test_repeated_wrong_passwords_lock_the_login_for_a_while(site) -> None:
    for _ in range(10):
        assert _login(site, "guess")[1].status_code == 401
    assert _login(site)[1].status_code == 429
    site.clock.advance(901)
    assert _login(site)[1].status_code == 303


def test_overview_shows_wear_time_flags_and_history(site) -> None:
    fresh = _enrol(site, "P-010")
    _some_data(site, fresh)
    _enrol_stale = site.invite("P-011")  # invited, never came
    browser, _ = _login(site)
    page = browser.get(site.base + "/coordinator/")
    assert page.status_code == 200
    assert "P-010" in page.text
    assert "P-011" in page.text
    assert 'class="d w1"' in page.text  # 3 hours of wear today: the "under 6" class
    assert "1 enrolled" in page.text
    assert "1 invited" in page.text
    assert "Quota use" in page.text
    assert "no record of it yet" in page.text
    detail = browser.get(site.base + "/coordinator/participants/P-010")
    assert detail.status_code == 200
    assert "Sync history" in detail.text
    assert "<td>ok</td>" in detail.text
    # Two days later with no new data: flagged.
    site.clock.advance(3 * 86_400)
    browser, _ = _login(site)
    later = browser.get(site.base + "/coordinator/")
    assert "data stopped" in later.text


def test_a_participant_whose_grant_was_revoked_is_flagged_by_its_code(site) -> None:
    key = _enrol(site, "P-012")
    now = int(site.clock.now_s())
    browser, _ = _login(site)
    for state, flag in (
        (GrantState.REVOKED, "grant revoked"),
        (GrantState.CONSENT_SCOPE_MISSING, "grant consent_scope_missing"),
    ):
        with site.store() as store:  # as a worker records what the token client classified
            grant_state.record(store.connection(), key, state, "refused", now)
        assert flag in browser.get(site.base + "/coordinator/").text


def test_a_database_from_before_the_codes_gets_them_from_its_runs(site, postgres_url) -> None:
    """An existing study: no `study_grant_state` yet, a participant whose latest run failed
    with the refresh's old message.  The page still flags them, and the next `apply_schema`
    (study init, a worker's start) creates the table filled from the runs."""
    key = _enrol(site, "P-014")
    now = int(site.clock.now_s())
    with site.store() as store:
        store.connection().execute("DROP TABLE study_grant_state")
        run = store.begin_run(key, now)
        store.finish_run(
            run,
            finished_s=now + 1,
            status="failed",
            requests=1,
            samples_added=0,
            rate_limit_waits=0,
            error="access was revoked or expired, run `heartkeep auth login`",
        )
    browser, _ = _login(site)
    assert "grant revoked" in browser.get(site.base + "/coordinator/participants/P-014").text
    apply_schema(postgres_url)
    with site.store() as store:
        assert grant_state.states(store.connection()) == {key: (GrantState.REVOKED, now)}


def test_withdraw_button_needs_csrf_and_leaves_only_the_audit_record(site) -> None:
    key = _enrol(site, "P-020")
    user_id = key.partition(":")[2]
    stored = _some_data(site, key)
    browser, _ = _login(site)
    page = browser.get(site.base + "/coordinator/participants/P-020")
    action = site.base + "/coordinator/participants/P-020/withdraw"

    no_token = browser.post(action, data={"confirm": "yes"})
    assert no_token.status_code == 403
    other_site = browser.post(
        action,
        data={"confirm": "yes", "csrf": _csrf(page.text)},
        headers={"Origin": "https://evil.example"},
    )
    assert other_site.status_code == 403
    with site.store() as store:
        assert store.sample_count(key) == stored  # nothing happened yet

    done = browser.post(action, data={"confirm": "yes", "csrf": _csrf(page.text)})
    assert done.status_code == 200
    assert "Withdrawn" in done.text
    grants = site.sandbox.state.grants.grants.values()
    assert all(grant.revoked for grant in grants if grant.user_id == user_id)

    with psycopg.connect(site.store_url) as conn:
        table_names = [
            name
            for (name,) in conn.execute(
                "SELECT c.relname FROM pg_class c WHERE c.relnamespace = "
                "current_schema()::regnamespace AND c.relkind IN ('r', 'p') "
                "AND NOT c.relispartition"
            )
        ]
        mentions = {
            name: conn.execute(
                f'SELECT count(*) FROM "{name}" AS t WHERE t::text LIKE %s',  # noqa: S608
                (f"%{user_id}%",),
            ).fetchone()[0]
            for name in table_names
        }
        samples_left = conn.execute("SELECT count(*) FROM heart_rate").fetchone()[0]
        leftovers = {
            name: conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]  # noqa: S608
            for name in (
                "account",
                "participant_token",
                "hr_hour",
                "hr_day",
                "sync_run",
                "study_enrolment",
            )
        }
    assert {name: n for name, n in mentions.items() if n} == {"study_audit": 1}
    assert samples_left == 0
    assert not any(leftovers.values()), leftovers
    with site.store() as store:
        (record,) = tables.audit_records(tables.connection(store))
    assert record.actor == f"coordinator:{COORDINATOR_USER}"
    assert record.label == "P-020"
    assert record.details["grant"] == "revoked"
    assert record.details["deleted"]["samples"] == stored
    assert "bpm" not in str(record.details)
    audit_page = browser.get(site.base + "/coordinator/audit")
    assert "P-020" in audit_page.text


def test_withdraw_function_for_the_cli(site) -> None:
    key = _enrol(site, "P-030")
    endpoints = endpoints_for("google", site.sandbox.url)
    client = ClientCredentials(GOOGLE_WEB_CLIENT_ID, GOOGLE_WEB_CLIENT_SECRET)
    with site.store() as store, TokenClient(endpoints, client, clock=site.clock) as tokens:
        report = withdraw(store, "P-030", token_client=tokens, clock=site.clock, actor="cli:bob")
        assert report.account_key == key
        assert report.revoked == "revoked"
        assert store.account(key) is None
        assert store.load_tokens(key) is None
        with pytest.raises(NoAccounts, match="no participant P-030"):
            withdraw(store, "P-030", token_client=tokens, clock=site.clock, actor="cli:bob")
    # Withdrawn participants can be invited again.
    assert site.invite("P-030").label == "P-030"


def test_password_hashes_are_salted_scrypt() -> None:
    first, second = hash_password("pw", n=2**10), hash_password("pw", n=2**10)
    assert first != second
    assert first.startswith("scrypt$1024$")
    assert check_password("pw", first)
    assert not check_password("PW", first)
    assert not check_password("pw", "garbage")


def test_the_overview_pages_through_a_large_study_and_counts_everyone(site) -> None:
    for number in range(5):
        site.invite(f"P-{number:03d}")
    with site.store() as store:
        view = overview(store, now_s=site.clock.now_s(), page=3, per_page=2)
    assert (view.page, view.pages) == (3, 3)
    assert [p.label for p in view.participants] == ["P-004"]
    assert view.counts == {"invited": 5}
    browser, _ = _login(site)
    assert "Page 1 of" not in browser.get(site.base + "/coordinator/").text  # 5 < 100


def test_quota_use_appears_once_the_queue_keeps_its_buckets(site) -> None:
    browser, _ = _login(site)
    assert "no record of it yet" in browser.get(site.base + "/coordinator/").text
    apply_schema(site.store_url)  # the task queue's tables, its quota buckets among them
    with psycopg.connect(site.store_url) as conn:
        conn.execute(
            "INSERT INTO study_quota_bucket (name, tokens, capacity, refill_per_s, updated_s, "
            "taken) VALUES ('project-requests-minute', 1500, 2000, 1966.67, 0, 12345)"
        )
    page = browser.get(site.base + "/coordinator/").text
    assert "project-requests-minute" in page
    assert "12,345" in page
    assert "1,500 of 2,000" in page


def test_withdrawal_also_removes_the_participants_queued_jobs(
    sandbox_factory, postgres_url
) -> None:
    apply_schema(postgres_url)
    with study_site(sandbox_factory(), postgres_url, on_enrolled=None) as site:
        invite = site.invite("P-040")
        browser = site.browser()
        assert follow(browser, browser.post(invite.url, data={"decision": "accept"})).is_success
        key = f"google-health:{site.sandbox.state.login_user_id}"
        with psycopg.connect(postgres_url) as conn:
            conn.execute(
                "INSERT INTO study_pending_sync (account_key, upsert_start_s, upsert_end_s, "
                "notifications) VALUES (%s, 0, 60, 1)",
                (key,),
            )
        endpoints = endpoints_for("google", site.sandbox.url)
        client = ClientCredentials(GOOGLE_WEB_CLIENT_ID, GOOGLE_WEB_CLIENT_SECRET)
        with site.store() as store, TokenClient(endpoints, client, clock=site.clock) as tokens:
            report = withdraw(store, "P-040", token_client=tokens, clock=site.clock, actor="cli:x")
        assert report.details["queued_jobs_deleted"] == 1
        user_id = key.partition(":")[2]
        with psycopg.connect(postgres_url) as conn:
            for table in ("procrastinate_jobs", "study_pending_sync"):
                (n,) = conn.execute(
                    f'SELECT count(*) FROM "{table}" AS t WHERE t::text LIKE %s',  # noqa: S608
                    (f"%{user_id}%",),
                ).fetchone()
                assert n == 0, table


def test_a_sync_still_running_on_a_worker_stops_the_withdrawal(
    sandbox_factory, postgres_url
) -> None:
    apply_schema(postgres_url)
    with study_site(sandbox_factory(), postgres_url, on_enrolled=None) as site:
        invite = site.invite("P-041")
        browser = site.browser()
        assert follow(browser, browser.post(invite.url, data={"decision": "accept"})).is_success
        with psycopg.connect(postgres_url) as conn:  # a worker has taken the backfill
            conn.execute("UPDATE procrastinate_jobs SET status = 'doing'")
        with site.store() as store:
            with pytest.raises(TransientError, match="still running"):
                withdraw(store, "P-041", token_client=None, clock=site.clock, actor="cli:x")
            assert store.accounts() != []  # nothing deleted


def test_withdrawing_someone_unknown_says_so_with_a_404(site) -> None:
    browser, _ = _login(site)
    csrf = _csrf(browser.get(site.base + "/coordinator/").text)
    answer = browser.post(
        site.base + "/coordinator/participants/P-404/withdraw", data={"csrf": csrf}
    )
    assert answer.status_code == 404
    assert "no participant P-404" in answer.text
    assert "Nothing was deleted" in answer.text


def test_an_oversized_form_is_refused_before_any_page_reads_it(site) -> None:
    """Anyone can POST to the login (and to a consent form): a body over 1 MiB is refused
    with 413 — declared or streamed — instead of being read whole (fails before: the login
    read it and answered 401)."""
    browser = site.browser()
    big = "user=alice&password=" + "x" * (1 << 20)
    answer = browser.post(
        site.base + "/coordinator/login",
        content=big.encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 413
    assert "default-src 'none'" in answer.headers["content-security-policy"]

    def chunks():
        for _ in range(40):
            yield b"z" * 65_536

    streamed = browser.post(site.base + "/enrol/anything", content=chunks())
    assert streamed.status_code == 413
    _, fine = _login(site)  # an ordinary form still works
    assert fine.status_code == 303
