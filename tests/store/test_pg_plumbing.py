"""The PostgreSQL test plumbing itself: which server the tests use, and why none when none.

The fixture (tests/conftest.py, `postgres`) skips with this reason outside CI and fails the run
under CI=true; here the choice is checked directly, with the machine's server hidden.
"""

from __future__ import annotations

import pytest

import postgres_server
from heartkeep.study import local_postgres


def test_without_a_server_or_initdb_the_reason_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEARTKEEP_TEST_PG_NO_MACHINE_SERVER", "1")
    monkeypatch.setattr(local_postgres, "pg_bin", lambda: None)
    with postgres_server.postgres_server() as (server, why):
        assert server is None
        assert "nothing answers at 127.0.0.1:5432" in why
        assert "no initdb under /usr/lib/postgresql" in why


@pytest.mark.slow
def test_a_throwaway_server_starts_and_is_gone_afterwards(monkeypatch: pytest.MonkeyPatch) -> None:
    if local_postgres.pg_bin() is None:
        pytest.skip("Debian's postgresql package (initdb, pg_ctl) is not installed here")
    monkeypatch.setenv("HEARTKEEP_TEST_PG_NO_MACHINE_SERVER", "1")
    with postgres_server.postgres_server() as (server, why):
        assert server is not None, why
        assert server.port != 5432
        assert local_postgres.answers(server.host, server.port)
        with postgres_server.session_database(server, "plumbing") as name:
            assert name.startswith("heartkeep_test_plumbing_")
    assert not local_postgres.answers(server.host, server.port)
