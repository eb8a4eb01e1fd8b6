"""CLI commands: `heartkeep study invite` and `heartkeep study withdraw` — a participant's way
into the study and out of it (docs/studies.md).

A skin over `heartkeep.api_study`, as `cli/study.py` is; split from it by job (that module had
grown past 400 lines).  `register` adds the commands to the `study` group, where
`cli/study.py` calls it: after `doctor`, so `heartkeep study --help` lists them in the order
a study is run.
"""

from __future__ import annotations

from typing import Annotated

import typer

from heartkeep.cli import render
from heartkeep.cli.study_options import ConfigOption, JsonOption, when


def invite(
    participants: Annotated[
        list[str], typer.Argument(help="The study's own id of each participant (e.g. P-017).")
    ],
    config: ConfigOption = None,
    valid_days: Annotated[
        int | None,
        typer.Option(
            "--valid-days",
            min=1,
            max=365,
            help="Days the link works (default: the config's, 14; at most 365).",
        ),
    ] = None,
    reconnect: Annotated[
        bool,
        typer.Option(
            "--reconnect",
            help="Links for enrolled participants whose Google access is gone: they sign in "
            "again with the same Google account and keep their data.",
        ),
    ] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="With --reconnect: make the link although no loss of the participant's grant "
            "is recorded (they removed the study's access and no sync has noticed yet).",
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Make a personal invite link for each participant: signed, single use, expiring.  Send
    each link to its participant only; it leads to the consent page and Google's sign-in.

    With --reconnect, for an enrolled participant whose grant is gone (revoked,
    consent_scope_missing, no_refresh_token, or no tokens stored: `study status` shows it),
    the link reconnects them instead: the new tokens replace the old, their data is kept, and
    the next sync fetches what was missed.  Only the Google account they enrolled with is
    accepted; a new link replaces an earlier reconnect link.

    Exit codes: 2 a malformed id, a plain invite for someone enrolled, or --reconnect for a
    participant whose grant works (add --force if you know it is gone); 10 --reconnect for
    someone not enrolled (unknown, withdrawn, or their invite not finished: send a plain
    invite).  No link is made at all when one id is refused."""
    from heartkeep import api_study

    invites = api_study.invite(
        api_study.study_config(config),
        participants,
        valid_days=valid_days,
        reconnect=reconnect,
        force=force,
    )
    if as_json:
        render.print_json(
            [
                {
                    "participant": i.label,
                    "url": i.url,
                    "expires_s": i.expires_s,
                    "reconnect": i.reconnect,
                }
                for i in invites
            ]
        )
        return
    for made in invites:
        kind = "  reconnect" if made.reconnect else ""
        render.address(f"{made.label}{kind}  {made.url}  (until {when(made.expires_s)} UTC)")


def withdraw(
    participant: Annotated[
        str, typer.Argument(help="The participant's study id (as invited) or account key.")
    ],
    config: ConfigOption = None,
    no_revoke: Annotated[
        bool,
        typer.Option(
            "--no-revoke",
            help="Do not ask Google to revoke the grant (it is known to be gone already).",
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Withdraw a participant: revoke the study's access at Google, delete all their data and
    tokens, and keep an audit record (who, when, what was deleted; no heart-rate data)."""
    from heartkeep import api_study

    report = api_study.withdraw(
        api_study.study_config(config), participant, revoke=not no_revoke, actor="cli"
    )
    if as_json:
        render.print_json(
            {
                "participant": report.label,
                "account_key": report.account_key,
                "grant": report.revoked,
                "audit_id": report.audit_id,
                "details": report.details,
            }
        )
        return
    deleted = report.details.get("deleted") or {}
    what = ", ".join(f"{count:,} {name}" for name, count in deleted.items() if count)
    render.line(
        f"Withdrew {report.label}: grant {report.revoked}; deleted {what or 'nothing stored'}; "
        f"audit record {report.audit_id}."
    )


def register(group: typer.Typer) -> None:
    """Add `invite` and `withdraw` to the `study` group."""
    group.command("invite")(invite)
    group.command("withdraw")(withdraw)
