"""Serve an ASGI app with uvicorn on a loopback socket, in a daemon thread: the one way the
sandbox and the dashboard start their servers.

Why one module at the bottom of the layers: both servers need the same careful start — bind
first (port 0 picks a free one, and the caller learns the port before the app exists, which the
dashboard's Host check needs), a TCP socket that says it is TCP (asyncio sets TCP_NODELAY only
then; without it every small response waits ~40 ms for a delayed ACK), wait until uvicorn
accepts, and a stop that takes milliseconds instead of uvicorn's polling.  It knows nothing of
either app, so the sandbox still imports nothing from the client side.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Iterable
from typing import Any

import uvicorn

_TICK_S = 1.0


class QuickServer(uvicorn.Server):
    """uvicorn, minus its polling: stops as soon as asked.

    Stock uvicorn checks `should_exit` every 0.1 s and sleeps another 0.1 s in shutdown; with a
    fresh sandbox per test that is most of the fixture's cost.  Here the main loop waits on an
    event, and shutdown closes everything at once (connections, then their tasks: an open
    event stream ends with the server, nothing is drained).
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

    def connections(self) -> Iterable[Any]:
        """The open HTTP connections (uvicorn protocol objects), for a server that must abort
        one (the sandbox's connection-reset faults)."""
        return list(self.server_state.connections)


class LoopbackServer:
    """A socket bound on `host:port`, then an app served on it in a daemon thread.

    `bind()` raises OSError (the caller words the message: a port in use is a usage error);
    `start()` raises TimeoutError when uvicorn does not come up within `start_timeout_s`.
    `stop()` is idempotent.
    """

    def __init__(self, host: str, port: int, *, name: str, start_timeout_s: float = 10.0) -> None:
        self.host = host
        self._port = port
        self._name = name
        self._start_timeout_s = start_timeout_s
        self._socket: socket.socket | None = None
        self.server: QuickServer | None = None
        self._thread: threading.Thread | None = None
        self._done: threading.Event | None = None  # set when the server thread has ended

    def bind(self, *, reuse_address: bool = False) -> int:
        """Bind and listen; returns the port (the chosen one when `port` was 0)."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        if reuse_address:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self._port))
        except OSError:
            sock.close()
            raise
        sock.listen(128)
        self._socket = sock
        return self.port

    @property
    def port(self) -> int:
        if self._socket is None:
            raise RuntimeError(f"the {self._name} is not started")
        return int(self._socket.getsockname()[1])

    @property
    def running(self) -> bool:
        return self._thread is not None

    def start(self, app: Any, **options: Any) -> None:
        """Serve `app` on the bound socket (`options` go to `uvicorn.Config`); returns once
        requests are accepted."""
        if self._socket is None:
            self.bind()
        assert self._socket is not None  # bind() made it
        config = uvicorn.Config(app, lifespan="off", access_log=False, **options)
        server = QuickServer(config)
        self.server = server
        done = threading.Event()
        sockets = [self._socket]

        def serve() -> None:
            try:
                server.run(sockets=sockets)
            finally:
                done.set()

        self._done = done
        thread = threading.Thread(target=serve, name=self._name, daemon=True)
        self._thread = thread
        thread.start()
        deadline = time.monotonic() + self._start_timeout_s
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"the {self._name} did not start")
            time.sleep(0.002)

    def stop(self) -> None:
        server, thread = self.server, self._thread
        if server is not None:
            server.request_exit()
        if thread is not None:
            thread.join(timeout=5)
        if self._socket is not None:
            self._socket.close()
        self.server = None
        self._thread = None
        self._done = None

    def wait(self) -> None:
        """Block while the server runs (Ctrl-C in a command that serves until stopped).

        It waits on an event, not in `Thread.join`: a Ctrl-C that interrupts a join marks the
        thread stopped while it still runs (CPython 3.11/3.12, `_wait_for_tstate_lock`), so
        `stop()`'s join then returned at once and the process could exit mid-shutdown, the
        server thread printing half a traceback."""
        done = self._done
        while done is not None and not done.wait(timeout=0.5):
            pass
