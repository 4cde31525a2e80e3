"""ReviewChannel over the Slack Web API; translate slack_sdk's errors for the outbox."""

from __future__ import annotations

import copy
import math
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from types import TracebackType
from typing import Any

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import ChannelUnavailable, DeliveryDeferred, DeliveryRefused, MediaError
from bot.flows.ports import CandidateCard, Posted, ThreadNote
from bot.limits import SlackLimit, SlackUploadLimit
from bot.slack.blocks import card_blocks, card_text, note_blocks
from bot.slack.profiles import SlackProfiles
from bot.transcription.media import playable_copy
from bot.transcription.pool import run_media

# Errors that no retry can fix; everything else (429, 5xx, network) is retried.
_PERMANENT = {
    "channel_not_found",
    "is_archived",
    "invalid_blocks",
    "msg_too_long",
    "no_text",
    "user_not_in_channel",
    "user_not_found",
}
# What chat.getPermalink answers when there is nothing left to link to.
_LINK_GONE = {"message_not_found", "channel_not_found"}
# In a review channel these are a setup mistake a person fixes (invite the bot, unarchive):
# the message waits for them instead of being dropped.
_CHANNEL_PROBLEMS = {"not_in_channel", "channel_not_found", "is_archived"}


def upload_timeout(size: int, base: int = SlackUploadLimit.BASE_TIMEOUT_SECONDS) -> int:
    """Seconds a file of ``size`` bytes may take to upload (at a conservative bandwidth)."""
    return base + math.ceil(size / SlackUploadLimit.BYTES_PER_SECOND)


class SlackReviewChannel:
    def __init__(
        self,
        client: AsyncWebClient,
        *,
        upload_base_timeout: int = SlackUploadLimit.BASE_TIMEOUT_SECONDS,
    ) -> None:
        self._client = client
        self._upload_base_timeout = upload_base_timeout
        self._me: tuple[str, str] | None = None  # this bot's bot_id and user id (auth.test)
        self._names: dict[str, tuple[float, str]] = {}  # user → (kept until, name)

    def _uploading(self, size: int) -> AsyncWebClient:
        """The client, with a timeout that fits a file of ``size`` bytes.

        files_upload_v2 sends the file with the client's own timeout (30 s by default),
        which cuts a large recording off on a slow uplink.
        """
        client = copy.copy(self._client)  # shares the token, session and retry handlers
        client.timeout = upload_timeout(size, self._upload_base_timeout)
        return client

    async def post_card(self, channel: str, card: CandidateCard) -> str:
        async with _translated(channel):
            response = await self._client.chat_postMessage(
                channel=channel, text=card_text(card), blocks=card_blocks(card)
            )
        return str(response["ts"])

    async def update_card(self, channel: str, message_id: str, card: CandidateCard) -> None:
        async with _translated(channel):
            await self._client.chat_update(
                channel=channel, ts=message_id, text=card_text(card), blocks=card_blocks(card)
            )

    async def post_in_thread(self, channel: str, thread_id: str, note: ThreadNote) -> str:
        async with _translated(channel):
            response = await self._client.chat_postMessage(
                channel=channel,
                thread_ts=thread_id,
                text=note.text,
                blocks=note_blocks(note),
                metadata=_metadata(note.key),
            )
        return str(response["ts"])

    async def edit_in_thread(self, channel: str, message_id: str, note: ThreadNote) -> None:
        async with _translated(channel):
            await self._client.chat_update(
                # blocks=[] removes buttons a decided request no longer needs.
                channel=channel,
                ts=message_id,
                text=note.text,
                blocks=note_blocks(note) or [],
            )

    async def find_in_thread(self, channel: str, thread_id: str, key: str) -> str | None:
        async with _translated(channel):
            async for message in self._replies(channel, thread_id, include_all_metadata=True):
                metadata = message.get("metadata") or {}
                payload = metadata.get("event_payload") or {}
                if metadata.get("event_type") == _EVENT_TYPE and payload.get("key") == key:
                    return str(message["ts"])
        return None

    async def find_file_in_thread(self, channel: str, thread_id: str, title: str) -> str | None:
        """The id of a file this bot shared in the thread as ``title`` (an upload that went
        through before a crash). Titles name the question and take, so one per thread."""
        async with _translated(channel):
            bot_id, user_id = await self._identity()
            async for message in self._replies(channel, thread_id):
                for shared in message.get("files") or []:
                    # Ours by either mark (a file names its uploader): a teammate's file of
                    # the same title is not ours to record.
                    ours = message.get("bot_id") == bot_id or shared.get("user") == user_id
                    if ours and shared.get("title") == title:
                        return str(shared["id"])
        return None

    async def _replies(
        self, channel: str, thread_id: str, **options: Any
    ) -> AsyncIterator[dict[str, Any]]:
        """Every message of the thread, its parent first, page after page."""
        cursor: str | None = None
        while True:
            page = await self._client.conversations_replies(
                channel=channel, ts=thread_id, limit=200, cursor=cursor, **options
            )
            for message in page.get("messages") or []:
                yield message
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return

    async def upload_to_thread(self, channel: str, thread_id: str, media: Path, title: str) -> str:
        """Upload a recording reviewers can play inline: Slack does not play OGG/Opus voice
        notes or WebM, so those go up as an M4A (or MP4) copy made for the upload only."""
        with tempfile.TemporaryDirectory(prefix="hirebot-upload-") as folder:
            try:
                # In the media processes, bounded in size, length and time (see playable_copy).
                upload = await run_media(playable_copy, media, Path(folder)) or media
            except MediaError:
                upload = media  # still worth sharing: reviewers can download it
            async with _translated(channel):
                response = await self._uploading(upload.stat().st_size).files_upload_v2(
                    channel=channel,
                    thread_ts=thread_id,
                    file=str(upload),
                    filename=f"{title.replace(',', '').replace(' ', '-').lower()}{upload.suffix}",
                    title=title,
                )
        return str(response["files"][0]["id"])

    async def share_in_thread(
        self, channel: str, thread_id: str, filename: str, title: str, content: bytes, comment: str
    ) -> str:
        async with _translated(channel):
            response = await self._uploading(len(content)).files_upload_v2(
                channel=channel,
                thread_ts=thread_id,
                content=content,
                filename=filename,
                title=title,
                initial_comment=comment,
            )
        return str(response["files"][0]["id"])

    async def delete_file(self, file_id: str) -> None:
        async with _translated():
            try:
                await self._client.files_delete(file=file_id)
            except SlackApiError as err:
                if err.response.get("error") != "file_not_found":  # already gone: done
                    raise

    async def delete_message(self, channel: str, message_id: str) -> None:
        async with _translated():
            try:
                await self._client.chat_delete(channel=channel, ts=message_id)
            except SlackApiError as err:
                if err.response.get("error") != "message_not_found":  # already gone: done
                    raise

    async def clear_thread(self, channel: str, thread_id: str) -> None:
        """Delete our replies (ours: posted with this bot's id) and the files they carry."""
        async with _translated(channel):
            me = await self._bot_id()
            ours = [
                m
                async for m in self._replies(channel, thread_id)
                if m.get("ts") != thread_id and m.get("bot_id") == me
            ]
        for message in ours:
            for shared in message.get("files") or []:
                await self.delete_file(str(shared["id"]))
            await self.delete_message(channel, str(message["ts"]))

    async def _bot_id(self) -> str:
        return (await self._identity())[0]

    async def _identity(self) -> tuple[str, str]:
        if self._me is None:
            found = await self._client.auth_test()
            self._me = (str(found["bot_id"]), str(found["user_id"]))
        return self._me

    async def name_of(self, user: str) -> str | None:
        """The name Slack's profile gives (``bot.slack.profiles``), kept for a while: every
        invitation of a call names the same people. None (not kept) when Slack will not say
        (a missing users:read scope, a deleted user): the id stays the name."""
        kept = self._names.get(user)
        if kept is not None and kept[0] > time.monotonic():
            return kept[1]
        name = (await SlackProfiles(self._client).of(user)).name
        if name is not None:
            self._names[user] = (time.monotonic() + SlackLimit.NAMES_CACHE_SECONDS, name)
        return name

    async def notify_user(self, user: str, text: str) -> Posted:
        async with _translated():
            # A bot may post to a user id: Slack opens the DM with the app.
            response = await self._client.chat_postMessage(channel=user, text=text)
        return Posted(channel=str(response["channel"]), message_id=str(response["ts"]))

    async def thread_link(self, channel: str, message_id: str) -> str | None:
        async with _translated():  # a DM carries the link: the channel's problems are not its
            try:
                response = await self._client.chat_getPermalink(
                    channel=channel, message_ts=message_id
                )
            except SlackApiError as err:
                if err.response.get("error") in _LINK_GONE:
                    return None
                raise
        return str(response["permalink"])

    async def tell_privately(self, channel: str, user: str, text: str) -> None:
        async with _translated(channel):
            await self._client.chat_postEphemeral(channel=channel, user=user, text=text)

    async def send_file_to_user(
        self, user: str, filename: str, title: str, content: bytes
    ) -> Posted:
        async with _translated():
            opened = await self._client.conversations_open(users=user)
            channel = str(opened["channel"]["id"])
            response = await self._uploading(len(content)).files_upload_v2(
                channel=channel, content=content, filename=filename, title=title
            )
        return Posted(channel=channel, file_id=str(response["files"][0]["id"]))


# Replies we may need to find again carry this metadata (Slack message metadata).
_EVENT_TYPE = "hirebot_reply"


def _metadata(key: str | None) -> dict[str, Any] | None:
    return {"event_type": _EVENT_TYPE, "event_payload": {"key": key}} if key else None


class _translated:
    """Turn slack_sdk errors into DeliveryDeferred / DeliveryRefused / ChannelUnavailable.

    ``channel``: the review channel the call posts in, where a membership error is a setup
    mistake to report rather than a refusal.
    """

    def __init__(self, channel: str | None = None) -> None:
        self._channel = channel

    async def __aenter__(self) -> None:
        return None

    async def __aexit__(
        self, exc_type: object, exc: BaseException | None, tb: TracebackType | None
    ) -> bool:
        if isinstance(exc, SlackApiError):
            status, error = _status_and_error(exc.response)
            if status == 429:
                raise DeliveryDeferred("Slack rate limit", _retry_after(exc.response)) from exc
            if self._channel is not None and error in _CHANNEL_PROBLEMS:
                raise ChannelUnavailable(self._channel, error) from exc
            if error in _PERMANENT:
                raise DeliveryRefused(f"Slack refused: {error}") from exc
            raise DeliveryDeferred(
                f"Slack error {status} {error or 'without a JSON body'}"
            ) from exc
        if isinstance(exc, SlackClientError | OSError | TimeoutError):
            raise DeliveryDeferred(f"Slack unreachable: {type(exc).__name__}") from exc
        return False


def _status_and_error(response: object) -> tuple[int | None, str]:
    """Status and Slack's error code, whatever the body was: a proxy's text/plain error page
    arrives as a SlackResponse whose data is a string, and a body that claims to be JSON but
    is not comes with the raw aiohttp response instead of a SlackResponse."""
    status = getattr(response, "status_code", None) or getattr(response, "status", None)
    data = getattr(response, "data", None)
    error = data.get("error") if isinstance(data, dict) else None
    return (int(status) if status is not None else None), str(error or "")


def _retry_after(response: object) -> float:
    """Slack's Retry-After in seconds, taken as given (1 if absent or unreadable)."""
    headers = getattr(response, "headers", None) or {}
    try:
        return max(float(headers.get("Retry-After", 1)), 0.0)
    except (TypeError, ValueError):
        return 1.0
