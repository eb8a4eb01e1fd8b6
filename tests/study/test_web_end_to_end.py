"""The whole path of a participant, with nothing stubbed: invited, consenting on the web,
signing in at Google (the sandbox's web client), the backfill queued by the site and run by a
study worker with the same web client — the store then holds exactly what Google serves, and
the coordinator sees the participant's wear time and a successful sync."""

from __future__ import annotations

from study_site import COORDINATOR_PASSWORD, COORDINATOR_USER, follow, study_site
from study_world import first_instant_s, participant

from heartkeep.auth.client_secrets import ClientCredentials
from heartkeep.auth.endpoints import endpoints_for
from heartkeep.model import Sample, Window
from heartkeep.sandbox.config import TEST_START_S
from heartkeep.sandbox.credentials import GOOGLE_WEB_CLIENT_ID, GOOGLE_WEB_CLIENT_SECRET
from heartkeep.study.queue import apply_schema
from heartkeep.study.worker import run_worker


def run_site_worker(postgres_url: str, site, *, concurrency: int) -> None:
    """One pass of a study worker over what the site queued, on the sandbox's clock, with the
    site's web client (the one participants granted)."""
    run_worker(
        postgres_url,
        token_keys=[site.token_key],
        endpoints=endpoints_for("google", site.sandbox.url),
        client=ClientCredentials(GOOGLE_WEB_CLIENT_ID, GOOGLE_WEB_CLIENT_SECRET),
        clock=site.sandbox.state.clock,
        concurrency=concurrency,
        wait=False,
        periodic=False,
        http_timeout_s=10.0,
    )


def test_enrolled_on_the_web_then_backfilled_by_a_worker(sandbox_factory, postgres_url) -> None:
    users = (participant(1, 3, TEST_START_S), participant(2, 2, TEST_START_S))
    apply_schema(postgres_url)
    with study_site(sandbox_factory(users=users), postgres_url, on_enrolled=None) as site:
        state = site.sandbox.state
        for number, spec in enumerate(users, start=1):
            state.login_user_id = spec.health_user_id
            invite = site.invite(f"P-{number:03d}")
            browser = site.browser()
            done = follow(browser, browser.post(invite.url, data={"decision": "accept"}))
            assert "You are enrolled" in done.text
        for spec in users:  # nothing new becomes visible while the worker paces its requests
            state.set_last_sync(spec.health_user_id, state.now_s() - state.config.sync_lag_s)

        for _ in range(5):
            run_site_worker(postgres_url, site, concurrency=2)
            with site.store() as store:
                if all(store.runs(f"google-health:{s.health_user_id}") for s in users):
                    break

        with site.store() as store:
            for spec in users:
                key = f"google-health:{spec.health_user_id}"
                window = Window(first_instant_s(spec), state.visible_end_s(spec.health_user_id))
                truth = [
                    Sample(i, b, o // 60)
                    for i, b, o in state.ground_truth_samples(
                        spec.health_user_id, window.start_s, window.end_s
                    )
                ]
                stored = [s for batch in store.iter_samples(key) for s in batch]
                assert stored == truth
                assert store.runs(key)[0].status == "ok"

        browser = site.browser()
        browser.post(
            site.base + "/coordinator/login",
            data={"user": COORDINATOR_USER, "password": COORDINATOR_PASSWORD},
        )
        page = browser.get(site.base + "/coordinator/").text
        assert "2 enrolled" in page
        assert 'class="d w4"' in page  # full days of wear
        assert "every enrolled participant's data is arriving" in page


def test_a_grant_revoked_at_google_shows_as_revoked_by_code(sandbox_factory, postgres_url) -> None:
    """The participant removes the study's access at Google after enrolling; the next sync's
    API call is refused (401, with a still-fresh access token).  The coordinator page and
    `study status` say "revoked" from the recorded code — the 401's message ("no longer
    accepts…") never said "revoked or expired", so the page missed it before."""
    from heartkeep.study.coordinator_data import overview
    from heartkeep.study.grant_state import GrantState, states
    from heartkeep.study.status import study_status

    users = (participant(1, 2, TEST_START_S),)
    apply_schema(postgres_url)
    with study_site(sandbox_factory(users=users), postgres_url, on_enrolled=None) as site:
        state = site.sandbox.state
        user_id = users[0].health_user_id
        state.login_user_id = user_id
        invite = site.invite("P-001")
        browser = site.browser()
        done = follow(browser, browser.post(invite.url, data={"decision": "accept"}))
        assert "You are enrolled" in done.text
        state.revoke_all_tokens(user_id)
        run_site_worker(postgres_url, site, concurrency=1)
        key = f"google-health:{user_id}"
        with site.store() as store:
            run = store.runs(key)[0]
            assert run.status == "failed"
            assert "revoked or expired" not in (run.error or "")  # the API's 401, not a refresh
            assert states(store.connection())[key][0] is GrantState.REVOKED
            report = study_status(store, now_s=state.clock.now_s())
            view = overview(store, now_s=state.clock.now_s())
        assert [(p.account_key, p.grant_state) for p in report.revoked] == [(key, "revoked")]
        assert view.participants[0].grant is GrantState.REVOKED
        coordinator = site.browser()
        coordinator.post(
            site.base + "/coordinator/login",
            data={"user": COORDINATOR_USER, "password": COORDINATOR_PASSWORD},
        )
        assert "grant revoked" in coordinator.get(site.base + "/coordinator/").text
