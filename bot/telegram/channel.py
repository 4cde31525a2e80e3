"""CandidateChannel over the Bot API: render a flow's message, translate PTB's errors."""

from __future__ import annotations

from datetime import timedelta

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.errors import DeliveryDeferred, DeliveryRefused
from bot.flows.ports import Choice


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
        try:
            await self._bot.send_message(chat_id=chat_id, text=text, reply_markup=markup)
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
