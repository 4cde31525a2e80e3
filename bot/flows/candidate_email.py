"""Emails to a candidate: the invitation (when the recruiter gives their address), and a
decision or a reminder for a candidate who never opened Telegram.

Each is written in the candidate's language from the catalogues, as plain text and as HTML,
and recorded in the outbox (sent after commit, retried like every delivery; a refusal is told
in the candidate's review thread). Everything a person typed (the name, the opening, the
company, an opening's own decision wording) is escaped once, where the HTML is made, so a
name full of markup reads as itself.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot.flows import outgoing, texts
from bot.flows.conversation import candidate_zone
from storage.models import Candidate, Interview, Opening

# What hirebot sends to: one plain address, no display name, no list, no header tricks
# (RFC 5321's dot-atom local part and a domain of dot-separated labels).
_ADDRESS = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)
MAX_ADDRESS = 254  # RFC 5321's limit on a forward path; the column's size too


def is_address(text: str) -> bool:
    """Whether ``text`` is one email address hirebot may send to."""
    return len(text) <= MAX_ADDRESS and _ADDRESS.fullmatch(text) is not None


@dataclass(frozen=True)
class _Button:
    """A link shown as a button in HTML; ``fallback`` introduces the same link as text under
    it, for a client that strips links (plain text shows the label and the link only)."""

    label: str
    url: str
    fallback: str


@dataclass(frozen=True)
class _Letter:
    """One email to the candidate of ``interview``, read once: who, in which language, and
    the values every message of theirs fills in."""

    interview: Interview
    candidate: Candidate
    opening: Opening
    language: str
    values: dict[str, str]

    def deadline(self) -> str:
        zone = candidate_zone(self.candidate, self.opening)
        return texts.moment(self.language, self.interview.deadline_at, zone)


def _letter(session: Session, interview: Interview) -> _Letter | None:
    """The letter to the candidate of ``interview``; None when they gave no address."""
    candidate = session.get_one(Candidate, interview.candidate_id)
    if not candidate.email:
        return None
    opening = session.get_one(Opening, interview.opening_id)
    language = texts.language_for(candidate.language)
    return _Letter(interview, candidate, opening, language, _values(language, candidate, opening))


def invite(session: Session, interview_id: int, link: str, now: datetime) -> bool:
    """Email the invitation with its Telegram deep ``link`` to the candidate's address, if
    the recruiter gave one; True when an email was recorded."""
    letter = _letter(session, session.get_one(Interview, interview_id))
    if letter is None:
        return False
    language, values = letter.language, letter.values
    paragraphs = [
        texts.text(language, "email.greeting", **values),
        texts.text(language, "email.invite.intro", deadline=letter.deadline(), **values),
        texts.text(language, "email.invite.expect"),
    ]
    button = _Button(
        texts.text(language, "email.invite.button"), link, texts.text(language, "email.invite.link")
    )
    _send(
        session,
        letter,
        subject=texts.text(language, "email.invite.subject", **values),
        paragraphs=paragraphs,
        button=button,
        after=[texts.text(language, "email.invite.only_you")],
        now=now,
    )
    return True


def reminder(session: Session, interview: Interview, now: datetime) -> bool:
    """The automatic "not started" reminder by email, for a candidate who never opened the
    invitation (Telegram cannot reach them); False when they gave no address. It points to
    the invitation email: the deep link's token is not kept, so it cannot be sent again."""
    letter = _letter(session, interview)
    if letter is None:
        return False
    language, values = letter.language, letter.values
    _send(
        session,
        letter,
        subject=texts.text(language, "email.remind.subject", **values),
        paragraphs=[
            texts.text(language, "email.greeting", **values),
            texts.text(language, "email.remind.not_started", deadline=letter.deadline(), **values),
        ],
        now=now,
    )
    return True


def decision(session: Session, interview: Interview, message: str, now: datetime) -> bool:
    """Email a decision ``message`` (advanced, rejected) to a candidate who never opened
    Telegram; False when they gave no address either."""
    letter = _letter(session, interview)
    if letter is None:
        return False
    _send(
        session,
        letter,
        subject=texts.text(letter.language, "email.decision.subject", **letter.values),
        paragraphs=[p for p in message.split("\n\n") if p.strip()],
        now=now,
    )
    return True


def _values(language: str, candidate: Candidate, opening: Opening) -> dict[str, str]:
    company = opening.company.strip()
    return {
        "name": candidate.name.split()[0],
        "opening": opening.title,
        "at_company": texts.text(language, "at_company", company=company) if company else "",
    }


def _send(
    session: Session,
    letter: _Letter,
    *,
    subject: str,
    paragraphs: Sequence[str],
    button: _Button | None = None,
    after: Sequence[str] = (),
    now: datetime,
) -> None:
    candidate, interview, language = letter.candidate, letter.interview, letter.language
    assert candidate.email is not None and interview.id is not None
    closing = f"{texts.text(language, 'email.sign_off')}\n"
    closing += letter.opening.company or letter.opening.title
    text_parts = list(paragraphs)
    if button is not None:
        text_parts.append(f"{button.label}:\n{button.url}")
    text_parts += after
    text_parts.append(closing)
    outgoing.email(
        session,
        to=candidate.email,
        subject=" ".join(subject.split()),  # one line, whatever a title held
        text="\n\n".join(text_parts) + "\n",
        html=_html(language, paragraphs, button, after, closing),
        interview_id=interview.id,
        now=now,
    )


def _html(
    language: str,
    paragraphs: Sequence[str],
    button: _Button | None,
    after: Sequence[str],
    closing: str,
) -> str:
    """A plain, inline-styled HTML body (mail clients drop style sheets); the link looks like
    a button and is repeated as text under it for clients that strip links."""
    body = [_paragraph(p) for p in paragraphs]
    if button is not None:
        url = html.escape(button.url, quote=True)
        body.append(
            '<p style="margin:24px 0"><a href="' + url + '" style="background:#229ED9;'
            "color:#ffffff;padding:12px 20px;border-radius:6px;text-decoration:none;"
            'font-weight:bold;display:inline-block">' + html.escape(button.label) + "</a></p>"
        )
        body.append(
            f'<p style="color:#555555;font-size:13px">{html.escape(button.fallback)}<br>'
            f'<a href="{url}" style="color:#229ED9">{url}</a></p>'
        )
    body += [f'<p style="color:#555555;font-size:13px">{_lines(p)}</p>' for p in after]
    body.append(_paragraph(closing))
    return (
        f'<!DOCTYPE html>\n<html lang="{html.escape(language)}"><head><meta charset="utf-8">'
        "</head>\n"
        '<body style="font-family:Helvetica,Arial,sans-serif;font-size:15px;'
        'line-height:1.5;color:#222222;max-width:560px">\n' + "\n".join(body) + "\n</body></html>\n"
    )


def _paragraph(text: str) -> str:
    return f"<p>{_lines(text)}</p>"


def _lines(text: str) -> str:
    return "<br>".join(html.escape(line) for line in text.splitlines())
