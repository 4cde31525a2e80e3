"""Messages from the hiring team to a candidate: text, a voice or a video (issue 11).

A recruiter picks a message in the candidate's review thread (Slack's "Send to candidate"
shortcut) or presses "Reply to candidate" under a question: a draft ``Relay`` is kept (a
recording already converted and in the media store), the recruiter sees what will go and
confirms; the confirmation queues it behind the candidate's other Telegram messages (one
outbox row, named by the relay) and says in the thread who sent what, when. Delivery marks
it delivered, or tells the thread why Telegram refused it; the recording is deleted once
Telegram has it. Erasure deletes relays with everything else of the candidate.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlmodel import Session, col, select

from bot.errors import IllegalTransition, InvalidRequest, NotAllowed, NotFound
from bot.flows import (
    audit,
    blind_review,
    escaping,
    outgoing,
    questions,
    review,
    roles,
    texts,
    threads,
)
from bot.flows.moments import in_readers_zone, recording_length
from bot.limits import RelayLimit
from storage import answer_media
from storage.models import (
    Candidate,
    Interview,
    InterviewStatus,
    Opening,
    Relay,
    RelayStatus,
    ReviewPost,
)


class RelayKind(StrEnum):
    TEXT = "text"
    VOICE = "voice"  # OGG/Opus, Telegram's voice message
    VIDEO = "video"  # H.264/AAC MP4
    VIDEO_NOTE = "video_note"  # a round video: square, at most a minute


_WHAT = {
    RelayKind.TEXT: "a message",
    RelayKind.VOICE: "a voice message",
    RelayKind.VIDEO: "a video",
    RelayKind.VIDEO_NOTE: "a round video message",
}

OUTSIDE_THREAD = (
    "Use *Send to candidate* on a message in a candidate's thread in their review channel "
    "(a voice or video clip, an audio or video file, or text you wrote there)."
)
REFUSAL = "Only recruiters can send messages to candidates."


@dataclass(frozen=True)
class Clip:
    """A recording converted for Telegram and already in the media store."""

    kind: RelayKind
    media_path: str
    duration_seconds: float


@dataclass(frozen=True)
class Draft:
    """What the recruiter is asked to confirm."""

    relay_id: int
    candidate: str
    kind: RelayKind
    text: str
    duration_seconds: float | None
    question: str | None = None  # the candidate's question it answers

    @property
    def what(self) -> str:
        length = f" ({recording_length(self.duration_seconds)})" if self.duration_seconds else ""
        return f"{_WHAT[self.kind]}{length}"

    @property
    def text_limit(self) -> int:
        return RelayLimit.TEXT_CHARS if self.kind == RelayKind.TEXT else RelayLimit.CAPTION_CHARS


@dataclass(frozen=True)
class Outgoing:
    """A confirmed relay as delivery sends it."""

    kind: RelayKind
    text: str
    media_path: str | None
    duration_seconds: float | None


def interview_in_thread(session: Session, channel: str, thread_ts: str | None) -> int:
    """The interview whose review thread holds a message (``thread_ts``: its thread's parent)."""
    if not thread_ts:
        raise InvalidRequest(OUTSIDE_THREAD)
    post = session.exec(
        select(ReviewPost)
        .where(ReviewPost.channel == channel)
        .where(ReviewPost.message_id == thread_ts)
    ).first()
    if post is None:
        raise InvalidRequest(OUTSIDE_THREAD)
    return post.interview_id


def draft(
    session: Session,
    *,
    interview_id: int,
    by: str,
    recruiters: Iterable[str],
    kind: RelayKind,
    text: str,
    now: datetime,
    clip: Clip | None = None,
    question_id: int | None = None,
) -> Draft:
    """Keep what the recruiter picked until they confirm it (or close the form)."""
    _recruiter_only(session, by, recruiters)
    interview = review.existing_interview(session, interview_id)
    candidate = _reachable(session, interview)
    relay = Relay(
        interview_id=interview_id,
        by=by,
        kind=kind,
        status=RelayStatus.DRAFT,
        text=text.strip(),
        media_path=clip.media_path if clip else None,
        duration_seconds=clip.duration_seconds if clip else None,
        question_id=question_id,
        created_at=now,
    )
    session.add(relay)
    session.flush()
    assert relay.id is not None
    asked = questions.text_of(session, question_id) if question_id is not None else None
    return Draft(
        relay.id,
        _shown_name(session, interview, candidate),
        kind,
        relay.text,
        relay.duration_seconds,
        asked,
    )


def confirm(
    session: Session, *, relay_id: int, by: str, recruiters: Iterable[str], text: str, now: datetime
) -> str:
    """Send a draft (with the text as finally written): queue it, say so in the thread."""
    _recruiter_only(session, by, recruiters)
    relay = session.get(Relay, relay_id)
    if relay is None:
        raise NotFound(
            "That message is gone (the form was open for more than a day, or the candidate's "
            "data was erased): use *Send to candidate* again."
        )
    interview = review.existing_interview(session, relay.interview_id)
    session.refresh(relay)  # read again under the interview's lock: one confirmation wins
    if relay.status != RelayStatus.DRAFT:
        raise IllegalTransition("This message was sent already.")
    candidate = _reachable(session, interview)
    kind = RelayKind(relay.kind)
    said = text.strip()
    if kind == RelayKind.TEXT and not said:
        raise InvalidRequest("Write the message to send.")
    opening = session.get_one(Opening, interview.opening_id)
    composed = _as_candidate_reads(candidate, opening, said)
    limit = RelayLimit.TEXT_CHARS if kind == RelayKind.TEXT else RelayLimit.CAPTION_CHARS
    if len(composed) > limit:
        room = limit - (len(composed) - len(said))
        raise InvalidRequest(
            f"Telegram takes at most {room} characters here; this has {len(said)}."
        )
    relay.text = said
    relay.status = RelayStatus.PENDING
    relay.by = by
    relay.created_at = now  # when it was sent, as the thread says
    assert relay.id is not None and interview.id is not None
    assert candidate.telegram_chat_id is not None
    outgoing.relay_to_candidate(
        session, chat_id=candidate.telegram_chat_id, relay_id=relay.id, now=now
    )
    name = _shown_name(session, interview, candidate)
    threads.post(session, interview.id, _key(relay.id), _note(relay, name, now), now)
    if relay.question_id is not None:
        questions.answered(session, relay.question_id, by=by, now=now)
    audit.about(
        session,
        interview,
        actor=by,
        action=audit.Action.RELAY_SENT,
        now=now,
        kind=kind,
        relay=relay.id,
    )
    return f"Sending {_WHAT[kind]} to {name}: the thread shows when Telegram has it."


def to_send(session: Session, relay_id: int) -> tuple[int, Outgoing] | None:
    """The relay to deliver and its candidate's chat; None once erased or already sent."""
    relay = session.get(Relay, relay_id)
    if relay is None or relay.status != RelayStatus.PENDING:
        return None
    interview = session.get_one(Interview, relay.interview_id)
    candidate = session.get_one(Candidate, interview.candidate_id)
    if candidate.telegram_chat_id is None:
        return None
    opening = session.get_one(Opening, interview.opening_id)
    return candidate.telegram_chat_id, Outgoing(
        RelayKind(relay.kind),
        _as_candidate_reads(candidate, opening, relay.text),
        relay.media_path,
        relay.duration_seconds,
    )


def delivered(session: Session, relay_id: int, now: datetime) -> None:
    """Telegram has it: the thread says so, and the recording is no longer kept."""
    relay = session.get(Relay, relay_id)
    if relay is None:
        return  # erased while on its way
    relay.status = RelayStatus.SENT
    relay.sent_at = now
    _drop_media(session, relay)
    _edit_note(session, relay, f"✅ Delivered in Telegram at {in_readers_zone(now)}.", now)


def refused(session: Session, relay_id: int, reason: str, now: datetime) -> None:
    """Telegram refused it for good: the thread is told why."""
    relay = session.get(Relay, relay_id)
    if relay is None:
        return
    relay.status = RelayStatus.FAILED
    _drop_media(session, relay)
    why = (
        "the candidate blocked hirebot in Telegram"
        if "blocked" in reason.lower() or "deactivated" in reason.lower()
        else "Telegram refused it"
    )
    _edit_note(session, relay, f"⚠️ Not delivered: {why}.", now)


def forget_unsent(session: Session, now: datetime) -> None:
    """The periodic tick: drafts nobody confirmed within ``RelayLimit.DRAFT_HOURS`` go, with
    their recordings (after commit), and so do candidates' typed questions never sent."""
    before = now - timedelta(hours=RelayLimit.DRAFT_HOURS)
    stale = session.exec(
        select(Relay).where(Relay.status == RelayStatus.DRAFT).where(col(Relay.created_at) < before)
    ).all()
    for draft in stale:
        path = draft.media_path
        session.delete(draft)
        session.flush()
        answer_media.discard_if_unused(session, path)
    questions.forget_unsent(session, before)


def forget(session: Session, interview_ids: Sequence[int]) -> list[str]:
    """Erasure: the relays to these interviews' candidates; their recordings go after commit."""
    media: list[str] = []
    for relay in session.exec(select(Relay).where(col(Relay.interview_id).in_(interview_ids))):
        if relay.media_path:
            media.append(relay.media_path)
        session.delete(relay)
    session.flush()
    for path in media:
        answer_media.discard_if_unused(session, path)
    return media


def _recruiter_only(session: Session, by: str, recruiters: Iterable[str]) -> None:
    if not roles.is_recruiter(session, by, recruiters):
        raise NotAllowed(REFUSAL)


def _reachable(session: Session, interview: Interview) -> Candidate:
    """The candidate, if hirebot can reach them in Telegram; else why not."""
    candidate = session.get_one(Candidate, interview.candidate_id)
    if interview.status == InterviewStatus.WITHDRAWN or candidate.erased_at is not None:
        raise InvalidRequest("This candidate erased their data: hirebot can no longer reach them.")
    if candidate.telegram_chat_id is None:
        raise InvalidRequest(
            "This candidate has not opened their interview in Telegram yet, so hirebot "
            "cannot reach them there."
        )
    return candidate


def _shown_name(session: Session, interview: Interview, candidate: Candidate) -> str:
    """The name the thread's readers may see (blind review: the alias)."""
    opening = session.get_one(Opening, interview.opening_id)
    if blind_review.card_shows_name(opening):
        return escaping.mrkdwn(candidate.name)
    return review.alias(interview)


def _as_candidate_reads(candidate: Candidate, opening: Opening, said: str) -> str:
    """The recruiter's words under a line saying who they come from, in the candidate's
    language."""
    header = texts.text(candidate.language, "relay.from_team", opening=opening.title)
    return f"{header}\n\n{said}" if said else header


def _note(relay: Relay, name: str, now: datetime) -> str:
    kind = RelayKind(relay.kind)
    length = f" ({recording_length(relay.duration_seconds)})" if relay.duration_seconds else ""
    lines = [f"📨 Sent to {name} at {in_readers_zone(now)} by <@{relay.by}>: {_WHAT[kind]}{length}"]
    if relay.text:
        lines.append(review.quote(relay.text))
    return "\n".join(lines)


def _edit_note(session: Session, relay: Relay, status: str, now: datetime) -> None:
    assert relay.id is not None
    interview = session.get_one(Interview, relay.interview_id)
    candidate = session.get_one(Candidate, interview.candidate_id)
    name = _shown_name(session, interview, candidate)
    note = f"{_note(relay, name, relay.created_at)}\n{status}"
    threads.edit(session, relay.interview_id, _key(relay.id), note, now)


def _drop_media(session: Session, relay: Relay) -> None:
    path, relay.media_path = relay.media_path, None
    answer_media.discard_if_unused(session, path)


def _key(relay_id: int) -> str:
    return f"relay:{relay_id}"
