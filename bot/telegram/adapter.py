"""Telegram updates → one flow call each. Parsing and rendering only; the rules are in flows.

Conversation state lives in our tables, not in PTB's persistence, so any process can pick up
any candidate after a restart. Updates are handled one at a time (PTB's default), so two quick
messages from a candidate are handled in order.
"""

from __future__ import annotations

import logging
import mimetypes
from pathlib import PurePosixPath

from telegram import Audio, Document, Message, Update, Video, VideoNote, Voice
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.flows import interview
from bot.flows.interview import ReceivedAnswer, TelegramPerson
from bot.services import Services

log = logging.getLogger(__name__)

SOURCE = "telegram"
_MEDIA = (
    filters.VOICE
    | filters.VIDEO_NOTE
    | filters.VIDEO
    | filters.AUDIO
    | filters.Document.AUDIO
    | filters.Document.VIDEO
)


def build_application(token: str, api_url: str, file_url: str, services: Services) -> Application:  # type: ignore[type-arg]
    app = ApplicationBuilder().token(token).base_url(api_url).base_file_url(file_url).build()
    handlers = CandidateHandlers(services)
    app.add_handler(CommandHandler("start", handlers.on_start))
    app.add_handler(CallbackQueryHandler(handlers.on_button))
    app.add_handler(MessageHandler(_MEDIA, handlers.on_media))
    app.add_handler(MessageHandler(filters.ALL, handlers.on_other))
    app.add_error_handler(handlers.on_error)
    return app


class CandidateHandlers:
    def __init__(self, services: Services) -> None:
        self._s = services

    async def on_start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """``/start <token>`` from a deep link, or a bare ``/start``."""
        person = _person(update)
        token = context.args[0] if context.args else None
        if token:
            await self._once(
                update, lambda s, now: interview.start(s, token=token, person=person, now=now)
            )
        else:
            await self._once(
                update, lambda s, now: interview.message_without_invite(s, person=person, now=now)
            )

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        person = _person(update)
        data = query.data or ""
        if data in (interview.CONSENT_AGREE, interview.CONSENT_DECLINE):
            agreed = data == interview.CONSENT_AGREE
            await self._once(
                update,
                lambda s, now: interview.answer_consent(s, person=person, agreed=agreed, now=now),
            )
        else:
            await self._once(
                update, lambda s, now: interview.message_without_invite(s, person=person, now=now)
            )
        # Stops the button's spinner; a UI acknowledgement, not a message, so no outbox.
        await query.answer()

    async def on_media(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A recorded answer: check it is expected, download, store, then record it."""
        message = update.effective_message
        assert message is not None
        person = _person(update)
        kind, media = _media_of(message)
        size = getattr(media, "file_size", None)
        key = str(update.update_id)
        handled, expected = await self._s.handle_once(
            SOURCE,
            f"{key}:check",
            lambda s, now: interview.check_answer(
                s, person=person, kind=kind, size_bytes=size, now=now
            ),
        )
        if not handled or not expected:
            return
        telegram_file = await media.get_file()
        data = bytes(await telegram_file.download_as_bytearray())
        suffix = _suffix(kind, message, telegram_file.file_path)
        # The file is on disk (fsync'd) before its row commits, and the row commits before
        # the candidate is told "received" (that message is delivered from the outbox).
        stored = self._s.media.put(data, suffix)
        duration = getattr(media, "duration", None)
        received = ReceivedAnswer(
            kind=kind,
            media=stored,
            text=None,
            telegram_duration=_seconds(duration),
        )
        await self._once(
            update,
            lambda s, now: interview.record_answer(s, person=person, received=received, now=now),
        )

    async def on_other(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Text, stickers, photos, locations...: the flow explains what it expects."""
        message = update.effective_message
        if message is None or update.effective_user is None:
            return
        person = _person(update)
        kind = "text" if message.text else "other"
        await self._once(
            update,
            lambda s, now: interview.check_answer(
                s, person=person, kind=kind, size_bytes=None, now=now
            ),
        )

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        # Never log the update itself: it holds the candidate's messages.
        update_id = update.update_id if isinstance(update, Update) else None
        log.error("telegram update %s failed: %r", update_id, context.error)

    async def _once(self, update: Update, work: interview.Work) -> None:
        await self._s.handle_once(SOURCE, str(update.update_id), work)


def _person(update: Update) -> TelegramPerson:
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    return TelegramPerson(
        user_id=user.id,
        chat_id=chat.id,
        first_name=user.first_name,
        language_code=user.language_code,
    )


MediaFile = Voice | VideoNote | Video | Audio | Document


def _media_of(message: Message) -> tuple[str, MediaFile]:
    for kind in ("voice", "video_note", "video", "audio"):
        media: MediaFile | None = getattr(message, kind)
        if media is not None:
            return kind, media
    document = message.document
    assert document is not None
    mime = document.mime_type or ""
    return ("video" if mime.startswith("video/") else "audio"), document


def _suffix(kind: str, message: Message, file_path: str | None) -> str:
    if kind == "voice":
        return ".ogg"
    if kind == "video_note":
        return ".mp4"
    name = message.document.file_name if message.document else None
    for candidate in (name, file_path):
        if candidate and PurePosixPath(candidate).suffix:
            return PurePosixPath(candidate).suffix.lower()[:8]
    mime = getattr(getattr(message, kind, None) or message.document, "mime_type", None)
    return (mimetypes.guess_extension(mime or "") or ".bin")[:8]


def _seconds(duration: object) -> float | None:
    if duration is None:
        return None
    total = getattr(duration, "total_seconds", None)
    return float(total()) if callable(total) else float(duration)  # type: ignore[arg-type]
