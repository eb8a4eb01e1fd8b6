"""Where each provider's OAuth server and API live, and which scopes heartkeep asks for.

Data, not logic: one `ProviderEndpoints` per provider, either the real hosts or, with a sandbox
URL, the sandbox's paths (the sandbox serves Google's and Fitbit's OAuth routes side by side, so
one base URL covers both).  The scope lists are the least privilege heartkeep needs: heart rate,
the settings that carry the user's time zone, and the profile that carries their join date.
"""

from __future__ import annotations

import msgspec

from heartkeep.errors import ConfigError

GOOGLE_HEALTH = "google-health"
FITBIT_LEGACY = "fitbit-legacy"
PROVIDERS = (GOOGLE_HEALTH, FITBIT_LEGACY)

# The names a person types on the command line, mapped to provider names.
PROVIDER_ALIASES = {
    "google": GOOGLE_HEALTH,
    GOOGLE_HEALTH: GOOGLE_HEALTH,
    "fitbit": FITBIT_LEGACY,
    FITBIT_LEGACY: FITBIT_LEGACY,
}

_GOOGLE_SCOPE_ROOT = "https://www.googleapis.com/auth/googlehealth."
GOOGLE_SCOPES: tuple[str, ...] = (
    _GOOGLE_SCOPE_ROOT + "health_metrics_and_measurements.readonly",
    _GOOGLE_SCOPE_ROOT + "settings.readonly",
    _GOOGLE_SCOPE_ROOT + "profile.readonly",
)
FITBIT_SCOPES: tuple[str, ...] = ("heartrate", "profile", "settings")


class ProviderEndpoints(msgspec.Struct, frozen=True):
    """The URLs of one provider.  `api_base` has no trailing slash.  (URLs, not secrets: the
    `noqa: S106` marks below silence bandit's guess from the word "token".)"""

    provider: str
    auth_uri: str
    token_uri: str
    revoke_uri: str
    api_base: str
    introspect_uri: str | None = None

    @property
    def scopes(self) -> tuple[str, ...]:
        """The scopes heartkeep requests (and requires) from this provider."""
        return GOOGLE_SCOPES if self.provider == GOOGLE_HEALTH else FITBIT_SCOPES


def provider_name(alias: str) -> str:
    """`google` → `google-health`, `fitbit` → `fitbit-legacy`; full names pass through."""
    try:
        return PROVIDER_ALIASES[alias.strip().lower()]
    except KeyError:
        raise ConfigError(
            f"unknown provider {alias!r}", hint="Use --provider google or --provider fitbit."
        ) from None


def endpoints_for(provider: str, sandbox_url: str | None = None) -> ProviderEndpoints:
    """The endpoints of `provider`; with `sandbox_url`, every one of them points at the sandbox."""
    provider = provider_name(provider)
    if provider == GOOGLE_HEALTH:
        if sandbox_url:
            base = sandbox_url.rstrip("/")
            return ProviderEndpoints(
                provider=provider,
                auth_uri=f"{base}/o/oauth2/v2/auth",
                token_uri=f"{base}/token",
                revoke_uri=f"{base}/revoke",
                api_base=base,
            )
        return ProviderEndpoints(
            provider=provider,
            auth_uri="https://accounts.google.com/o/oauth2/v2/auth",
            token_uri="https://oauth2.googleapis.com/token",  # noqa: S106
            revoke_uri="https://oauth2.googleapis.com/revoke",
            api_base="https://health.googleapis.com",
        )
    if sandbox_url:
        base = sandbox_url.rstrip("/")
        return ProviderEndpoints(
            provider=provider,
            auth_uri=f"{base}/oauth2/authorize",
            token_uri=f"{base}/oauth2/token",
            revoke_uri=f"{base}/oauth2/revoke",
            api_base=base,
            introspect_uri=f"{base}/1.1/oauth2/introspect",
        )
    return ProviderEndpoints(
        provider=provider,
        auth_uri="https://www.fitbit.com/oauth2/authorize",
        token_uri="https://api.fitbit.com/oauth2/token",  # noqa: S106
        revoke_uri="https://api.fitbit.com/oauth2/revoke",
        api_base="https://api.fitbit.com",
        introspect_uri="https://api.fitbit.com/1.1/oauth2/introspect",
    )
