"""The study site in a real browser (Debian's Chromium through Playwright): a participant
clicks through consent and Google's screen, a coordinator logs in and reads the heatmap.

The pages must draw without a CSP violation or a console error, and nothing may be wider than
a phone's screen.  Screenshots go to a temporary folder, or to HEARTKEEP_STUDY_SCREENSHOTS
when set (`HEARTKEEP_STUDY_SCREENSHOTS=docs/images` refreshes the ones docs/studies.md shows).
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from study_site import COORDINATOR_PASSWORD, COORDINATOR_USER, study_site

from heartkeep.model import Sample, Source
from heartkeep.study import grant_state
from heartkeep.study.grant_state import GrantState

CHOSEN_FOLDER = os.environ.get("HEARTKEEP_STUDY_SCREENSHOTS")
_CHROMIUM = Path(__file__).resolve().parents[1] / "dashboard" / "headless_chromium.py"


def _chromium() -> Any:
    spec = importlib.util.spec_from_file_location("headless_chromium", _CHROMIUM)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def browser() -> Any:
    chromium = _chromium()
    reason = chromium.missing()
    if reason is not None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true and the study's browser test cannot run: {reason}")
        pytest.skip(f"browser test skipped: {reason}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        launched = chromium.launch(driver)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = Path(CHOSEN_FOLDER) if CHOSEN_FOLDER else tmp_path / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _users(small_user, n: int) -> tuple[Any, ...]:
    return tuple(
        small_user(20, user_id=f"48091726533091845{i:02d}", legacy_id=f"SMALL{i}", seed=i)
        for i in range(n)
    )


def _wear(site, key: str, days: int, pattern: int) -> None:
    """Samples every 10 s for a varying number of hours on each of the last `days` days."""
    now = int(site.clock.now_s())
    today = dt.datetime.fromtimestamp(now, dt.UTC).date()
    rng = np.random.default_rng(pattern)
    samples: list[Sample] = []
    for back in range(days):
        if pattern == 3 and back < 4:
            continue  # this participant's data stopped four days ago
        hours = int(rng.choice([0, 4, 9, 14, 20, 23])) if pattern != 0 else 23
        day = today - dt.timedelta(days=back)
        start = int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp())
        stop = min(start + hours * 3600, now - 60)
        samples.extend(Sample(t, 55 + (t // 60) % 50, 0) for t in range(start, stop, 10))
    with site.store() as store:
        store.write_samples(key, samples, Source.GOOGLE_HEALTH)
        store.refresh_aggregates(key)
        run = store.begin_run(key, now - 900)
        failed = pattern == 4
        store.finish_run(
            run,
            finished_s=now - 880,
            status="failed" if failed else "ok",
            requests=1 if failed else 12,
            samples_added=0 if failed else len(samples),
            rate_limit_waits=0,
            error="access was revoked or expired, run `heartkeep auth login` again"
            if failed
            else None,
        )
        if failed:  # as the worker records what the token client classified
            grant_state.record(store.connection(), key, GrantState.REVOKED, "refused", now)


def _watch(page: Any, problems: list[str]) -> None:
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))


def _fits(page: Any) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_participant_and_coordinator_in_a_browser(
    browser, sandbox_factory, postgres_url, small_user, shots
) -> None:
    users = _users(small_user, 6)
    problems: list[str] = []
    with study_site(sandbox_factory(users=users), postgres_url) as site:
        state = site.sandbox.state
        phone = browser.new_context(viewport={"width": 390, "height": 844})
        for number, user in enumerate(users, start=1):
            state.login_user_id = user.health_user_id  # who signs in at the sandbox
            invite = site.invite(f"P-{number:03d}")
            page = phone.new_page() if number == 1 else browser.new_page()
            _watch(page, problems)
            page.goto(invite.url)
            assert page.get_by_text("We will collect your heart rate").is_visible()
            if number == 1:
                assert _fits(page)
                page.screenshot(path=str(shots / "study-consent-phone.png"), full_page=True)
            page.get_by_role("button", name="I agree, continue").click()
            page.wait_for_url("**/enrol/callback**")
            assert page.get_by_text("You are enrolled").is_visible()
            if number == 1:
                assert _fits(page)
                page.screenshot(path=str(shots / "study-enrolled-phone.png"), full_page=True)
            page.close()
        site.invite("P-007")  # invited, not enrolled yet
        for pattern, key in enumerate(site.enrolled):
            _wear(site, key, 14, pattern)

        for scheme in ("light", "dark"):
            context = browser.new_context(
                viewport={"width": 1280, "height": 900}, color_scheme=scheme
            )
            page = context.new_page()
            _watch(page, problems)
            page.goto(site.base + "/coordinator/")
            page.get_by_label("User").fill(COORDINATOR_USER)
            page.get_by_label("Password").fill(COORDINATOR_PASSWORD)
            page.get_by_role("button", name="Log in").click()
            page.wait_for_url("**/coordinator/")
            assert page.get_by_text("data stopped").first.is_visible()
            assert page.get_by_text("grant revoked").first.is_visible()
            page.screenshot(path=str(shots / f"study-coordinator-{scheme}.png"), full_page=True)
            if scheme == "light":
                page.get_by_role("link", name="P-005").first.click()
                page.wait_for_url("**/participants/P-005")
                page.screenshot(path=str(shots / "study-participant.png"), full_page=True)
            context.close()
        phone.close()
    assert problems == []
