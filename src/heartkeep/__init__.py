"""heartkeep: take possession of your heart-rate data.

The public library surface is re-exported here with a sorted `__all__`; `tests/test_public_api.py`
fails when the two disagree.  `heartkeep.api` holds the front-door functions.  The data types of
`heartkeep.model` load on first use (`lazy_names.py`): every command imports this package, and
`--help` or a `sync` with nothing to do has no use for them.
"""

from typing import TYPE_CHECKING

from heartkeep.errors import (
    AlreadyRunning,
    AuthError,
    AuthorizationFailed,
    ConfigError,
    HeartkeepError,
    ImportFormatError,
    NoAccounts,
    ProviderError,
    ProviderGone,
    RateLimited,
    ReauthorizationNeeded,
    ScopeMissing,
    StoreError,
    TransientError,
    VaultDamaged,
    VaultWriteFailed,
)
from heartkeep.lazy_names import on_first_use

if TYPE_CHECKING:  # what `__getattr__` below loads on first use, spelled out for type checkers
    from heartkeep.model import Account, Daily, DailyKind, Sample, Source, TokenSet, Window, Zone

__version__ = "0.1.0"

_MODEL_NAMES = ("Account", "Daily", "DailyKind", "Sample", "Source", "TokenSet", "Window", "Zone")
__getattr__, __dir__ = on_first_use(globals(), dict.fromkeys(_MODEL_NAMES, "heartkeep.model"))
__all__ = [
    "Account",
    "AlreadyRunning",
    "AuthError",
    "AuthorizationFailed",
    "ConfigError",
    "Daily",
    "DailyKind",
    "HeartkeepError",
    "ImportFormatError",
    "NoAccounts",
    "ProviderError",
    "ProviderGone",
    "RateLimited",
    "ReauthorizationNeeded",
    "Sample",
    "ScopeMissing",
    "Source",
    "StoreError",
    "TokenSet",
    "TransientError",
    "VaultDamaged",
    "VaultWriteFailed",
    "Window",
    "Zone",
]
