"""ReviewChannel over the Slack Web API; translate slack_sdk's errors for the outbox."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import DeliveryDeferred, DeliveryRefused, MediaError
from bot.flows.ports import CandidateCard, ThreadNote
from bot.slack.blocks import card_blocks, card_text, note_blocks
from bot.transcription.media import playable_copy

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


class SlackReviewChannel:
    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client

    async def post_card(self, channel: str, card: CandidateCard) -> str:
        async with _translated():
            response = await self._client.chat_postMessage(
                channel=channel, text=card_text(card), blocks=card_blocks(card)
            )
        return str(response["ts"])

    async def update_card(self, channel: str, message_id: str, card: CandidateCard) -> None:
        async with _translated():
            await self._client.chat_update(
                channel=channel, ts=message_id, text=card_text(card), blocks=card_blocks(card)
            )

    async def post_in_thread(self, channel: str, thread_id: str, note: ThreadNote) -> str:
        async with _translated():
            response = await self._client.chat_postMessage(
                channel=channel,
                thread_ts=thread_id,
                text=note.text,
                blocks=note_blocks(note),
                metadata=_metadata(note.key),
            )
        return str(response["ts"])

    async def edit_in_thread(self, channel: str, message_id: str, note: ThreadNote) -> None:
        async with _translated():
            await self._client.chat_update(
                # blocks=[] removes buttons a decided request no longer needs.
                channel=channel,
                ts=message_id,
                text=note.text,
                blocks=note_blocks(note) or [],
            )

    async def find_in_thread(self, channel: str, thread_id: str, key: str) -> str | None:
        async with _translated():
            cursor: str | None = None
            while True:
                page = await self._client.conversations_replies(
                    channel=channel,
                    ts=thread_id,
                    include_all_metadata=True,
                    limit=200,
                    cursor=cursor,
                )
                for message in page.get("messages") or []:
                    metadata = message.get("metadata") or {}
                    payload = metadata.get("event_payload") or {}
                    if metadata.get("event_type") == _EVENT_TYPE and payload.get("key") == key:
                        return str(message["ts"])
                cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
                if not cursor:
                    break
        return None

    async def upload_to_thread(self, channel: str, thread_id: str, media: Path, title: str) -> str:
        """Upload a recording reviewers can play inline: Slack does not play OGG/Opus voice
        notes or WebM, so those go up as an M4A (or MP4) copy made for the upload only."""
        with tempfile.TemporaryDirectory(prefix="hirebot-upload-") as folder:
            try:
                upload = await asyncio.to_thread(playable_copy, media, Path(folder)) or media
            except MediaError:
                upload = media  # still worth sharing: reviewers can download it
            async with _translated():
                response = await self._client.files_upload_v2(
                    channel=channel,
                    thread_ts=thread_id,
                    file=str(upload),
                    filename=f"{title.replace(',', '').replace(' ', '-').lower()}{upload.suffix}",
                    title=title,
                )
        return str(response["files"][0]["id"])

    async def delete_file(self, file_id: str) -> None:
        async with _translated():
            try:
                await self._client.files_delete(file=file_id)
            except SlackApiError as err:
                if err.response.get("error") != "file_not_found":  # already gone: done
                    raise

    async def notify_user(self, user: str, text: str) -> None:
        async with _translated():
            # A bot may post to a user id: Slack opens the DM with the app.
            await self._client.chat_postMessage(channel=user, text=text)

    async def tell_privately(self, channel: str, user: str, text: str) -> None:
        async with _translated():
            await self._client.chat_postEphemeral(channel=channel, user=user, text=text)

    async def send_file_to_user(self, user: str, filename: str, title: str, content: bytes) -> None:
        async with _translated():
            opened = await self._client.conversations_open(users=user)
            await self._client.files_upload_v2(
                channel=str(opened["channel"]["id"]),
                content=content,
                filename=filename,
                title=title,
            )


# Replies we may need to find again carry this metadata (Slack message metadata).
_EVENT_TYPE = "hirebot_reply"


def _metadata(key: str | None) -> dict[str, Any] | None:
    return {"event_type": _EVENT_TYPE, "event_payload": {"key": key}} if key else None


class _translated:
    """Turn slack_sdk errors into DeliveryDeferred / DeliveryRefused."""

    async def __aenter__(self) -> None:
        return None

    async def __aexit__(self, exc_type: object, exc: BaseException | None, tb: object) -> bool:
        if isinstance(exc, SlackApiError):
            status = exc.response.status_code
            error = str(exc.response.get("error", "")) if exc.response else ""
            if status == 429:
                retry_after = float(exc.response.headers.get("Retry-After", 1))
                raise DeliveryDeferred("Slack rate limit", retry_after) from exc
            if error in _PERMANENT:
                raise DeliveryRefused(f"Slack refused: {error}") from exc
            raise DeliveryDeferred(f"Slack error {status} {error}") from exc
        if isinstance(exc, SlackClientError | OSError | TimeoutError):
            raise DeliveryDeferred(f"Slack unreachable: {type(exc).__name__}") from exc
        return False
