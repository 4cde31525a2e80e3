"""Intro clips: the hiring team's own voice or face before the questions (issue 11).

An opening may have one clip for every candidate, sent after they agree to take part and
before the first question, and one per question, sent before that question. A clip is set
from the openings file or from a Slack clip ("Use as intro for opening…"), converted once to
Telegram's format (bot.transcription.telegram_media) and kept in the media store. It belongs to
the opening, not to any candidate: erasing a candidate leaves it; replacing or removing it
deletes its file once nothing else uses the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from bot.errors import InvalidRequest
from bot.flows import audit, escaping, outgoing
from bot.flows.conversation import Conversation
from bot.flows.openings import opening_named
from storage import answer_media
from storage.models import IntroClip, Opening, Question

REFUSAL = (
    "Only recruiters can set an opening's intro clip. Ask a recruiter to add you with "
    "`/hire recruiters add @you`."
)
NOT_A_CLIP = (
    "*Use as intro* works on a message with a voice or video clip (or an audio or video "
    "file): record a clip in Slack, then use the shortcut on that message."
)


@dataclass(frozen=True)
class ConvertedClip:
    """A clip converted for Telegram and written to the media store, not yet an intro."""

    kind: str  # voice | video | video_note
    media_path: str
    duration_seconds: float
    width: int
    height: int
    source_sha256: str  # of the file it was made from


def find(session: Session, opening_id: int, position: int | None) -> IntroClip | None:
    """The opening's own clip (``position`` None) or one question's (0-based)."""
    where = (
        col(IntroClip.question_position).is_(None)
        if position is None
        else col(IntroClip.question_position) == position
    )
    return session.exec(
        select(IntroClip).where(IntroClip.opening_id == opening_id).where(where)
    ).first()


def of_opening(session: Session, opening_id: int) -> list[IntroClip]:
    return list(
        session.exec(
            select(IntroClip)
            .where(IntroClip.opening_id == opening_id)
            .order_by(col(IntroClip.question_position))
        ).all()
    )


def after_consent(conv: Conversation) -> None:
    """The opening's clip, if it has one: the candidate hears the team before question 1."""
    _send(conv, None)


def before_question(conv: Conversation, position: int) -> None:
    """The question's own clip, if it has one, before the question's intro."""
    _send(conv, position)


def _send(conv: Conversation, position: int | None) -> None:
    assert conv.opening.id is not None
    clip = find(conv.session, conv.opening.id, position)
    if clip is not None and clip.id is not None:
        outgoing.intro_clip_to_candidate(
            conv.session, chat_id=conv.chat_id, clip_id=clip.id, now=conv.now
        )


def is_current(session: Session, opening: Opening, position: int | None, source: str) -> bool:
    """Whether the clip is already made from the file whose SHA-256 is ``source``."""
    assert opening.id is not None
    clip = find(session, opening.id, position)
    return clip is not None and clip.source_sha256 == source


def set_clip(
    session: Session,
    *,
    opening: Opening,
    position: int | None,
    converted: ConvertedClip,
    by: str,
    now: datetime,
) -> IntroClip:
    """Make ``converted`` the opening's (or question's) clip, replacing any before it."""
    assert opening.id is not None
    old = find(session, opening.id, position)
    if old is not None and old.media_path == converted.media_path:
        return old  # the same bytes again (a re-import): keep Telegram's file id
    if old is not None:
        _delete(session, old)
    clip = IntroClip(
        opening_id=opening.id,
        question_position=position,
        kind=converted.kind,
        media_path=converted.media_path,
        duration_seconds=converted.duration_seconds,
        width=converted.width,
        height=converted.height,
        source_sha256=converted.source_sha256,
        set_by=audit.actor_of(by),
        created_at=now,
    )
    session.add(clip)
    session.flush()
    audit.record(
        session,
        actor=audit.actor_of(by),
        action=audit.Action.INTRO_SET,
        now=now,
        opening_id=opening.id,
        question=None if position is None else position + 1,
        kind=converted.kind,
    )
    return clip


def remove(
    session: Session, *, opening: Opening, position: int | None, by: str, now: datetime
) -> bool:
    """Remove the clip and delete its file after commit; False when there was none."""
    assert opening.id is not None
    clip = find(session, opening.id, position)
    if clip is None:
        return False
    _delete(session, clip)
    audit.record(
        session,
        actor=audit.actor_of(by),
        action=audit.Action.INTRO_REMOVED,
        now=now,
        opening_id=opening.id,
        question=None if position is None else position + 1,
    )
    return True


def _delete(session: Session, clip: IntroClip) -> None:
    session.delete(clip)
    session.flush()
    answer_media.discard_if_unused(session, clip.media_path)


def described(clip: IntroClip) -> str:
    """One line for the team: what kind of clip, how long."""
    what = {"voice": "voice clip", "video_note": "round video note"}.get(clip.kind, "video")
    return f"{what} of {clip.duration_seconds:.0f} s"


def target(session: Session, slug: str, number: int | None) -> tuple[Opening, int | None]:
    """The opening and question position a team member means; InvalidRequest if no such."""
    opening = opening_named(session, slug)
    if number is None:
        return opening, None
    count = len(session.exec(select(Question.id).where(Question.opening_id == opening.id)).all())
    if not 1 <= number <= count:
        raise InvalidRequest(
            f"*{escaping.mrkdwn(opening.title)}* has questions 1 to {count}: pick one of "
            "them, or leave the question out for the clip after consent."
        )
    return opening, number - 1


def listing(session: Session, slug: str) -> str:
    """``/hire intro <opening>``: the opening's clips, and how to change them."""
    opening = opening_named(session, slug)
    assert opening.id is not None
    clips = of_opening(session, opening.id)
    title = escaping.mrkdwn(opening.title)
    if not clips:
        return (
            f"*{title}* has no intro clip. Name a file in its openings file (`intro:`) or use "
            "the *Use as intro for opening…* shortcut on a clip in Slack."
        )
    lines = [f"*{title}*: intro clips"]
    for clip in clips:
        when = (
            "after consent"
            if clip.question_position is None
            else f"before question {clip.question_position + 1}"
        )
        lines.append(f"• {when}: a {described(clip)}")
    lines.append(f"Remove one with `/hire intro {opening.slug} remove [question number]`.")
    return "\n".join(lines)


def remove_by_team(
    session: Session, *, slug: str, number: int | None, by: str, now: datetime
) -> str:
    """``/hire intro <opening> remove [N]``: the clip goes, and its file after commit."""
    opening, position = target(session, slug, number)
    what = "intro clip" if position is None else f"question {number}'s intro clip"
    if not remove(session, opening=opening, position=position, by=by, now=now):
        return f"*{escaping.mrkdwn(opening.title)}* has no {what}."
    return (
        f"Removed *{escaping.mrkdwn(opening.title)}*'s {what}: candidates who start from now "
        "on do not get it, and its file is deleted."
    )


def set_from_team(
    session: Session,
    *,
    slug: str,
    number: int | None,
    converted: ConvertedClip,
    by: str,
    now: datetime,
) -> None:
    """A recruiter's Slack clip made the opening's (or a question's) intro; they hear so."""
    opening, position = target(session, slug, number)
    clip = set_clip(
        session, opening=opening, position=position, converted=converted, by=by, now=now
    )
    when = (
        "after they agree to take part, before question 1"
        if position is None
        else f"before question {position + 1}"
    )
    outgoing.to_team_member(
        session,
        by,
        f"🎬 Intro for *{escaping.mrkdwn(opening.title)}* set: a {described(clip)}. Every "
        f"candidate who starts from now on gets it {when}. Try it with "
        f"`/hire preview {opening.slug}`.",
        now,
    )
