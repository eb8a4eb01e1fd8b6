"""The one-shot loopback server that catches the browser's redirect at the end of consent.

Bound to 127.0.0.1 only, on a free port unless one is configured, it answers exactly one request
on the redirect path (a "You can close this tab" page, or a page explaining what went wrong) and
then stops; other paths such as `/favicon.ico` get a 404 and are otherwise ignored.  If no
redirect arrives within the timeout it stops too.  The query string of the redirect is handed to
the flow, which checks `state` and extracts the code.
"""

from __future__ import annotations

import html
import http.server
import threading
from collections.abc import Callable
from urllib.parse import urlsplit

from heartkeep.errors import AuthorizationFailed, ConfigError

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>heartkeep</title>
<style>body{{font-family:system-ui,sans-serif;max-width:36em;margin:4em auto;color:#222}}</style>
</head><body><h1>{title}</h1><p>{body}</p></body></html>
"""
SUCCESS_TITLE = "heartkeep is connected"
SUCCESS_BODY = "You can close this tab and return to the terminal."


Judge = Callable[[str], tuple[int, str, str]]
"""Decides the reply to the redirect's query string: (HTTP status, page title, page body)."""


def page(title: str, body: str) -> bytes:
    """A minimal HTML page; both parts are escaped."""
    return _PAGE.format(title=html.escape(title), body=html.escape(body)).encode()


class CallbackServer:
    """Listens on 127.0.0.1 for the single redirect of one authorization attempt.

    Usage: create (binds the port, so `redirect_uri` is known), send the browser off, then
    `start(judge)` to serve in the background, send the browser off, then `wait(timeout_s)`;
    `judge(query)` returns (status, page title, page body) and raises nothing; `wait` returns
    the raw query string.
    """

    def __init__(self, port: int = 0, path: str = "/") -> None:
        self.path = path
        self.query: str | None = None
        self._done = threading.Event()
        self._reply: tuple[int, bytes] = (200, page(SUCCESS_TITLE, SUCCESS_BODY))
        self._judge: Judge | None = None
        self._thread: threading.Thread | None = None
        handler = _handler_for(self)
        try:
            self._server = http.server.HTTPServer(("127.0.0.1", port), handler)
        except OSError as failure:
            raise ConfigError(
                f"cannot listen for the login redirect on 127.0.0.1:{port} ({failure.strerror})",
                hint="Choose another port with --port, or 0 for any free port.",
            ) from None
        self._server.timeout = 0.2
        self.port = int(self._server.server_address[1])

    @property
    def redirect_uri(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.path}"

    def start(self, judge: Judge) -> None:
        """Begin answering requests in a background thread; `judge` decides the reply."""
        self._judge = judge
        self._thread = threading.Thread(target=self._serve, name="heartkeep-callback", daemon=True)
        self._thread.start()

    def wait(self, timeout_s: float) -> str:
        """Wait for the redirect until `timeout_s` passes; always closes the socket.

        Raises `AuthorizationFailed` on timeout.
        """
        try:
            arrived = self._done.wait(timeout_s)
        finally:
            self.close()
        if not arrived or self.query is None:
            raise AuthorizationFailed(
                f"no answer from the browser within {timeout_s:.0f} s",
                hint="Run `heartkeep auth login` again (or `--no-browser` to paste the "
                "redirected address by hand).",
            )
        return self.query

    def close(self) -> None:
        """Stop serving and release the port (safe to call more than once)."""
        self._done.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self._server.server_close()

    def _serve(self) -> None:
        while not self._done.is_set():
            self._server.handle_request()

    def _accept(self, query: str) -> tuple[int, bytes]:
        self.query = query
        judge = self._judge
        reply = judge(query) if judge is not None else (200, SUCCESS_TITLE, SUCCESS_BODY)
        self._done.set()
        return reply[0], page(reply[1], reply[2])


def _handler_for(server: CallbackServer) -> type[http.server.BaseHTTPRequestHandler]:
    class _Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # the name http.server dispatches to
            parts = urlsplit(self.path)
            if parts.path != server.path or server.query is not None:
                self._send(404, page("Not found", "This address only receives the login redirect."))
                return
            status, body = server._accept(parts.query)
            self._send(status, body)

        def _send(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            # The request line carries the authorization code: never log it.
            return

    return _Handler
