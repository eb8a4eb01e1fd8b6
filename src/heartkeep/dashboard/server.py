"""Serve the dashboard on loopback: uvicorn in a background thread, a port of its own.

The socket is bound first (port 0 picks a free one) so the Guard knows the exact `Host` values
to accept before the first request.  `url` is what the person opens: it carries the run's token.
"""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType

import uvicorn

from heartkeep.clock import Clock, SystemClock
from heartkeep.config import Settings
from heartkeep.dashboard.app import Context, create_app
from heartkeep.dashboard.security import Guard, Secrets
from heartkeep.errors import UsageError

HOST = "127.0.0.1"  # loopback only, never a wider interface
_START_TIMEOUT_S = 15.0


class DashboardServer:
    """The dashboard on `127.0.0.1:<port>` in a daemon thread; a context manager.

    `clock` is what "now" means for ages and for the sync it starts (tests pass the sandbox's
    simulated clock).  `test_hooks` lets the page expose its charts' data to a browser test.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        port: int = 0,
        clock: Clock | None = None,
        test_hooks: bool = False,
        secrets_: Secrets | None = None,
    ) -> None:
        self.secrets = secrets_ or Secrets()
        self.context = Context(settings, clock or SystemClock(), self.secrets, test_hooks)
        self._port = port
        self._socket: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if self._socket is None:
            raise RuntimeError("the dashboard is not started")
        return int(self._socket.getsockname()[1])

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def url(self) -> str:
        """The address to open: it carries this run's token."""
        return f"{self.base_url}/?token={self.secrets.token}"

    def start(self) -> DashboardServer:
        if self._thread is not None:
            return self
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        try:
            sock.bind((HOST, self._port))
        except OSError as failure:
            sock.close()
            raise UsageError(
                f"cannot serve the dashboard on {HOST}:{self._port}: {failure.strerror}",
                hint="Choose another port with --port, or leave it out to get a free one.",
            ) from None
        sock.listen(64)
        self._socket = sock
        app = Guard(create_app(self.context), secrets_=self.secrets, port=self.port)
        config = uvicorn.Config(
            app,
            lifespan="off",
            # A request still running at Ctrl-C is cancelled: no traceback on the terminal (the
            # page shows any failure itself).
            log_level="critical",
            access_log=False,
            timeout_graceful_shutdown=1,
        )
        server = uvicorn.Server(config)
        self._server = server
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="heartkeep-dashboard", daemon=True
        )
        self._thread = thread
        thread.start()
        deadline = time.monotonic() + _START_TIMEOUT_S
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise UsageError(f"the dashboard did not start on {HOST}:{self.port}")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        """Stop serving, wait for a sync it started, release the port (idempotent)."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.context.job.join()
        if self._socket is not None:
            self._socket.close()
        self._server = None
        self._thread = None

    def serve_forever(self) -> None:
        """Block until the server stops (Ctrl-C in `heartkeep dashboard`)."""
        self.start()
        assert self._thread is not None
        while self._thread.is_alive():
            self._thread.join(timeout=0.5)

    def __enter__(self) -> DashboardServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
