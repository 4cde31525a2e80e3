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


@dataclass(frozen=True)
class Clip:
    """A recording for the candidate, already in the format its ``kind`` needs
    (bot.transcription.telegram_media): "voice" (OGG/Opus), "video" (H.264/AAC MP4) or
    "video_note" (a square MP4 of a minute at most)."""

    kind: str
    duration_seconds: float | None  # None: not known, Telegram reads it from the file
    width: int = 0
    height: int = 0


class CandidateChannel(Protocol):
    """How hirebot talks to a candidate (Telegram today)."""

    async def send_text(self, chat_id: int, text: str, choices: list[list[Choice]]) -> None: ...

    async def send_document(
        self, chat_id: int, filename: str, content: bytes, caption: str
    ) -> None:
        """A file the candidate can open or save (a calendar invitation), ``caption`` below."""
        ...

    async def send_recording(
        self, chat_id: int, clip: Clip, source: Path | str, caption: str = ""
    ) -> str:
        """A recording that plays in the chat (an intro clip, a recruiter's relay): ``source``
        is the file to upload, or the platform's id of the same file sent before; ``caption``
        under it (a video note has none: it follows as text). Returns the platform's id to
        send it by next time."""
        ...


class MailChannel(Protocol):
    """How hirebot sends email (SMTP). ``calendar``: an invitation's .ics text and its iTIP
    method (REQUEST or CANCEL), attached the way calendars recognise it."""

    async def send_email(
        self,
        to: str,
        subject: str,
        text: str,
        html: str,
        calendar: tuple[str, str] | None,
    ) -> None: ...


@dataclass(frozen=True)
class CandidateCard:
    """The parent message for one candidate in the opening's review channel.

    In blind review ``candidate`` is an alias and ``tally``/``scores`` are empty: the card is
    one message everybody sees, so it shows nothing a reviewer must not see before voting.
    """

    interview_id: int
    candidate: str
    opening: str
    answered: int
    questions: int
    status: str
    stage: str
    deadline: datetime
    tally: dict[str, int] = field(default_factory=dict)
    blind: bool = False
    votes_cast: int = 0
    rubric: tuple[str, ...] = ()
    scores: dict[str, float] = field(default_factory=dict)  # criterion → average
    scored_by: int = 0


@dataclass(frozen=True)
class ThreadNote:
    """A message in a candidate's review thread, with optional buttons.

    ``key`` names it (``answer:12``) so that, after a crash between posting and recording the
    post, delivery can find it in the thread instead of posting it twice.
    """

    text: str
    choices: tuple[Choice, ...] = ()
    key: str | None = None


@dataclass(frozen=True)
class Posted:
    """Where a direct message or file landed, so erasure can delete it later."""

    channel: str
    message_id: str | None = None
    file_id: str | None = None


class ReviewChannel(Protocol):
    """How hirebot talks to the hiring team (Slack today)."""

    async def post_card(self, channel: str, card: CandidateCard) -> str:
        """Post the candidate's parent message; return its id (Slack ``ts``)."""
        ...

    async def update_card(self, channel: str, message_id: str, card: CandidateCard) -> None: ...

    async def post_in_thread(self, channel: str, thread_id: str, note: ThreadNote) -> str:
        """Post ``note`` as a reply to ``thread_id``; return its id."""
        ...

    async def edit_in_thread(self, channel: str, message_id: str, note: ThreadNote) -> None: ...

    async def find_in_thread(self, channel: str, thread_id: str, key: str) -> str | None:
        """The id of the reply posted with ``key``, if an earlier attempt did post it."""
        ...

    async def find_file_in_thread(self, channel: str, thread_id: str, title: str) -> str | None:
        """The id of the file shared as ``title``, if an earlier attempt did upload it."""
        ...

    async def upload_to_thread(self, channel: str, thread_id: str, media: Path, title: str) -> str:
        """Share ``media`` in the thread; return the file's id (to delete it on erasure)."""
        ...

    async def share_in_thread(
        self, channel: str, thread_id: str, filename: str, title: str, content: bytes, comment: str
    ) -> str:
        """Share a small generated file (an .ics) in the thread with ``comment``; its file id."""
        ...

    async def delete_file(self, file_id: str) -> None:
        """Delete a file the bot shared; one already gone counts as deleted."""
        ...

    async def delete_message(self, channel: str, message_id: str) -> None:
        """Delete a message the bot posted; one already gone counts as deleted."""
        ...

    async def clear_thread(self, channel: str, thread_id: str) -> None:
        """Delete every reply the bot posted under ``thread_id``, and their files.

        Replies by people stay: a bot cannot delete them (erasure lists them instead).
        """
        ...

    async def notify_user(self, user: str, text: str) -> Posted: ...

    async def thread_link(self, channel: str, message_id: str) -> str | None:
        """A link to the message (a candidate's card: its thread); None when the platform
        no longer has it (the message or its channel was deleted)."""
        ...

    async def name_of(self, user: str) -> str | None:
        """The name a team member goes by (their full name), None when it cannot be read."""
        ...

    async def tell_privately(self, channel: str, user: str, text: str) -> None:
        """A message only ``user`` sees, in ``channel`` (Slack: an ephemeral message)."""
        ...

    async def send_file_to_user(
        self, user: str, filename: str, title: str, content: bytes
    ) -> Posted: ...


class Transcriber(Protocol):
    """A loaded Whisper model. Blocking: call it from a worker thread, never the event loop."""

    def transcribe(self, media: Path, language: str | None = None) -> Transcript: ...
