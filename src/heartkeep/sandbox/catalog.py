"""The data types the Google Health API knows: path id, filter id, record kind, read scope.

Three are emulated with data (heart rate, daily resting heart rate, daily heart-rate zones); the
others are known so that the sandbox answers as the real API does — an empty list for a valid
type the user has no data of, 400 `INVALID_PARENT_DATA_TYPE_COLLECTION` for an unknown id or a
camelCase spelling, 403 when the token lacks the type's scope.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

RecordKind = Literal["sample", "interval", "daily", "session", "sleep", "rollup_only"]

SCOPE_PREFIX = "https://www.googleapis.com/auth/googlehealth."
HEALTH_METRICS_READ = SCOPE_PREFIX + "health_metrics_and_measurements.readonly"
ACTIVITY_READ = SCOPE_PREFIX + "activity_and_fitness.readonly"
SETTINGS_READ = SCOPE_PREFIX + "settings.readonly"
PROFILE_READ = SCOPE_PREFIX + "profile.readonly"
SLEEP_READ = SCOPE_PREFIX + "sleep.readonly"
NUTRITION_READ = SCOPE_PREFIX + "nutrition.readonly"

# The 20 googlehealth scopes of the discovery document (revision 20261030); any of them
# unlocks users.getIdentity.
ALL_GOOGLEHEALTH_SCOPES = frozenset(
    SCOPE_PREFIX + suffix
    for suffix in (
        "activity_and_fitness.readonly",
        "activity_and_fitness.writeonly",
        "ecg.readonly",
        "health_metrics_and_measurements.readonly",
        "health_metrics_and_measurements.writeonly",
        "irn.readonly",
        "location.readonly",
        "logged_symptoms.readonly",
        "logged_symptoms.writeonly",
        "mindfulness.readonly",
        "mindfulness.writeonly",
        "nutrition.writeonly",
        "profile.readonly",
        "profile.writeonly",
        "reproductive_health.readonly",
        "reproductive_health.writeonly",
        "settings.readonly",
        "settings.writeonly",
        "sleep.readonly",
        "sleep.writeonly",
    )
)
# Google Cloud's scope: what managing webhook subscribers needs (discovery's only scope for
# `projects.subscribers`); a study's administrator consents to it like any other scope.
CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"
# What the consent page accepts: the googlehealth scopes plus the OpenID basics, Google's
# legacy spelling of nutrition.readonly (listed in the scopes page, absent from discovery) and
# cloud-platform (webhook subscribers).
KNOWN_SCOPES = ALL_GOOGLEHEALTH_SCOPES | {
    CLOUD_PLATFORM,
    "openid",
    "email",
    "profile",
    "https://www.googleapis.com/auth/userinfo.email",
    "https://www.googleapis.com/auth/userinfo.profile",
    NUTRITION_READ,
}


@dataclass(frozen=True)
class DataType:
    """One data type: kebab-case in paths, snake_case in filters, camelCase in JSON."""

    path_id: str
    kind: RecordKind
    read_scope: str

    @property
    def filter_id(self) -> str:
        return self.path_id.replace("-", "_")

    @property
    def json_field(self) -> str:
        head, *rest = self.path_id.split("-")
        return head + "".join(word.capitalize() for word in rest)


def _types() -> dict[str, DataType]:
    table: list[tuple[str, RecordKind, str]] = [
        ("heart-rate", "sample", HEALTH_METRICS_READ),
        ("daily-resting-heart-rate", "daily", HEALTH_METRICS_READ),
        ("daily-heart-rate-zones", "daily", HEALTH_METRICS_READ),
        ("heart-rate-variability", "sample", HEALTH_METRICS_READ),
        ("daily-heart-rate-variability", "daily", HEALTH_METRICS_READ),
        ("oxygen-saturation", "sample", HEALTH_METRICS_READ),
        ("daily-oxygen-saturation", "daily", HEALTH_METRICS_READ),
        ("daily-respiratory-rate", "daily", HEALTH_METRICS_READ),
        ("respiratory-rate-sleep-summary", "sample", HEALTH_METRICS_READ),
        ("weight", "sample", HEALTH_METRICS_READ),
        ("height", "sample", HEALTH_METRICS_READ),
        ("body-fat", "sample", HEALTH_METRICS_READ),
        ("blood-glucose", "sample", HEALTH_METRICS_READ),
        ("core-body-temperature", "sample", HEALTH_METRICS_READ),
        ("daily-sleep-temperature-derivations", "daily", HEALTH_METRICS_READ),
        ("steps", "interval", ACTIVITY_READ),
        ("distance", "interval", ACTIVITY_READ),
        ("floors", "interval", ACTIVITY_READ),
        ("altitude", "interval", ACTIVITY_READ),
        ("active-energy-burned", "interval", ACTIVITY_READ),
        ("basal-energy-burned", "interval", ACTIVITY_READ),
        ("active-minutes", "interval", ACTIVITY_READ),
        ("active-zone-minutes", "interval", ACTIVITY_READ),
        ("activity-level", "interval", ACTIVITY_READ),
        ("sedentary-period", "interval", ACTIVITY_READ),
        ("time-in-heart-rate-zone", "interval", ACTIVITY_READ),
        ("swim-lengths-data", "interval", ACTIVITY_READ),
        ("calories-in-heart-rate-zone", "rollup_only", ACTIVITY_READ),
        ("total-calories", "rollup_only", ACTIVITY_READ),
        ("run-vo2-max", "sample", ACTIVITY_READ),
        ("vo2-max", "sample", ACTIVITY_READ),
        ("daily-vo2-max", "daily", ACTIVITY_READ),
        ("exercise", "session", ACTIVITY_READ),
        ("sleep", "sleep", SLEEP_READ),
        ("electrocardiogram", "session", SCOPE_PREFIX + "ecg.readonly"),
        ("irregular-rhythm-notification", "session", SCOPE_PREFIX + "irn.readonly"),
        ("food", "session", NUTRITION_READ),
        ("food-measurement-unit", "session", NUTRITION_READ),
        ("nutrition-log", "session", NUTRITION_READ),
        ("hydration-log", "session", NUTRITION_READ),
        ("menstrual-period", "session", SCOPE_PREFIX + "reproductive_health.readonly"),
        ("ovulation-test", "sample", SCOPE_PREFIX + "reproductive_health.readonly"),
        ("moods", "sample", SCOPE_PREFIX + "mindfulness.readonly"),
        ("symptoms", "sample", SCOPE_PREFIX + "logged_symptoms.readonly"),
    ]
    return {path_id: DataType(path_id, kind, scope) for path_id, kind, scope in table}


DATA_TYPES: dict[str, DataType] = _types()
DATA_TYPES_BY_FILTER_ID: dict[str, DataType] = {t.filter_id: t for t in DATA_TYPES.values()}

HEART_RATE = DATA_TYPES["heart-rate"]
DAILY_RESTING_HEART_RATE = DATA_TYPES["daily-resting-heart-rate"]
DAILY_HEART_RATE_ZONES = DATA_TYPES["daily-heart-rate-zones"]

# Filterable members per record kind and the literal each takes (AIP-160 subset of §3.2).
LiteralKind = Literal["timestamp", "civil", "date"]
FILTER_MEMBERS: dict[RecordKind, dict[str, LiteralKind]] = {
    "sample": {"sample_time.physical_time": "timestamp", "sample_time.civil_time": "civil"},
    "interval": {"interval.start_time": "timestamp", "interval.civil_start_time": "civil"},
    "daily": {"date": "date"},
    "session": {"interval.civil_start_time": "civil"},
    "sleep": {"interval.end_time": "timestamp", "interval.civil_end_time": "civil"},
    "rollup_only": {},
}
