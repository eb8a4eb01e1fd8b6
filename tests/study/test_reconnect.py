"""Reconnecting an enrolled participant whose Google grant is gone, from the user's side.

The operator runs `heartkeep study status` and `heartkeep study invite --reconnect`; the
participant follows the link over HTTP (the consent page, the sandbox's Google sign-in, the
callback); a study worker syncs.  A real PostgreSQL, the sandbox, nothing stubbed but the
webhook keyset (no notification is sent).  Then every way off that path: the refusals of the
command, another Google account at the sign-in, a used, replaced, expired or declined link.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import psycopg
import pytest
from reconnect_study import ALICE, BOB, A, B, ServedStudy, served_study
from study_site import follow

from heartkeep.study import enrolment_tables as tables
from heartkeep.study import grant_state
from heartkeep.study.grant_state import GrantState, states

DAY_S = 86_400


@pytest.fixture
def study(sandbox_factory, postgres_url: str, home: Path, pinned_wall_clock: float) -> ServedStudy:
    with served_study(sandbox_factory(users=(ALICE, BOB)), postgres_url, home) as running:
        yield running


def _status(study: ServedStudy, key: str) -> dict:
    code, out = study.cli("status", "--json")
    assert code == 0, out
    (found,) = [p for p in orjson.loads(out)["participants"] if p["account_key"] == key]
    return found


def _rows(study: ServedStudy) -> list[tables.Enrolment]:
    with study.store() as store:
        return tables.all_enrolments(tables.connection(store))


def test_a_revoked_participant_reconnects_keeps_their_data_and_the_missed_days_arrive(
    study: ServedStudy,
) -> None:
    state = study.state
    key = study.enrol("P-001", A)
    study.freeze_devices()
    study.work()
    before = study.stored(key)
    assert before == study.truth(A)  # the backfill

    # The participant removes the study's access at Google; two days pass, the watch syncs.
    state.revoke_all_tokens(A)
    state.clock.advance(2 * DAY_S)
    study.freeze_devices()
    study.queue_sync(key)
    study.work()
    assert len(study.truth(A)) > len(before)  # days the study has not got
    seen = _status(study, key)
    assert (seen["label"], seen["grant_state"], seen["reconnect"]) == ("P-001", "revoked", None)
    code, out = study.cli("status")
    assert code == 0, out
    assert "send a reconnect link, which keeps their data" in out
    assert "heartkeep study invite --reconnect P-001" in out
    old_tokens = study.tokens(key)

    (link,) = study.invite("--reconnect", "P-001")
    assert link["reconnect"] is True
    assert link["url"].startswith(study.base + "/enrol/")
    assert _status(study, key)["reconnect"] == "reconnect invited"
    _, out = study.cli("status")
    assert f"P-001 ({key}): access revoked" in out
    assert "reconnect invited, link until" in out
    coordinator = study.coordinator()
    overview = coordinator.get(study.base + "/coordinator/").text
    assert "1 enrolled, 1 reconnect invited" in overview
    assert "<td>enrolled; reconnect invited</td>" in overview
    assert "<td>invited</td>" not in overview  # never shown as a fresh invite
    person = coordinator.get(study.base + "/coordinator/participants/P-001")
    assert person.status_code == 200
    assert "grant revoked" in person.text
    assert "reconnect invited until" in person.text

    browser = study.browser()
    page = browser.get(link["url"])
    assert "Reconnecting your participation" in page.text
    assert "participant <b>P-001</b>" in page.text
    assert "the same Google account" in page.text
    done = study.sign_in(link["url"], A, browser)
    assert done.status_code == 200, done.text
    assert "You are reconnected" in done.text

    with study.store() as store:
        assert states(store.connection()) == {}  # the grant state is cleared
    new_tokens = study.tokens(key)
    assert old_tokens is not None
    assert new_tokens is not None
    assert new_tokens.refresh_token != old_tokens.refresh_token
    assert study.stored(key) == before  # nothing was lost
    enrolled, reconnected = sorted(_rows(study), key=lambda row: row.invite_id)
    assert (enrolled.status, enrolled.account_key) == (tables.ENROLLED, key)
    assert reconnected.status == tables.RECONNECTED
    assert reconnected.reconnect_of == enrolled.invite_id
    assert reconnected.consent_sha256 == enrolled.consent_sha256  # consented again, same text
    assert reconnected.backfill_queued_s is not None

    study.work()  # the sync the reconnection queued catches up
    assert study.stored(key) == study.truth(A)
    seen = _status(study, key)
    assert (seen["grant_state"], seen["reconnect"], seen["label"]) == (None, None, "P-001")
    assert "reconnect" not in coordinator.get(study.base + "/coordinator/").text

    again = study.browser().get(link["url"])  # single use
    assert again.status_code == 410
    assert "You are reconnected" in again.text


def test_another_google_account_is_refused_and_the_enrolled_grant_stays(
    study: ServedStudy,
) -> None:
    state = study.state
    key = study.enrol("P-001", A)
    state.revoke_all_tokens(A)
    before = study.tokens(key)
    # No sync has noticed yet: the operator, told by the participant, forces the link.
    (link,) = study.invite("--reconnect", "P-001", "--force")
    browser = study.browser()
    refused = study.sign_in(link["url"], B, browser)
    assert refused.status_code == 409
    assert "a different Google account" in refused.text
    assert "Nothing was changed" in refused.text
    assert study.tokens(key) == before  # the old sealed pair stays
    with study.store() as store:
        assert store.account(f"google-health:{B}") is None  # nothing of the stranger kept
    assert all(g.revoked for g in state.grants.grants.values() if g.user_id == B)  # stray grant

    # "Try again" posts to the link once more: this time the enrolled account.
    state.login_user_id = A
    done = follow(browser, browser.post(link["url"], data={"decision": "accept"}))
    assert "You are reconnected" in done.text
    tokens = study.tokens(key)
    assert tokens is not None
    assert before is not None
    assert tokens.refresh_token != before.refresh_token


def test_another_participants_account_is_refused_without_revoking_their_grant(
    study: ServedStudy,
) -> None:
    state = study.state
    key = study.enrol("P-001", A)
    bob_key = study.enrol("P-002", B)
    bob_tokens = study.tokens(bob_key)
    state.revoke_all_tokens(A)
    (link,) = study.invite("--reconnect", "P-001", "--force")
    refused = study.sign_in(link["url"], B)
    assert refused.status_code == 409
    assert study.tokens(bob_key) == bob_tokens
    bob_grants = [g for g in state.grants.grants.values() if g.user_id == B]
    assert not all(g.revoked for g in bob_grants)  # Bob's study grant still works
    (row,) = [r for r in _rows(study) if r.reconnect_of is not None]
    assert row.status == tables.CONSENTED  # the link stays usable for P-001
    assert key != bob_key


def test_the_command_refuses_who_cannot_be_reconnected(study: ServedStudy) -> None:
    study.enrol("P-001", A)
    code, out = study.cli("invite", "--reconnect", "P-404")
    assert code == 10
    assert "no participant P-404 in this study" in out

    study.invite("P-002")  # invited, not enrolled
    code, out = study.cli("invite", "--reconnect", "P-002")
    assert code == 10
    assert "P-002 is not enrolled: they have not finished enrolling" in out
    assert "heartkeep study invite P-002" in out

    code, out = study.cli("invite", "--reconnect", "P-001")  # the grant works
    assert code == 2
    assert "P-001 does not need a reconnect link: no failure of their Google access" in out
    assert "--force" in out

    code, out = study.cli("invite", "P-001")  # a plain invite for the enrolled
    assert code == 2
    assert "already enrolled" in out
    assert "heartkeep study invite --reconnect P-001" in out

    code, out = study.cli("invite", "--force", "P-003")
    assert code == 2
    assert "--force goes with --reconnect" in out

    # All or none: one id refused, no link for the other either.
    code, out = study.cli("invite", "--reconnect", "--force", "P-001", "P-404")
    assert code == 10
    assert [r for r in _rows(study) if r.reconnect_of is not None] == []

    code, out = study.cli("withdraw", "P-001", "--no-revoke")
    assert code == 0, out
    code, out = study.cli("invite", "--reconnect", "P-001")
    assert code == 10
    assert "P-001 was withdrawn on" in out
    assert "nothing to reconnect" in out


def test_used_replaced_expired_and_declined_links(study: ServedStudy) -> None:
    state = study.state
    key = study.enrol("P-001", A)
    state.revoke_all_tokens(A)
    with study.store() as store:  # as a failed refresh records it
        grant_state.record(store.connection(), key, GrantState.REVOKED, "gone", state.now_s())

    (first,) = study.invite("--reconnect", "P-001")
    (second,) = study.invite("--reconnect", "P-001", "--valid-days", "1")
    replaced = study.browser().get(first["url"])
    assert replaced.status_code == 410
    assert "use the newest link" in replaced.text
    foreign = study.browser().post(
        second["url"], data={"decision": "decline"}, headers={"Origin": "https://evil.example"}
    )
    assert foreign.status_code == 403

    state.clock.advance(DAY_S + 60)  # the site's clock; the link was valid for a day
    expired = study.browser().get(second["url"])
    assert expired.status_code == 410
    assert "expired" in expired.text
    coordinator = study.coordinator()  # on the site's clock, as the link is checked
    assert "enrolled; reconnect link expired" in coordinator.get(study.base + "/coordinator/").text

    (third,) = study.invite("--reconnect", "P-001")
    declined = study.browser().post(third["url"], data={"decision": "decline"})
    assert declined.status_code == 200
    assert "Nothing was changed" in declined.text
    assert "still participant <b>P-001</b>" in declined.text
    assert study.tokens(key) is not None
    assert "reconnect declined" in coordinator.get(study.base + "/coordinator/").text

    (fourth,) = study.invite("--reconnect", "P-001")
    browser = study.browser()
    to_google = browser.post(fourth["url"], data={"decision": "accept"})
    state.login_user_id = A
    callback = browser.get(to_google.headers["location"]).headers["location"]
    assert "You are reconnected" in browser.get(callback).text
    replay = browser.get(callback)
    assert replay.status_code == 400
    assert "not the latest" in replay.text

    code, out = study.cli("withdraw", "P-001", "--no-revoke")
    assert code == 0, out
    gone = study.browser().get(fourth["url"])
    assert gone.status_code == 404  # withdrawn: every link of theirs is gone


def test_a_study_made_before_reconnect_invites_reads_and_upgrades(study: ServedStudy) -> None:
    """An older study's invite table has no `reconnect_of`: a read-only `study status` shows
    the participants without their ids, and the first invite adds the column."""
    key = study.enrol("P-001", A)
    with psycopg.connect(study.database_url, autocommit=True) as conn:
        conn.execute("ALTER TABLE study_enrolment DROP COLUMN reconnect_of")
    seen = _status(study, key)
    assert (seen["label"], seen["reconnect"]) == (None, None)
    (link,) = study.invite("--reconnect", "--force", "P-001")
    assert link["reconnect"] is True
    assert _status(study, key)["label"] == "P-001"
