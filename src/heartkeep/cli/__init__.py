"""The command-line skin over `heartkeep.api`.

The cyclic garbage collector is paused while the CLI's modules load: importing typer and
heartkeep's command modules allocates tens of thousands of long-lived objects (classes,
functions, dataclass methods), and each collection in between walks them all again for nothing
to free — part of what a cron-run `sync` or a `status` spends before it does anything.  It is
back on (as it was found) before the import returns; `main()` then freezes what start-up made
(`cli.app.main`).
"""

import gc

_collecting = gc.isenabled()
gc.disable()
try:
    from heartkeep.cli.app import app, main
finally:
    if _collecting:
        gc.enable()

__all__ = ["app", "main"]
