"""When a platform will not take a message: what waits, who is told, when to give up.

A message that cannot be delivered never wedges its conversation in silence. The delivery
worker (bot.delivery) calls one of these after each failed attempt, in one transaction with
the row's new state, so the recruiters are told exactly once per problem:

- the bot may not post in a review channel (not invited, private, archived): the row and
  those behind it wait; the recruiters get one DM per channel problem saying how to fix it;
  inviting the bot releases them all at once (or a later retry finds the channel open);
- Slack or Telegram keeps failing: the row is retried for as long as it takes, and the
  recruiters are told once it has been tried ``REPORT_AFTER_ATTEMPTS`` times;
- the platform refuses the message for good (``invalid_blocks``, ``msg_too_long``), or it
  fails in a way hirebot does not understand ``MAX_ATTEMPTS`` times: it is marked failed and
  the first such row of a review thread is reported.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from sqlmodel import Session

from bot.errors import NotFound
from bot.flows import escaping, outgoing, roles, threads
from bot.limits import DeliveryLimit
from storage import channel_problems, outbox
from storage.models import Interview, Opening, OutboxMessage

log = logging.getLogger(__name__)

# Slack's error → what a person does about it. Every fix ends with the bot able to post.
_ADVICE = {
    "not_in_channel": (
        "I can't post in <#{channel}>: I'm not a member of it. Please type "
        "`/invite @hirebot` in <#{channel}>."
    ),
    "channel_not_found": (
        "I can't find the review channel `{channel}`: it is private and I'm not in it, or it "
        "no longer exists. If it exists, please type `/invite @hirebot` in it; if not, give "
        "the opening another review channel."
    ),
    "is_archived": (
        "I can't post in <#{channel}>: it is archived. Please unarchive it (or give the "
        "opening another review channel)."
    ),
}
_WAITING = (
    " Candidates' cards and answers for it wait, in order, and follow by themselves once I can "
    "post there; nothing is lost."
)


def channel_unavailable(
    session: Session,
    *,
    row_id: int,
    channel: str,
    problem: str,
    retry_at: datetime,
    recruiters: Iterable[str],
    now: datetime,
) -> bool:
    """Park the row until hirebot may post in ``channel``; True if the recruiters were told.

    The row stays pending, so the rest of its conversation waits behind it, in order.
    """
    outbox.wait_for_channel(
        session, row_id, channel=channel, at=retry_at, error=f"waiting for {channel}: {problem}"
    )
    if not channel_problems.report_once(session, channel, problem, now):
        return False  # told already: not once per row, nor on every retry
    advice = _ADVICE.get(problem, "I can't post in <#{channel}> (Slack said `" + problem + "`).")
    _tell_recruiters(session, recruiters, advice.format(channel=channel) + _WAITING, now)
    return True


def channel_available(session: Session, *, channel: str, now: datetime) -> int:
    """hirebot was invited to ``channel`` (or a post there went through): every message
    waiting for it is due now. How many were waiting."""
    channel_problems.resolve(session, channel)
    return outbox.release_channel(session, channel, now)


def retry_later(
    session: Session,
    *,
    row_id: int,
    ordering_key: str,
    attempts: int,
    retry_at: datetime,
    error: str,
    rate_limited: bool,
    recruiters: Iterable[str],
    now: datetime,
) -> bool:
    """Try again at ``retry_at``; True if this attempt was the one that makes it worth
    telling the recruiters: the first row of an outage to be tried ``REPORT_AFTER_ATTEMPTS``
    times (it keeps being retried; they are not told again)."""
    outbox.mark_retry(session, row_id, at=retry_at, error=error)
    times = DeliveryLimit.REPORT_AFTER_ATTEMPTS
    if rate_limited or attempts + 1 != times or not _reported(ordering_key):
        return False  # a rate limit is the platform pacing us, not a failure
    about = _email_about(session, row_id) if outgoing.to_an_address(ordering_key) else None
    if about is not None:
        # Each candidate's team learns their email is late (the recruiters, once, why).
        _note_in_thread(
            session,
            about,
            f"The email to {_email_to_whom(session, row_id)} has failed {attempts + 1} times "
            f"({escaping.mrkdwn(error)}). "
            "I keep trying: it goes out once the mail server takes it.",
            now,
        )
    if outbox.others_tried(session, row_id, times):
        return False  # one outage, one report: not one per conversation it holds up
    _tell_recruiters(
        session,
        recruiters,
        f"{_what(session, ordering_key, row_id)} has failed {attempts + 1} times ({error}). "
        "I keep trying, in order, and nothing behind it is lost.",
        now,
    )
    return True


def give_up_now(attempts: int, *, understood: bool) -> bool:
    """Whether a row that just failed again is given up: only one that fails in a way
    hirebot does not understand, and only after ``MAX_ATTEMPTS`` (a platform that is down
    delays messages, it loses none)."""
    return not understood and attempts + 1 >= DeliveryLimit.MAX_ATTEMPTS


def give_up(
    session: Session,
    *,
    row_id: int,
    ordering_key: str,
    error: str,
    recruiters: Iterable[str],
    now: datetime,
) -> bool:
    """Mark the row failed (the rest of its conversation goes on); True if the recruiters
    were told: the first failure of a review thread is reported, later ones follow from it."""
    outbox.mark_failed(session, row_id, error)
    if outgoing.to_an_address(ordering_key):  # never to be sent: its link need not be kept
        outbox.forget_fields(session, row_id, outgoing.EMAIL_BODIES)
    if not _reported(ordering_key) or outbox.failed_before(session, row_id, ordering_key):
        return False
    if outgoing.to_an_address(ordering_key) and _email_about(session, row_id) is not None:
        return False  # told in the candidate's thread (email_refused), where it belongs
    _tell_recruiters(
        session,
        recruiters,
        f"{_what(session, ordering_key, row_id)} could not be delivered and I gave up on it "
        f"({error}). "
        "The interview itself goes on.",
        now,
    )
    return True


def email_refused(
    session: Session,
    *,
    interview_id: int,
    reason: str,
    now: datetime,
    server_said: str | None = None,
    to_whom: str | None = None,
) -> None:
    """An email about a candidate was refused for good (a bad address, a full mailbox, no
    SMTP set up): the team reads why in the candidate's thread, and can reach them otherwise.
    ``server_said``: the recipient's server's refusal (a 5xx), without the address; else
    ``reason`` says why it could not be sent. ``to_whom``: who the thread calls the
    recipient (an interviewer's calendar invitation: "<@U…>"); the candidate by default."""
    whom = to_whom or "the candidate"
    _note_in_thread(
        session,
        interview_id,
        f"The email to {whom} was refused by their mail server: "
        f"{escaping.mrkdwn(server_said)}. Please check the address, or reach them another way."
        if server_said is not None
        else f"An email to {whom} could not be sent ({escaping.mrkdwn(reason)}).",
        now,
    )


def _note_in_thread(session: Session, interview_id: int, text: str, now: datetime) -> None:
    try:
        post = threads.parent(session, interview_id)
    except NotFound:
        return  # erased meanwhile, or never posted: nobody to tell there
    assert post.id is not None
    outgoing.to_thread(
        session, interview_id=interview_id, review_post_id=post.id, text=text, now=now
    )


def _reported(ordering_key: str) -> bool:
    # Not a team member's own DMs: a report about a failed DM is itself a DM.
    return (
        outgoing.interview_of(ordering_key) is not None
        or outgoing.to_a_candidate(ordering_key)
        or outgoing.to_an_address(ordering_key)
    )


def _what(session: Session, ordering_key: str, row_id: int) -> str:
    if outgoing.to_an_address(ordering_key):
        about = _email_about(session, row_id)  # never the address: recruiters read this
        return "An email" if about is None else "An email " + _about(session, about)
    interview_id = outgoing.interview_of(ordering_key)
    if interview_id is None:
        return "A message to a candidate on Telegram"
    return "A message " + _about(session, interview_id)


def _email_about(session: Session, row_id: int) -> int | None:
    """The interview an email row is about (its payload names it), if any."""
    row = session.get(OutboxMessage, row_id)
    about = row.payload.get("interview_id") if row is not None else None
    return about if isinstance(about, int) else None


def _email_to_whom(session: Session, row_id: int) -> str:
    """Who the thread calls an email's recipient: an interviewer ("<@U…>", their calendar
    invitation) where the row says so, else the candidate."""
    row = session.get(OutboxMessage, row_id)
    whom = row.payload.get("to_whom") if row is not None else None
    return whom if isinstance(whom, str) and whom else "the candidate"


def _about(session: Session, interview_id: int) -> str:
    interview = session.get(Interview, interview_id)
    opening = session.get(Opening, interview.opening_id) if interview is not None else None
    if opening is None:
        return f"about candidate #{interview_id}"
    return (
        f"about candidate #{interview_id} ({escaping.mrkdwn(opening.title)}) "
        f"in <#{opening.review_channel}>"
    )


def _tell_recruiters(session: Session, recruiters: Iterable[str], text: str, now: datetime) -> None:
    told = roles.everyone(session, recruiters)
    if not told:
        log.warning("a delivery problem needs a recruiter, and none is configured")
    for user in told:
        outgoing.to_team_member(session, user, text, now)
