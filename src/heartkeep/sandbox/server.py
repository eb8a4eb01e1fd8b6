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

import asyncio
import contextlib
import socket
import struct
import threading
import time
from types import TracebackType

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from heartkeep.errors import HeartkeepError
from heartkeep.sandbox.app import create_app
from heartkeep.sandbox.clock import WallClock
from heartkeep.sandbox.config import SandboxConfig
from heartkeep.sandbox.delivery import pump
from heartkeep.sandbox.state import SandboxState

_START_TIMEOUT_S = 10.0
_TICK_S = 1.0
_WEBHOOK_PUMP_S = 1.0


class _QuickServer(uvicorn.Server):
    """uvicorn, minus its polling: stops as soon as asked, so a test's sandbox costs ~ms.

    Stock uvicorn checks `should_exit` every 0.1 s and sleeps another 0.1 s in shutdown; with a
    fresh sandbox per test that is most of the fixture's cost.  Here the main loop waits on an
    event, and shutdown closes everything at once (the sandbox has no lifespan or background
    tasks worth draining).
    """

    _wake: asyncio.Event | None = None
    _loop: asyncio.AbstractEventLoop | None = None

    async def main_loop(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 10) % 864000  # each tick is a second: refresh the Date header
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), _TICK_S)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()
        for task in list(self.server_state.tasks):
            task.cancel()
        for server in self.servers:
            await server.wait_closed()

    def request_exit(self) -> None:
        """Thread-safe: ask the server to stop now."""
        self.should_exit = True
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None:
            with contextlib.suppress(RuntimeError):  # the loop already closed
                loop.call_soon_threadsafe(wake.set)


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
        self._port = port
        self._server: _QuickServer | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    @property
    def port(self) -> int:
        if self._socket is None:
            raise RuntimeError("the sandbox server is not started")
        return int(self._socket.getsockname()[1])

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> SandboxServer:
        """Bind, serve in a background thread, and return once requests are accepted."""
        if self._thread is not None:
            return self
        # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY only on sockets that say they
        # are TCP, and without it every small response waits ~40 ms for a delayed ACK.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self._port))
        except OSError as failure:
            sock.close()
            raise HeartkeepError(
                f"cannot serve the sandbox on {self.host}:{self._port}: {failure.strerror}. "
                "Choose another port with --port (0 picks a free one)."
            ) from None
        sock.listen(128)
        self._socket = sock
        config = uvicorn.Config(
            create_app(self.state),
            http=H11Protocol,
            lifespan="off",
            log_level="warning",
            access_log=False,
            date_header=False,  # the app sends the simulated clock's Date instead
            timeout_keep_alive=30,
            timeout_graceful_shutdown=1,
        )
        server = _QuickServer(config)
        self._server = server
        self.state.connection_aborter = self._abort_connection
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="heartkeep-sandbox", daemon=True
        )
        self._thread = thread
        thread.start()
        deadline = time.monotonic() + _START_TIMEOUT_S
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise HeartkeepError("the sandbox server did not start")
            time.sleep(0.002)
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
        server, thread = self._server, self._thread
        if server is not None:
            server.request_exit()
        if thread is not None:
            thread.join(timeout=5)
        if self._socket is not None:
            self._socket.close()
        self._server = None
        self._thread = None
        self.state.connection_aborter = None

    def serve_forever(self) -> None:
        """Block until the server stops (Ctrl-C in `heartkeep sandbox serve`)."""
        if self._thread is None:
            self.start()
        assert self._thread is not None
        while self._thread.is_alive():
            self._thread.join(timeout=0.5)

    def _abort_connection(self, client: tuple[str, int]) -> bool:
        """Reset the TCP connection of `client` (called on the server's event loop)."""
        server = self._server
        if server is None:
            return False
        for connection in list(server.server_state.connections):
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
