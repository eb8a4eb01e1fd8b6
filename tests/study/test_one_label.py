"""One participant label, one person: from the coordinator's and the participants' side.

A coordinator who sends `heartkeep study invite P-017` twice (the first e-mail got lost) must
not end up with P-017 enrolled twice from two Google accounts: the study's data for P-017
would then mix two people.  The newer link replaces the older; a completion that finds the
label already enrolled is refused and its fresh grant revoked; and a study database that
already holds such a duplicate (made before this guard) still works, and `study doctor` says
which label and what to do.  A real PostgreSQL and the sandbox, over HTTP, nothing stubbed.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest
from reconnect_study import ALICE, BOB, A, B, ServedStudy, served_study

from heartkeep.study import enrolment_tables as tables


@pytest.fixture
def study(sandbox_factory, postgres_url: str, home: Path, pinned_wall_clock: float) -> ServedStudy:
    with served_study(sandbox_factory(users=(ALICE, BOB)), postgres_url, home) as running:
        yield running


def _rows(study: ServedStudy, label: str) -> list[tables.Enrolment]:
    with study.store() as store:
        rows = tables.all_enrolments(tables.connection(store))
    return sorted((row for row in rows if row.label == label), key=lambda row: row.invite_id)


def _grants_of(study: ServedStudy, user_id: str) -> list[bool]:
    return [g.revoked for g in study.state.grants.grants.values() if g.user_id == user_id]


def test_a_second_invite_replaces_the_first_and_only_the_newest_link_enrols(
    study: ServedStudy,
) -> None:
    (first,) = study.invite("P-017")
    (second,) = study.invite("P-017")  # the first e-mail got lost
    assert first["url"] != second["url"]
    older, newer = _rows(study, "P-017")
    assert (older.status, newer.status) == (tables.REPLACED, tables.INVITED)

    refused = study.browser().get(first["url"])
    assert refused.status_code == 410
    assert "This link was replaced" in refused.text
    assert "use the newest link" in refused.text
    accept = study.browser().post(first["url"], data={"decision": "accept"})
    assert accept.status_code == 410  # no way on to Google from the old link
    assert "use the newest link" in accept.text

    done = study.sign_in(second["url"], A)
    assert done.status_code == 200, done.text
    assert "You are enrolled" in done.text
    assert [row.status for row in _rows(study, "P-017")] == [tables.REPLACED, tables.ENROLLED]
    _, out = study.cli("status", "--json")
    (seen,) = json.loads(out)["participants"]
    assert (seen["label"], seen["account_key"]) == ("P-017", f"google-health:{A}")


def test_an_old_link_mid_sign_in_is_refused_at_the_callback_once_replaced(
    study: ServedStudy,
) -> None:
    (first,) = study.invite("P-017")
    browser = study.browser()
    to_google = browser.post(first["url"], data={"decision": "accept"})
    study.state.login_user_id = B
    callback = browser.get(to_google.headers["location"]).headers["location"]
    study.invite("P-017")  # replaced while the participant was at Google's screen
    refused = browser.get(callback)
    assert refused.status_code == 410
    assert "use the newest link" in refused.text
    assert [row.status for row in _rows(study, "P-017")] == [tables.REPLACED, tables.INVITED]
    with study.store() as store:
        assert store.account(f"google-health:{B}") is None


def test_a_completion_that_finds_the_label_enrolled_is_refused_and_its_grant_revoked(
    study: ServedStudy,
) -> None:
    """Two links of one label both still usable — as a study database made before invites
    replaced each other holds them, or two completions racing: the second is refused."""
    (first,) = study.invite("P-017")
    (second,) = study.invite("P-017")
    with psycopg.connect(study.database_url, autocommit=True) as conn:  # as before the fix
        conn.execute("UPDATE study_enrolment SET status = 'invited' WHERE label = 'P-017'")
    late = study.browser()  # at Google's screen with the first link ...
    to_google = late.post(first["url"], data={"decision": "accept"})
    study.state.login_user_id = B
    callback = late.get(to_google.headers["location"]).headers["location"]
    assert "You are enrolled" in study.sign_in(second["url"], A).text  # ... the second enrols
    refused = late.get(callback)
    assert refused.status_code == 409
    assert "Participant <b>P-017</b> is already enrolled" in refused.text
    assert "Nothing was kept" in refused.text
    with study.store() as store:
        assert store.account(f"google-health:{B}") is None
        assert store.load_tokens(f"google-health:{B}") is None
    assert _grants_of(study, B)
    assert all(_grants_of(study, B))  # no grant left at Google
    assert not all(_grants_of(study, A))  # the enrolled participant's grant stays
    enrolled = [row for row in _rows(study, "P-017") if row.status == tables.ENROLLED]
    assert [row.account_key for row in enrolled] == [f"google-health:{A}"]
    again = study.browser().get(first["url"])  # the link no longer offers to sign in
    assert again.status_code == 410
    assert "You are already enrolled" in again.text


def test_two_completions_of_one_label_at_once_enrol_one_account(study: ServedStudy) -> None:
    """Both links usable (made before invites replaced each other), both participants back
    from Google at the same moment: one is enrolled, the other refused, never both."""
    (first,) = study.invite("P-017")
    (second,) = study.invite("P-017")
    with psycopg.connect(study.database_url, autocommit=True) as conn:  # as before the fix
        conn.execute("UPDATE study_enrolment SET status = 'invited' WHERE label = 'P-017'")
    callbacks = []
    for link, user_id in ((first, A), (second, B)):
        browser = study.browser()
        to_google = browser.post(link["url"], data={"decision": "accept"})
        study.state.login_user_id = user_id
        callbacks.append((browser, browser.get(to_google.headers["location"]).headers["location"]))
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda call: call[0].get(call[1]), callbacks))
    assert sorted(answer.status_code for answer in answers) == [200, 409]
    winner, loser = sorted(answers, key=lambda answer: answer.status_code)
    assert "You are enrolled" in winner.text
    assert "already enrolled" in loser.text
    enrolled = [row for row in _rows(study, "P-017") if row.status == tables.ENROLLED]
    assert len(enrolled) == 1
    other = B if enrolled[0].account_key == f"google-health:{A}" else A
    with study.store() as store:
        assert store.load_tokens(f"google-health:{other}") is None
    assert all(_grants_of(study, other))


def test_doctor_reports_a_label_enrolled_twice_in_an_older_database_until_one_is_withdrawn(
    study: ServedStudy,
) -> None:
    study.enrol("P-017", A)
    study.enrol("P-018", B)
    with psycopg.connect(study.database_url, autocommit=True) as conn:  # a pre-fix duplicate
        conn.execute("DROP INDEX IF EXISTS study_enrolment_one_label")
        conn.execute("UPDATE study_enrolment SET label = 'P-017' WHERE label = 'P-018'")

    code, out = study.cli("doctor")
    assert code == 12, out
    assert "P-017 is enrolled twice" in out
    assert f"google-health:{A}" in out
    assert f"google-health:{B}" in out
    assert "heartkeep study withdraw" in out

    # The study still works on that database: inviting, the site, status.
    (link,) = study.invite("P-019")
    assert "Taking part in this study" in study.browser().get(link["url"]).text
    code, out = study.cli("status")
    assert code == 0, out

    code, out = study.cli("withdraw", "P-017", "--no-revoke")  # which of the two?
    assert code == 2, out
    assert "P-017 is enrolled twice" in out
    code, out = study.cli("withdraw", f"google-health:{B}", "--no-revoke")
    assert code == 0, out
    enrolled = [row for row in _rows(study, "P-017") if row.status == tables.ENROLLED]
    assert [row.account_key for row in enrolled] == [f"google-health:{A}"]  # A stays
    code, out = study.cli("doctor", "--json")
    assert "enrolled twice" not in out

    study.invite("P-020")  # the guard is in place from the next use of the tables on
    with psycopg.connect(study.database_url, autocommit=True) as conn:
        found = conn.execute(
            "SELECT count(*) FROM pg_indexes WHERE indexname = 'study_enrolment_one_label'"
        ).fetchone()
        assert found == (1,)
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute(
                "INSERT INTO study_enrolment (label, nonce, created_s, expires_s, status) "
                "VALUES ('P-017', 'n', 0, 1, 'enrolled')"
            )
