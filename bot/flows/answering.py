"""Questions one at a time: intro → Ready → answer → review (submit or re-record) → next.

The per-question phase is an explicit state machine (``lifecycle.PHASES``). Buttons carry the
interview, question index and take they belong to, so a press on an old message is recognised
as stale instead of acting on whatever question (or interview) is current.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlmodel import col, select

from bot.flows import audit, buttons, intro_clips, review, texts
from bot.flows.conversation import Conversation
from bot.flows.lifecycle import Event, PhaseEvent, move, step
from bot.limits import FileLimit, MediaLimit, QuestionDefaults
from storage import answer_media, transcripts
from storage.media import StoredMedia
from storage.models import Answer, InterviewStatus, QuestionPhase, TranscriptStatus

PRACTICE = -1
SPOKEN = ("voice", "video_note", "video", "audio")


class Expect(StrEnum):
    """What the adapter should do with an incoming answer before the flow sees it."""

    NOTHING = "nothing"  # refused; the candidate has been told why
    ANSWER = "answer"  # download, store and measure it
    PRACTICE = "practice"  # the practice answer: measure nothing, keep nothing


@dataclass(frozen=True)
class MediaWelcome:
    """The answer to "may I send this recording?": whether to take it, and how far to
    measure it. A file's size says nothing about its length, so the adapter decodes no more
    than ``measure_seconds``: enough to see it is over the limit, or to reach the ceiling."""

    expect: Expect
    measure_seconds: float = MediaLimit.MAX_KEPT_SECONDS

    def refused(self) -> bool:
        return self.expect == Expect.NOTHING


@dataclass(frozen=True)
class ReceivedAnswer:
    kind: str  # voice | video_note | video | audio | text
    media: StoredMedia | None
    text: str | None
    duration_seconds: float | None  # measured from the file (or Telegram's claim for practice)
    sent_at: datetime | None = None  # Telegram's message date: when recording ended
    claimed_seconds: float | None = None  # what Telegram said the length was
    # Measuring stopped at MediaWelcome.measure_seconds: the recording goes on past
    # ``duration_seconds`` (and ``media`` holds only that much of it).
    goes_on: bool = False
    header_seconds: float | None = None  # the file's own claim (shown, never trusted)


@dataclass(frozen=True)
class QuestionView:
    index: int
    number: int
    total: int
    text: str
    prep_seconds: float
    answer_seconds: float
    max_takes: int
    types: list[str]
    question_id: int | None  # None for the practice question

    @property
    def practice(self) -> bool:
        return self.index == PRACTICE


def current(conv: Conversation) -> QuestionView:
    index = conv.interview.question_index
    scale = conv.interview.time_multiplier
    total = len(conv.questions)
    if index == PRACTICE:
        return QuestionView(
            PRACTICE,
            0,
            total,
            conv.opening.practice_question or "",
            QuestionDefaults.PREP_SECONDS * scale,
            QuestionDefaults.PRACTICE_ANSWER_SECONDS * scale,
            1,
            list(SPOKEN[:3]),
            None,
        )
    question = conv.questions[index]
    return QuestionView(
        index,
        index + 1,
        total,
        question.text,
        question.prep_seconds * scale,
        question.answer_seconds * scale,
        question.max_takes,
        list(question.answer_types),
        question.id,
    )


def begin(conv: Conversation) -> None:
    """After consent: the practice question if the opening has one, else question 1."""
    conv.interview.question_index = PRACTICE if conv.opening.practice_question else 0
    # The phase is INTRO already: it leaves INTRO only once answering has begun.
    intro_clips.after_consent(conv)
    _introduce(conv)


def _introduce(conv: Conversation) -> None:
    """A question's first showing: its own clip, if any, then its intro."""
    if not current(conv).practice:
        intro_clips.before_question(conv, conv.interview.question_index)
    show_intro(conv)


def show_intro(conv: Conversation) -> None:
    q = current(conv)
    prep = texts.length(conv.language, q.prep_seconds)
    limit = texts.length(conv.language, q.answer_seconds)
    ready = [[conv.choice(conv.text("ready"), buttons.Ready(q.index))]]
    if q.practice:
        conv.say("intro.practice", ready, prep=prep, limit=limit)
        return
    takes = conv.text("takes", count=q.max_takes) if q.max_takes > 1 else ""
    conv.say("intro", ready, number=q.number, total=q.total, prep=prep, limit=limit, takes=takes)


def ready(conv: Conversation, index: int) -> None:
    if index != conv.interview.question_index or conv.interview.phase != QuestionPhase.INTRO:
        conv.say("stale_button")
        repeat_step(conv)
        return
    step(conv.interview, PhaseEvent.READY)
    conv.interview.question_shown_at = conv.now
    _show_question(conv)


def _show_question(conv: Conversation) -> None:
    q = current(conv)
    values = {
        "text": q.text,
        "types": texts.list_types(conv.language, q.types),
        "limit": texts.length(conv.language, q.answer_seconds),
        "prep": texts.length(conv.language, q.prep_seconds),
    }
    if q.practice:
        conv.say("question.practice", **values)
    else:
        conv.say("question", number=q.number, total=q.total, **values)


def expects(conv: Conversation, kind: str, size_bytes: int | None) -> Expect:
    """Is an answer of this kind and size welcome now? If not, tell the candidate why."""
    phase = conv.interview.phase
    if phase == QuestionPhase.INTRO:
        conv.say("press_ready_first")
        show_intro(conv)
        return Expect.NOTHING
    if phase == QuestionPhase.REVIEWING:
        conv.say("review_first")
        _offer_review(conv, _latest_take(conv))
        return Expect.NOTHING
    q = current(conv)
    types = texts.list_types(conv.language, [t for t in q.types if t != "text"] or q.types)
    if kind not in q.types:
        key = "text_not_allowed" if kind == "text" else _not_media_key(kind)
        conv.say(key, types=types)
        return Expect.NOTHING
    if size_bytes is not None and size_bytes > FileLimit.TELEGRAM_DOWNLOAD_BYTES:
        conv.say("too_big", limit_mb=FileLimit.TELEGRAM_DOWNLOAD_BYTES // (1024 * 1024))
        return Expect.NOTHING
    return Expect.PRACTICE if q.practice else Expect.ANSWER


def measure_up_to(conv: Conversation) -> float:
    """How much of a recording to decode: in strict mode just past the limit (the candidate's
    extra time included), so that a recording of hours is refused after that much; in soft
    mode up to the ceiling of what is ever kept."""
    ceiling = float(MediaLimit.MAX_KEPT_SECONDS)
    if not conv.opening.strict_limits:
        return ceiling
    return min(ceiling, current(conv).answer_seconds + MediaLimit.MEASURE_GRACE_SECONDS)


def refuse_media(conv: Conversation, problem: str) -> None:
    """The file arrived but cannot be used (``no_sound`` or ``unreadable``)."""
    q = current(conv)
    conv.say(problem, types=texts.list_types(conv.language, [t for t in q.types if t != "text"]))


def receive(conv: Conversation, received: ReceivedAnswer) -> None:
    """A take arrived (already stored and measured): keep it and offer submit / re-record."""
    q = current(conv)
    duration = received.duration_seconds or 0.0
    over = duration > q.answer_seconds + QuestionDefaults.GRACE_SECONDS
    # Measuring stopped early: tell the candidate the length the file claims, if longer.
    told = max(duration, received.header_seconds or 0.0) if received.goes_on else duration
    length = texts.length(conv.language, told)
    limit = texts.length(conv.language, q.answer_seconds)
    if q.practice:
        conv.say("practice_done", length=length)
        conv.interview.question_index = 0
        step(conv.interview, PhaseEvent.PRACTICE_DONE)
        _introduce(conv)
        return
    if over and conv.opening.strict_limits:
        conv.say("over_limit.strict", length=length, limit=limit)
        answer_media.discard_if_unused(
            conv.session, received.media.relpath if received.media else None
        )
        return
    shown = conv.interview.question_shown_at or conv.now
    started = (received.sent_at or conv.now) - timedelta(seconds=duration)
    prep_used = max(0.0, (started - shown).total_seconds())
    assert q.question_id is not None
    answer = Answer(
        interview_id=conv.interview_id,
        question_id=q.question_id,
        take=_takes_used(conv) + 1,
        media_kind=received.kind,
        media_path=received.media.relpath if received.media else None,
        media_sha256=received.media.sha256 if received.media else None,
        media_bytes=received.media.size if received.media else 0,
        text=received.text,
        duration_seconds=received.duration_seconds,
        telegram_duration=received.claimed_seconds,
        received_at=conv.now,
        elapsed_seconds=(conv.now - shown).total_seconds(),
        prep_seconds_used=prep_used,
        late=prep_used > q.prep_seconds + QuestionDefaults.GRACE_SECONDS,
        over_limit=over,
        cut_at_seconds=duration if received.goes_on else None,
        transcript_status=TranscriptStatus.NOT_NEEDED,
        transcript_text=received.text,
    )
    conv.session.add(answer)
    conv.session.flush()
    step(conv.interview, PhaseEvent.RECORD)
    if over:
        conv.say("over_limit.soft", length=length, limit=limit)
    _offer_review(conv, answer)


def submit(conv: Conversation, index: int, take: int) -> None:
    answer = _latest_take(conv)
    if not _is_current(conv, index, take, answer):
        conv.say("stale_button")
        repeat_step(conv)
        return
    assert answer is not None and answer.id is not None
    answer.submitted = True
    if answer.media_path is not None:
        transcripts.queue(conv.session, answer)
    step(conv.interview, PhaseEvent.SUBMIT)
    q = current(conv)
    conv.say("submitted", number=q.number)
    conv.interview.question_index += 1
    conv.interview.question_shown_at = None
    if conv.interview.question_index >= len(conv.questions):
        _complete(conv)
    else:
        _introduce(conv)
    # Posted now, whatever the transcript's fate: the transcript edits this post later.
    review.answer_submitted(conv.session, answer.id, conv.now)
    review.refresh_card(conv.session, conv.interview, conv.now)


def rerecord(conv: Conversation, index: int, take: int) -> None:
    answer = _latest_take(conv)
    if not _is_current(conv, index, take, answer):
        conv.say("stale_button")
        repeat_step(conv)
        return
    assert answer is not None
    left = current(conv).max_takes - answer.take
    if left <= 0:
        conv.say("rerecord.none")
        _offer_review(conv, answer)
        return
    answer.superseded = True
    replaced, answer.media_path = answer.media_path, None
    answer_media.discard_if_unused(conv.session, replaced)
    step(conv.interview, PhaseEvent.RERECORD)
    conv.interview.question_shown_at = conv.now
    conv.say("rerecord.go", count=left - 1)


def repeat_step(conv: Conversation) -> None:
    """Say again what the candidate should do now: they always know where they are."""
    phase = conv.interview.phase
    if phase == QuestionPhase.INTRO:
        show_intro(conv)
    elif phase == QuestionPhase.ANSWERING:
        _show_question(conv)
    else:
        _offer_review(conv, _latest_take(conv))


def answered_count(conv: Conversation) -> int:
    return len(
        conv.session.exec(
            select(Answer.id)
            .where(Answer.interview_id == conv.interview_id)
            .where(col(Answer.submitted).is_(True))
        ).all()
    )


def _complete(conv: Conversation) -> None:
    move(conv.interview, Event.FINISH)
    conv.interview.completed_at = conv.now
    audit.about(
        conv.session,
        conv.interview,
        actor=audit.CANDIDATE,
        action=audit.Action.COMPLETED,
        now=conv.now,
        answers=answered_count(conv),
        questions=len(conv.questions),
    )
    respond_by = conv.now + timedelta(days=conv.opening.respond_within_days)
    conv.say(
        "completed",
        count=len(conv.questions),
        respond_by=conv.day(respond_by),
    )
    assert conv.interview.status == InterviewStatus.COMPLETED


def _offer_review(conv: Conversation, answer: Answer | None) -> None:
    if answer is None:  # cannot happen while phases hold; recover by asking again
        step(conv.interview, PhaseEvent.NOTHING_TO_REVIEW)
        _show_question(conv)
        return
    q = current(conv)
    length = texts.length(conv.language, answer.duration_seconds or 0)
    left = q.max_takes - answer.take
    submit = conv.choice(conv.text("submit"), buttons.Submit(q.index, answer.take))
    if left <= 0:
        conv.say("review.last", [[submit]], length=length)
        return
    again = conv.choice(conv.text("rerecord", count=left), buttons.Rerecord(q.index, answer.take))
    conv.say("review", [[submit, again]], length=length, take=answer.take, max_takes=q.max_takes)


def _latest_take(conv: Conversation) -> Answer | None:
    q = current(conv)
    if q.question_id is None:
        return None
    return conv.session.exec(
        select(Answer)
        .where(Answer.interview_id == conv.interview_id)
        .where(Answer.question_id == q.question_id)
        .order_by(col(Answer.take).desc())
    ).first()


def _takes_used(conv: Conversation) -> int:
    latest = _latest_take(conv)
    return latest.take if latest is not None else 0


def _is_current(conv: Conversation, index: int, take: int, answer: Answer | None) -> bool:
    return (
        conv.interview.phase == QuestionPhase.REVIEWING
        and index == conv.interview.question_index
        and answer is not None
        and answer.take == take
        and not answer.submitted
    )


def _not_media_key(kind: str) -> str:
    known = {"sticker", "photo", "animation", "location", "contact", "poll", "document"}
    return f"not_media.{kind}" if kind in known else "not_media.other"
