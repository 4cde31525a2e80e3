"""A scripted Telegram user talking to the bot through the sandbox.

Why: interview-flow tests need a candidate who types, presses buttons and sends media the way
a real Telegram client would. Every update is built from real PTB objects and ``to_dict()`` so
PTB parses it exactly like one from api.telegram.org (a malformed update would make PTB
re-poll the same offset forever).
"""

from __future__ import annotations

import datetime as dtm
import mimetypes
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Any

from telegram import (
    Audio,
    CallbackQuery,
    Chat,
    Contact,
    Document,
    Location,
    Message,
    MessageEntity,
    MessageOriginUser,
    PhotoSize,
    Poll,
    PollOption,
    Sticker,
    Update,
    User,
    Video,
    VideoNote,
    Voice,
)

if TYPE_CHECKING:
    from bot.sandbox.telegram_api import SentMessage, StoredFile, TelegramSandbox

DEFAULT_DURATION = 5
# A 1x1 WebP is enough: nothing decodes stickers, they are only "unexpected input".
_STICKER_BYTES = b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00/\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00"  # noqa: E501


def probe_duration(path: Path) -> int:
    """Media duration in whole seconds via PyAV, or DEFAULT_DURATION if it can't be read."""
    try:
        import av

        with av.open(str(path)) as container:
            if container.duration:
                return max(1, round(container.duration / 1_000_000))
    except Exception:
        return DEFAULT_DURATION
    return DEFAULT_DURATION


class SandboxCandidate:
    """A user in a private chat with the bot (chat_id == user_id)."""

    def __init__(
        self,
        sandbox: TelegramSandbox,
        user_id: int,
        first_name: str,
        last_name: str | None,
        language_code: str,
    ) -> None:
        self._sandbox = sandbox
        self.user_id = user_id
        self.chat_id = user_id
        self.first_name = first_name
        self.last_name = last_name
        self.language_code = language_code
        self.blocked = False

    # ------------------------------------------------------------------ PTB objects

    def user(self) -> User:
        return User(
            id=self.user_id,
            first_name=self.first_name,
            is_bot=False,
            last_name=self.last_name,
            language_code=self.language_code,
        )

    def chat(self) -> Chat:
        return Chat(
            id=self.chat_id,
            type=Chat.PRIVATE,
            first_name=self.first_name,
            last_name=self.last_name,
        )

    def block(self) -> None:
        """The user blocks the bot: sends to this chat fail with 403 like on Telegram."""
        self.blocked = True

    async def _send(self, **content: Any) -> int:
        sandbox = self._sandbox
        message = Message(
            message_id=sandbox._next_message_id(self.chat_id),
            date=dtm.datetime.now(dtm.UTC),
            chat=self.chat(),
            from_user=self.user(),
            **content,
        )
        update = Update(update_id=sandbox._next_update_id(), message=message)
        return await sandbox._enqueue(update.to_dict())

    def _store(
        self, path: Path | None, folder: str, extension: str, size: int | None = None
    ) -> StoredFile:
        data = path.read_bytes() if path is not None else None
        return self._sandbox._store_file(data, folder, extension, size)

    @staticmethod
    def _ids(stored: StoredFile) -> dict[str, Any]:
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.size,
        }

    # ------------------------------------------------------------------ text & buttons

    async def send_text(self, text: str) -> int:
        """A plain text message; returns its update_id."""
        return await self._send(text=text)

    async def send_command(self, command: str, arg: str | None = None) -> int:
        """``/command [arg]`` with the bot_command entity PTB's CommandHandler requires."""
        command = command if command.startswith("/") else f"/{command}"
        text = command if arg is None else f"{command} {arg}"
        entity = MessageEntity(type=MessageEntity.BOT_COMMAND, offset=0, length=len(command))
        return await self._send(text=text, entities=(entity,))

    async def press(self, label_or_data: str, message: SentMessage | None = None) -> int:
        """Press an inline button (by label or callback_data) on the newest bot message
        carrying it, or on ``message``."""
        candidates = [message] if message is not None else list(reversed(self.inbox()))
        for sent in candidates:
            if sent.deleted:
                continue
            for label, data in sent.buttons():
                if label_or_data in (label, data):
                    return await self.press_forged(data, sent)
        available = [(s.message_id, s.buttons()) for s in candidates if s.buttons()]
        raise AssertionError(
            f"no button {label_or_data!r} for chat {self.chat_id}; available: {available}"
        )

    async def press_forged(self, data: str, message: SentMessage) -> int:
        """A press on ``message`` carrying ``data`` whatever its buttons say (a modified
        client can send any callback data); returns its update_id."""
        query_id = f"{self.user_id}{secrets.randbelow(10**9)}"
        query = CallbackQuery(
            id=query_id,
            from_user=self.user(),
            chat_instance=f"-{self.chat_id}7",
            data=data,
        ).to_dict()
        query["message"] = message.payload
        self._sandbox._open_callback(query_id)
        update = Update(update_id=self._sandbox._next_update_id()).to_dict()
        update["callback_query"] = query
        return await self._sandbox._enqueue(update)

    # ------------------------------------------------------------------ media

    async def send_voice(self, path: Path, duration: int | None = None) -> int:
        """An OGG/Opus voice note."""
        stored = self._store(path, "voice", "oga")
        voice = Voice(
            **self._ids(stored),
            duration=duration if duration is not None else probe_duration(path),
            mime_type="audio/ogg",
        )
        return await self._send(voice=voice)

    async def send_oversized_voice(self, size_bytes: int = 25_000_000) -> int:
        """A voice note above the 20 MB getFile limit (no bytes are allocated)."""
        stored = self._store(None, "voice", "oga", size=size_bytes)
        voice = Voice(**self._ids(stored), duration=600, mime_type="audio/ogg")
        return await self._send(voice=voice)

    async def send_video_note(
        self, path: Path, duration: int | None = None, length: int = 240
    ) -> int:
        stored = self._store(path, "video_notes", "mp4")
        note = VideoNote(
            **self._ids(stored),
            length=length,
            duration=duration if duration is not None else probe_duration(path),
        )
        return await self._send(video_note=note)

    async def send_video(
        self, path: Path, duration: int | None = None, width: int = 640, height: int = 360
    ) -> int:
        stored = self._store(path, "videos", path.suffix.lstrip(".") or "mp4")
        video = Video(
            **self._ids(stored),
            width=width,
            height=height,
            duration=duration if duration is not None else probe_duration(path),
            mime_type=mimetypes.guess_type(path.name)[0] or "video/mp4",
            file_name=path.name,
        )
        return await self._send(video=video)

    async def send_audio(self, path: Path, duration: int | None = None) -> int:
        stored = self._store(path, "music", path.suffix.lstrip(".") or "mp3")
        audio = Audio(
            **self._ids(stored),
            duration=duration if duration is not None else probe_duration(path),
            mime_type=mimetypes.guess_type(path.name)[0] or "audio/mpeg",
            file_name=path.name,
        )
        return await self._send(audio=audio)

    async def send_document(self, path: Path, mime_type: str, file_name: str | None = None) -> int:
        stored = self._store(path, "documents", path.suffix.lstrip(".") or "bin")
        document = Document(
            **self._ids(stored), file_name=file_name or path.name, mime_type=mime_type
        )
        return await self._send(document=document)

    async def send_photo(self, path: Path) -> int:
        """A photo, as Telegram sends it: several sizes (here two) of the same picture."""
        big = self._store(path, "photos", "jpg")
        small = self._store(path, "photos", "jpg")
        sizes = (
            PhotoSize(**self._ids(small), width=90, height=68),
            PhotoSize(**self._ids(big), width=800, height=600),
        )
        return await self._send(photo=sizes)

    async def send_sticker(self) -> int:
        stored = self._sandbox._store_file(_STICKER_BYTES, "stickers", "webp")
        sticker = Sticker(
            **self._ids(stored),
            width=512,
            height=512,
            is_animated=False,
            is_video=False,
            type=Sticker.REGULAR,
            emoji="👍",
        )
        return await self._send(sticker=sticker)

    # ------------------------------------------------------------------ other content

    async def send_location(self, latitude: float, longitude: float) -> int:
        return await self._send(location=Location(longitude=longitude, latitude=latitude))

    async def send_contact(self, phone_number: str) -> int:
        contact = Contact(
            phone_number=phone_number,
            first_name=self.first_name,
            last_name=self.last_name,
            user_id=self.user_id,
        )
        return await self._send(contact=contact)

    async def send_poll(self, question: str) -> int:
        """A poll forwarded from another user (bots can't be sent polls directly in DMs)."""
        poll = Poll(
            id=str(secrets.randbelow(10**18)),
            question=question,
            options=(
                PollOption("Yes", 0, persistent_id="0"),
                PollOption("No", 0, persistent_id="1"),
            ),
            total_voter_count=0,
            is_closed=False,
            is_anonymous=True,
            type=Poll.REGULAR,
            allows_multiple_answers=False,
            allows_revoting=True,
            members_only=False,
        )
        origin = MessageOriginUser(
            date=dtm.datetime.now(dtm.UTC),
            sender_user=User(id=self.user_id + 1, first_name="Friend", is_bot=False),
        )
        return await self._send(poll=poll, forward_origin=origin)

    # ------------------------------------------------------------------ what the bot sent

    def inbox(self) -> list[SentMessage]:
        """Everything the bot sent this chat, oldest first."""
        return self._sandbox.messages_to(self.chat_id)

    async def wait_for_message(
        self,
        contains: str | None = None,
        *,
        after: int = 0,
        timeout: float = 10.0,  # noqa: ASYNC109
    ) -> SentMessage:
        """First bot message at index >= ``after`` in :meth:`inbox` whose text contains
        ``contains`` (any message if None); AssertionError listing the inbox on timeout."""

        def match() -> SentMessage | None:
            for sent in self.inbox()[after:]:
                if contains is None or (sent.text is not None and contains in sent.text):
                    return sent
            return None

        found = await self._sandbox.wait_for_sent(match, timeout)
        if found is None:
            received = [(i, s.kind, s.text) for i, s in enumerate(self.inbox())]
            raise AssertionError(
                f"chat {self.chat_id}: no message containing {contains!r} (index >= {after}) "
                f"within {timeout}s; received: {received}"
            )
        return found
