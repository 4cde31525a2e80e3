"""Openings from a YAML file: create or update by slug, or refuse with the line and the reason."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlmodel import Session, col, select

from bot.errors import InvalidRequest, NotFound, OpeningFileError
from bot.flows import decision_texts, escaping, interviewer_setup, outgoing
from bot.flows.ats_sync import AtsSpec
from bot.flows.moments import known_zone
from bot.limits import InviteLimit, OpeningLimit, QuestionDefaults
from storage.models import Answer, Opening, Question

ANSWER_TYPES = ("voice", "video_note", "video", "audio", "text")
NO_INTRO = "none"  # ``intro: none`` removes a clip, whether set from the file or from Slack
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
_SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,31}$")


class QuestionSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1)
    prep_seconds: int = Field(
        default=QuestionDefaults.PREP_SECONDS, ge=0, le=OpeningLimit.PREP_SECONDS_MAX
    )
    answer_seconds: int = Field(
        default=QuestionDefaults.ANSWER_SECONDS,
        ge=OpeningLimit.ANSWER_SECONDS_MIN,
        le=OpeningLimit.ANSWER_SECONDS_MAX,
    )
    max_takes: int = Field(
        default=QuestionDefaults.MAX_TAKES, ge=OpeningLimit.TAKES_MIN, le=OpeningLimit.TAKES_MAX
    )
    answer_types: list[str] = Field(default_factory=lambda: ["voice", "video_note", "video"])
    # A voice or video file sent before this question (bot.flows.intro_clips), relative to
    # the openings file; left out, the question's clip (if any) is removed.
    intro: str | None = None

    @field_validator("answer_types")
    @classmethod
    def _known_types(cls, value: list[str]) -> list[str]:
        unknown = [t for t in value if t not in ANSWER_TYPES]
        if unknown or not value:
            raise ValueError(f"answer_types must be some of {', '.join(ANSWER_TYPES)}")
        return value


class ReminderSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    not_started_after_hours: list[int] = Field(default_factory=lambda: [24])
    before_deadline_hours: list[int] = Field(default_factory=lambda: [72, 24])


class OpeningSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slug: str
    title: str = Field(min_length=1)
    company: str = ""
    review_channel: str = Field(pattern=r"^[CG][A-Z0-9]{2,}$")
    deadline_days: int = Field(
        default=InviteLimit.DEFAULT_DEADLINE_DAYS,
        ge=OpeningLimit.DEADLINE_DAYS_MIN,
        le=OpeningLimit.DEADLINE_DAYS_MAX,
    )
    strict_limits: bool = True
    blind_review: bool = False
    language: str | None = Field(default=None, pattern=r"^[a-z]{2}$")
    practice_question: str | None = None
    timezone: str = "UTC"
    respond_within_days: int = Field(default=5, ge=1, le=OpeningLimit.RESPOND_WITHIN_DAYS_MAX)
    reminders: ReminderSpec = Field(default_factory=lambda: ReminderSpec())
    questions: list[QuestionSpec] = Field(min_length=1)
    rubric: list[str] = Field(default_factory=list)
    # The opening's own wording of decision messages (see bot.flows.decision_texts).
    candidate_messages: dict[str, str] = Field(default_factory=dict)
    # Who takes the live interview (issue 10): Slack user ids. A panel needs all of them
    # free at once; otherwise any one of them takes the call.
    interviewers: list[str] = Field(default_factory=list, max_length=OpeningLimit.INTERVIEWERS_MAX)
    panel: bool = False
    # A fixed video-call room for every call; left out, each booking gets its own room.
    meeting_url: str | None = None
    # Days after the final decision (or the end of an interview that had none) before the
    # candidate is erased; HIREBOT_RETENTION_MAX_DAYS caps it (bot.flows.retention).
    retention_days: int = Field(
        default=OpeningLimit.RETENTION_DAYS_DEFAULT,
        ge=OpeningLimit.RETENTION_DAYS_MIN,
        le=OpeningLimit.RETENTION_DAYS_MAX,
    )
    # A voice or video file every candidate gets after consent, before question 1, relative
    # to the openings file. Left out, the opening keeps no clip from the file; a clip set
    # from Slack is kept unless ``intro: none``.
    intro: str | None = None
    # The applicant tracking system candidates are synced with (issue 12; bot.flows.ats_sync).
    ats: AtsSpec | None = None

    def intro_files(self) -> dict[int | None, str]:
        """The clips the file names: None (the opening's) or a question's position → the
        file, or NO_INTRO. A clip the file does not mention is left as it is."""
        files: dict[int | None, str | None] = {None: self.intro}
        files.update({i: q.intro for i, q in enumerate(self.questions)})
        return {position: file for position, file in files.items() if file is not None}

    @field_validator("rubric")
    @classmethod
    def _distinct_criteria(cls, value: list[str]) -> list[str]:
        cleaned = [c.strip() for c in value]
        if any(not c for c in cleaned) or len(set(cleaned)) != len(cleaned):
            raise ValueError("rubric criteria must be distinct and not empty")
        return cleaned

    @field_validator("candidate_messages")
    @classmethod
    def _usable_templates(cls, value: dict[str, str]) -> dict[str, str]:
        for key, template in value.items():
            decision_texts.check_template(key, template)
        return value

    @field_validator("interviewers")
    @classmethod
    def _slack_users(cls, value: list[str]) -> list[str]:
        for user in value:
            if not _SLACK_USER.match(user):
                raise ValueError(
                    f"'{user}' is not a Slack member id (profile → ⋮ → Copy member ID, e.g. "
                    "U0123ABCD)"
                )
        if len(set(value)) != len(value):
            raise ValueError("each interviewer is named once")
        return value

    @field_validator("meeting_url")
    @classmethod
    def _web_address(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        parts = urlsplit(value.strip())
        if parts.scheme != "https" or not parts.hostname:
            raise ValueError("meeting_url must be an https:// address")
        return value.strip()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if known_zone(value) is None:
            raise ValueError(f"unknown time zone '{value}' (use e.g. Europe/Berlin)")
        return value

    @field_validator("slug")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not _SLUG.match(value):
            raise ValueError("slug must be lowercase letters, digits and dashes")
        return value


def parse(path: Path) -> OpeningSpec:
    """Read and validate one opening file; errors name the line and the reason."""
    try:
        source = path.read_text(encoding="utf-8")
    except OSError as err:
        raise OpeningFileError(f"{path}: cannot read the file ({err.strerror}).") from err
    try:
        node = yaml.compose(source)
        data = yaml.safe_load(source)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "somewhere"
        raise OpeningFileError(f"{path}, {where}: not valid YAML ({err}).") from err
    if not isinstance(data, dict):
        raise OpeningFileError(f"{path}: expected a mapping with slug, title, questions, ...")
    try:
        spec = OpeningSpec.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        location = list(first["loc"])
        line = _line_of(node, location)
        dotted = ".".join(str(p) for p in location) or "(top level)"
        raise OpeningFileError(f"{path}, line {line}: {dotted}: {first['msg']}.") from err
    return _with_intro_paths(spec, path, node)


def _with_intro_paths(spec: OpeningSpec, path: Path, node: Any) -> OpeningSpec:
    """Intro files named relative to the openings file, made absolute; a missing one refused."""

    def resolved(name: str | None, location: list[Any]) -> str | None:
        if name is None or name.strip().lower() == NO_INTRO:
            return None if name is None else NO_INTRO
        file = (path.parent / name.strip()).resolve()
        if not file.is_file():
            line = _line_of(node, location)
            raise OpeningFileError(
                f"{path}, line {line}: {'.'.join(str(p) for p in location)}: no file "
                f"{name.strip()!r} next to the openings file (write `intro: {NO_INTRO}` to "
                "remove a clip)."
            )
        return str(file)

    questions = [
        q.model_copy(update={"intro": resolved(q.intro, ["questions", i, "intro"])})
        for i, q in enumerate(spec.questions)
    ]
    return spec.model_copy(
        update={"intro": resolved(spec.intro, ["intro"]), "questions": questions}
    )


def save(session: Session, spec: OpeningSpec, now: datetime) -> tuple[Opening, bool]:
    """Create or update the opening by slug; returns it and whether it was created."""
    opening = find_opening(session, spec.slug)
    created = opening is None
    if opening is None:
        opening = Opening(
            slug=spec.slug, title=spec.title, review_channel="", created_at=now, updated_at=now
        )
        session.add(opening)
    opening.title = spec.title
    opening.company = spec.company
    opening.review_channel = spec.review_channel
    opening.deadline_days = spec.deadline_days
    opening.strict_limits = spec.strict_limits
    opening.blind_review = spec.blind_review
    opening.language = spec.language
    opening.candidate_messages = dict(spec.candidate_messages)
    opening.rubric = list(spec.rubric)
    opening.practice_question = spec.practice_question
    opening.timezone = spec.timezone
    opening.respond_within_days = spec.respond_within_days
    opening.remind_not_started_hours = list(spec.reminders.not_started_after_hours)
    opening.remind_before_deadline_hours = list(spec.reminders.before_deadline_hours)
    opening.interviewers = list(spec.interviewers)
    opening.panel = spec.panel
    opening.meeting_url = spec.meeting_url
    opening.retention_days = spec.retention_days
    opening.ats = spec.ats.model_dump() if spec.ats is not None else None
    opening.updated_at = now
    session.flush()
    _save_questions(session, opening, spec.questions)
    return opening, created


def _save_questions(session: Session, opening: Opening, specs: list[QuestionSpec]) -> None:
    existing = {
        q.position: q
        for q in session.exec(select(Question).where(Question.opening_id == opening.id)).all()
    }
    assert opening.id is not None
    for position, spec in enumerate(specs):
        question = existing.pop(position, None) or Question(
            opening_id=opening.id,
            position=position,
            text="",
            prep_seconds=0,
            answer_seconds=0,
            max_takes=1,
        )
        question.text = spec.text
        question.prep_seconds = spec.prep_seconds
        question.answer_seconds = spec.answer_seconds
        question.max_takes = spec.max_takes
        question.answer_types = list(spec.answer_types)
        session.add(question)
    for leftover in existing.values():
        answered = session.exec(select(Answer.id).where(Answer.question_id == leftover.id)).first()
        if answered is not None:
            raise OpeningFileError(
                f"Question {leftover.position + 1} already has answers; it cannot be removed. "
                "Create a new opening instead."
            )
        session.delete(leftover)


def _line_of(node: Any, location: list[Any]) -> int:
    """Walk the YAML node tree along a pydantic error location to find its line."""
    current = node
    for part in location:
        if isinstance(current, yaml.MappingNode):
            match = next((v for k, v in current.value if k.value == part), None)
            if match is None:
                break
            current = match
        elif isinstance(current, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(current.value):
                break
            current = current.value[part]
        else:
            break
    return int(current.start_mark.line) + 1 if current is not None else 1


def create(session: Session, spec: OpeningSpec, *, by: str, now: datetime) -> Opening:
    """A new opening from the Slack form: a taken slug is refused; the creator hears next steps."""
    if find_opening(session, spec.slug) is not None:
        raise InvalidRequest(f"An opening called `{spec.slug}` exists already: pick another title.")
    opening, _ = save(session, spec, now)
    outgoing.to_team_member(
        session,
        by,
        f"Created opening *{escaping.mrkdwn(opening.title)}* (`{opening.slug}`, "
        f"{len(spec.questions)} questions). Answers go to <#{opening.review_channel}>: "
        "make sure hirebot is in it "
        f"(`/invite @hirebot`). Invite a candidate with `/hire invite {opening.slug} <name>`."
        + _hours_reminder(session, opening),
        now,
    )
    return opening


def _hours_reminder(session: Session, opening: Opening) -> str:
    missing = interviewer_setup.missing_hours(session, opening)
    return f"\n{interviewer_setup.ask_to_set_hours(missing)}" if missing else ""


def listed(session: Session) -> list[Opening]:
    """Every opening, by slug."""
    return list(session.exec(select(Opening).order_by(col(Opening.slug))).all())


def find_opening(session: Session, slug: str) -> Opening | None:
    """The opening called ``slug``, if there is one."""
    return session.exec(select(Opening).where(Opening.slug == slug)).first()


def opening_named(session: Session, slug: str) -> Opening:
    """The opening called ``slug``; NotFound naming the ones there are."""
    opening = find_opening(session, slug)
    if opening is None:
        known = ", ".join(o.slug for o in listed(session))
        raise NotFound(
            f"There is no opening called '{escaping.mrkdwn(slug)}'. "
            f"Openings: {known or 'none yet — import one with hirebot openings import'}."
        )
    return opening
