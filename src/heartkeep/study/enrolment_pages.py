"""What a participant sees: the consent page, the outcomes, and every way it can go wrong.

Each page says what happened and what to do next in words a participant understands; none
shows a heartkeep command, an exception or a token.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.responses import HTMLResponse

from heartkeep.study.web_pages import esc, hidden, page, paragraphs

_CONTACT = "Please contact the study team and ask for a new invitation link."

# What each required Google scope means to a participant.
SCOPE_WORDS = {
    "health_metrics_and_measurements.readonly": "your heart rate (health metrics)",
    "settings.readonly": "your settings (your time zone)",
    "profile.readonly": "your profile (the date you joined)",
}


def scope_words(scope: str) -> str:
    return SCOPE_WORDS.get(scope.rsplit("googlehealth.", 1)[-1], scope)


def _head(study: str, title: str) -> str:
    return f"<p class=study>{esc(study)}</p><h1>{esc(title)}</h1>"


def consent(
    study: str, consent_text: str, action: str, reconnecting: str | None = None
) -> HTMLResponse:
    """The study's consent text and the two choices; the form posts back to the invite.
    `reconnecting`: the participant's id when the invite reconnects an enrolled participant."""
    if reconnecting is None:
        head = _head(study, "Taking part in this study")
        intro = ""
        agree, refuse = "I agree, continue", "I do not wish to take part"
    else:
        head = _head(study, "Reconnecting your participation")
        intro = (
            f"<p>You already take part in this study as participant <b>{esc(reconnecting)}</b>"
            ", but the study can no longer read your data at Google (access was removed, or it "
            "has expired). Reconnecting keeps everything collected so far and lets the study "
            "collect again, starting where it stopped.</p><p>Please read the consent text again. "
            "Then sign in with <b>the same Google account</b> you used when you enrolled.</p>"
        )
        agree, refuse = "I agree, reconnect", "Not now"
    body = (
        head
        + intro
        + f"<div class=consent>{paragraphs(consent_text)}</div>"
        + f'<form method=post action="{esc(action)}">'
        + "<p>If you agree, you will next sign in with Google and allow the study to read your "
        "heart rate, time zone and profile. You can withdraw at any time.</p>"
        + f"<button class=primary type=submit name=decision value=accept>{agree}</button>"
        + f"<button type=submit name=decision value=decline>{refuse}</button>"
        + "</form>"
    )
    return page(f"{study}: consent", body)


def declined(study: str) -> HTMLResponse:
    body = _head(study, "Thank you") + (
        "<p>You have chosen not to take part. Your decision has been recorded and nothing "
        "was collected from you.</p><p>If you change your mind, the study team can send you a "
        "new invitation.</p>"
    )
    return page(f"{study}: thank you", body)


def thanks(study: str, label: str) -> HTMLResponse:
    body = _head(study, "You are enrolled — thank you") + (
        f"<p>Your account is connected to the study as participant <b>{esc(label)}</b>. "
        "Your heart-rate history will be collected over the next hours, and new data from "
        "then on. Keep wearing your watch and syncing it with the app as usual.</p>"
        "<p>You can withdraw at any time by telling the study team: your data is then "
        "deleted and access is removed. You can also remove access yourself in your Google "
        "account's security settings (Third-party connections).</p><p>You can close this "
        "page.</p>"
    )
    return page(f"{study}: enrolled", body)


def reconnect_declined(study: str, label: str) -> HTMLResponse:
    body = _head(study, "Nothing was changed") + (
        f"<p>You are still participant <b>{esc(label)}</b> and the data collected so far is "
        "kept, but the study cannot collect anything new until you reconnect. If you change "
        "your mind, ask the study team for a new link. To leave the study, tell the study "
        "team.</p>"
    )
    return page(f"{study}: not reconnected", body)


def reconnected(study: str, label: str) -> HTMLResponse:
    body = _head(study, "You are reconnected — thank you") + (
        f"<p>The study can read your heart rate again as participant <b>{esc(label)}</b>. "
        "Everything collected before is kept, and what your watch recorded while the "
        "connection was lost will be collected over the next hours. Keep wearing your watch "
        "and syncing it with the app as usual.</p><p>You can close this page.</p>"
    )
    return page(f"{study}: reconnected", body)


def other_account(study: str, label: str, retry_action: str) -> HTMLResponse:
    """Another Google account signed in than the enrolled one: nothing changed."""
    body = (
        _head(study, "A different Google account")
        + "<p>You signed in with a different Google account from the one taking part in the "
        f"study as participant <b>{esc(label)}</b>. Nothing was changed. Please try again and "
        "choose the Google account you used when you enrolled.</p>"
        + _retry(retry_action, "Try again")
        + "<p class=note>If you no longer have that account, tell the study team.</p>"
    )
    return page(f"{study}: different account", body, status=409)


def label_taken(study: str, label: str) -> HTMLResponse:
    """Another Google account completed an invite for this participant id first."""
    body = _head(study, "This participant is already enrolled") + (
        f"<p>Participant <b>{esc(label)}</b> is already enrolled in the study, with another "
        "Google account. Nothing was kept from this sign-in, and the study's access to this "
        "account was removed again.</p><p>If you are that participant and enrolled already, "
        "there is nothing more to do. Otherwise please tell the study team.</p>"
    )
    return page(f"{study}: already enrolled", body, status=409)


def invite_problem(study: str, problem: str) -> HTMLResponse:
    """The page for an invite that cannot be used, by `invites.Problem`."""
    title, text, status = {
        "invalid": (
            "This link does not work",
            "The invitation link is not valid: it may be "
            "incomplete (copy the whole link) or no longer in use. " + _CONTACT,
            404,
        ),
        "expired": (
            "This invitation has expired",
            "Invitation links work for a limited time. " + _CONTACT,
            410,
        ),
        "used": (
            "You are already enrolled",
            "This invitation has been used: the participant "
            "it was made for is enrolled. There is nothing more to do. If you did not "
            "enrol yourself, tell the study team.",
            410,
        ),
        "reconnected": (
            "You are reconnected",
            "This link has been used: your account is connected to the study again. There is "
            "nothing more to do.",
            410,
        ),
        "replaced": (
            "This link was replaced",
            "The study team sent you a newer link. Please use the newest link they sent; "
            "this one no longer works.",
            410,
        ),
        "declined": (
            "Your decision was recorded",
            "You chose not to take part with this "
            "invitation. If you have changed your mind, ask the study team for a new "
            "invitation.",
            410,
        ),
    }[problem]
    return page(f"{study}: {title}", _head(study, title) + f"<p>{esc(text)}</p>", status=status)


def _retry(action: str, label: str) -> str:
    return (
        f'<form method=post action="{esc(action)}">{hidden("decision", "accept")}'
        f"<button class=primary type=submit>{esc(label)}</button></form>"
    )


def scopes_missing(study: str, missing: Sequence[str], retry_action: str) -> HTMLResponse:
    """The participant unticked something the study needs: say what, and offer to retry."""
    items = "".join(f"<li>{esc(scope_words(scope))}</li>" for scope in missing)
    body = (
        _head(study, "One permission is missing" if len(missing) == 1 else "Permissions missing")
        + "<p>The study needs every permission it asked for, and Google did not grant "
        f"these:</p><ul>{items}</ul><p>Nothing was kept from this attempt. Please try again "
        "and leave every box ticked on Google's page.</p>" + _retry(retry_action, "Try again")
    )
    return page(f"{study}: permission missing", body, status=400)


def denied_at_google(study: str, retry_action: str) -> HTMLResponse:
    body = (
        _head(study, "Access was not allowed")
        + "<p>Google reports that access was not allowed, so the study received nothing. "
        "If this was a mistake, try again and choose <b>Allow</b> on Google's page.</p>"
        + _retry(retry_action, "Try again")
        + "<p class=note>If you do not wish to take part, you can simply close this page.</p>"
    )
    return page(f"{study}: not allowed", body, status=400)


def callback_problem(study: str, text: str, *, status: int = 400) -> HTMLResponse:
    body = _head(study, "This sign-in could not be completed") + f"<p>{esc(text)}</p>"
    return page(f"{study}: sign-in not completed", body, status=status)


def connect_failed(study: str, text: str, retry_action: str | None) -> HTMLResponse:
    body = (
        _head(study, "Your account could not be connected")
        + f"<p>{esc(text)}</p><p>Nothing was stored.</p>"
        + (_retry(retry_action, "Try again") if retry_action else "")
    )
    return page(f"{study}: not connected", body, status=502)
