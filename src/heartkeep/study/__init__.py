"""Research studies: many participants, one engine (issue 13).

The webhook half: verify and parse Google Health notifications (`parse_keyset`,
`Keyset.verify`, `parse_notification`), merge bursts per participant (`Coalescer`), and the
endpoint `study serve` mounts (`webhook_app`); see docs/webhooks.md.  The web half: the
enrolment and coordinator site (`study_app`), invite links (`create_invite`) and links that
reconnect an enrolled participant whose grant is gone (`create_reconnect_invite`), withdrawal
(`withdraw`) and the coordinator's password hash (`hash_password`); see docs/studies.md.
"""

from __future__ import annotations

from heartkeep.study.coalesce import Coalescer, PendingSync
from heartkeep.study.coordinator_auth import CoordinatorLogin, hash_password
from heartkeep.study.invites import Invite, create_invite
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
from heartkeep.study.reconnect import create_reconnect_invite
from heartkeep.study.web import study_app
from heartkeep.study.web_signing import new_signing_key
from heartkeep.study.webhook_app import DEFAULT_PATH, SignatureCheck, WebhookCounts, webhook_app
from heartkeep.study.withdrawal import WithdrawalReport, withdraw

__all__ = [
    "DEFAULT_PATH",
    "GOOGLE_KEYSET_URL",
    "SIGNATURE_HEADER",
    "Coalescer",
    "CoordinatorLogin",
    "Interval",
    "Invite",
    "Keyset",
    "KeysetError",
    "Notification",
    "NotificationError",
    "PendingSync",
    "RefreshingKeyset",
    "SignatureCheck",
    "WebhookCounts",
    "WithdrawalReport",
    "create_invite",
    "create_reconnect_invite",
    "fetch_keyset_from",
    "hash_password",
    "is_verification",
    "new_signing_key",
    "parse_keyset",
    "parse_notification",
    "signing_key_id",
    "study_app",
    "webhook_app",
    "withdraw",
]
