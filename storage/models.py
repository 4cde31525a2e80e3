"""hirebot's tables. Every timestamp is timezone-aware UTC (SQLModel stores it as UTC).

Reads like the domain: an Opening has Questions; a Candidate is invited to an Opening through an
Interview; an Interview collects Answers, has one ReviewPost (the parent message in the review
channel), Votes and Comments. InboxUpdate, OutboxMessage and ProcessedEvent keep delivery safe.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, String, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel


class InterviewStatus(StrEnum):
    INVITED = "invited"
    CONSENT_PENDING = "consent_pending"
    ANSWERING = "answering"
    COMPLETED = "completed"
    DECLINED = "declined"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"  # the candidate erased their data


class QuestionPhase(StrEnum):
    """Where the candidate is within the current question."""

    INTRO = "intro"  # "Question 2 of 5" shown, waiting for Ready
    ANSWERING = "answering"  # question shown, prep/answer clock running
    REVIEWING = "reviewing"  # a take is recorded, waiting for Submit or Re-record


class Stage(StrEnum):
    """Where a candidate is in the hiring pipeline (stored and shown as written here)."""

    ASYNC_INTERVIEW = "Async interview"
    LIVE_INTERVIEW = "Live interview"
    OFFER = "Offer"
    HIRED = "Hired"
    REJECTED = "Rejected"


class DecisionKind(StrEnum):
    """What a recruiter decided (``Decision.kind``)."""

    ADVANCE = "advance"
    REJECT = "reject"
    EXTEND = "extend"  # more time to answer
    DENY_EXTENSION = "deny_extension"


class TranscriptStatus(StrEnum):
    NOT_NEEDED = "not_needed"  # a take that was not submitted, or a typed answer
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # permanently refused by the platform (e.g. the candidate blocked the bot)


def _status_column(length: int = 24) -> Any:
    return Field(sa_type=String(length), index=True)


class Opening(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(sa_type=String(64), unique=True, index=True)
    title: str
    company: str = ""
    review_channel: str = Field(sa_type=String(32))
    deadline_days: int = 7
    rubric: list[str] = Field(default_factory=list, sa_type=JSON)
    strict_limits: bool = True
    # Blind review: reviewers see an alias and no tally until they have voted.
    blind_review: bool = False
    # The language answers are transcribed in (ISO 639-1); None: detect it per answer.
    language: str | None = Field(default=None, sa_type=String(8))
    # Per-opening wording of decision messages to candidates (key → template); see
    # bot.flows.decision_texts for keys and placeholders. Missing keys use the default texts.
    candidate_messages: dict[str, str] = Field(default_factory=dict, sa_type=JSON)
    practice_question: str | None = Field(default=None, sa_type=Text)
    timezone: str = Field(default="UTC", sa_type=String(64))
    respond_within_days: int = 5
    # Reminder rules: hours after the invite if not started; hours before the deadline if
    # not finished. Empty lists switch reminders off.
    remind_not_started_hours: list[int] = Field(default_factory=lambda: [24], sa_type=JSON)
    remind_before_deadline_hours: list[int] = Field(default_factory=lambda: [72, 24], sa_type=JSON)
    # The live interview (issue 10): who the candidate meets (Slack user ids), whether all of
    # them must be free at once (a panel) or any one of them, and where the call happens (a
    # fixed video-call URL; None: a new Jitsi room per booking).
    interviewers: list[str] = Field(default_factory=list, sa_type=JSON)
    panel: bool = False
    meeting_url: str | None = Field(default=None, sa_type=Text)
    # Days a candidate's data is kept after the final decision, then erased (issue 12);
    # HIREBOT_RETENTION_MAX_DAYS caps it for every opening.
    retention_days: int = 180
    # The opening's applicant tracking system (issue 12): bot.flows.ats_sync.AtsSpec as JSON.
    ats: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    created_at: datetime
    updated_at: datetime


class Question(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("opening_id", "position"),)

    id: int | None = Field(default=None, primary_key=True)
    opening_id: int = Field(foreign_key="opening.id", index=True)
    position: int
    text: str = Field(sa_type=Text)
    prep_seconds: int
    answer_seconds: int
    max_takes: int
    answer_types: list[str] = Field(default_factory=list, sa_type=JSON)


class Candidate(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str
    email: str | None = None
    language: str = Field(default="en", sa_type=String(8))
    telegram_user_id: int | None = Field(default=None, sa_type=BigInteger, index=True)
    telegram_chat_id: int | None = Field(default=None, sa_type=BigInteger)
    timezone: str | None = Field(default=None, sa_type=String(64))
    created_at: datetime
    erased_at: datetime | None = None


class Interview(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    opening_id: int = Field(foreign_key="opening.id", index=True)
    candidate_id: int = Field(foreign_key="candidate.id", index=True)
    # sha256 of the invite token: the token is shown once, to the recruiter, and never stored.
    token_hash: str = Field(sa_type=String(64), unique=True)
    status: str = _status_column()
    stage: str = Field(default=Stage.ASYNC_INTERVIEW, sa_type=String(64))
    # -1 is the practice question, when the opening has one.
    question_index: int = 0
    phase: str = Field(default=QuestionPhase.INTRO, sa_type=String(16))
    question_shown_at: datetime | None = None
    # Accommodation: scales prep and answer time (1.5 = 50 % more time).
    time_multiplier: float = 1.0
    deadline_at: datetime
    invited_by: str
    created_at: datetime
    started_at: datetime | None = None
    consented_at: datetime | None = None
    consent_version: str | None = None
    completed_at: datetime | None = None
    decided_at: datetime | None = None
    # When the candidate was first offered live-interview slots (the booking rate's base).
    slots_offered_at: datetime | None = None
    # A recruiter trying the opening as a candidate (/hire preview): counted nowhere, told to
    # nobody outside their DM, erased a day later (bot.flows.preview).
    preview: bool = False


class Answer(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("interview_id", "question_id", "take"),)

    id: int | None = Field(default=None, primary_key=True)
    interview_id: int = Field(foreign_key="interview.id", index=True)
    question_id: int = Field(foreign_key="question.id")
    take: int = 1
    submitted: bool = False
    superseded: bool = False  # the candidate re-recorded it; its file is deleted
    media_kind: str = Field(sa_type=String(16))
    media_path: str | None = None  # relative to the media store; named by content hash
    media_sha256: str | None = Field(default=None, sa_type=String(64))
    media_bytes: int = 0
    text: str | None = Field(default=None, sa_type=Text)  # a typed answer, where allowed
    telegram_duration: float | None = None
    duration_seconds: float | None = None  # decoded from the file by the transcriber
    received_at: datetime
    elapsed_seconds: float | None = None  # question shown → answer received
    prep_seconds_used: float | None = None  # question shown → recording started
    over_limit: bool = False  # longer than the question's answer time (soft mode keeps it)
    # Soft mode, a recording past MediaLimit.MAX_KEPT_SECONDS: only this many seconds of it
    # are stored, transcribed and shown (None: the whole recording is kept).
    cut_at_seconds: float | None = None
    late: bool = False  # took longer than the preparation time to start recording
    transcript_status: str = _status_column()
    transcript_text: str | None = Field(default=None, sa_type=Text)
    transcript_language: str | None = Field(default=None, sa_type=String(8))
    transcript_language_probability: float | None = None
    # [{"start": s, "end": s, "text": ...}]: lets a reviewer jump to the moment in the video.
    transcript_segments: list[dict[str, Any]] | None = Field(default=None, sa_type=JSON)
    transcript_low_confidence: bool = False
    transcript_attempts: int = 0
    transcript_locked_until: datetime | None = None
    transcript_error: str | None = None


class ReminderSent(SQLModel, table=True):
    """A reminder rule already applied to an interview: none is ever sent twice."""

    interview_id: int = Field(foreign_key="interview.id", primary_key=True)
    rule: str = Field(sa_type=String(32), primary_key=True)
    sent_at: datetime


class ReviewPost(SQLModel, table=True):
    """The parent message for one interview in the review channel."""

    id: int | None = Field(default=None, primary_key=True)
    interview_id: int = Field(foreign_key="interview.id", unique=True)
    channel: str = Field(sa_type=String(32))
    message_id: str | None = Field(default=None, sa_type=String(32))  # Slack ts, once posted
    created_at: datetime


class Vote(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("interview_id", "reviewer"),)

    id: int | None = Field(default=None, primary_key=True)
    interview_id: int = Field(foreign_key="interview.id", index=True)
    reviewer: str = Field(sa_type=String(32))
    choice: str = Field(sa_type=String(16))
    created_at: datetime
    updated_at: datetime


class Comment(SQLModel, table=True):
    """A teammate's reply in a candidate's review thread."""

    id: int | None = Field(default=None, primary_key=True)
    interview_id: int = Field(foreign_key="interview.id", index=True)
    author: str = Field(sa_type=String(32))
    text: str = Field(sa_type=Text)
    message_id: str = Field(sa_type=String(32), unique=True)
    created_at: datetime
    edited_at: datetime | None = None
    deleted_at: datetime | None = None


class OutboxMessage(SQLModel, table=True):
    """A message to Slack or Telegram, written with the change that caused it.

    Delivered after commit, in id order within ``ordering_key`` (one candidate's chat, one
    interview's review thread), retried with backoff until the platform takes it.
    """

    id: int | None = Field(default=None, primary_key=True)
    ordering_key: str = Field(sa_type=String(64), index=True)
    kind: str = Field(sa_type=String(32))
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = _status_column(16)
    attempts: int = 0
    next_attempt_at: datetime = Field(index=True)
    locked_until: datetime | None = None
    last_error: str | None = None
    created_at: datetime
    sent_at: datetime | None = None
    # Set while the row waits for a person to let hirebot post in this Slack channel (invite
    # the bot, unarchive it): the bot's invitation releases every row waiting for it at once.
    waiting_for_channel: str | None = Field(default=None, sa_type=String(32), index=True)


class ChannelProblem(SQLModel, table=True):
    """A Slack channel hirebot cannot post in (``problem``: Slack's error), reported once.

    The recruiters are told when the row is created; it goes once hirebot can post there
    again, so the next problem with that channel is reported afresh.
    """

    channel: str = Field(sa_type=String(32), primary_key=True)
    problem: str = Field(sa_type=String(32))
    reported_at: datetime


class ProcessedEvent(SQLModel, table=True):
    """An inbound update/event/action already handled: a re-delivery changes nothing."""

    source: str = Field(sa_type=String(16), primary_key=True)
    key: str = Field(sa_type=String(128), primary_key=True)
    # Indexed: the tick deletes keys by age every minute (storage.inbound.prune).
    created_at: datetime = Field(index=True)


class InboxStatus(StrEnum):
    PENDING = "pending"  # stored, not yet handled
    DONE = "done"
    FAILED = "failed"  # kept failing (see ``last_error``); given up on
    IGNORED = "ignored"  # nothing hirebot acts on (a channel post, an edit, a group message)


class InboxUpdate(SQLModel, table=True):
    """A Telegram update, stored before Telegram is told it may forget it.

    Handled from here in ``update_id`` order within ``chat_key`` (one candidate's chat).
    ``payload`` is the raw update while it waits and is emptied once it is handled or given
    up on: what stays is the id, the outcome and, for a failure, the error's type only.
    """

    __tablename__ = "inbox"

    update_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    chat_key: str | None = Field(default=None, sa_type=String(32), index=True)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = _status_column(16)
    attempts: int = 0
    locked_until: datetime | None = None
    next_attempt_at: datetime
    last_error: str | None = Field(default=None, sa_type=String(64))
    received_at: datetime
    handled_at: datetime | None = None


class Recruiter(SQLModel, table=True):
    """A Slack user added with ``/hire recruiters add`` (besides ``HIREBOT_RECRUITERS``)."""

    user: str = Field(sa_type=String(32), primary_key=True)
    added_by: str = Field(sa_type=String(32))
    created_at: datetime


class Score(SQLModel, table=True):
    """One reviewer's rubric scores (criterion → 1..5) and note for one interview."""

    __table_args__ = (UniqueConstraint("interview_id", "reviewer"),)

    id: int | None = Field(default=None, primary_key=True)
    interview_id: int = Field(foreign_key="interview.id", index=True)
    reviewer: str = Field(sa_type=String(32))
    scores: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    note: str = Field(default="", sa_type=Text)
    created_at: datetime
    updated_at: datetime


class ThreadMessage(SQLModel, table=True):
    """A message we post in a candidate's review thread and may edit later.

    ``key`` names what it shows (``answer:12``, ``completed``, ``extension:3``) so it is
    posted once per interview; ``message_id`` is its Slack ``ts`` once posted.
    ``posting_since`` is set before each attempt: a re-delivery after a crash looks for the
    message in the thread before posting it again. ``uploading_since`` does the same for an
    answer's recording, whose ``file_id`` is recorded once the upload is done.
    """

    __table_args__ = (UniqueConstraint("interview_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    interview_id: int = Field(foreign_key="interview.id", index=True)
    key: str = Field(sa_type=String(48))
    message_id: str | None = Field(default=None, sa_type=String(32))
    posting_since: datetime | None = None
    file_id: str | None = Field(default=None, sa_type=String(32))  # an answer's recording
    uploading_since: datetime | None = None
    created_at: datetime


class ExtensionStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"


class ExtensionRequest(SQLModel, table=True):
    """A candidate's request for more time (Telegram ``/more_time``), decided in Slack."""

    id: int | None = Field(default=None, primary_key=True)
    interview_id: int = Field(foreign_key="interview.id", index=True)
    status: str = _status_column(16)
    days: int | None = None
    requested_at: datetime
    decided_by: str | None = Field(default=None, sa_type=String(32))
    decided_at: datetime | None = None


class Decision(SQLModel, table=True):
    """A recruiter's decision about a candidate: advance, reject or extend (an audit trail)."""

    id: int | None = Field(default=None, primary_key=True)
    interview_id: int = Field(foreign_key="interview.id", index=True)
    kind: str = Field(sa_type=String(16))
    stage: str | None = Field(default=None, sa_type=String(64))
    reason: str | None = Field(default=None, sa_type=Text)
    by: str = Field(sa_type=String(32))
    created_at: datetime = Field(index=True)


class SharedCopy(SQLModel, table=True):
    """Something the bot put in Slack about a candidate outside their review thread.

    A direct message naming them or an export that lists them: erasure deletes it from
    Slack by these ids. (Replies in the thread itself are found by listing the thread.)
    """

    id: int | None = Field(default=None, primary_key=True)
    interview_id: int = Field(foreign_key="interview.id", index=True)
    channel: str = Field(sa_type=String(32))
    message_id: str | None = Field(default=None, sa_type=String(32))  # Slack ts
    file_id: str | None = Field(default=None, sa_type=String(32))
    created_at: datetime


class BookingStatus(StrEnum):
    BOOKED = "booked"
    CANCELLED = "cancelled"


class BookingOutcome(StrEnum):
    """What an interviewer marked after the call."""

    HELD = "held"
    NO_SHOW = "no_show"


class Booking(SQLModel, table=True):
    """A live interview a candidate booked: one slot, one or more interviewers (its seats).

    ``uid`` is the calendar invitation's UID for the booking's whole life; ``sequence`` rises
    with every change, as RFC 5545 asks of an updated invitation.
    """

    id: int | None = Field(default=None, primary_key=True)
    interview_id: int = Field(foreign_key="interview.id", index=True)
    starts_at: datetime
    ends_at: datetime
    status: BookingStatus = Field(default=BookingStatus.BOOKED, sa_type=String(16))
    uid: str = Field(sa_type=String(64), unique=True)
    sequence: int = 0
    # The call's link, fixed when booked: a reschedule keeps it.
    url: str = Field(default="", sa_type=Text)
    # Who booked, rescheduled or cancelled last: "candidate" or a Slack user id.
    changed_by: str = Field(default="candidate", sa_type=String(32))
    outcome: str | None = Field(default=None, sa_type=String(16))
    outcome_by: str | None = Field(default=None, sa_type=String(32))
    outcome_at: datetime | None = None
    created_at: datetime
    updated_at: datetime


class BookingSeat(SQLModel, table=True):
    """One interviewer's time in a booking.

    The database itself refuses two live seats of one interviewer at once, so two candidates
    pressing the same slot on two processes cannot both get it: a unique index on the
    interviewer and start of live seats (both databases), and on PostgreSQL an exclusion
    constraint on overlapping time ranges (migration 0010), which also catches slots of
    different lengths or starts that overlap.
    """

    __table_args__ = (
        Index(
            "ux_bookingseat_live_start",
            "interviewer",
            "starts_at",
            unique=True,
            sqlite_where=text("live"),
            postgresql_where=text("live"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    booking_id: int = Field(foreign_key="booking.id", index=True)
    interviewer: str = Field(sa_type=String(32))  # Slack user id
    starts_at: datetime
    ends_at: datetime
    live: bool = True  # False once the booking is cancelled or moved: the time is free again


class InterviewerHours(SQLModel, table=True):
    """One interviewer's weekly hours, days off and calendar feed (issue 10).

    ``days`` is ``[[weekday, "HH:MM", "HH:MM"], …]`` in the interviewer's own ``time_zone``
    (bot.flows.availability.WeeklyHours); ``days_off`` is ``["YYYY-MM-DD", …]``.
    ``feed_url`` is the secret address of their calendar: never logged, never shown back in
    full. ``feed_busy`` is the last good copy of the busy times read from it
    (``[[start, end], …]``, ISO 8601 UTC), used while the feed cannot be read.
    """

    interviewer: str = Field(sa_type=String(32), primary_key=True)  # Slack user id
    time_zone: str = Field(sa_type=String(64))
    days: list[list[Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    slot_minutes: int = 30
    buffer_minutes: int = 0
    max_per_day: int = 4
    days_off: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # Where invitations go; from Slack's profile (users:read.email) or typed in the form.
    email: str | None = Field(default=None, sa_type=String(254))
    feed_url: str | None = Field(default=None, sa_type=Text)
    feed_busy: list[list[str]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    feed_read_at: datetime | None = None  # the last good read
    feed_tried_at: datetime | None = None  # the last attempt, good or not
    feed_error: str | None = Field(default=None, sa_type=Text)  # why the last attempt failed
    feed_error_told_at: datetime | None = None  # the interviewer was told (once per error)
    updated_at: datetime


class BookingReminder(SQLModel, table=True):
    """A reminder about a booked call already sent (``rule``: "candidate:24h",
    "candidate:1h", "interviewers:1h"), per booking ``sequence``: a rescheduled call is
    reminded again, a reminder is never sent twice."""

    booking_id: int = Field(foreign_key="booking.id", primary_key=True)
    sequence: int = Field(primary_key=True)
    rule: str = Field(sa_type=String(32), primary_key=True)
    sent_at: datetime


class AuditEvent(SQLModel, table=True):
    """Who did what, when (issue 12): append-only, never updated or deleted by hirebot.

    ``actor`` is a Slack user id, "candidate" or "hirebot"; ``action`` a stable name
    ("interview.invited", "review.voted", "candidate.erased"…). ``detail`` holds ids, stages
    and counts only: never a name, an email, a transcript or a reason, so an erasure leaves
    the record of what happened without the person in it.
    """

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(index=True)
    actor: str = Field(sa_type=String(32))
    action: str = Field(sa_type=String(48))
    interview_id: int | None = Field(default=None, index=True)
    opening_id: int | None = None
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class WebhookEndpoint(SQLModel, table=True):
    """A recruiter's signed webhook (issue 12): where to POST which events.

    ``secret`` signs every delivery (HMAC-SHA256), so it is kept as given out, not hashed;
    it is shown once, to the recruiter who added the endpoint, and never logged. ``events``
    lists event types ("interview.invited") or a family ("booking.*").
    """

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(sa_type=Text)
    secret: str = Field(sa_type=String(64))
    events: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_by: str = Field(sa_type=String(32))
    created_at: datetime


class WebhookDelivery(SQLModel, table=True):
    """The delivery log of one event to one endpoint: how it went, never what it said.

    ``status`` is "pending", "delivered" or "failed" (given up); ``last_status_code`` the
    receiver's HTTP status (None: no answer, see ``last_error``: "timeout", "refused").
    """

    id: int | None = Field(default=None, primary_key=True)
    endpoint_id: int = Field(index=True)
    interview_id: int | None = None  # the pseudonym, so an erasure marks what it dropped
    event_id: str = Field(sa_type=String(40))
    event_type: str = Field(sa_type=String(48))
    status: str = Field(default="pending", sa_type=String(16))
    attempts: int = 0
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, sa_type=String(200))
    created_at: datetime
    last_attempt_at: datetime | None = None


class IntroClip(SQLModel, table=True):
    """A recording the team made for an opening's candidates, already in Telegram's format
    (bot.media.telegram_formats): the opening's own (``question_position`` None), sent after
    consent, or one question's, sent before it. Not personal to any candidate: erasure leaves
    it; replacing or removing it deletes its file."""

    id: int | None = Field(default=None, primary_key=True)
    opening_id: int = Field(foreign_key="opening.id", index=True)
    question_position: int | None = None
    kind: str = Field(sa_type=String(16))  # voice | video | video_note
    media_path: str  # relative to the media store
    duration_seconds: float
    width: int = 0
    height: int = 0
    source_sha256: str = Field(sa_type=String(64))  # the file it was made from: converted once
    # Telegram's id for the uploaded file, after the first send: later candidates get it by id.
    telegram_file_id: str | None = Field(default=None, sa_type=String(256))
    set_by: str = Field(sa_type=String(32))
    created_at: datetime


class RelayStatus(StrEnum):
    DRAFT = "draft"  # prepared from a shortcut, waiting for the recruiter's confirmation
    PENDING = "pending"  # confirmed: in the outbox, on its way to the candidate
    SENT = "sent"  # Telegram took it
    FAILED = "failed"  # Telegram refused it for good (the candidate blocked the bot)


class Relay(SQLModel, table=True):
    """A message from the hiring team to a candidate (issue 11): text, or a recording.

    ``kind`` is "text", "voice", "video" or "video_note"; ``text`` the message (or the
    caption under the recording); ``media_path`` the converted recording in the media store,
    kept until Telegram has it, then deleted. ``question_id``: the candidate's question it
    answers, if any.
    """

    id: int | None = Field(default=None, primary_key=True)
    interview_id: int = Field(foreign_key="interview.id", index=True)
    by: str = Field(sa_type=String(32))
    kind: str = Field(sa_type=String(16))
    status: str = _status_column(16)
    text: str = Field(default="", sa_type=Text)
    media_path: str | None = None
    duration_seconds: float | None = None
    question_id: int | None = None
    created_at: datetime
    sent_at: datetime | None = None


class QuestionStatus(StrEnum):
    DRAFT = "draft"  # typed, waiting for the candidate's "send it?"
    ASKED = "asked"  # in the review thread
    ANSWERED = "answered"  # a recruiter replied
    DROPPED = "dropped"  # the candidate chose not to send it


class CandidateQuestion(SQLModel, table=True):
    """A question a candidate asked the hiring team from Telegram (``/ask``, issue 11)."""

    id: int | None = Field(default=None, primary_key=True)
    interview_id: int = Field(foreign_key="interview.id", index=True)
    status: str = _status_column(16)
    text: str = Field(sa_type=Text)
    created_at: datetime
    asked_at: datetime | None = Field(default=None, index=True)


class ShareLink(SQLModel, table=True):
    """A link that shows one candidate's answers to someone outside Slack (issue 11).

    The token is shown once, to the recruiter who made it, and only its sha256 is kept.
    ``holder`` is who the recruiter said it is for ("Dana, agency"): shown in the thread
    next to what they vote, erased with the candidate. Votes through the link are counted
    per window (``votes_window_at``, ``votes_in_window``) so a leaked link cannot flood the
    thread.
    """

    id: int | None = Field(default=None, primary_key=True)
    interview_id: int = Field(foreign_key="interview.id", index=True)
    token_hash: str = Field(sa_type=String(64), unique=True)
    holder: str = Field(sa_type=String(80))
    created_by: str = Field(sa_type=String(32))  # Slack user id
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None
    revoked_by: str | None = Field(default=None, sa_type=String(32))
    views: int = 0
    votes_window_at: datetime | None = None
    votes_in_window: int = 0


class AtsLink(SQLModel, table=True):
    """One interview's record in the opening's ATS (issue 12): the vendor's ``ref`` (a Lever
    opportunity id), found or created on the first sync. Vendor ids and counts only."""

    interview_id: int = Field(foreign_key="interview.id", primary_key=True)
    kind: str = Field(sa_type=String(16))
    ref: str | None = Field(default=None, sa_type=String(128))
    # Failed attempts in a row of the sync at the head of this candidate's queue: reported
    # in the thread and given up after AtsLimit.MAX_FAILURES; reset by any success.
    failures: int = 0
    # The marker of the note being posted now: a retry after a lost answer looks for it in
    # the ATS before posting again, so a note is never there twice.
    posting_note: str | None = Field(default=None, sa_type=String(32))
    created_at: datetime
