"""Erasure: everything hirebot holds or posted that identifies a candidate, gone.

A person may have several interviews (two openings, a re-invite): erasure covers every
interview whose candidate shares their Telegram account or their email.

Gone: recordings (here and in Slack), answers, transcripts, the name, email and Telegram ids,
teammates' notes as we stored them, scorers' notes, decision reasons, every outbox row that
carries the name, email or words (under any key, delivered or not), the bot's replies in the
review thread, and the direct messages and exports that named them. What stays is what keeps
the hiring process honest without identifying anyone: the interview row (withdrawn, its
timestamps for stats), votes and score numbers, and the card, which now says "withdrawn".
Teammates' own replies in the thread cannot be deleted by a bot: they are listed for the team.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, delete, func, or_, select

from bot.flows import (
    audit,
    booking,
    escaping,
    invitations,
    outgoing,
    questions,
    relay,
    review,
    threads,
)
from bot.flows.lifecycle import Event, move
from bot.flows.pipeline import find_interview
from bot.flows.ports import CandidateCard, Posted
from storage import answer_media, inbox, interviews, outbox
from storage.db import request_scrub
from storage.models import (
    Answer,
    Candidate,
    Comment,
    Decision,
    Interview,
    InterviewStatus,
    OutboxMessage,
    OutboxStatus,
    Score,
    SharedCopy,
    ShareLink,
)


@dataclass(frozen=True)
class Erased:
    interview_ids: tuple[int, ...]
    # Teammate → their replies in the review threads, which stay (a bot cannot delete them).
    replies_left: dict[str, int]

    def replies_line(self) -> str:
        if not self.replies_left:
            return ""
        who = ", ".join(f"{n} by <@{user}>" for user, n in sorted(self.replies_left.items()))
        return (
            f" Teammates' replies in the review thread stay ({who}): a bot cannot delete them, "
            "so please delete them yourselves if they identify the candidate."
        )


def person_of(session: Session, interview: Interview) -> list[Interview]:
    """Every interview of the person ``interview`` belongs to that is not erased yet, locked.

    The same person: the same candidate row, the same Telegram account or the same email.
    A recruiter's previews are apart from any real candidacy on the same account: erasing
    one covers their previews only, erasing a candidate never their previews.
    """
    candidate = session.get_one(Candidate, interview.candidate_id)
    same = [col(Candidate.id) == candidate.id]
    if candidate.telegram_user_id is not None:
        same.append(col(Candidate.telegram_user_id) == candidate.telegram_user_id)
    if candidate.email:
        same.append(func.lower(Candidate.email) == candidate.email.lower())
    ids = session.exec(
        select(Interview.id)
        .join(Candidate, col(Candidate.id) == Interview.candidate_id)
        .where(or_(*same))
        .where(Interview.status != InterviewStatus.WITHDRAWN)
        .where(col(Interview.preview).is_(interview.preview))
        .order_by(col(Interview.id))
    ).all()
    found = [interviews.locked(session, i) for i in ids if i is not None]
    return [i for i in found if i is not None]


def erase_person(
    session: Session, interview: Interview, *, by: str, now: datetime, why: str | None = None
) -> Erased:
    """Erase every interview of ``interview``'s person; media files go after commit.

    ``by`` names who asked ("the candidate", or a Slack mention of the recruiter); ``why``,
    when given, is the review thread's note instead of "at the request of ``by``" (retention:
    nobody asked, the time ran out).
    """
    found = person_of(session, interview)
    ids = [i.id for i in found if i.id is not None]
    words = _identifying_words(session, ids)
    people = session.exec(
        select(Candidate).where(col(Candidate.id).in_([i.candidate_id for i in found]))
    ).all()
    chats = {c.telegram_chat_id for c in people if c.telegram_chat_id is not None}
    senders = {str(c.telegram_user_id) for c in people if c.telegram_user_id is not None}
    replies: Counter[str] = Counter()
    files: dict[int, list[str]] = {}
    actor = audit.actor_of(by)
    for each in found:
        assert each.id is not None
        replies.update(_erase_rows(session, each, actor, now))
        # Audit rows stay: they carry the interview id (the pseudonym), never the person.
        audit.about(
            session,
            each,
            actor=actor,
            action=audit.Action.ERASED,
            now=now,
            interviews=len(found),
        )
        files[each.id] = threads.forget(session, each.id)
    session.flush()
    _forget_outbox(session, found, words=words, chats=chats, now=now)
    inbox.forget_chats(session, senders)
    erased = Erased(tuple(ids), dict(replies))
    for each in found:
        assert each.id is not None
        said = why or (
            "🗑️ The candidate withdrew; their recordings, transcripts and details were erased "
            f"at the request of {by}."
        )
        _tell_slack(session, each, files[each.id], erased, said, now)
    request_scrub(session)  # SQLite: no copy of the deleted rows left in the WAL
    return erased


def _identifying_words(session: Session, interview_ids: Sequence[int]) -> list[str]:
    """Names, emails and everything typed or said by or about the person (notes included)."""
    texts: list[str | None] = []
    for candidate in session.exec(
        select(Candidate)
        .join(Interview, col(Interview.candidate_id) == Candidate.id)
        .where(col(Interview.id).in_(interview_ids))
    ).all():
        texts += [candidate.name, candidate.email]
    for answer in session.exec(select(Answer).where(col(Answer.interview_id).in_(interview_ids))):
        texts += [answer.text, answer.transcript_text]
        texts += [str(s.get("text", "")) for s in answer.transcript_segments or []]
    texts += session.exec(
        select(Comment.text).where(col(Comment.interview_id).in_(interview_ids))
    ).all()
    texts += session.exec(
        select(Score.note).where(col(Score.interview_id).in_(interview_ids))
    ).all()
    texts += session.exec(
        select(Decision.reason).where(col(Decision.interview_id).in_(interview_ids))
    ).all()
    # What they asked the team. (What the team wrote back is only in their thread's rows and
    # their chat's, which go by key: a "Thank you!" is not searched for in everyone's rows.)
    texts += questions.texts_of(session, interview_ids)
    # Whole texts and each line: a quoted or reformatted copy still contains every line.
    words = {t.strip() for t in texts if t and t.strip()}
    words |= {line.strip() for t in list(words) for line in t.splitlines() if line.strip()}
    return sorted(words)


def _erase_rows(session: Session, interview: Interview, actor: str, now: datetime) -> Counter[str]:
    """Our rows about one interview; returns the teammates' replies that stay in Slack."""
    assert interview.id is not None
    answers = session.exec(select(Answer).where(Answer.interview_id == interview.id)).all()
    media = [a.media_path for a in answers if a.media_path]
    for answer in answers:
        session.delete(answer)
    replies = Counter(
        session.exec(
            select(Comment.author)
            .where(Comment.interview_id == interview.id)
            .where(col(Comment.deleted_at).is_(None))
        ).all()
    )
    session.execute(delete(Comment).where(col(Comment.interview_id) == interview.id))
    for score in session.exec(select(Score).where(Score.interview_id == interview.id)).all():
        score.note = ""  # the numbers stay, like votes
    for decision in session.exec(select(Decision).where(Decision.interview_id == interview.id)):
        decision.reason = None
    # Share links (bot.flows.sharing) go: their tokens now read as unknown.
    session.execute(delete(ShareLink).where(col(ShareLink.interview_id) == interview.id))
    move(interview, Event.ERASE)
    candidate = session.get_one(Candidate, interview.candidate_id)
    candidate.name = f"Withdrawn candidate #{interview.id}"
    candidate.email = None
    candidate.telegram_user_id = None
    candidate.telegram_chat_id = None
    candidate.timezone = None
    candidate.erased_at = now
    session.flush()
    # After the person is gone from the row: the interviewers' calendars drop the call, and
    # the CANCEL they get names "Withdrawn candidate #N", not the person.
    withdrawn = booking.withdraw(session, interview.id, now)
    if withdrawn is not None:
        withdrawn.changed_by = actor  # the erasure called it off: the trail says who
        invitations.cancelled(session, withdrawn, now)
    for path in media:
        answer_media.discard_if_unused(session, path)
    questions.forget(session, [interview.id])
    relay.forget(session, [interview.id])  # the recordings waiting to go, after commit
    return replies


def _forget_outbox(
    session: Session,
    found: Iterable[Interview],
    *,
    words: list[str],
    chats: set[int],
    now: datetime,
) -> None:
    """Drop every outbox row that carries the person's name, email or words, sent or not.

    A review-thread row that delivery is sending right now stays, with its content
    replaced: it keeps its place in the thread's order, so the clean-up queued below runs
    after it and finds (and deletes) whatever it posted.
    """
    cards = {i.id: review.card(session, i) for i in found if i.id is not None}
    keys = [outgoing.review_key(i) for i in cards]
    keys += [outgoing.candidate_key(chat) for chat in chats]
    for row in outbox.carrying(session, keys=keys, about=list(cards), words=words):
        review_of = outgoing.interview_of(row.ordering_key)
        kept = _redacted(row, cards[review_of], now) if review_of in cards else None
        if kept is None:
            session.delete(row)
        else:
            row.payload = outgoing.encode(kept)


def _redacted(row: OutboxMessage, card: CandidateCard, now: datetime) -> outgoing.Message | None:
    """The row's message without the person in it, if the row must stay; else None."""
    if row.status != OutboxStatus.PENDING:
        return None
    in_flight = row.locked_until is not None and row.locked_until > now
    try:
        message = outgoing.read(row.kind, row.ordering_key, row.payload)
    except outgoing.Unreadable:
        return None  # delivery would give it up: nothing of it can reach Slack
    match message:
        case outgoing.CardPost():
            # Always: the parent message must exist for the note below.
            return message.model_copy(update={"card": card})
        case outgoing.CardUpdate() if in_flight:
            return message.model_copy(update={"card": card})
        case outgoing.ThreadPost() | outgoing.ThreadEdit() if in_flight:
            return message.model_copy(update={"text": review.ERASED_ANSWER, "choices": ()})
        case outgoing.ThreadInvitation() if in_flight:
            # It keeps its place, so the clean-up runs after it and deletes the file; a
            # retry would share an invitation that names only the team.
            meeting = message.invitation.meeting
            team = tuple(p for p in meeting.attendees if p.slack_user is not None)
            anonymous = meeting.model_copy(
                update={
                    "title": f"Interview: {card.candidate} — {card.opening}",
                    "description": "",
                    "attendees": team,
                }
            )
            invitation = message.invitation.model_copy(update={"meeting": anonymous})
            return message.model_copy(
                update={"comment": review.ERASED_ANSWER, "invitation": invitation}
            )
    return None


def _tell_slack(
    session: Session,
    interview: Interview,
    file_ids: list[str],
    erased: Erased,
    said: str,
    now: datetime,
) -> None:
    """Delete what the bot posted about them in Slack; say so in the thread; rename the card."""
    assert interview.id is not None
    for file_id in file_ids:
        outgoing.delete_file(session, interview_id=interview.id, file_id=file_id, now=now)
    copies = session.exec(select(SharedCopy).where(SharedCopy.interview_id == interview.id)).all()
    for channel, message_id, shared_file in dict.fromkeys(
        (c.channel, c.message_id, c.file_id) for c in copies
    ):
        outgoing.delete_copy(
            session,
            interview_id=interview.id,
            channel=channel,
            message_id=message_id,
            file_id=shared_file,
            now=now,
        )
    # An export lists other candidates too: their records of the file go with it.
    shared_files = [c.file_id for c in copies if c.file_id]
    messages = [c.message_id for c in copies if c.message_id]
    session.execute(
        delete(SharedCopy).where(
            or_(col(SharedCopy.file_id).in_(shared_files), col(SharedCopy.message_id).in_(messages))
        )
    )
    post = threads.parent(session, interview.id)
    assert post.id is not None
    outgoing.clear_thread(session, interview_id=interview.id, review_post_id=post.id, now=now)
    review.note_in_thread(session, interview, f"{said}{erased.replies_line()}", now)
    review.refresh_card(session, interview, now)


def record_copy(session: Session, about: Sequence[int], posted: Posted, now: datetime) -> bool:
    """Remember a DM or file that names these interviews' candidates; False (nothing
    recorded: delete it) when one of them was erased while it was on its way."""
    statuses = session.exec(
        select(Interview.status).where(col(Interview.id).in_(about)).with_for_update(read=True)
    ).all()
    if any(status == InterviewStatus.WITHDRAWN for status in statuses):
        return False
    for interview_id in about:
        session.add(
            SharedCopy(
                interview_id=interview_id,
                channel=posted.channel,
                message_id=posted.message_id,
                file_id=posted.file_id,
                created_at=now,
            )
        )
    return True


def erase_for_recruiter(
    session: Session, *, who: str, confirmed: bool, by: str, now: datetime
) -> str:
    """``/hire erase``: first says what will go, then (confirmed) erases; a line for them."""
    found = find_interview(session, who)
    name = escaping.mrkdwn(session.get_one(Candidate, found.candidate_id).name)
    if found.status == InterviewStatus.WITHDRAWN:
        return f"#{found.id} was already erased: there is nothing left to delete."
    numbers = ", ".join(f"#{i.id}" for i in person_of(session, found))
    if not confirmed:
        return (
            f"This deletes {name}'s recordings, transcripts, answers and details ({numbers}) "
            f"for good, here and in Slack. To go ahead: `/hire erase #{found.id} confirm`"
        )
    # UnitOfWork deletes the media files once this transaction has committed.
    erased = erase_person(session, found, by=f"<@{by}>", now=now)
    return (
        f"Erased {name}'s recordings, transcripts and details ({numbers}).{erased.replies_line()}"
    )
