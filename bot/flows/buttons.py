"""Button data: what a pressed button asks for, as one typed class per button.

Like aiogram's ``CallbackData``: each button is a frozen dataclass with a prefix and typed
fields; ``pack()`` writes the string a platform carries (Telegram's ``callback_data``, a Slack
button's ``value``) and ``unpack()`` reads it back as the same typed object. Flows define and
read buttons here only; the adapters pass the string through untouched.

Format: ``<prefix>[<sep><field>…][@<interview id>]``, e.g. ``submit:2:1@17``, ``vote_yes@17``.
A person may hold several interviews (two openings, a re-invitation), so a candidate's button
names its interview: a press acts on that interview only, and only for the Telegram account the
interview is bound to. The format is the one buttons already sent carry, so they keep working;
candidates' buttons sent before interviews were named carry no ``@<id>`` and still work where
the person has one interview.

Data that is not one of our buttons (forged, malformed, from a version long gone) raises
``StaleButton``; the flows answer it as a stale button and change nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Any, ClassVar, Self, get_type_hints

from bot.errors import HirebotError
from bot.flows.review import VoteChoice
from bot.limits import ButtonLimit
from storage.models import BookingOutcome

_OWNER = "@"
# Plain ASCII digits only: str.isdigit() also accepts "²" and "١", which int() then refuses.
_ID = re.compile(r"[0-9]{1,18}")
_NUMBER = re.compile(r"-?[0-9]{1,18}")  # a field may be negative: the practice question is -1


class StaleButton(HirebotError):
    """Data that is none of our buttons: forged, malformed or long out of date.

    Its sentence is the same whatever was wrong, for whoever pressed it.
    """

    def __init__(self, why: str = "") -> None:
        super().__init__("That button is out of date or not one of mine: nothing changed.")
        self.why = why  # for a test or a debugger; never shown


class ButtonTooLong(ValueError):
    """A button that Telegram would refuse: its data is over 64 bytes."""


@dataclass(frozen=True)
class ButtonData:
    """One kind of button. Subclasses are frozen dataclasses declared with a prefix::

        @dataclass(frozen=True)
        class Submit(ButtonData, prefix="submit"):
            index: int
            take: int
            interview_id: int | None = None

    Fields are ``int``, ``str`` or a ``StrEnum``, written in declaration order;
    a field named ``interview_id`` is written after ``@`` instead (left out when None).
    """

    prefix: ClassVar[str]
    sep: ClassVar[str]

    def __init_subclass__(cls, *, prefix: str, sep: str = ":", **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not prefix or _OWNER in prefix or _OWNER in sep:
            raise TypeError(f"{cls.__name__}: a prefix is needed, and neither may hold {_OWNER!r}")
        cls.prefix, cls.sep = prefix, sep

    @property
    def action(self) -> str:
        """The data without its interview: what the button asks for.

        Slack routes a press by this (its ``action_id``, unique within a card); the whole
        packed data travels in the button's ``value``.
        """
        parts = [self.prefix]
        for name, kind in _fields(type(self)):
            parts.append(_write(type(self), name, kind, getattr(self, name)))
        return type(self).sep.join(parts)

    def pack(self) -> str:
        data = self.action
        interview_id = getattr(self, "interview_id", None)
        if interview_id is not None:
            if interview_id < 0:
                raise ValueError(f"{type(self).__name__}: no interview has id {interview_id}")
            data += f"{_OWNER}{interview_id}"
        if len(data.encode()) > ButtonLimit.CALLBACK_DATA_BYTES:
            raise ButtonTooLong(
                f"button data over {ButtonLimit.CALLBACK_DATA_BYTES} bytes: {data!r}"
            )
        return data

    @classmethod
    def unpack(cls, data: str) -> Self:
        """The button ``data`` was packed from; ``StaleButton`` if it is not one of these."""
        action, owner, interview = data.rpartition(_OWNER) if _OWNER in data else (data, "", "")
        if not action.startswith(cls.prefix):
            raise StaleButton(f"not a {cls.__name__} button")
        rest, names = action[len(cls.prefix) :], _fields(cls)
        if names:
            if not rest.startswith(cls.sep):
                raise StaleButton(f"not a {cls.__name__} button")
            parts = rest[len(cls.sep) :].split(cls.sep)
        elif rest:
            raise StaleButton(f"not a {cls.__name__} button")
        else:
            parts = []
        if len(parts) != len(names):
            raise StaleButton(f"{cls.__name__} has {len(names)} fields, not {len(parts)}")
        values = {name: _read(kind, part) for (name, kind), part in zip(names, parts, strict=True)}
        if owner:
            if not _owned(cls):
                raise StaleButton(f"{cls.__name__} names no interview")
            if not _ID.fullmatch(interview):
                raise StaleButton("not an interview id")
            values["interview_id"] = int(interview)
        elif _owned(cls) == "required":
            raise StaleButton(f"{cls.__name__} must name its interview")
        return cls(**values)

    @classmethod
    def action_pattern(cls) -> re.Pattern[str]:
        """Matches the ``action`` of every button of this kind (Bolt routes by it)."""
        rest = "$" if not _fields(cls) else re.escape(cls.sep)
        return re.compile(f"^{re.escape(cls.prefix)}{rest}")

    @classmethod
    def from_slack(cls, action_id: str, value: str) -> Self:
        """A pressed Slack button: its ``value`` is the packed data.

        Cards posted before values were packed carry the bare interview id as the value
        (``vote_yes`` / ``17``); they read as ``vote_yes@17``. A value that does not belong
        to its ``action_id`` is not one of ours.
        """
        data = f"{action_id}{_OWNER}{value}" if _ID.fullmatch(value) else value
        button = cls.unpack(data)
        if button.action != action_id:
            raise StaleButton("the button's value does not match its action")
        return button


# ------------------------------------------------------------------ the candidate's buttons


class Consent(StrEnum):
    AGREE = "agree"
    DECLINE = "decline"


class Confirm(StrEnum):
    YES = "yes"
    NO = "no"


@dataclass(frozen=True)
class Ready(ButtonData, prefix="ready"):
    """Show me question ``index`` (after its preparation time)."""

    index: int
    interview_id: int | None = None


@dataclass(frozen=True)
class Submit(ButtonData, prefix="submit"):
    """Keep take ``take`` as the answer to question ``index``."""

    index: int
    take: int
    interview_id: int | None = None


@dataclass(frozen=True)
class Rerecord(ButtonData, prefix="rerecord"):
    """Record question ``index`` again instead of take ``take``."""

    index: int
    take: int
    interview_id: int | None = None


@dataclass(frozen=True)
class ConsentAnswer(ButtonData, prefix="consent"):
    answer: Consent
    interview_id: int | None = None


@dataclass(frozen=True)
class EraseAnswer(ButtonData, prefix="erase"):
    """The answer to "delete everything?" (``/delete_my_data``)."""

    answer: Confirm
    interview_id: int | None = None


@dataclass(frozen=True)
class Language(ButtonData, prefix="lang"):
    code: str
    interview_id: int | None = None


@dataclass(frozen=True)
class MoreTime(ButtonData, prefix="more_time"):
    interview_id: int | None = None


class CallMode(StrEnum):
    """What a slot button does: book the first call, or move the booked one there."""

    BOOK = "b"
    MOVE = "m"


class CallChange(StrEnum):
    RESCHEDULE = "reschedule"
    CANCEL = "cancel"


@dataclass(frozen=True)
class PickSlot(ButtonData, prefix="slot"):
    """Book (or move the call to) the slot that starts at ``minute`` (minutes since the Unix
    epoch: an instant, so a slot taken meanwhile shifts nothing; 8 digits keep the data short).
    Always names its interview."""

    mode: CallMode
    minute: int
    interview_id: int


@dataclass(frozen=True)
class MoreSlots(ButtonData, prefix="slots"):
    """The page of slots after ``minute`` ("Later dates"); 0 shows the first page."""

    mode: CallMode
    minute: int
    interview_id: int


@dataclass(frozen=True)
class ChangeCall(ButtonData, prefix="my_call"):
    """The candidate's Reschedule / Cancel under their booked call."""

    change: CallChange
    interview_id: int


@dataclass(frozen=True)
class SendQuestion(ButtonData, prefix="ask"):
    """The candidate's yes or no to "Send this to the hiring team?" (``bot.flows.questions``)."""

    answer: Confirm
    question_id: int
    interview_id: int | None = None


@dataclass(frozen=True)
class Stale:
    """Pressed data that is none of the candidate's buttons, and the interview it names."""

    interview_id: int | None = None


CandidateButton = (
    Ready
    | Submit
    | Rerecord
    | ConsentAnswer
    | EraseAnswer
    | Language
    | MoreTime
    | PickSlot
    | MoreSlots
    | ChangeCall
    | SendQuestion
)
CallButton = PickSlot | MoreSlots | ChangeCall
_CANDIDATE: tuple[type[CandidateButton], ...] = (
    Ready,
    Submit,
    Rerecord,
    ConsentAnswer,
    EraseAnswer,
    Language,
    MoreTime,
    PickSlot,
    MoreSlots,
    ChangeCall,
    SendQuestion,
)


def candidate_press(data: str) -> CandidateButton | Stale:
    """A candidate's pressed button, or ``Stale`` with the interview it names if readable."""
    for kind in _CANDIDATE:
        try:
            return kind.unpack(data)
        except StaleButton:
            continue
    _, owner, interview = data.rpartition(_OWNER)
    return Stale(int(interview) if owner and _ID.fullmatch(interview) else None)


# ------------------------------------------------------------------ the team's buttons (Slack)


class Verdict(StrEnum):
    APPROVE = "approve"
    DENY = "deny"


@dataclass(frozen=True)
class Vote(ButtonData, prefix="vote", sep="_"):
    """A reviewer's vote on the candidate card."""

    choice: VoteChoice
    interview_id: int


@dataclass(frozen=True)
class OpenScore(ButtonData, prefix="score_open"):
    """Open the scoring form for the card's interview."""

    interview_id: int


@dataclass(frozen=True)
class ExtensionDecision(ButtonData, prefix="extension"):
    """A recruiter's answer to a candidate's request for more time."""

    verdict: Verdict
    request_id: int


@dataclass(frozen=True)
class CallOutcome(ButtonData, prefix="call"):
    """Whether a booked live call happened, marked in its thread once it has ended."""

    outcome: BookingOutcome
    booking_id: int


@dataclass(frozen=True)
class OfferCall(ButtonData, prefix="book_call"):
    """ "Book a call" on the card of a candidate at the live-interview stage: offer them the
    times (again) on Telegram."""

    interview_id: int


@dataclass(frozen=True)
class TeamCallChange(ButtonData, prefix="booking"):
    """A recruiter's Reschedule / Cancel under a booked call in the review thread."""

    change: CallChange
    booking_id: int


@dataclass(frozen=True)
class ReplyToCandidate(ButtonData, prefix="reply_candidate"):
    """ "Reply to candidate" under a candidate's question in their review thread."""

    question_id: int


@dataclass(frozen=True)
class OpenShare(ButtonData, prefix="share_open"):
    """ "Share" on the card: the form to share the candidate in Slack or by a link."""

    interview_id: int


@dataclass(frozen=True)
class RevokeShare(ButtonData, prefix="share_revoke"):
    """ "Revoke link" under the thread's note that a share link was made."""

    link_id: int


# ------------------------------------------------------------------ reading and writing fields


_HINTS: dict[type[ButtonData], dict[str, Any]] = {}


def _hints(cls: type[ButtonData]) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = get_type_hints(cls)  # annotations are strings until asked for
    return _HINTS[cls]


def _fields(cls: type[ButtonData]) -> tuple[tuple[str, type], ...]:
    """The fields written before ``@``, with their types, in declaration order."""
    hints = _hints(cls)
    return tuple((f.name, hints[f.name]) for f in fields(cls) if f.name != "interview_id")


def _owned(cls: type[ButtonData]) -> str:
    """Whether the button names its interview: "required", "optional" or "" (never)."""
    hint = _hints(cls).get("interview_id")
    if hint is None:
        return ""
    return "required" if hint is int else "optional"


def _write(cls: type[ButtonData], name: str, kind: type, value: object) -> str:
    if isinstance(value, StrEnum):
        text = value.value
    elif isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(f"{cls.__name__}.{name}: {type(value).__name__} is not int, str or enum")
    elif isinstance(value, int):
        text = str(value)
    else:
        text = value
    if cls.sep in text or _OWNER in text:
        raise ValueError(f"{cls.__name__}.{name} may not contain {cls.sep!r} or {_OWNER!r}")
    return text


def _read(kind: type, text: str) -> Any:
    if kind is int:
        if not _NUMBER.fullmatch(text):
            raise StaleButton("not a number")
        return int(text)
    if isinstance(kind, type) and issubclass(kind, StrEnum):
        try:
            return kind(text)
        except ValueError:
            raise StaleButton(f"not a {kind.__name__}") from None
    return text
