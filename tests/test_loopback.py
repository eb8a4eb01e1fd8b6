"""The loopback server under Ctrl-C: what `heartkeep dashboard` and `heartkeep study serve` do
when a person stops them."""

from __future__ import annotations

import signal
import threading

import pytest

from heartkeep.loopback import LoopbackServer


async def _app(scope, receive, send) -> None:  # the smallest ASGI app: never asked here
    raise AssertionError("no request is sent")


def test_ctrl_c_while_serving_then_stop_ends_the_server_thread() -> None:
    """A Ctrl-C that lands while `wait()` blocks must leave `stop()` able to wait for the
    server thread.  It used to block in `Thread.join`, and an interrupted join marks a thread
    stopped while it runs (CPython 3.11/3.12): `stop()` returned at once, the process exited
    mid-shutdown and the thread printed half a traceback (a flaky dashboard Ctrl-C test)."""
    server = LoopbackServer("127.0.0.1", 0, name="loopback-under-ctrl-c")
    server.start(_app)
    main = threading.main_thread().ident
    assert main == threading.get_ident()  # signals reach the main thread only
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        # a real signal, as from the terminal: it interrupts the blocking wait itself
        timer = threading.Timer(0.3, signal.pthread_kill, (main, signal.SIGINT))
        timer.start()
        with pytest.raises(KeyboardInterrupt):
            server.wait()
        timer.join()
    finally:
        signal.signal(signal.SIGINT, previous)
    server.stop()
    assert "loopback-under-ctrl-c" not in [t.name for t in threading.enumerate()]
