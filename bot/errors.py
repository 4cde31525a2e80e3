"""hirebot's errors. Each one carries a sentence fit for the person who caused it."""

from __future__ import annotations

import traceback
from pathlib import Path


class HirebotError(Exception):
    """Base class: ``str(err)`` is safe to show to the person who caused it."""


class ConfigError(HirebotError):
    """A setting is missing or wrong; the message says how to fix it."""


class OpeningFileError(HirebotError):
    """An openings YAML file is invalid; the message names the line and the reason."""


class NotAllowed(HirebotError):
    """The person may not do this (not a recruiter, not their interview)."""


class NotFound(HirebotError):
    """The thing named does not exist."""


class InvalidRequest(HirebotError):
    """A teammate's command or form is incomplete or wrong; nothing changed."""


class IllegalTransition(HirebotError):
    """The event does not fit the interview's current state."""


class BadAnswer(HirebotError):
    """A candidate sent something we cannot accept as an answer; nothing changed."""


class MediaError(BadAnswer):
    """The media file cannot be decoded or has no audio."""


class DeliveryDeferred(Exception):
    """An outgoing message could not be delivered now; try again later.

    ``retry_after`` is the platform's own hint (Telegram's and Slack's 429), in seconds.
    """

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class DeliveryRefused(Exception):
    """The platform refuses this message for good (blocked bot, deleted chat): do not retry."""


class FileIdRefused(DeliveryRefused):
    """The platform no longer knows a file id we cached (another bot token, a purge):
    upload the file itself instead."""


class RecipientRefused(DeliveryRefused):
    """The recipient's mail server refused the email for good (a 5xx: no such user, mailbox
    full): ``said`` is its answer, code first, without the address."""

    def __init__(self, reason: str, said: str) -> None:
        super().__init__(reason)
        self.said = said


class ChannelUnavailable(DeliveryDeferred):
    """hirebot may not post in a Slack channel (``problem``: Slack's error code) until a
    person fixes it: invites the bot, or unarchives the channel. Nothing is dropped."""

    def __init__(self, channel: str, problem: str) -> None:
        super().__init__(f"cannot post in {channel}: {problem}")
        self.channel = channel
        self.problem = problem


def described(err: BaseException) -> str:
    """An exception as the logs may show it: its types and where it was raised.

    Never its message: a database error's carries the statement's parameters, an SDK's the
    payload it sent, a network error's the URL (Telegram's embeds the bot token).
    """
    names: list[str] = []
    current: BaseException | None = err
    while current is not None and len(names) < 3:
        names.append(type(current).__qualname__)
        current = current.__cause__ or current.__context__
    frames = traceback.extract_tb(err.__traceback__)[-3:]
    where = " < ".join(f"{Path(f.filename).name}:{f.lineno}" for f in reversed(frames))
    return " from ".join(names) + (f" at {where}" if where else "")
