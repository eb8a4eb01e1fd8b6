"""A test-only hook that kills the process at a named step of a token refresh.

The vault's promise — a valid refresh token is durable on disk at every instant — is proven by
killing a refreshing process with SIGKILL at each step and checking that the next run continues.
Code calls `crash_point("<step>")` at those steps; nothing happens unless the environment variable
`HEARTKEEP_TEST_CRASH_AT` names that step, which only the crash tests set.  Steps:

    during-journal-write  half of the vault file journaling the refresh is written
    before-request   the in-flight refresh is journaled in the vault, the request not yet sent
    after-response   the provider answered with new tokens, nothing written yet
    during-write     half of the new vault file is written to its temporary file
    after-write      the new pair is durable on disk, not yet handed to the caller
"""

from __future__ import annotations

import os
import signal

CRASH_ENV = "HEARTKEEP_TEST_CRASH_AT"
STEPS = ("during-journal-write", "before-request", "after-response", "during-write", "after-write")


def crash_point(step: str) -> None:
    """Die here, like a power cut, if the crash tests asked for this step."""
    if os.environ.get(CRASH_ENV) == step:
        os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))
