"""What receiving webhooks costs a study: CPU per notification, and over HTTP.

1. In process, per notification: the receiver's work (signature check + parse + coalesce)
   against the plain alternative (`orjson.loads` of the body and nothing else — what an
   endpoint that trusts anyone would do), on genuine bodies signed by a sandbox key.
2. Over loopback HTTP (uvicorn, one connection, plain HTTP to leave TLS out of it): requests
   per second into `webhook_app` against a Starlette endpoint that answers 204 to anything.
3. What a study of N participants sends: at one device sync per participant every 15 minutes,
   notifications per second on average, against what one receiver process handles.

Prints figures and ratios; asserts nothing.  Run:

    .venv/bin/python bench/bench_webhooks.py [--notifications 20000] [--requests 2000]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import httpx
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from heartkeep.sandbox.signing import SIGNATURE_HEADER, WebhookSigner
from heartkeep.study import Coalescer, parse_keyset, parse_notification, webhook_app

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from loopback_asgi import serve_app

SECRET = "Bearer bench-secret"


def body(i: int) -> bytes:
    start = 1_795_176_000 + 900 * i
    return orjson.dumps(
        {
            "data": {
                "version": "1",
                "healthUserId": str(100_000 + i % 1000),
                "operation": "UPSERT",
                "dataType": "heart-rate",
                "intervals": [
                    {
                        "physicalTimeInterval": {
                            "startTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start)),
                            "endTime": time.strftime(
                                "%Y-%m-%dT%H:%M:%SZ", time.gmtime(start + 900)
                            ),
                        }
                    }
                ],
            }
        }
    )


def in_process(count: int) -> tuple[float, float]:
    signer = WebhookSigner()
    keyset = parse_keyset(orjson.dumps(signer.public_keyset()))
    bodies = [body(i) for i in range(count)]
    signatures = [signer.sign(b) for b in bodies]
    coalescer = Coalescer()
    started = time.process_time()
    for b, s in zip(bodies, signatures, strict=True):
        assert keyset.verify(s, b)
        coalescer.add(parse_notification(b))
    receiver = (time.process_time() - started) / count
    started = time.process_time()
    for b in bodies:
        orjson.loads(b)
    plain = (time.process_time() - started) / count
    return receiver, plain


def over_http(count: int) -> tuple[float, float]:
    signer = WebhookSigner()
    keyset = parse_keyset(orjson.dumps(signer.public_keyset()))
    coalescer = Coalescer()
    app = webhook_app(authorization=SECRET, keyset=keyset, on_notification=coalescer.add)

    async def anything(request: Request) -> Response:
        await request.body()
        return Response(status_code=204)

    plain_app = Starlette(routes=[Route("/webhooks/google-health", anything, methods=["POST"])])
    bodies = [body(i) for i in range(count)]
    headers = [
        {
            "Authorization": SECRET,
            SIGNATURE_HEADER: signer.sign(b),
            "Content-Type": "application/json",
        }
        for b in bodies
    ]
    rates = []
    for target in (app, plain_app):
        with serve_app(target) as served, httpx.Client(base_url=served.url) as client:
            started = time.perf_counter()
            for b, h in zip(bodies, headers, strict=True):
                assert (
                    client.post("/webhooks/google-health", content=b, headers=h).status_code == 204
                )
            rates.append(count / (time.perf_counter() - started))
    return rates[0], rates[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--notifications", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=2_000)
    args = parser.parse_args()

    receiver, plain = in_process(args.notifications)
    print(f"in process, {args.notifications} notifications:")
    print(f"  verify + parse + coalesce  {receiver * 1e6:8.1f} µs CPU each")
    print(f"  orjson.loads only          {plain * 1e6:8.1f} µs CPU each  (x{receiver / plain:.0f})")
    ours, bare = over_http(args.requests)
    print(f"over loopback HTTP, {args.requests} sequential POSTs on one connection:")
    print(f"  webhook_app                {ours:8.0f} requests/s")
    print(
        f"  a bare 204 endpoint        {bare:8.0f} requests/s  (webhook_app at {ours / bare:.2f}x)"
    )
    for participants in (1_000, 10_000, 100_000):
        per_s = participants / 900
        print(
            f"  {participants:>7} participants, one sync each per 15 min: {per_s:7.1f} "
            f"notifications/s = {per_s / ours:6.1%} of the sequential rate above"
        )


if __name__ == "__main__":
    main()
