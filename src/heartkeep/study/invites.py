"""Per-participant invite links: signed, single-use, expiring.

`create_invite` (what `heartkeep study invite` calls) makes a row in `study_enrolment` and the
link `BASE/enrol/TOKEN`.  TOKEN is `nonce~expires_s` signed with the study's signing key
(`web_signing.Signer`), so a made-up or altered link is refused without a database lookup, and
an expired one is recognised from the link alone.  The row decides the rest: a link works until
its participant has enrolled or declined (single use), or a newer invite for the same label
replaced it, never after its expiry.

`check_invite` says which, so the web page can tell the participant what to do instead of
showing an error: ask the study team for a new link (expired, unknown), nothing (already
enrolled, or reconnected), or that their decision was recorded (declined).  Reconnect invites
(`reconnect.py`) are links of the same kind, on rows that name the enrolled row they restore.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from heartkeep.clock import Clock
from heartkeep.errors import UsageError
from heartkeep.study import enrolment_tables as tables
from heartkeep.study.web_signing import Signer, random_token

if TYPE_CHECKING:
    import psycopg

    from heartkeep.store.postgres import PostgresStore

DEFAULT_VALID_FOR_S = 14 * 86_400
ENROL_PATH = "/enrol/"
_PURPOSE = "invite"
_LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}")

Problem = Literal["invalid", "expired", "used", "declined", "reconnected", "replaced"]


@dataclass(frozen=True, slots=True)
class Invite:
    """A link to send to one participant."""

    label: str
    url: str
    expires_s: int
    invite_id: int
    reconnect: bool = False  # a reconnect invite for an enrolled participant (`reconnect.py`)


@dataclass(frozen=True, slots=True)
class InviteCheck:
    """What a presented invite token turned out to be: its row, or why it cannot be used."""

    enrolment: tables.Enrolment | None
    problem: Problem | None


def invite_token(signer: Signer, nonce: str, expires_s: int) -> str:
    """The link's last path segment for the invite `nonce` (the same every time: deterministic)."""
    return signer.sign(_PURPOSE, f"{nonce}~{expires_s}")


def invite_url(public_base_url: str, token: str) -> str:
    return public_base_url.rstrip("/") + ENROL_PATH + token


def create_invite(
    store: PostgresStore,
    label: str,
    *,
    signing_key: str,
    public_base_url: str,
    clock: Clock,
    valid_for_s: int = DEFAULT_VALID_FOR_S,
) -> Invite:
    """A new single-use invite link for participant `label` (the study's own id for them,
    e.g. `P-017`; letters, digits and `_.:-`, at most 64), valid for `valid_for_s` seconds.

    An older plain invite of `label` not used yet stops working (`replaced`; its page says to
    use the newest link): one live link per label, so two Google accounts cannot both enrol
    as the same participant (the first e-mail got lost, the second came, both were opened).

    Raises `UsageError` (exit 2) for a malformed label or a participant already enrolled.
    """
    check_label(label, valid_for_s)
    signer = Signer(signing_key)
    conn = tables.connection(store)
    tables.ensure_tables(conn)
    now_s = int(clock.now_s())
    with store.transaction():
        # First, so that a completion under way on an older link ends before the check.
        tables.replace_pending_invites(conn, label)
        if tables.enrolled(conn, label) is not None:
            raise UsageError(
                f"participant {label} is already enrolled",
                hint="If their Google access is gone, send a reconnect link, which keeps their "
                f"data: `heartkeep study invite --reconnect {label}`.  To enrol them afresh, "
                "withdraw them first (`heartkeep study withdraw`, which deletes their data).",
            )
        row = tables.insert_invite(conn, label, random_token(), now_s, now_s + valid_for_s)
    token = invite_token(signer, row.nonce, row.expires_s)
    return Invite(label, invite_url(public_base_url, token), row.expires_s, row.invite_id)


def check_label(label: str, valid_for_s: int) -> None:
    """`UsageError` (exit 2) for a label that cannot be a participant's id, or no validity."""
    if not _LABEL.fullmatch(label):
        raise UsageError(
            f"{label!r} is not a usable participant id",
            hint="Use letters, digits and _ . : - (at most 64, starting with a letter or digit).",
        )
    if valid_for_s <= 0:
        raise UsageError("an invite must be valid for a positive time")


def check_invite(
    conn: psycopg.Connection[Any],
    signer: Signer,
    token: str,
    now_s: float,
    *,
    lock: bool = False,
) -> InviteCheck:
    """The invite behind `token` if it can still be used (`invited`, or `consented` with the
    OAuth step to finish or retry), else the reason it cannot."""
    payload = signer.unsign(_PURPOSE, token)
    if payload is None:
        return InviteCheck(None, "invalid")
    nonce, _, expires = payload.partition("~")
    if not expires.isdigit():
        return InviteCheck(None, "invalid")
    enrolment = tables.by_nonce(conn, nonce, lock=lock)
    if enrolment is None:
        return InviteCheck(None, "invalid")  # withdrawn, or another study's link
    if enrolment.status == tables.ENROLLED:
        return InviteCheck(enrolment, "used")
    if enrolment.status == tables.DECLINED:
        return InviteCheck(enrolment, "declined")
    if enrolment.status == tables.RECONNECTED:
        return InviteCheck(enrolment, "reconnected")
    if enrolment.status == tables.REPLACED:
        return InviteCheck(enrolment, "replaced")
    if now_s >= min(enrolment.expires_s, int(expires)):
        return InviteCheck(enrolment, "expired")
    if enrolment.reconnect_of is None and tables.enrolled_as(conn, enrolment.label) is not None:
        # Another link of the label enrolled first (one made before invites replaced each
        # other, or a race lost at the callback): this one can only be refused at the end.
        return InviteCheck(enrolment, "used")
    return InviteCheck(enrolment, None)
