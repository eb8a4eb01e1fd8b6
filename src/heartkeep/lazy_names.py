"""Names a package re-exports but loads on first use (PEP 562 module `__getattr__`).

A package's `__init__` (or `api.py`) declares its public surface, but importing every module
behind it would make each command pay for all of them: a `status` would load the OAuth flows,
a cron-run `sync` with nothing to do the engine and its HTTP client.  `on_first_use` gives such
a module a `__getattr__` that imports the module a name lives in when the name is first asked
for, and keeps it in the module's namespace so later lookups are plain attribute reads; and a
`__dir__` that lists those names too.  Type checkers learn the names from imports under
`if TYPE_CHECKING:` beside the table.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, MutableMapping


def on_first_use(
    namespace: MutableMapping[str, object], where: Mapping[str, str]
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """`__getattr__` and `__dir__` for the module whose `globals()` is `namespace`: each name of
    `where` is loaded from the module named beside it, once; any other name is an
    AttributeError, as for a module without them."""
    owner = namespace.get("__name__")

    def __getattr__(name: str) -> object:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {owner!r} has no attribute {name!r}")
        value: object = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(where))

    return __getattr__, __dir__
