"""heartkeep: take possession of your heart-rate data.

The public library surface is re-exported here with a sorted `__all__`; `tests/test_public_api.py`
fails when the two disagree.  `heartkeep.api` holds the front-door functions.
"""

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
from heartkeep.model import Account, Daily, DailyKind, Sample, Source, TokenSet, Window, Zone

__version__ = "0.1.0"

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
