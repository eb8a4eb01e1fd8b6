"""Research studies: many participants, one engine (issue 13).

So far the webhook half: verify and parse Google Health notifications (`parse_keyset`,
`Keyset.verify`, `parse_notification`), merge bursts per participant (`Coalescer`), and the
endpoint `study serve` will mount (`webhook_app`).  See docs/webhooks.md.
"""

from __future__ import annotations

from heartkeep.study.coalesce import Coalescer, PendingSync
from heartkeep.study.keyset import (
    GOOGLE_KEYSET_URL,
    SIGNATURE_HEADER,
    Keyset,
    KeysetError,
    parse_keyset,
    signing_key_id,
)
from heartkeep.study.keyset_refresh import RefreshingKeyset, fetch_keyset_from
from heartkeep.study.notifications import (
    Interval,
    Notification,
    NotificationError,
    is_verification,
    parse_notification,
)
from heartkeep.study.webhook_app import DEFAULT_PATH, SignatureCheck, WebhookCounts, webhook_app

__all__ = [
    "DEFAULT_PATH",
    "GOOGLE_KEYSET_URL",
    "SIGNATURE_HEADER",
    "Coalescer",
    "Interval",
    "Keyset",
    "KeysetError",
    "Notification",
    "NotificationError",
    "PendingSync",
    "RefreshingKeyset",
    "SignatureCheck",
    "WebhookCounts",
    "fetch_keyset_from",
    "is_verification",
    "parse_keyset",
    "parse_notification",
    "signing_key_id",
    "webhook_app",
]
