"""Sharing a candidate beyond the review channel (issue 11, item 5).

Two ways, both started by a recruiter from the card's *Share* button:

- **In Slack**: people or channels get a compact summary (the answers' transcripts and
  timing) in a DM or a post, and a link to the review thread for those who can open it (the
  channel's members); each copy is recorded so erasure deletes it.
- **A link** for someone who is not in Slack: ``/share/<token>`` on hirebot's own web
  server (bot.web.share). The token is shown once, to the recruiter; only its hash is kept.
  A link shows one candidate, expires (``ShareLimit.DEFAULT_DAYS``), can be revoked from the
  thread, is refused once the candidate is erased, and every view is in the audit trail.
  Its holder may leave a vote and a note: they appear in the review thread, marked as theirs,
  and do not count in the card's tally (that is for the review channel's members).

Blind review holds: where the card shows an alias, so do the summary and the page, and
neither shows the tally.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from bot.errors import InvalidRequest, NotAllowed, NotFound
from bot.flows import audit, blind_review, escaping, outgoing, review, threads
from bot.flows.buttons import RevokeShare
from bot.flows.interview import hash_token
from bot.flows.moments import format_deadline, recording_length
from bot.flows.ports import Choice
from bot.flows.review import VOTE_WORDS, VoteChoice
from bot.limits import ReviewLimit, ShareLimit
from storage import interviews
from storage.models import (
    Answer,
    Candidate,
    Interview,
    InterviewStatus,
    Opening,
    Question,
    ShareLink,
    TranscriptStatus,
)

REFUSAL = "Only recruiters can share a candidate beyond the review channel."


@dataclass(frozen=True)
class NewLink:
    """A link just made: ``token`` goes into the address and is never stored."""

    link_id: int
    token: str
    holder: str
    expires_at: datetime


def create_link(
    session: Session,
    *,
    interview_id: int,
    by: str,
    recruiter: bool,
    holder: str,
    days: int,
    now: datetime,
) -> NewLink:
    """A new link to ``interview_id``'s answers for ``holder``; the thread hears of it, with
    a *Revoke* button."""
    if not recruiter:
        raise NotAllowed(REFUSAL)
    interview = _shareable(session, interview_id)
    holder = " ".join(holder.split())[: ShareLimit.HOLDER_CHARS]
    if not holder:
        raise InvalidRequest("Say who the link is for (their name, or their team).")
    if not 1 <= days <= ShareLimit.MAX_DAYS:
        raise InvalidRequest(f"A link lasts from 1 to {ShareLimit.MAX_DAYS} days.")
    token = secrets.token_urlsafe(ShareLimit.TOKEN_BYTES)
    link = ShareLink(
        interview_id=interview_id,
        token_hash=hash_token(token),
        holder=holder,
        created_by=by,
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    session.add(link)
    session.flush()
    assert link.id is not None
    audit.about(
        session,
        interview,
        actor=by,
        action=audit.Action.SHARE_LINK_CREATED,
        now=now,
        link=link.id,
        days=days,
    )
    _tell_thread(
        session,
        interview,
        f"🔗 <@{by}> made a share link for *{escaping.mrkdwn(holder)}* "
        f"(outside Slack), valid until {format_deadline(link.expires_at)}.",
        now,
        choices=(Choice("Revoke link", RevokeShare(link.id).pack()),),
    )
    return NewLink(link.id, token, holder, link.expires_at)


def revoke(session: Session, *, link_id: int, by: str, recruiter: bool, now: datetime) -> str:
    """Revoke a link from the thread; the line for whoever pressed."""
    if not recruiter:
        raise NotAllowed("Only recruiters can revoke a share link.")
    link = session.get(ShareLink, link_id)
    if link is None:
        raise NotFound("That link no longer exists (the candidate's data was erased).")
    if link.revoked_at is not None:
        return "That link was already revoked."
    link.revoked_at, link.revoked_by = now, by
    interview = session.get_one(Interview, link.interview_id)
    audit.about(
        session, interview, actor=by, action=audit.Action.SHARE_LINK_REVOKED, now=now, link=link_id
    )
    _tell_thread(
        session,
        interview,
        f"🚫 <@{by}> revoked the share link for *{escaping.mrkdwn(link.holder)}*: "
        "it shows nothing any more.",
        now,
    )
    return f"Revoked: the link for {escaping.mrkdwn(link.holder)} shows nothing any more."


def share_in_slack(
    session: Session,
    *,
    interview_id: int,
    by: str,
    recruiter: bool,
    people: list[str],
    channels: list[str],
    members: frozenset[str],
    now: datetime,
) -> str:
    """The compact summary to each of ``people`` (a DM) and ``channels`` (a post); a link to
    the review thread goes with it for the people in ``members`` (the review channel's
    members: Slack would show the others a thread they cannot open). The line for the sharer."""
    if not recruiter:
        raise NotAllowed(REFUSAL)
    targets = list(dict.fromkeys([*people, *channels]))
    if not targets:
        raise InvalidRequest("Pick at least one person or channel, or make a link.")
    if len(targets) > ShareLimit.RECIPIENTS_MAX:
        raise InvalidRequest(f"Share with at most {ShareLimit.RECIPIENTS_MAX} at once.")
    interview = _shareable(session, interview_id)
    assert interview.id is not None
    text = summary(session, interview, by=by)
    for target in targets:
        link = None
        if target in members:
            link = outgoing.ThreadLink(interview_id=interview.id, label="Open the review thread")
        # A user id or a channel id: chat.postMessage takes both; the copy is recorded
        # (``about``) so that erasing the candidate deletes it.
        outgoing.to_team_member(session, target, text, now, about=[interview.id], thread_link=link)
    audit.about(
        session,
        interview,
        actor=by,
        action=audit.Action.SHARED_IN_SLACK,
        now=now,
        people=len(dict.fromkeys(people)),
        channels=len(dict.fromkeys(channels)),
    )
    named = ", ".join(f"<#{t}>" if t.startswith(("C", "G")) else f"<@{t}>" for t in targets)
    _tell_thread(session, interview, f"📤 <@{by}> shared this candidate with {named}.", now)
    return f"Shared with {named}."


def summary(session: Session, interview: Interview, *, by: str) -> str:
    """The compact summary (mrkdwn): who, for what, and each answer's timing and transcript."""
    page = _page(session, interview)
    lines = [
        f"📤 <@{by}> shared *{escaping.mrkdwn(page.candidate)}* · "
        f"{escaping.mrkdwn(page.opening)} · Stage *{escaping.mrkdwn(page.stage)}*"
    ]
    for answer in page.answers:
        lines.append(f"*Q{answer.number}. {escaping.mrkdwn(answer.question)}* · {answer.facts}")
        said = answer.transcript or answer.transcript_state
        cut = said[: ShareLimit.SUMMARY_TRANSCRIPT_CHARS]
        if len(said) > len(cut):
            cut += "…"
        lines.extend(f"> {escaping.mrkdwn(line)}" for line in cut.splitlines() or [""])
    if not page.answers:
        lines.append("_No answers yet._")
    return "\n".join(lines)[: ReviewLimit.THREAD_TEXT_CHARS]


# ---------------------------------------------------------------------- the page


@dataclass(frozen=True)
class SharedAnswer:
    answer_id: int
    number: int
    question: str
    kind: str  # voice, video_note, video, audio, text
    facts: str  # "0:47 · take 1 of 3 · prep 12 s", plain text
    flags: tuple[str, ...]  # over the limit, late, cut: plain sentences
    has_recording: bool
    transcript: str  # what they said or typed; "" when there is none (yet)
    transcript_state: str  # a sentence when there is no transcript; "" otherwise
    received_at: datetime


@dataclass(frozen=True)
class SharePage:
    """What a link shows: plain text throughout (the web adapter escapes it for HTML)."""

    candidate: str  # the alias under blind review
    opening: str
    company: str
    stage: str
    holder: str
    expires_at: datetime
    answers: tuple[SharedAnswer, ...]


@dataclass(frozen=True)
class Recording:
    media_path: str
    kind: str


class Unavailable(Exception):
    """The link is unknown, expired, revoked or its candidate erased: one answer for all,
    so that nobody learns which (or that a token ever existed)."""


def page(session: Session, token: str, now: datetime) -> SharePage:
    """The page a link shows; the view is recorded in the audit trail."""
    link, interview = _valid(session, token, now)
    link.views += 1
    audit.about(
        session, interview, actor="hirebot", action=audit.Action.SHARE_VIEWED, now=now, link=link.id
    )
    return _page(session, interview, link)


def recording(session: Session, token: str, answer_id: int, now: datetime) -> Recording:
    """An answer's recording, if it belongs to the link's candidate."""
    _, interview = _valid(session, token, now)
    answer = session.get(Answer, answer_id)
    if (
        answer is None
        or answer.interview_id != interview.id
        or not answer.submitted
        or answer.media_path is None
    ):
        raise Unavailable
    return Recording(answer.media_path, answer.media_kind)


class TooManyVotes(InvalidRequest):
    """The link voted ``ShareLimit.VOTES_PER_WINDOW`` times within the window."""


def vote(session: Session, token: str, choice: str, note: str, now: datetime) -> VoteChoice:
    """A vote (and note) from the link's holder: posted in the review thread, marked as
    theirs. Refused past ``ShareLimit.VOTES_PER_WINDOW`` an hour."""
    link, interview = _valid(session, token, now)
    try:
        picked = VoteChoice(choice)
    except ValueError:
        raise InvalidRequest("Pick Yes, Maybe or No.") from None
    window = timedelta(minutes=ShareLimit.VOTE_WINDOW_MINUTES)
    if link.votes_window_at is None or now - link.votes_window_at >= window:
        link.votes_window_at, link.votes_in_window = now, 0
    if link.votes_in_window >= ShareLimit.VOTES_PER_WINDOW:
        raise TooManyVotes(
            f"This link has voted {ShareLimit.VOTES_PER_WINDOW} times within the hour: "
            "please try again later."
        )
    link.votes_in_window += 1
    note = note.strip()[: ShareLimit.NOTE_CHARS]
    audit.about(
        session,
        interview,
        actor="hirebot",
        action=audit.Action.SHARE_VOTED,
        now=now,
        link=link.id,
        choice=picked,
        note=bool(note),
    )
    text = (
        f"🔗 *{escaping.mrkdwn(link.holder)}* (share link from <@{link.created_by}>) "
        f"voted *{VOTE_WORDS[picked]}*."
    )
    if note:
        text += "\n" + "\n".join(f"> {escaping.mrkdwn(line)}" for line in note.splitlines())
    _tell_thread(session, interview, text[: ReviewLimit.THREAD_TEXT_CHARS], now)
    return picked


# ---------------------------------------------------------------------- inside


def _shareable(session: Session, interview_id: int) -> Interview:
    interview = interviews.locked(session, interview_id)
    if interview is None or interview.status == InterviewStatus.WITHDRAWN:
        raise NotFound("That candidate's data was erased: there is nothing to share.")
    return interview


def _valid(session: Session, token: str, now: datetime) -> tuple[ShareLink, Interview]:
    if not token or len(token) > 2 * ShareLimit.TOKEN_BYTES:
        raise Unavailable
    link = session.exec(select(ShareLink).where(ShareLink.token_hash == hash_token(token))).first()
    if link is None or link.revoked_at is not None or now >= link.expires_at:
        raise Unavailable
    interview = session.get(Interview, link.interview_id)
    if interview is None or interview.status == InterviewStatus.WITHDRAWN:
        raise Unavailable
    return link, interview


def _page(session: Session, interview: Interview, link: ShareLink | None = None) -> SharePage:
    opening = session.get_one(Opening, interview.opening_id)
    candidate = session.get_one(Candidate, interview.candidate_id)
    shown = candidate.name if blind_review.card_shows_name(opening) else review.alias(interview)
    rows = session.exec(
        select(Answer, Question)
        .join(Question, col(Question.id) == Answer.question_id)
        .where(Answer.interview_id == interview.id)
        .where(col(Answer.submitted).is_(True))
        .order_by(col(Question.position))
    ).all()
    return SharePage(
        candidate=shown,
        opening=opening.title,
        company=opening.company,
        stage=interview.stage,
        holder=link.holder if link else "",
        expires_at=link.expires_at if link else interview.deadline_at,
        answers=tuple(_answer(a, q) for a, q in rows),
    )


def _answer(answer: Answer, question: Question) -> SharedAnswer:
    assert answer.id is not None
    seconds = answer.duration_seconds or answer.telegram_duration or 0
    facts = [f"take {answer.take} of {question.max_takes}"]
    if answer.media_path:
        facts.insert(0, recording_length(seconds))
    if answer.prep_seconds_used is not None:
        facts.append(f"prep {answer.prep_seconds_used:.0f} s")
    flags = []
    if answer.over_limit:
        flags.append(f"Over the time limit ({seconds:.0f} s of {question.answer_seconds} s).")
    if answer.cut_at_seconds is not None:
        flags.append(f"Cut: only the first {recording_length(answer.cut_at_seconds)} is kept.")
    if answer.late:
        flags.append(f"Took longer than the {question.prep_seconds} s preparation time.")
    status = TranscriptStatus(answer.transcript_status)
    said, state = "", ""
    if answer.media_path is None:
        said = answer.text or answer.transcript_text or ""
    elif status == TranscriptStatus.DONE:
        said = answer.transcript_text or ""
        state = "" if said else "No speech heard."
    elif status == TranscriptStatus.PENDING:
        state = "Transcript pending: listen to the recording."
    else:
        state = "Transcript unavailable: listen to the recording."
    return SharedAnswer(
        answer_id=answer.id,
        number=question.position + 1,
        question=question.text,
        kind=answer.media_kind,
        facts=" · ".join(facts),
        flags=tuple(flags),
        has_recording=answer.media_path is not None,
        transcript=said,
        transcript_state=state,
        received_at=answer.received_at,
    )


def _tell_thread(
    session: Session,
    interview: Interview,
    text: str,
    now: datetime,
    choices: tuple[Choice, ...] = (),
) -> None:
    assert interview.id is not None
    post = threads.parent(session, interview.id)
    assert post.id is not None
    outgoing.enqueue(
        session,
        outgoing.ThreadPost(
            interview_id=interview.id, review_post_id=post.id, text=text, choices=choices
        ),
        now,
    )
