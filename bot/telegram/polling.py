"""Long polling that never confirms an update before it is stored.

PTB's Updater confirms a batch (by asking for the next offset) as soon as it has queued it in
memory, so a crash loses every update still queued. Here a batch is committed to the inbox
first; only then does the next ``getUpdates`` name an offset past it. The first poll of a
process names no offset: Telegram hands back whatever it still holds, and updates stored
before a crash are recognised by their ``update_id`` and stored once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

from telegram import Bot, Update
from telegram.error import RetryAfter, TelegramError

from bot import backoff
from bot.limits import InboxLimit
from bot.telegram.dispatch import received
from storage.inbox import Received

log = logging.getLogger(__name__)
T = TypeVar("T")


class TelegramPoller:
    def __init__(
        self,
        bot: Bot,
        *,
        store: Callable[[list[Received]], Awaitable[None]],
        timeout: int,
    ) -> None:
        self._bot = bot
        # Commits a batch to the inbox (bot.telegram.dispatch.UpdateDispatcher.take).
        self._store_batch = store
        self._timeout = timeout
        self._failures = 0  # in a row: the pause doubles with each
        # True while Telegram answers: /health reports it.
        self.healthy = False

    async def run_forever(self) -> None:
        offset: int | None = None
        while await self._call(self._bot.delete_webhook()) is None:
            pass  # polling is refused while a webhook is set
        while True:
            updates = await self._call(
                self._bot.get_updates(
                    offset=offset, timeout=self._timeout, allowed_updates=Update.ALL_TYPES
                )
            )
            if not updates:
                continue
            await self._store([u.to_dict() for u in updates])
            # Only now may Telegram forget them: the next poll names the offset past them.
            offset = max(u.update_id for u in updates) + 1

    async def _call(self, request: Awaitable[T]) -> T | None:
        """Await one Bot API call; None (after a pause) when Telegram did not answer."""
        try:
            result = await request
        except RetryAfter as err:
            self.healthy = False
            retry_after = err.retry_after
            seconds = (
                retry_after.total_seconds()
                if isinstance(retry_after, timedelta)
                else float(retry_after)
            )
            await asyncio.sleep(seconds)
            return None
        except TelegramError as err:
            self.healthy = False
            # The type only: a network error's text can carry the URL, which holds the token.
            log.warning("getUpdates failed (%s); polling again shortly", type(err).__name__)
            await self._pause()
            return None
        self.healthy = True
        self._failures = 0
        return result

    async def _store(self, payloads: list[dict[str, object]]) -> None:
        """Commit the batch, however long the database takes to come back."""
        batch = [received(p) for p in payloads]
        while True:
            try:
                await self._store_batch(batch)
            except Exception as err:
                log.error("storing Telegram updates failed (%s); retrying", type(err).__name__)
                await self._pause()
                continue
            return

    async def _pause(self) -> None:
        pause = backoff.doubling(
            self._failures,
            first=InboxLimit.POLL_FIRST_BACKOFF_SECONDS,
            most=InboxLimit.POLL_MAX_BACKOFF_SECONDS,
        )
        self._failures += 1
        await asyncio.sleep(pause.total_seconds())
