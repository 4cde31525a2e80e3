"""What a candidate is told about a decision: the opening's own wording, or the default text.

An opening may override any of ``KEYS`` (openings YAML ``candidate_messages``); a template
may use only ``PLACEHOLDERS``. The candidate's language applies to the defaults only: an
opening's own wording is the team's, in the language the team wrote it in, so its
``{deadline}`` is written in the opening's language (English where it names none). Either way
the deadline is in the candidate's time zone.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum

from sqlmodel import Session

from bot.flows import candidate_email, outgoing, texts
from bot.flows.conversation import candidate_zone
from storage.models import Candidate, Interview, Opening

KEYS = ("advanced", "rejected", "extension_approved", "extension_denied")
PLACEHOLDERS = ("name", "opening", "stage", "deadline")


def check_template(key: str, template: str) -> None:
    """Raise ValueError naming the problem if ``template`` cannot be used for ``key``."""
    if key not in KEYS:
        raise ValueError(f"unknown message '{key}'; the messages are {', '.join(KEYS)}")
    try:
        template.format(**{p: p for p in PLACEHOLDERS})
    except (KeyError, IndexError, ValueError) as err:
        raise ValueError(
            f"message '{key}' uses an unknown placeholder ({err}); "
            f"placeholders are {', '.join('{' + p + '}' for p in PLACEHOLDERS)}"
        ) from err


def render(
    session: Session,
    interview: Interview,
    key: str,
    *,
    stage: str = "",
    deadline: datetime | None = None,
) -> str:
    opening = session.get_one(Opening, interview.opening_id)
    candidate = session.get_one(Candidate, interview.candidate_id)
    template = opening.candidate_messages.get(key)
    language = texts.language_for(opening.language if template else candidate.language)
    zone = candidate_zone(candidate, opening)
    values = {
        "name": candidate.name.split()[0],
        "opening": opening.title,
        "stage": stage,
        "deadline": texts.moment(language, deadline, zone) if deadline else "",
    }
    if template:
        return template.format(**values)
    return texts.text(language, key, **values)


class Told(Enum):
    """How the candidate was told; false only when they could not be."""

    TELEGRAM = "on Telegram"
    EMAIL = "by email"
    NOBODY = "not told"

    def __bool__(self) -> bool:
        return self is not Told.NOBODY

    def in_thread(self) -> str:
        """The sentence the review thread reads after the decision."""
        match self:
            case Told.TELEGRAM:
                return "They were told on Telegram."
            case Told.EMAIL:
                return "They were told by email (they never opened Telegram)."
            case Told.NOBODY:
                return (
                    "They could not be told: they never opened Telegram and no email address "
                    "was given."
                )


def tell(session: Session, interview: Interview, message: str, now: datetime) -> Told:
    """Send ``message`` to the candidate: on Telegram once they opened their invitation,
    else by email to the address the recruiter gave; NOBODY when there is neither."""
    candidate = session.get_one(Candidate, interview.candidate_id)
    if candidate.telegram_chat_id is not None:
        outgoing.to_candidate(session, candidate.telegram_chat_id, message, now)
        return Told.TELEGRAM
    if candidate_email.decision(session, interview, message, now):
        return Told.EMAIL
    return Told.NOBODY
