"""ReviewChannel over the Slack Web API; translate slack_sdk's errors for the outbox."""

from __future__ import annotations

from pathlib import Path

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import DeliveryDeferred, DeliveryRefused
from bot.flows.ports import CandidateCard
from bot.slack.blocks import card_blocks, card_text

# Errors that no retry can fix; everything else (429, 5xx, network) is retried.
_PERMANENT = {"channel_not_found", "is_archived", "invalid_blocks", "msg_too_long", "no_text"}


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

    async def post_in_thread(
        self, channel: str, thread_id: str, text: str, media: Path | None, media_title: str
    ) -> None:
        async with _translated():
            if media is None:
                await self._client.chat_postMessage(channel=channel, thread_ts=thread_id, text=text)
            else:
                await self._client.files_upload_v2(
                    channel=channel,
                    thread_ts=thread_id,
                    file=str(media),
                    filename=f"{media_title.replace(' ', '-').lower()}{media.suffix}",
                    title=media_title,
                    initial_comment=text,
                )

    async def notify_user(self, user: str, text: str) -> None:
        async with _translated():
            # A bot may post to a user id: Slack opens the DM with the app.
            await self._client.chat_postMessage(channel=user, text=text)


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
