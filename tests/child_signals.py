"""Children that a test stops with Ctrl-C (SIGINT) must be able to receive it.

A shell without job control starts background commands with SIGINT ignored, and an ignored
signal stays ignored across fork and exec: under `make test-hours &` (or a CI runner that
launches the suite that way) a `heartkeep sandbox serve` or `heartkeep dashboard` child never
saw the test's SIGINT, and the test waited on it.  Pass `preexec_fn=sigint_as_usual` to Popen.
"""

from __future__ import annotations

import signal


def sigint_as_usual() -> None:
    """In the child, before exec: SIGINT back to its default, so Python raises
    KeyboardInterrupt on it as in a terminal."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
