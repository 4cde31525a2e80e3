"""The Telegram sandbox must be indistinguishable from api.telegram.org for the real PTB stack:
these tests run an unmodified ``telegram.ext.Application`` against it over HTTP."""

from __future__ import annotations

import asyncio
import datetime as dtm
import io
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, EndPointNotFound, InvalidToken, NetworkError, RetryAfter
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.sandbox.telegram import TelegramSandbox
from bot.sandbox.world import eventually

Ctx = ContextTypes.DEFAULT_TYPE


@pytest.fixture
async def sandbox() -> AsyncIterator[TelegramSandbox]:
    async with TelegramSandbox() as sb:
        yield sb


@pytest.fixture(scope="module")
def voice_ogg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real 0.5 s OGG/Opus voice note made with PyAV."""
    path = tmp_path_factory.mktemp("media") / "voice.ogg"
    with av.open(str(path), "w", format="ogg") as container:
        stream = container.add_stream("libopus", rate=48000)
        stream.layout = "mono"
        samples = (np.sin(np.arange(24000) * 440 * 2 * np.pi / 48000) * 8000).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = 48000
        frame.time_base = Fraction(1, 48000)
        frame.pts = 0
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def build_app(
    sandbox: TelegramSandbox, handlers: Sequence[BaseHandler[Update, Ctx, object]]
) -> Application:  # type: ignore[type-arg]
    app = (
        ApplicationBuilder()
        .token(sandbox.token)
        .base_url(sandbox.api_url)
        .base_file_url(sandbox.file_url)
        .build()
    )
    app.add_handlers(list(handlers))
    return app


@asynccontextmanager
async def running(
    sandbox: TelegramSandbox, *handlers: BaseHandler[Update, Ctx, object]
) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    app = build_app(sandbox, handlers)
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=dtm.timedelta(seconds=5))
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()


def sandbox_bot(sandbox: TelegramSandbox, token: str | None = None) -> Bot:
    return Bot(token or sandbox.token, base_url=sandbox.api_url, base_file_url=sandbox.file_url)


async def test_start_command_with_deep_link_args(sandbox: TelegramSandbox) -> None:
    seen: list[list[str]] = []

    async def start(update: Update, context: Ctx) -> None:
        seen.append(list(context.args or []))
        assert update.effective_message is not None
        await update.effective_message.reply_text(f"Welcome, token {context.args[0]}")  # type: ignore[index]

    jane = sandbox.candidate(1001)
    async with running(sandbox, CommandHandler("start", start)):
        await jane.send_command("/start", "INVITE-42")
        reply = await jane.wait_for_message("Welcome")
    assert seen == [["INVITE-42"]]
    assert reply.text == "Welcome, token INVITE-42"
    assert reply.kind == "text" and reply.chat_id == 1001
    assert [c.method for c in sandbox.calls][:2] == ["getMe", "deleteWebhook"]
    assert sandbox.calls_of("sendMessage")[0].params["chat_id"] == 1001


async def test_inline_keyboard_press_reaches_callback_handler(sandbox: TelegramSandbox) -> None:
    pressed: list[str] = []

    async def ask(update: Update, context: Ctx) -> None:
        assert update.effective_message is not None
        keyboard = InlineKeyboardMarkup(
            [
                [InlineKeyboardButton("Ready", callback_data="q:ready")],
                [InlineKeyboardButton("Later", callback_data="q:later")],
            ]
        )
        await update.effective_message.reply_text(
            "<b>Ready?</b>", parse_mode="HTML", reply_markup=keyboard
        )

    async def on_press(update: Update, context: Ctx) -> None:
        query = update.callback_query
        assert query is not None and query.data is not None
        pressed.append(query.data)
        await query.answer("ok")
        await query.edit_message_text(f"You chose {query.data}")

    jane = sandbox.candidate(1002)
    async with running(sandbox, CommandHandler("start", ask), CallbackQueryHandler(on_press)):
        await jane.send_command("start")
        question = await jane.wait_for_message("Ready?")
        assert question.text == "Ready?"  # HTML markup stripped like Telegram does
        assert question.buttons() == [("Ready", "q:ready"), ("Later", "q:later")]
        await jane.press("Ready")
        await jane.wait_for_message("You chose")
        with pytest.raises(AssertionError, match="no button"):
            await jane.press("Later")  # the edit removed the keyboard
    assert pressed == ["q:ready"]
    edited = jane.inbox()[0]
    assert edited.text == "You chose q:ready" and edited.edits == 1 and edited.reply_markup is None
    assert sandbox.calls_of("answerCallbackQuery")[0].params["text"] == "ok"


async def test_voice_download_and_upload_roundtrip(
    sandbox: TelegramSandbox, voice_ogg: Path
) -> None:
    downloaded: list[bytes] = []

    async def on_voice(update: Update, context: Ctx) -> None:
        message = update.effective_message
        assert message is not None and message.voice is not None
        buf = io.BytesIO()
        await (await message.voice.get_file()).download_to_memory(buf)
        downloaded.append(buf.getvalue())
        await message.reply_voice(buf.getvalue(), caption="echo")

    jane = sandbox.candidate(1003)
    async with running(sandbox, MessageHandler(filters.VOICE, on_voice)):
        await jane.send_voice(voice_ogg)
        echo = await jane.wait_for_message("echo")
    original = await asyncio.to_thread(voice_ogg.read_bytes)
    assert downloaded == [original]
    assert echo.kind == "voice" and echo.file_id is not None
    assert sandbox.stored_file(echo.file_id) == original
    upload = sandbox.calls_of("sendVoice")[0].params["voice"]
    assert upload["size"] == len(original)  # summarised, no bytes kept in calls


async def test_every_media_kind_parses_in_ptb(
    sandbox: TelegramSandbox, voice_ogg: Path, tmp_path: Path
) -> None:
    kinds: list[str] = []

    async def record(update: Update, context: Ctx) -> None:
        message = update.effective_message
        assert message is not None
        attachment = message.effective_attachment
        kinds.append(type(attachment).__name__ if attachment else "text")

    pdf = tmp_path / "cv.pdf"
    pdf.write_bytes(b"%PDF-1.4 tiny")
    jane = sandbox.candidate(1004)
    async with running(sandbox, MessageHandler(filters.ALL, record)):
        await jane.send_video_note(voice_ogg, duration=3)
        await jane.send_video(voice_ogg, duration=3)
        await jane.send_audio(voice_ogg)
        await jane.send_document(pdf, "application/pdf")
        await jane.send_photo(pdf)
        await jane.send_sticker()
        await jane.send_location(52.5, 13.4)
        await jane.send_contact("+4915112345678")
        await jane.send_poll("Hire me?")
        await sandbox.wait_idle()
    assert kinds == [
        "VideoNote",
        "Video",
        "Audio",
        "Document",
        "tuple",
        "Sticker",
        "Location",
        "Contact",
        "Poll",
    ]


async def test_rate_limit_surfaces_as_retry_after(sandbox: TelegramSandbox) -> None:
    sandbox.candidate(1005)
    sandbox.fail("sendMessage", retry_after=3)
    async with sandbox_bot(sandbox) as bot:
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(1005, "hi")
        retry = caught.value.retry_after
        seconds = retry.total_seconds() if isinstance(retry, dtm.timedelta) else retry
        assert seconds == 3
        await bot.send_message(1005, "hi again")  # only the next call failed
        sandbox.fail("sendMessage", status=502)
        with pytest.raises(NetworkError, match="Bad Gateway"):
            await bot.send_message(1005, "x")
    assert [m.text for m in sandbox.messages_to(1005)] == ["hi again"]
    assert [c.status for c in sandbox.calls_of("sendMessage")] == [429, 200, 502]


async def test_redeliver_sends_same_update_id_again(sandbox: TelegramSandbox) -> None:
    received: list[int] = []

    async def record(update: Update, context: Ctx) -> None:
        received.append(update.update_id)

    jane = sandbox.candidate(1006)
    async with running(sandbox, MessageHandler(filters.TEXT, record)):
        first = await jane.send_text("my answer")
        await sandbox.wait_idle()
        sandbox.redeliver(first)
        await sandbox.wait_idle()
        second = await jane.send_text("next answer")
        await sandbox.wait_idle()
    assert received == [first, first, second]


async def test_oversized_file_raises_bad_request(sandbox: TelegramSandbox) -> None:
    async def on_voice(update: Update, context: Ctx) -> None:
        message = update.effective_message
        assert message is not None and message.voice is not None
        try:
            await message.voice.get_file()
        except BadRequest as err:
            await message.reply_text(f"error: {err}")

    jane = sandbox.candidate(1007)
    async with running(sandbox, MessageHandler(filters.VOICE, on_voice)):
        await jane.send_oversized_voice()
        reply = await jane.wait_for_message("error:")
    assert reply.text == "error: File is too big"


async def test_real_api_errors(sandbox: TelegramSandbox) -> None:
    sandbox.candidate(1008)
    async with sandbox_bot(sandbox) as bot:
        with pytest.raises(BadRequest, match="Chat not found"):
            await bot.send_message(999, "nobody")
        with pytest.raises(BadRequest, match="Can't parse entities"):
            await bot.send_message(1008, "<foo>x</foo>", parse_mode="HTML")
        with pytest.raises(BadRequest, match="reserved"):
            await bot.send_message(1008, "Done.", parse_mode="MarkdownV2")
        with pytest.raises(EndPointNotFound):
            await bot.do_api_request("noSuchMethod")
        sent = await bot.send_message(1008, "same")
        with pytest.raises(BadRequest, match="Message is not modified"):
            await bot.edit_message_text("same", chat_id=1008, message_id=sent.message_id)
        assert await bot.delete_message(1008, sent.message_id)
        assert sandbox.messages_to(1008)[0].deleted
    with pytest.raises(InvalidToken):
        async with sandbox_bot(sandbox, token="999:WRONG"):
            pass


async def test_exit_is_quick_while_ptb_long_polls() -> None:
    sandbox = TelegramSandbox()
    await sandbox.__aenter__()
    app = build_app(sandbox, [])
    await app.initialize()
    assert app.updater is not None
    await app.updater.start_polling(timeout=dtm.timedelta(seconds=30))
    await eventually(lambda: sandbox.parked_polls == 1, what="PTB's 30 s getUpdates")
    started = time.monotonic()
    await sandbox.__aexit__(None, None, None)
    assert time.monotonic() - started < 2
    await app.updater.stop()
    await app.shutdown()


async def test_a_document_upload_keeps_its_name_bytes_and_caption_and_50_mb_is_the_limit(
    sandbox: TelegramSandbox,
) -> None:
    from telegram import InputFile

    from bot.errors import DeliveryRefused
    from bot.sandbox.telegram_api import UPLOAD_LIMIT
    from bot.telegram.channel import TelegramCandidateChannel

    sandbox.candidate(1010)
    ics = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"
    async with sandbox_bot(sandbox) as bot:
        # Through the adapter the delivery worker uses: a multipart sendDocument.
        await TelegramCandidateChannel(bot).send_document(1010, "interview.ics", ics, "Your call")
        [sent] = sandbox.messages_to(1010)
        assert (sent.kind, sent.text) == ("document", "Your call")
        assert sent.payload["document"]["file_name"] == "interview.ics"
        assert sent.file_id is not None and sandbox.stored_file(sent.file_id) == ics
        # One byte over Telegram's upload limit: refused with 413, nothing is sent.
        with pytest.raises(NetworkError, match="Request Entity Too Large"):
            await bot.send_document(1010, InputFile(b"x" * (UPLOAD_LIMIT + 1), filename="big.bin"))
        with pytest.raises(DeliveryRefused, match="50 MB"):
            await TelegramCandidateChannel(bot).send_document(
                1010, "big.ics", b"x" * (UPLOAD_LIMIT + 1), "too big"
            )
    assert [m.kind for m in sandbox.messages_to(1010)] == ["document"]
    assert sandbox.calls_of("sendDocument")[-1].status == 413


@asynccontextmanager
async def slow_receiver(hold_seconds: float) -> AsyncIterator[tuple[str, list[tuple[str, int]]]]:
    """A webhook that takes ``hold_seconds`` per update; records (event, chat) as they happen."""
    from aiohttp import web

    from bot.sandbox.world import free_port

    events: list[tuple[str, int]] = []

    async def receive(request: web.Request) -> web.Response:
        update = await request.json()
        chat = int(update["message"]["chat"]["id"])
        events.append(("start", chat))
        await asyncio.sleep(hold_seconds)
        events.append((f"end {update['message']['text']}", chat))
        return web.Response()

    app = web.Application()
    app.router.add_post("/hook", receive)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}/hook", events
    finally:
        await runner.cleanup()


def _most_at_once(events: list[tuple[str, int]], chat: int | None = None) -> int:
    now = most = 0
    for kind, at_chat in events:
        if chat is None or at_chat == chat:
            now += 1 if kind == "start" else -1
            most = max(most, now)
    return most


@pytest.mark.parametrize("connections", [40, 1])
async def test_webhook_pushes_chats_side_by_side_but_each_chat_in_order(
    sandbox: TelegramSandbox, connections: int
) -> None:
    chats = [2001, 2002, 2003]
    async with slow_receiver(0.1) as (url, events):
        await sandbox_bot(sandbox).set_webhook(url, max_connections=connections)
        for n in range(3):
            for chat in chats:
                await sandbox.candidate(chat).send_text(f"{chat}-{n}")
        await eventually(lambda: len(events) == 18, seconds=15, what="18 push events")

    assert _most_at_once(events) == (3 if connections > 1 else 1)
    for chat in chats:
        assert _most_at_once(events, chat) == 1  # one at a time per chat
        ended = [kind.split()[1] for kind, at in events if at == chat and kind != "start"]
        assert ended == [f"{chat}-0", f"{chat}-1", f"{chat}-2"]  # and in the order sent


async def test_webhook_max_connections_is_clamped_like_the_bot_api_server(
    sandbox: TelegramSandbox,
) -> None:
    bot = sandbox_bot(sandbox)
    await bot.set_webhook("http://127.0.0.1:9/hook", max_connections=500)
    assert sandbox.webhook_max_connections == 100
    await bot.set_webhook("http://127.0.0.1:9/hook")
    assert sandbox.webhook_max_connections == 40
