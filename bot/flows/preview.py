"""A recruiter tries an opening as a candidate would (``/hire preview <opening>``).

The preview is the real interview: the same deep link, consent, intro clips, questions,
recordings and transcripts. What differs is where it goes and what it counts for: the card
and every answer go to the recruiter's DM with the app instead of the review channel; it
counts in no stats, status, export or Home (``Interview.preview``, filtered in
bot.flows.reports); its audit events say ``preview``, so nothing that reads the trail tells
an ATS or a webhook; and retention erases it PreviewLimit.KEPT_HOURS after it began
(bot.flows.retention), the same way a candidate is erased.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlmodel import Session

from bot.flows import escaping, interview, review
from bot.flows.interview import Invitation
from bot.flows.openings import opening_named
from bot.limits import PreviewLimit
from storage.models import Interview


def start(
    session: Session,
    *,
    opening_slug: str,
    recruiter: str,
    name: str | None,
    direct_channel: str,
    now: datetime,
) -> Invitation:
    """A preview of the opening for ``recruiter``; its thread is in ``direct_channel``."""
    opening = opening_named(session, opening_slug)
    invitation = interview.invite(
        session,
        opening_slug=opening.slug,
        candidate_name=name or "Preview",
        invited_by=recruiter,
        now=now,
        preview_in=direct_channel,
    )
    review.note_in_thread(
        session,
        session.get_one(Interview, invitation.interview_id),
        f"👀 Your preview of *{escaping.mrkdwn(opening.title)}*: your answers appear here as "
        f"they would in <#{opening.review_channel}>, and nowhere else. It counts in no stats "
        f"or export, and it is deleted {PreviewLimit.KEPT_HOURS} hours from now.",
        now,
    )
    return invitation


def reply(invitation: Invitation, deep_link: Callable[[str], str]) -> str:
    """What the recruiter reads after ``/hire preview``: their own link and what it does."""
    return (
        f"Your preview of *{escaping.mrkdwn(invitation.opening)}* "
        f"(#{invitation.interview_id}): open this link in *your own* Telegram and answer as "
        f"a candidate would:\n{deep_link(invitation.token)}\n"
        "Your answers and their transcripts come to our DM, not to the review channel; the "
        f"preview counts in no stats or export and is deleted after {PreviewLimit.KEPT_HOURS} "
        "hours."
    )
