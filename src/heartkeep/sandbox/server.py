"""Serve the sandbox on loopback with uvicorn, in a background thread, on a free port.

`SandboxServer` is what tests, the demo and `heartkeep sandbox serve` use.  Starting one costs a
few milliseconds of setup plus uvicorn's start-up, so every test can have its own.  The server
also gives the fault middleware a way to abort a TCP connection (`reset` faults): it finds the
uvicorn connection by the client's address and closes it with SO_LINGER 0, so the client sees a
real connection reset rather than an HTTP error.  On wall time it also delivers webhook
notifications from a background thread, once a second (`deliver_webhooks`); on a simulated
clock the test calls `heartkeep.sandbox.delivery.pump(server.state)` itself.
"""

from __future__ import annotations

import socket
import struct
import threading
from types import TracebackType

from uvicorn.protocols.http.h11_impl import H11Protocol

from heartkeep.errors import HeartkeepError
from heartkeep.loopback import LoopbackServer
from heartkeep.sandbox.app import create_app
from heartkeep.sandbox.clock import WallClock
from heartkeep.sandbox.config import SandboxConfig
from heartkeep.sandbox.delivery import pump
from heartkeep.sandbox.state import SandboxState

_WEBHOOK_PUMP_S = 1.0


class SandboxServer:
    """The sandbox on `127.0.0.1:<port>` in a daemon thread; a context manager.

    `port=0` picks a free port.  `url` has no trailing slash.  `state` is the live
    `SandboxState` (clock, users, tokens, faults, request log) for test hooks.
    """

    def __init__(
        self,
        config: SandboxConfig | None = None,
        *,
        state: SandboxState | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        deliver_webhooks: bool | None = None,
    ) -> None:
        self.state = state or SandboxState(config)
        if deliver_webhooks is None:
            deliver_webhooks = isinstance(self.state.clock, WallClock)
        self._deliver_webhooks = deliver_webhooks
        self._stop_pumping = threading.Event()
        self._pump_thread: threading.Thread | None = None
        self.config = self.state.config
        self.host = host
        self._requested_port = port
        self._loopback = LoopbackServer(host, port, name="heartkeep-sandbox")

    @property
    def port(self) -> int:
        return self._loopback.port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> SandboxServer:
        """Bind, serve in a background thread, and return once requests are accepted."""
        if self._loopback.running:
            return self
        try:
            self._loopback.bind(reuse_address=True)
        except OSError as failure:
            raise HeartkeepError(
                f"cannot serve the sandbox on {self.host}:{self._requested_port}: "
                f"{failure.strerror}. Choose another port with --port (0 picks a free one)."
            ) from None
        self.state.connection_aborter = self._abort_connection
        try:
            self._loopback.start(
                create_app(self.state),
                http=H11Protocol,
                log_level="warning",
                date_header=False,  # the app sends the simulated clock's Date instead
                timeout_keep_alive=30,
                timeout_graceful_shutdown=1,
            )
        except TimeoutError:
            raise HeartkeepError("the sandbox server did not start") from None
        if self._deliver_webhooks:
            self._stop_pumping.clear()
            self._pump_thread = threading.Thread(
                target=self._pump_webhooks, name="heartkeep-sandbox-webhooks", daemon=True
            )
            self._pump_thread.start()
        return self

    def _pump_webhooks(self) -> None:
        """Deliver due notifications once a second until `stop`."""
        while not self._stop_pumping.wait(_WEBHOOK_PUMP_S):
            pump(self.state)

    def stop(self) -> None:
        """Stop serving and release the port (idempotent)."""
        self._stop_pumping.set()
        if self._pump_thread is not None:
            self._pump_thread.join(timeout=5)
            self._pump_thread = None
        self._loopback.stop()
        self.state.connection_aborter = None

    def serve_forever(self) -> None:
        """Block until the server stops (Ctrl-C in `heartkeep sandbox serve`)."""
        self.start()
        self._loopback.wait()

    def _abort_connection(self, client: tuple[str, int]) -> bool:
        """Reset the TCP connection of `client` (called on the server's event loop)."""
        server = self._loopback.server
        if server is None:
            return False
        for connection in server.connections():
            if getattr(connection, "client", None) == client:
                transport = connection.transport
                sock = transport.get_extra_info("socket")
                if sock is not None:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                transport.abort()
                return True
        return False

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
