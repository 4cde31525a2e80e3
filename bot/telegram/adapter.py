"""Telegram updates → one flow call each. Parsing and rendering only; the rules are in flows.

Conversation state lives in our tables, not in PTB's persistence, so any process can pick up
any candidate after a restart. Updates reach these handlers from the durable inbox
(``bot.telegram.dispatch``), one at a time per chat, so a candidate's messages are handled in
the order they were sent. PTB's own Updater is not used: it confirms updates before they are
handled.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import mimetypes
from collections.abc import Callable
from datetime import datetime
from pathlib import PurePosixPath

from sqlmodel import Session
from telegram import Audio, CallbackQuery, Document, Message, Update, Video, VideoNote, Voice
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.errors import MediaError, described
from bot.flows import interview
from bot.flows.answering import Expect, ReceivedAnswer
from bot.flows.interview import TelegramPerson
from bot.limits import InboxLimit, TelegramLimit
from bot.transcription.media import Measured, measure_upload
from bot.transcription.pool import run_intake, run_storing
from bot.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

SOURCE = "telegram"
CANDIDATE_COMMANDS = (
    "help",
    "status",
    "more_time",
    "delete_my_data",
    "language",
    "timezone",
    "ask",
)
MediaFile = Voice | VideoNote | Video | Audio | Document
# New messages only: an edit of an earlier message is not a new answer.
_NEW = filters.UpdateType.MESSAGE
_MEDIA = filters.VOICE | filters.VIDEO_NOTE | filters.VIDEO | filters.AUDIO | filters.Document.ALL


def build_application(token: str, api_url: str, file_url: str, uow: UnitOfWork) -> Application:  # type: ignore[type-arg]
    app = (
        ApplicationBuilder()
        .token(token)
        .base_url(api_url)
        .base_file_url(file_url)
        .updater(None)  # updates come from our inbox (bot.telegram.polling, the webhook)
        # PTB keeps up to 256 connections, and httpcore checks every idle one for each
        # request it sends: a tenth of the event loop's time at 200 candidates. 64 is more
        # than the chats and outbox lanes ever have in flight; a request that finds them all
        # busy waits for one (up to the pool timeout) instead of failing at once.
        .connection_pool_size(TelegramLimit.CONNECTIONS)
        .pool_timeout(TelegramLimit.POOL_WAIT_SECONDS)
        .build()
    )
    handlers = CandidateHandlers(uow)
    app.add_handler(CommandHandler("start", handlers.on_start, filters=_NEW))
    app.add_handler(CommandHandler(list(CANDIDATE_COMMANDS), handlers.on_command, filters=_NEW))
    app.add_handler(CallbackQueryHandler(handlers.on_button))
    app.add_handler(MessageHandler(_MEDIA & _NEW, handlers.on_media))
    app.add_handler(MessageHandler(_NEW, handlers.on_other))
    app.add_error_handler(handlers.on_error)
    return app


async def _stop_spinner(query: CallbackQuery) -> None:
    """Answer a button press: a UI acknowledgement, not a message, so no outbox. On a retry
    after a crash Telegram refuses it ("query is too old"): the press still counts."""
    with contextlib.suppress(TelegramError):
        await query.answer()


def failed_updates(app: Application) -> dict[int, str]:  # type: ignore[type-arg]
    """Update id → the type of the error that stopped its handler (read by the dispatcher)."""
    found: dict[int, str] = app.bot_data.setdefault("hirebot.failed_updates", {})
    return found


class CandidateHandlers:
    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow
        self._recordings = asyncio.Semaphore(InboxLimit.RECORDINGS_AT_ONCE)

    async def on_start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """``/start <token>`` from a deep link, or a bare ``/start`` to carry on."""
        person = _person(update)
        token = context.args[0] if context.args else None
        if token:
            await self._once(
                update, lambda s, now: interview.start(s, token=token, person=person, now=now)
            )
        else:
            await self._once(update, lambda s, now: interview.resume(s, person=person, now=now))

    async def on_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None and message.text is not None
        name = message.text.split()[0].lstrip("/").split("@")[0].lower()
        argument = " ".join(context.args or [])
        person = _person(update)
        await self._once(
            update,
            lambda s, now: interview.command(
                s, person=person, name=name, argument=argument, now=now
            ),
        )

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        person = _person(update)
        data = query.data or ""
        # The press is in the inbox already (stored before any handler runs), so it will be
        # handled: its spinner stops now, beside the handler's transaction rather than after
        # it. Under `hirebot bench load` that transaction waited its turn behind everyone
        # else's, and the candidate watched the spinner meanwhile.
        answering = asyncio.create_task(_stop_spinner(query))
        try:
            await self._once(
                update, lambda s, now: interview.press(s, person=person, data=data, now=now)
            )
        finally:
            await answering

    async def on_media(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A recording: check it is welcome, download, measure, store, then record it."""
        message = update.effective_message
        assert message is not None
        person = _person(update)
        kind, media = _media_of(message)
        size = media.file_size
        key = str(update.update_id)
        handled, welcome = await self._uow.once(
            SOURCE,
            key,
            lambda s, now: interview.expects_media(
                s, person=person, kind=kind, size_bytes=size, now=now
            ),
            done=lambda result: result is None or result.refused(),
        )
        if not handled or welcome is None or welcome.refused():
            return
        if welcome.expect == Expect.PRACTICE:
            # Nothing of a practice answer is downloaded or kept: Telegram's length will do.
            received = ReceivedAnswer(kind, None, None, _seconds(media), message.date)
        else:
            # Bounded apart from the chats: the other candidates' presses and texts go on.
            async with self._recordings:
                telegram_file = await media.get_file()
                data = bytes(await telegram_file.download_as_bytearray())
                # Untrusted work, bounded in time and length, in the intake processes: the
                # event loop goes on with everyone else's updates meanwhile, no conversion for
                # Slack is ahead of it, and a file that crashes the decoder crashes only them.
                try:
                    measured = await run_intake(measure_upload, data, welcome.measure_seconds)
                except MediaError:  # it killed the decoder's process, twice
                    measured = Measured("unreadable")
                if measured.problem is not None:
                    problem = measured.problem
                    await self._once(
                        update,
                        lambda s, now: interview.refuse_media(
                            s, person=person, problem=problem, now=now
                        ),
                    )
                    return
                assert measured.info is not None
                info = measured.info
                suffix = _suffix(kind, message, telegram_file.file_path)
                if measured.kept is not None:  # only the part that was measured is stored
                    data, suffix = measured.kept, ".mkv"
                # The file is stored (fsync'd on disk, or in the bucket) before its row commits,
                # and the row commits before the candidate hears "got it" (that message leaves
                # via the outbox). A store that cannot be reached fails the update, which the
                # inbox retries: the answer is not lost.
                stored = await run_storing(self._uow.media.put, data, suffix)
                received = ReceivedAnswer(
                    kind,
                    stored,
                    None,
                    info.duration_seconds,
                    message.date,
                    claimed_seconds=_seconds(media),
                    goes_on=not info.complete,
                    header_seconds=info.claimed_seconds,
                )
        await self._once(
            update,
            lambda s, now: interview.receive(s, person=person, received=received, now=now),
        )

    async def on_other(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Text, stickers, photos, locations...: a typed answer where allowed, else why not."""
        message = update.effective_message
        if message is None or update.effective_user is None or update.effective_chat is None:
            return
        person = _person(update)
        kind = _kind_of_other(message)
        if kind == "text" and message.text:
            said = message.text
            expect = await self._expects(
                update,
                lambda s, now: interview.expects_text(s, person=person, text=said, now=now),
            )
        else:
            expect = await self._expects(
                update,
                lambda s, now: interview.expects(
                    s, person=person, kind=kind, size_bytes=None, now=now
                ),
            )
        if expect == Expect.ANSWER and message.text:
            received = ReceivedAnswer("text", None, message.text, None, message.date)
            await self._once(
                update,
                lambda s, now: interview.receive(s, person=person, received=received, now=now),
            )

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        # Never log the update itself: it holds the candidate's messages.
        update_id = update.update_id if isinstance(update, Update) else None
        # The error type only: a network error's text can carry the request URL (with the token).
        error = context.error
        log.error(
            "telegram update %s failed: %s",
            update_id,
            described(error) if error is not None else "unknown error",
        )
        if update_id is not None:
            failed_updates(context.application)[update_id] = type(context.error).__name__

    async def _expects(
        self, update: Update, asking: Callable[[Session, datetime], Expect]
    ) -> Expect:
        """Ask the flow whether to take this answer. A refusal (the candidate has been told
        why) finishes the update; an acceptance leaves it to the step that records it."""
        handled, expect = await self._uow.once(
            SOURCE,
            str(update.update_id),
            asking,
            done=lambda result: result == Expect.NOTHING,
        )
        return expect if handled and expect is not None else Expect.NOTHING

    async def _once(self, update: Update, work: interview.Work) -> None:
        await self._uow.once(SOURCE, str(update.update_id), work)


def _person(update: Update) -> TelegramPerson:
    user, chat = update.effective_user, update.effective_chat
    # The inbox passes on only messages and button presses of a person (dispatch.received).
    assert user is not None
    return TelegramPerson(
        user_id=user.id,
        # A press on a message too old for Telegram to include has no chat: in a private
        # chat its id is the user's.
        chat_id=chat.id if chat is not None else user.id,
        first_name=user.first_name,
        language_code=user.language_code,
    )


def _media_of(message: Message) -> tuple[str, MediaFile]:
    for kind in ("voice", "video_note", "video", "audio"):
        media: MediaFile | None = getattr(message, kind)
        if media is not None:
            return kind, media
    document = message.document
    assert document is not None
    mime = document.mime_type or ""
    if mime.startswith("video/"):
        return "video", document
    if mime.startswith("audio/") or mime == "application/ogg":
        return "audio", document
    return "document", document


def _kind_of_other(message: Message) -> str:
    if message.text:
        return "text"
    for kind in ("sticker", "animation", "photo", "location", "contact", "poll"):
        if getattr(message, kind):
            return kind
    return "other"


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


def _seconds(media: MediaFile) -> float | None:
    duration = getattr(media, "duration", None)
    if duration is None:
        return None
    total = getattr(duration, "total_seconds", None)
    return float(total()) if callable(total) else float(duration)
