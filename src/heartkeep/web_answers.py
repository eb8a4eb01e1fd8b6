"""Answers of our web pages that carry the security headers: every response, and refusals.

Why a module: the dashboard (`dashboard/security.py`) and the study site
(`study/web_security.py`) guard their pages the same way, each with its own header set (its
own Content-Security-Policy): headers added to every response the app sends unless the app set
them itself, and a plain-text refusal (403, 421) carrying them too.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.types import Message, Send

Headers = Sequence[tuple[bytes, bytes]]


def with_headers(send: Send, headers: Headers) -> Send:
    """`send`, adding `headers` to the response's start where the app has not set them."""

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            names = {k.lower() for k, _ in message.get("headers", [])}
            extra = [(k, v) for k, v in headers if k not in names]
            message["headers"] = [*message.get("headers", []), *extra]
        await send(message)

    return sending


async def send_plain(send: Send, status: int, text: str, headers: Headers) -> None:
    """A short text answer (a refusal: what happened and what to do) with `headers`."""
    body = text.encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
