"""The seams between hirebot's rules and the outside world.

Flows never import an SDK. They record what must be said (see ``bot.flows.outbox``); the
delivery worker hands each message to an adapter that implements one of these Protocols.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class Choice:
    """One button under a message: the label a person sees and the data we get back."""

    label: str
    data: str


@dataclass(frozen=True)
class Segment:
    start: float
    end: float
    text: str


@dataclass(frozen=True)
class Transcript:
    """What a Whisper backend heard in one answer.

    ``no_speech`` marks a recording that is only silence: ``text`` is then empty, and a
    reviewer should read "no speech heard", not an empty quote.
    """

    text: str
    language: str
    language_probability: float
    duration_seconds: float
    segments: tuple[Segment, ...] = ()
    low_confidence: bool = False
    no_speech: bool = False


class CandidateChannel(Protocol):
    """How hirebot talks to a candidate (Telegram today)."""

    async def send_text(self, chat_id: int, text: str, choices: list[list[Choice]]) -> None: ...


@dataclass(frozen=True)
class CandidateCard:
    """The parent message for one candidate in the opening's review channel."""

    interview_id: int
    candidate: str
    opening: str
    answered: int
    questions: int
    status: str
    stage: str
    deadline: datetime
    tally: dict[str, int] = field(default_factory=dict)


class ReviewChannel(Protocol):
    """How hirebot talks to the hiring team (Slack today)."""

    async def post_card(self, channel: str, card: CandidateCard) -> str:
        """Post the candidate's parent message; return its id (Slack ``ts``)."""
        ...

    async def update_card(self, channel: str, message_id: str, card: CandidateCard) -> None: ...

    async def post_in_thread(
        self, channel: str, thread_id: str, text: str, media: Path | None, media_title: str
    ) -> None: ...

    async def notify_user(self, user: str, text: str) -> None: ...


class Transcriber(Protocol):
    """A loaded Whisper model. Blocking: call it from a worker thread, never the event loop."""

    def transcribe(self, media: Path, language: str | None = None) -> Transcript: ...


class Clock(Protocol):
    def now(self) -> datetime:
        """Current time, timezone-aware UTC (how every timestamp is stored)."""
        ...
