"""What the study's web site costs: enrolments through the whole web flow, and the
coordinator's pages for a page of participants.

1. Enrolment: N participants, each through the real flow over loopback HTTP (invite page,
   consent POST, the sandbox's authorization endpoint, the callback: code exchange, identity,
   sealed tokens, invite marked enrolled, backfill hook), against the plain alternative: the
   bare OAuth dance for the same users (authorization endpoint, code exchange, identity) with
   the tokens saved by `save_tokens` and nothing else.
2. Coordinator: the overview page (a page of up to 100 participants with 14 days of wear each)
   and one participant's page, against the plain alternative: one hand-written SQL query of
   the same days' wear time straight from `hr_day`.

Prints figures, ratios and the load; asserts nothing.  Run:

    .venv/bin/python bench/bench_study_web.py [--participants 100] [--url postgresql://…]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import time
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import httpx
import psycopg

from heartkeep.auth.client_secrets import ClientCredentials
from heartkeep.auth.endpoints import endpoints_for
from heartkeep.auth.login import google_user_id
from heartkeep.auth.token_client import TokenClient
from heartkeep.loopback import LoopbackServer
from heartkeep.model import Sample, Source
from heartkeep.sandbox import SandboxConfig, SandboxServer
from heartkeep.sandbox.config import TEST_START_S
from heartkeep.sandbox.credentials import (
    GOOGLE_WEB_CLIENT_ID,
    GOOGLE_WEB_CLIENT_SECRET,
)
from heartkeep.sandbox.physiology import UserSpec
from heartkeep.store import open_postgres_store
from heartkeep.store.token_cipher import TokenCipher, new_key
from heartkeep.study import CoordinatorLogin, create_invite, hash_password, study_app
from heartkeep.study.local_postgres import local_server
from heartkeep.study.web_signing import new_signing_key

PASSWORD = "bench"


def users(n: int) -> tuple[UserSpec, ...]:
    day = dt.datetime.fromtimestamp(TEST_START_S, dt.UTC).date()
    return tuple(
        UserSpec(
            health_user_id=f"{700000000000000000 + i}",
            legacy_user_id=f"B{i:05d}",
            display_name=f"Bench {i}",
            time_zone="UTC",
            member_since=day - dt.timedelta(days=20),
            seed=i,
        )
        for i in range(n)
    )


def fresh_schema(base_url: str, name: str) -> str:
    with psycopg.connect(base_url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
        conn.execute(f"CREATE SCHEMA {name}")
    return base_url + ("&" if "?" in base_url else "?") + f"options=-csearch_path%3D{name}"


def median_ms(run: Callable[[], object], repeat: int = 7) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=100)
    parser.add_argument("--url", help="a PostgreSQL database (default: the machine's, or one made)")
    args = parser.parse_args()
    n = args.participants
    with local_server() as (server, why):
        if args.url is None and server is None:
            raise SystemExit(f"no PostgreSQL: {why}")
        base = args.url or server.url()  # type: ignore[union-attr]
        run(n, fresh_schema(base, "bench_web_site"), fresh_schema(base, "bench_web_plain"))


def run(n: int, site_url: str, plain_url: str) -> None:
    specs = users(n)
    key = new_key()
    cipher = TokenCipher.from_environment({"HEARTKEEP_STUDY_TOKEN_KEYS": key})
    sandbox = SandboxServer(SandboxConfig(start_s=TEST_START_S, users=specs)).start()
    state = sandbox.state
    endpoints = endpoints_for("google", sandbox.url)
    client = ClientCredentials(GOOGLE_WEB_CLIENT_ID, GOOGLE_WEB_CLIENT_SECRET)
    web = LoopbackServer("127.0.0.1", 0, name="bench study site")
    site = f"http://127.0.0.1:{web.bind()}"
    callback = site + "/enrol/callback"
    state.allow_web_redirect(callback)
    signing_key = new_signing_key()
    queued: list[str] = []
    app = study_app(
        store_url=site_url,
        public_base_url=site,
        signing_key=signing_key,
        consent_text="Bench consent.",
        google_client=client,
        coordinator=CoordinatorLogin("bench", hash_password(PASSWORD)),
        endpoints=endpoints,
        token_cipher=cipher,
        on_enrolled=queued.append,
        clock=state.clock,
    )
    web.start(app)
    try:
        with open_postgres_store(site_url, token_cipher=cipher) as store:
            invites = [
                create_invite(
                    store,
                    f"P-{i:04d}",
                    signing_key=signing_key,
                    public_base_url=site,
                    clock=state.clock,
                )
                for i in range(n)
            ]
        # 1. enrolment through the site
        start = time.perf_counter()
        requests = 0
        phases: list[float] = []
        steps: list[tuple[float, float, float, float]] = []
        for spec, invite in zip(specs, invites, strict=True):
            state.login_user_id = spec.health_user_id
            with httpx.Client(headers={"Origin": site}, timeout=30) as browser:
                t0 = time.perf_counter()
                browser.get(invite.url)
                t1 = time.perf_counter()
                response = browser.post(invite.url, data={"decision": "accept"})
                t2 = time.perf_counter()
                requests += 2
                while response.status_code in (302, 303):
                    response = browser.get(response.headers["location"])
                    requests += 1
                    phases.append(time.perf_counter())
                assert "You are enrolled" in response.text, response.text
                steps.append((t1 - t0, t2 - t1, phases[-2] - t2, phases[-1] - phases[-2]))
                phases.clear()
        site_s = time.perf_counter() - start
        # 1'. the plain alternative: the OAuth dance and save_tokens, nothing else
        start = time.perf_counter()
        with (
            open_postgres_store(plain_url, token_cipher=cipher) as plain,
            TokenClient(endpoints, client, clock=state.clock) as tokens,
            httpx.Client(timeout=30) as http,
        ):
            for spec in specs:
                state.login_user_id = spec.health_user_id
                authorize = http.get(
                    endpoints.auth_uri,
                    params={
                        "client_id": client.client_id,
                        "redirect_uri": callback,
                        "response_type": "code",
                        "scope": " ".join(endpoints.scopes),
                        "code_challenge": "x" * 43,
                        "code_challenge_method": "plain",
                        "access_type": "offline",
                        "prompt": "consent",
                    },
                )
                code = parse_qs(urlsplit(authorize.headers["location"]).query)["code"][0]
                pair = tokens.exchange_code(code, redirect_uri=callback, code_verifier="x" * 43)
                user = google_user_id(endpoints, pair, 30.0)
                plain.save_tokens(f"google-health:{user}", pair)
        plain_s = time.perf_counter() - start
        print(f"load: {os.getloadavg()[0]:.1f} {os.getloadavg()[1]:.1f} (1 and 5 min)")
        print(f"enrolment, {n} participants, sequential, over loopback HTTP:")
        print(
            f"  through the site      {1000 * site_s / n:7.1f} ms each, {requests / n:.0f} "
            f"requests each ({n / site_s:.1f} enrolments/s)"
        )
        print(
            f"  bare OAuth + save     {1000 * plain_s / n:7.1f} ms each  (site at "
            f"{site_s / plain_s:.2f}x)"
        )
        assert len(queued) == n
        medians = [1000 * statistics.median(step[i] for step in steps) for i in range(4)]
        print(
            "  median ms: invite page {:.1f}, consent POST {:.1f}, Google's screen {:.1f}, "
            "callback {:.1f}".format(*medians)
        )

        # 2. the coordinator's pages over 14 days of wear per participant
        now = int(state.clock.now_s())
        with open_postgres_store(site_url, token_cipher=cipher) as store:
            for account in queued:
                samples = [Sample(t, 60, 0) for t in range(now - 14 * 86_400, now, 300)]
                store.write_samples(account, samples, Source.GOOGLE_HEALTH)
                store.refresh_aggregates(account)
        with httpx.Client(headers={"Origin": site}, timeout=60) as browser:
            browser.post(site + "/coordinator/login", data={"user": "bench", "password": PASSWORD})
            overview_ms = median_ms(lambda: browser.get(site + "/coordinator/").raise_for_status())
            one_ms = median_ms(
                lambda: browser.get(site + "/coordinator/participants/P-0000").raise_for_status()
            )
        since = dt.datetime.fromtimestamp(now, dt.UTC).date() - dt.timedelta(days=13)
        with psycopg.connect(site_url) as conn:
            sql_ms = median_ms(
                lambda: conn.execute(
                    "SELECT account_id, day, wear_s FROM hr_day WHERE day >= %s", (since,)
                ).fetchall()
            )
        shown = min(n, 100)
        print(f"coordinator, {n} participants enrolled, {shown} on the overview's page:")
        print(
            f"  overview page         {overview_ms:7.1f} ms  ({overview_ms / shown:.2f} ms "
            "per participant listed)"
        )
        print(f"  one participant page  {one_ms:7.1f} ms")
        print(
            f"  plain SQL of the heatmap's wear  {sql_ms:7.1f} ms  (overview at "
            f"{overview_ms / sql_ms:.0f}x)"
        )
    finally:
        web.stop()
        app.state.close()
        sandbox.stop()


if __name__ == "__main__":
    main()
