"""Serve the dashboard on loopback: uvicorn in a background thread, a port of its own.

The socket is bound first (port 0 picks a free one) so the Guard knows the exact `Host` values
to accept before the first request.  `url` is what the person opens: it carries the run's token.
"""

from __future__ import annotations

from types import TracebackType

from heartkeep.clock import Clock, SystemClock
from heartkeep.config import Settings
from heartkeep.dashboard.app import Context, create_app
from heartkeep.dashboard.security import Guard, Secrets
from heartkeep.errors import UsageError
from heartkeep.loopback import LoopbackServer

HOST = "127.0.0.1"  # loopback only, never a wider interface


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
        self._requested_port = port
        self._loopback = LoopbackServer(
            HOST, port, name="heartkeep-dashboard", start_timeout_s=15.0
        )

    @property
    def port(self) -> int:
        return self._loopback.port

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def url(self) -> str:
        """The address to open: it carries this run's token."""
        return f"{self.base_url}/?token={self.secrets.token}"

    def start(self) -> DashboardServer:
        if self._loopback.running:
            return self
        try:
            port = self._loopback.bind()
        except OSError as failure:
            raise UsageError(
                f"cannot serve the dashboard on {HOST}:{self._requested_port}: {failure.strerror}",
                hint="Choose another port with --port, or leave it out to get a free one.",
            ) from None
        app = Guard(create_app(self.context), secrets_=self.secrets, port=port)
        try:
            # A request still running at Ctrl-C is cancelled: no traceback on the terminal
            # (the page shows any failure itself).
            self._loopback.start(app, log_level="critical", timeout_graceful_shutdown=1)
        except TimeoutError:
            raise UsageError(f"the dashboard did not start on {HOST}:{port}") from None
        return self

    def stop(self) -> None:
        """Stop serving, wait for a sync it started, release the port (idempotent)."""
        self._loopback.stop()
        self.context.job.join()

    def serve_forever(self) -> None:
        """Block until the server stops (Ctrl-C in `heartkeep dashboard`)."""
        self.start()
        self._loopback.wait()

    def __enter__(self) -> DashboardServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
