"""The coordinator's HTML: login, the overview with its wear-time heatmap, one participant's
page with sync history and the withdraw button, and the audit trail.

Every value is escaped (`esc`); every form that changes something carries the session's CSRF
token.  The heatmap is a table whose cells are coloured by class (no inline style, no script:
the CSP allows neither).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from starlette.responses import HTMLResponse

from heartkeep.store.protocol import SyncRun
from heartkeep.study.coordinator_data import Overview, ParticipantStatus
from heartkeep.study.enrolment_tables import AuditRecord
from heartkeep.study.web_pages import esc, hidden, page

BASE = "/coordinator"
# Wear-time classes: none, < 6 h, < 12 h, < 18 h, 18 h or more.
_WEAR_STEPS = (1, 6 * 3600, 12 * 3600, 18 * 3600)


def when(instant_s: float | None) -> str:
    if instant_s is None:
        return "—"
    return dt.datetime.fromtimestamp(instant_s, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _nav(prefix: str, user: str, csrf: str) -> str:
    return (
        f'<nav><b>Study coordination</b><a href="{esc(prefix)}{BASE}/">Participants</a>'
        f'<a href="{esc(prefix)}{BASE}/audit">Audit trail</a>'
        f'<form method=post action="{esc(prefix)}{BASE}/logout">{hidden("csrf", csrf)}'
        f"<span class=note>{esc(user)}</span> <button type=submit>Log out</button></form></nav>"
    )


def login(
    study: str, action: str, *, problem: str | None = None, status: int = 200
) -> HTMLResponse:
    body = (
        f"<p class=study>{esc(study)}</p><h1>Coordinator login</h1>"
        + (f"<p class=warn>{esc(problem)}</p>" if problem else "")
        + f'<form method=post action="{esc(action)}">'
        "<label>User <input type=text name=user autocomplete=username required></label>"
        "<label>Password <input type=password name=password autocomplete=current-password "
        "required></label><button class=primary type=submit>Log in</button></form>"
    )
    return page(f"{study}: coordinator login", body, status=status)


def _hours(wear_s: int | None) -> str:
    return "—" if wear_s is None else f"{wear_s / 3600:.1f}"


def _wear_class(wear_s: int | None) -> int:
    if not wear_s:
        return 0
    return sum(1 for step in _WEAR_STEPS if wear_s >= step)


def _heatmap(view: Overview, prefix: str) -> str:
    head = "".join(
        f'<th class=num title="{esc(day.isoformat())}">{day.day}</th>' for day in view.days
    )
    rows = []
    for person in view.participants:
        if person.account_key is None:
            continue
        cells = []
        for day in view.days:
            wear = person.wear_s.get(day)
            hours = f"{(wear or 0) / 3600:.1f} h"
            cells.append(
                f'<td class="d w{_wear_class(wear)}" title="{esc(day.isoformat())}: {hours}">'
                f"{round((wear or 0) / 3600) or ''}</td>"
            )
        label = esc(person.label)
        link = f'<a href="{esc(prefix)}{BASE}/participants/{label}">{label}</a>'
        rows.append(f"<tr><th>{link}</th>{''.join(cells)}</tr>")
    if not rows:
        return "<p class=note>No participant is enrolled yet.</p>"
    legend = (
        "<p class=legend>Hours of wear per local day: <span class=w0>none</span>"
        "<span class=w1>under 6</span><span class=w2>6–12</span><span class=w3>12–18</span>"
        "<span class=w4>18 or more</span></p>"
    )
    return f"<table class=heat><tr><th>Participant</th>{head}</tr>{''.join(rows)}</table>{legend}"


def _status_row(person: ParticipantStatus, prefix: str) -> str:
    row = person.enrolment
    name = esc(person.label)
    if person.account_key is not None:
        name = f'<a href="{esc(prefix)}{BASE}/participants/{name}">{name}</a>'
    flags = ", ".join(person.flags)
    run = person.last_run
    link = person.reconnect or row  # the expiry of the link that is out, if any
    expires = "—" if link.enrolled_s else when(link.expires_s)
    return (
        f"<tr><td>{name}</td><td>{esc(person.shown_status)}</td>"
        f"<td>{esc(when(row.enrolled_s))}</td>"
        f"<td>{esc(when(person.last_sample_s))}</td>"
        f"<td>{esc(run.status if run else '—')} {esc(when(run.started_s) if run else '')}</td>"
        f"<td class=warn>{esc(flags)}</td>"
        f"<td class=note>{esc(expires)}</td></tr>"
    )


def overview(study: str, view: Overview, *, prefix: str, user: str, csrf: str) -> HTMLResponse:
    counts = ", ".join(f"{n} {status}" for status, n in sorted(view.counts.items())) or "none yet"
    attention = [p for p in view.participants if p.flags]
    rows = "".join(_status_row(p, prefix) for p in view.participants)
    quota = _quota(view)
    paging = ""
    if view.pages > 1:
        links = []
        for target, text in ((view.page - 1, "previous"), (view.page + 1, "next")):
            if 1 <= target <= view.pages:
                days = len(view.days)
                links.append(
                    f'<a href="{esc(prefix)}{BASE}/?page={target}&amp;days={days}">{text}</a>'
                )
        paging = f"<p>Page {view.page} of {view.pages} (by participant id): {' · '.join(links)}</p>"
    body = (
        f"<p class=study>{esc(study)}</p><h1>Participants</h1><p>Invitations: {esc(counts)}.</p>"
        + paging
        + "<h2>Needs attention</h2>"
        + (
            "<ul>"
            + "".join(
                f"<li><b>{esc(p.label)}</b>: {esc(', '.join(p.flags))}</li>" for p in attention
            )
            + "</ul>"
            if attention
            else "<p class=ok>Nothing: every enrolled participant's data is arriving"
            + (" (on this page)" if view.pages > 1 else "")
            + ".</p>"
        )
        + f"<h2>Wear time, last {len(view.days)} days</h2><p class=note>Local days "
        f"{esc(view.days[0].isoformat())} to {esc(view.days[-1].isoformat())} (today, so far)."
        " A blank cell is a day without any sample.</p>"
        + _heatmap(view, prefix)
        + "<h2>Everyone invited</h2><table><tr><th>Participant</th><th>Status</th>"
        "<th>Enrolled</th><th>Newest sample</th><th>Last sync</th><th>Flags</th>"
        f"<th>Invite expires</th></tr>{rows}</table>" + "<h2>Quota use</h2>" + quota
    )
    return page(f"{study}: participants", body, wide=True, nav=_nav(prefix, user, csrf))


def _quota(view: Overview) -> str:
    if view.quota is None:
        return (
            "<p class=note>Quota use is recorded by the task queue's workers; this database has "
            "no record of it yet (it appears here once the workers keep one).</p>"
        )
    if not view.quota:
        return "<p class=note>The task queue has charged nothing to the shared quotas yet.</p>"
    rows = "".join(
        f"<tr><td>{esc(b.name)}</td><td class=num>{b.taken:,}</td>"
        f"<td class=num>{b.available:,.0f} of {b.capacity:,.0f}</td>"
        f"<td class=num>{b.refill_per_s:,.2f}</td></tr>"
        for b in view.quota
    )
    return (
        "<p class=note>The project-wide budgets every worker spends from (Google's limits per "
        "OAuth client).</p><table><tr><th>Budget</th><th class=num>Charged so far</th>"
        f"<th class=num>Available now</th><th class=num>Refill per second</th></tr>{rows}</table>"
    )


def _runs(runs: Sequence[SyncRun]) -> str:
    if not runs:
        return "<p class=note>No sync has run for this participant yet.</p>"
    rows = "".join(
        f"<tr><td>{esc(when(r.started_s))}</td><td>{esc(when(r.finished_s))}</td>"
        f"<td>{esc(r.status)}</td><td class=num>{r.requests}</td>"
        f"<td class=num>{r.samples_added}</td><td class=num>{r.rate_limit_waits}</td>"
        f"<td class=wrap>{esc(r.error or '')}</td></tr>"
        for r in runs
    )
    return (
        "<table><tr><th>Started</th><th>Finished</th><th>Outcome</th><th class=num>Requests</th>"
        "<th class=num>Samples added</th><th class=num>Rate-limit waits</th><th>Error</th></tr>"
        f"{rows}</table>"
    )


def participant(
    study: str,
    person: ParticipantStatus,
    runs: Sequence[SyncRun],
    days_shown: Sequence[dt.date],
    *,
    prefix: str,
    user: str,
    csrf: str,
) -> HTMLResponse:
    row = person.enrolment
    days = "".join(
        f"<tr><td>{esc(day.isoformat())}</td>"
        f"<td class=num>{_hours(person.wear_s.get(day))}</td></tr>"
        for day in reversed(days_shown)
    )
    action = f"{prefix}{BASE}/participants/{person.label}/withdraw"
    body = (
        f"<p class=study>{esc(study)}</p><h1>Participant {esc(person.label)}</h1>"
        f"<table><tr><th>Account</th><td>{esc(person.account_key or '—')}</td></tr>"
        f"<tr><th>Consented</th><td>{esc(when(row.consent_s))}</td></tr>"
        f"<tr><th>Enrolled</th><td>{esc(when(row.enrolled_s))}</td></tr>"
        f"<tr><th>Backfill queued</th><td>{esc(when(row.backfill_queued_s))}</td></tr>"
        f"<tr><th>Status</th><td>{esc(person.shown_status)}</td></tr>"
        f"<tr><th>Newest sample</th><td>{esc(when(person.last_sample_s))}</td></tr>"
        f"<tr><th>Flags</th><td class=warn>{esc(', '.join(person.flags) or 'none')}</td></tr>"
        "</table>"
        + _reconnect_note(person)
        + "<h2>Sync history</h2>"
        + _runs(runs)
        + "<h2>Wear time by local day</h2>"
        + (f"<table><tr><th>Day</th><th class=num>Hours</th></tr>{days}</table>")
        + "<h2>Withdraw</h2><p>Withdrawal revokes the study's access at Google, deletes this "
        "participant's data and tokens, and keeps an audit record (who, when, what was "
        "deleted). It cannot be undone.</p>"
        f'<form method=post action="{esc(action)}">{hidden("csrf", csrf)}'
        "<label><input type=checkbox name=confirm value=yes required> I confirm the "
        "participant asked to withdraw</label>"
        "<button class=danger type=submit>Withdraw and delete</button></form>"
    )
    return page(f"{study}: {person.label}", body, wide=True, nav=_nav(prefix, user, csrf))


def _reconnect_note(person: ParticipantStatus) -> str:
    """What to do about a grant that is gone: a reconnect link keeps the data."""
    if person.grant is None or not person.grant.grant_gone or person.reconnect_state:
        return ""
    return (
        "<p class=note>Their access at Google is gone. To get it back and keep their data, "
        "send them a reconnect link: <b>heartkeep study invite --reconnect "
        f"{esc(person.label)}</b></p>"
    )


def audit(
    study: str, records: Sequence[AuditRecord], *, prefix: str, user: str, csrf: str
) -> HTMLResponse:
    rows = "".join(
        f"<tr><td>{esc(when(r.at_s))}</td><td>{esc(r.actor)}</td><td>{esc(r.action)}</td>"
        f"<td>{esc(r.label or '')}</td><td>{esc(r.account_key or '')}</td>"
        f"<td>{esc(r.details.get('grant', ''))}</td>"
        f"<td class=num>{esc(r.details.get('deleted', {}).get('samples', 0))}</td></tr>"
        for r in records
    )
    body = f"<p class=study>{esc(study)}</p><h1>Audit trail</h1>" + (
        "<table><tr><th>When</th><th>By</th><th>Action</th><th>Participant</th>"
        "<th>Account</th><th>Grant</th><th class=num>Samples deleted</th></tr>"
        f"{rows}</table>"
        if rows
        else "<p class=note>Nothing recorded yet.</p>"
    )
    return page(f"{study}: audit trail", body, wide=True, nav=_nav(prefix, user, csrf))


def message(
    study: str, title: str, text: str, *, prefix: str, user: str, csrf: str, status: int = 200
) -> HTMLResponse:
    body = f"<p class=study>{esc(study)}</p><h1>{esc(title)}</h1><p>{esc(text)}</p>" + (
        f'<p><a href="{esc(prefix)}{BASE}/">Back to the participants</a></p>'
    )
    return page(f"{study}: {title}", body, status=status, nav=_nav(prefix, user, csrf))
