"""Stored updates → handlers: one chat at a time, many chats at once.

Every update reaches the handlers from the durable inbox (``storage.inbox``), whether it came
by polling or by webhook. Updates of one chat are handled strictly in order; different chats
run concurrently, so a slow download or probe of one candidate's recording never holds up
another candidate. A failing update is retried a bounded number of times, then recorded as
failed (its error's type, no content) and the candidate is asked to try again.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session
from telegram import Update
from telegram.ext import Application

from bot import backoff
from bot.flows import interview
from bot.group_commit import GroupCommit
from bot.limits import InboxLimit
from bot.telegram.adapter import failed_updates
from bot.unit_of_work import UnitOfWork
from storage import inbox
from storage.inbox import Claimed, Received
from storage.media import MediaUnavailable

log = logging.getLogger(__name__)

_START = re.compile(r"^(/start(?:@\w+)?\s+)(\S+)(.*)$", re.DOTALL)
IDLE_CHECK_SECONDS = 1.0  # rows stored by other processes, retries and expired leases
STOP_GRACE_SECONDS = 10.0


def received(payload: dict[str, Any]) -> Received:
    """An incoming update, keyed by the candidate whose conversation it belongs to.

    hirebot acts on new messages in a private chat and on presses of its buttons. Anything
    else (channel posts, group messages, edits of earlier messages, membership changes…)
    gets no chat key, so it is recorded as ignored: an edited message is not a new answer.
    """
    update_id = int(payload["update_id"])
    message = payload.get("message")
    if isinstance(message, dict):
        chat, sender = message.get("chat") or {}, message.get("from") or {}
        if chat.get("type") == "private" and "id" in sender:
            return Received(update_id, str(sender["id"]), _sealed(payload, message))
        return Received(update_id, None, payload)
    query = payload.get("callback_query")
    if isinstance(query, dict) and "id" in (query.get("from") or {}):
        return Received(update_id, str(query["from"]["id"]), payload)
    return Received(update_id, None, payload)


class UpdateDispatcher:
    def __init__(
        self,
        uow: UnitOfWork,
        application: Application,  # type: ignore[type-arg]
    ) -> None:
        self._uow = uow
        self._app = application
        self._wakeup = asyncio.Event()
        self._running: dict[str, asyncio.Task[None]] = {}
        self._stopping = False
        # Handled updates are marked so together: one transaction per update kept the
        # database busy under load (bot.group_commit).
        self._done = GroupCommit[int, None](uow, _mark_done)

    def wake(self) -> None:
        self._wakeup.set()

    async def run_forever(self) -> None:
        while not self._stopping:
            self._wakeup.clear()
            try:
                await self._claim_and_start()
            except Exception as err:
                log.error("claiming stored Telegram updates failed: %s", type(err).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), IDLE_CHECK_SECONDS)

    async def stop(self) -> None:
        """Claim nothing more; let updates in hand finish (briefly), then cancel them."""
        self._stopping = True
        self.wake()
        running = list(self._running.values())
        if running:
            _done, late = await asyncio.wait(running, timeout=STOP_GRACE_SECONDS)
            for task in late:  # still leased: another process or the next start retries it
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)

    async def take(self, batch: list[Received]) -> None:
        """Store ``batch`` in the inbox (Telegram may forget it once this returns) and, in
        the same transaction, claim what this process can start handling now.

        Under ``hirebot bench load`` every update waited for a claim of its own after it was
        stored, a transaction queued behind everyone else's: p50 33 ms, p99 160 ms of each
        candidate's wait. An update left unclaimed here (its chat is busy, every slot is
        taken) is claimed when a handler finishes, as before; one stored by another process,
        at the next idle check.
        """
        claim = self._claim()

        def store_and_claim(session: Session, now: datetime) -> list[Claimed]:
            inbox.store(session, batch, now)
            return claim(session, now)

        self._start(await self._uow.run(store_and_claim))

    def _claim(self) -> Callable[[Session, datetime], list[Claimed]]:
        """A claim of due updates for as many chats as this process has room for, to run in
        a transaction (the room is reckoned now, on the event loop)."""
        free = self._room()
        busy = set(self._running)
        lease = timedelta(seconds=InboxLimit.LEASE_SECONDS)

        def claim(session: Session, now: datetime) -> list[Claimed]:
            if free <= 0:
                return []
            return inbox.claim(session, now=now, lease=lease, limit=free, busy=busy)

        return claim

    def _room(self) -> int:
        """How many more chats this process may handle at once now."""
        return 0 if self._stopping else InboxLimit.CONCURRENT_CHATS - len(self._running)

    async def _claim_and_start(self) -> None:
        if self._room() <= 0:
            return
        self._start(await self._uow.run(self._claim()))

    def _start(self, claimed: list[Claimed]) -> None:
        for row in claimed:
            task = asyncio.create_task(self._handle(row), name=f"telegram-update-{row.update_id}")
            self._running[row.chat_key] = task
            task.add_done_callback(functools.partial(self._finished, row.chat_key))

    def _finished(self, chat_key: str, _task: asyncio.Task[None]) -> None:
        self._running.pop(chat_key, None)
        self.wake()  # the chat's next update, if one is waiting

    async def _handle(self, row: Claimed) -> None:
        keeper = asyncio.create_task(self._keep_lease(row.update_id))
        try:
            error = await self._process(row)
        finally:
            keeper.cancel()
        try:
            await self._settle(row, error)
        except Exception as err:  # the lease runs out and the update is tried again
            log.error(
                "telegram update %s: recording its outcome failed: %s",
                row.update_id,
                type(err).__name__,
            )

    async def _process(self, row: Claimed) -> str | None:
        """Run the handlers; the type of the error that stopped them, or None."""
        try:
            update = Update.de_json(row.payload, self._app.bot)
            await asyncio.wait_for(self._app.process_update(update), InboxLimit.HANDLE_SECONDS)
        except Exception as err:
            # The type only: an error's text can quote the update or a URL with the token.
            log.error("telegram update %s failed: %s", row.update_id, type(err).__name__)
            failed_updates(self._app).pop(row.update_id, None)
            return type(err).__name__
        return failed_updates(self._app).pop(row.update_id, None)

    async def _settle(self, row: Claimed, error: str | None) -> None:
        if error is None:
            await self._done.record(row.update_id)
            return
        delay = retry_delay(row.attempts, error)
        if delay is not None:
            await self._uow.run(
                lambda s, now: inbox.mark_retry(s, row.update_id, at=now + delay, error_type=error)
            )
            return
        sender = _sender(row.payload)

        def give_up(session: Any, now: datetime) -> None:
            inbox.mark_failed(session, row.update_id, error, now)
            if sender is not None:
                interview.apologise(
                    session,
                    user_id=sender[0],
                    chat_id=sender[0],
                    language_code=sender[1],
                    now=now,
                )

        await self._uow.run(give_up)

    async def _keep_lease(self, update_id: int) -> None:
        lease = timedelta(seconds=InboxLimit.LEASE_SECONDS)
        while True:
            await asyncio.sleep(InboxLimit.LEASE_RENEW_SECONDS)
            try:
                await self._uow.run(
                    lambda s, now: inbox.extend_lease(s, update_ids=[update_id], until=now + lease)
                )
            except Exception as err:
                log.error(
                    "renewing the lease of update %s failed: %s", update_id, type(err).__name__
                )


def _mark_done(session: Session, now: datetime, update_ids: list[int]) -> list[None]:
    for update_id in update_ids:
        inbox.mark_done(session, update_id, now)
    return [None for _ in update_ids]


def retry_delay(attempts: int, error: str) -> timedelta | None:
    """How long a failed update waits for its next try (``attempts`` made so far, ``error``
    the type that stopped the last one); None: given up on, the candidate is told."""
    if error == MediaUnavailable.__name__:
        # The store is down, not the update wrong: wait minutes rather than seconds.
        if attempts >= InboxLimit.MEDIA_MAX_ATTEMPTS:
            return None
        return backoff.doubling(
            attempts - 1,
            first=InboxLimit.MEDIA_FIRST_BACKOFF_SECONDS,
            most=InboxLimit.MEDIA_MAX_BACKOFF_SECONDS,
        )
    if attempts >= InboxLimit.MAX_ATTEMPTS:
        return None
    return backoff.doubling(attempts - 1, first=InboxLimit.FIRST_BACKOFF_SECONDS)


def _sealed(payload: dict[str, Any], message: dict[str, Any]) -> dict[str, Any]:
    """The update with an invite token in ``/start <token>`` replaced by its hash: the
    token is a credential and never lands on disk (``interview.seal_token``)."""
    found = _START.match(str(message.get("text") or ""))
    if found is None:
        return payload
    text = found.group(1) + interview.seal_token(found.group(2)) + found.group(3)
    return {**payload, "message": {**message, "text": text}}


def _sender(payload: dict[str, Any]) -> tuple[int, str | None] | None:
    """The candidate (user id, language code) behind an update, where there is one."""
    for kind in ("message", "callback_query"):
        sender = (payload.get(kind) or {}).get("from") or {}
        if "id" in sender:
            return int(sender["id"]), sender.get("language_code")
    return None
