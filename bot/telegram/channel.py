"""CandidateChannel over the Bot API: render a flow's message, translate PTB's errors."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Message
from telegram.constants import FileSizeLimit
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.errors import DeliveryDeferred, DeliveryRefused, FileIdRefused
from bot.flows.ports import Choice, Clip
from bot.limits import RelayLimit


class TelegramCandidateChannel:
    def __init__(self, bot: Bot) -> None:
        self._bot = bot

    async def send_text(self, chat_id: int, text: str, choices: list[list[Choice]]) -> None:
        markup = (
            InlineKeyboardMarkup(
                [
                    [InlineKeyboardButton(c.label, callback_data=c.data) for c in row]
                    for row in choices
                ]
            )
            if choices
            else None
        )
        async with _translated():
            await self._bot.send_message(chat_id=chat_id, text=text, reply_markup=markup)

    async def send_document(
        self, chat_id: int, filename: str, content: bytes, caption: str
    ) -> None:
        # A multipart upload (sendDocument), named so the phone offers to open it in the
        # calendar; Telegram keeps the file name we give.
        if len(content) > FileSizeLimit.FILESIZE_UPLOAD:
            # Telegram answers 413, which PTB reports as a network error; no retry helps.
            raise DeliveryRefused("the file is over Telegram's 50 MB upload limit")
        document = InputFile(content, filename=filename)
        async with _translated():
            await self._bot.send_document(chat_id=chat_id, document=document, caption=caption)

    async def send_recording(
        self, chat_id: int, clip: Clip, source: Path | str, caption: str = ""
    ) -> str:
        """sendVoice, sendVideo or sendVideoNote, by upload or by an earlier send's file id."""
        if isinstance(source, Path):
            data = await asyncio.to_thread(source.read_bytes)
            if len(data) > FileSizeLimit.FILESIZE_UPLOAD:
                # Telegram answers 413, which PTB reports as a network error; no retry helps.
                raise DeliveryRefused("the recording is over Telegram's 50 MB upload limit")
            media: InputFile | str = InputFile(data, filename=_UPLOAD_NAMES.get(clip.kind))
        else:
            media = source
        try:
            async with _translated():
                sent = await self._send(chat_id, clip, media, caption)
        except DeliveryRefused as err:
            if isinstance(source, str) and "file" in str(err).lower():
                raise FileIdRefused(str(err)) from err
            raise
        file_id = _clip_file_id(sent)
        if file_id is None:
            raise DeliveryRefused("Telegram did not keep the clip as voice or video")
        return file_id

    async def _send(
        self, chat_id: int, clip: Clip, media: InputFile | str, caption: str
    ) -> Message:
        known = clip.duration_seconds
        seconds = max(1, round(known)) if known is not None else None
        if clip.kind == "voice":
            return await self._bot.send_voice(
                chat_id=chat_id, voice=media, caption=caption or None, duration=seconds
            )
        if clip.kind == "video_note":
            # A round video takes no caption: the words go first, as their own message.
            if caption:
                await self._bot.send_message(chat_id=chat_id, text=caption)
            # Every note hirebot sends was made square at that side (telegram_media).
            return await self._bot.send_video_note(
                chat_id=chat_id,
                video_note=media,
                duration=seconds,
                length=clip.width or RelayLimit.VIDEO_NOTE_SIDE,
            )
        if clip.kind == "video":
            # A size of 0 is not known: Telegram reads it from the file.
            return await self._bot.send_video(
                chat_id=chat_id,
                video=media,
                caption=caption or None,
                duration=seconds,
                width=clip.width or None,
                height=clip.height or None,
                supports_streaming=True,
            )
        raise DeliveryRefused(f"no way to send a {clip.kind!r} recording")


# What an upload is called in the chat, by kind (Telegram keeps the name we give).
_UPLOAD_NAMES = {"voice": "voice.ogg", "video": "video.mp4", "video_note": "note.mp4"}


def _clip_file_id(sent: Message) -> str | None:
    media = sent.voice or sent.video_note or sent.video
    return media.file_id if media is not None else None


@contextlib.asynccontextmanager
async def _translated() -> AsyncIterator[None]:
    """PTB's errors as the outbox understands them: wait and retry, or give up."""
    try:
        yield
    except RetryAfter as err:
        raise DeliveryDeferred("Telegram rate limit", _seconds(err.retry_after)) from err
    except Forbidden as err:
        raise DeliveryRefused(f"Telegram refused: {err.message}") from err
    except BadRequest as err:
        raise DeliveryRefused(f"Telegram bad request: {err.message}") from err
    except (NetworkError, TelegramError) as err:
        raise DeliveryDeferred(f"Telegram unavailable: {type(err).__name__}") from err


def _seconds(value: float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
