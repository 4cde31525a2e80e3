"""A live interview as the calendars see it: who meets whom, when, and where the call is.

A booking (``bot.flows.booking``, next) turns into one ``Meeting``; ``bot.calendar.invitation``
renders it as an RFC 5545 invitation. Times are aware instants; ``zone`` is the organiser's
IANA zone, the one the invitation is written in (calendars show it in each reader's own).
"""

from __future__ import annotations

import secrets
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, BaseModel, ConfigDict, field_validator, model_validator

from bot.flows.moments import known_zone

# A generated room: anyone with the link may join, so its name must be unguessable.
JITSI_BASE_URL = "https://meet.jit.si/"
_ROOM_TOKEN_BYTES = 16  # 128 bits, 22 url-safe characters


def meeting_link(fixed_url: str | None = None, *, jitsi_base_url: str = JITSI_BASE_URL) -> str:
    """The opening's fixed video-call URL when it has one, else a new Jitsi room."""
    if fixed_url and fixed_url.strip():
        return fixed_url.strip()
    room = secrets.token_urlsafe(_ROOM_TOKEN_BYTES).replace("-", "x").replace("_", "y")
    return f"{jitsi_base_url.rstrip('/')}/hirebot-{room}"


class Person(BaseModel):
    """Someone on the invitation: a display name and the address the calendar writes to."""

    model_config = ConfigDict(frozen=True)

    name: str
    email: str
    # A team member's Slack id: delivery writes in the name Slack shows for them (flows know
    # the id only), keeping ``name`` when Slack cannot say.
    slack_user: str | None = None

    @field_validator("email")
    @classmethod
    def _one_plain_address(cls, value: str) -> str:
        # An address goes into a mailto: URI and an SMTP envelope: no spaces, no line breaks,
        # exactly one @ (a name is free text and is escaped where it lands instead).
        value = value.strip()
        local, at, domain = value.partition("@")
        if not at or not local or "." not in domain or any(c in value for c in ' \t\r\n<>",;:'):
            raise ValueError("not an email address")
        return value


class Meeting(BaseModel):
    """One live interview. ``uid`` stays the same for its whole life; ``sequence`` goes up on
    every change a calendar must show (a new time, a cancellation), RFC 5545 §3.8.7.4."""

    model_config = ConfigDict(frozen=True)

    uid: str
    sequence: int = 0
    start: AwareDatetime
    end: AwareDatetime
    zone: str
    title: str
    description: str = ""
    url: str
    # None: the hiring team, whose address only the mail adapter knows (HIREBOT_MAIL_FROM,
    # a setting flows never read); delivery writes it in when it renders the invitation.
    organizer: Person | None = None
    attendees: tuple[Person, ...]

    @field_validator("zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if known_zone(value) is None:
            raise ValueError("not an IANA time zone")
        return value

    @model_validator(mode="after")
    def _ends_after_it_starts(self) -> Meeting:
        if self.end <= self.start:
            raise ValueError("a meeting ends after it starts")
        if self.sequence < 0:
            raise ValueError("sequence starts at 0")
        if not self.attendees:
            raise ValueError("a meeting has attendees")
        return self

    @property
    def local_start(self) -> datetime:
        return self.start.astimezone(ZoneInfo(self.zone))

    @property
    def local_end(self) -> datetime:
        return self.end.astimezone(ZoneInfo(self.zone))


class InvitationMethod(StrEnum):
    """What an invitation asks a calendar to do (RFC 5546): add or update it, or remove it."""

    REQUEST = "REQUEST"
    CANCEL = "CANCEL"


class Invitation(BaseModel):
    """A meeting as it goes out: rendered (.ics) only when sent, so each send has its own
    DTSTAMP and the flows never format a calendar."""

    model_config = ConfigDict(frozen=True)

    meeting: Meeting
    method: InvitationMethod = InvitationMethod.REQUEST
