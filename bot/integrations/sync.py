"""Delivering ATS sync steps: one outbox row (bot.flows.outgoing.AtsSync) → the adapter calls.

Called by the outbox worker (bot.delivery) for each step, one at a time per candidate and in
order. Exactly once: finding is by email before creating, tags, stages and archiving are
idempotent in the ATS, and a note carries a marker that a retry looks for when an earlier
attempt may have posted it (an answer lost to a timeout or a crash). A 429 waits as long as
the ATS says without counting as a failure (a short one inside the step, so a step of several
calls gets through a sustained throttle); an outage is retried with the outbox's backoff and
given up after AtsLimit.MAX_FAILURES; a refusal is given up at once. Either way the
candidate's thread says what did not reach the ATS (bot.flows.ats_steps.failed).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from bot.config import Settings
from bot.errors import ConfigError, DeliveryDeferred, DeliveryRefused
from bot.flows import ats_steps, outgoing
from bot.flows.ats_steps import Work
from bot.flows.ats_sync import Step
from bot.integrations.ats import AtsClient, AtsError, RateLimited, Refused
from bot.integrations.clients import client_for
from bot.limits import AtsLimit
from bot.unit_of_work import UnitOfWork

ThreadLink = Callable[[int], Awaitable[str | None]]
T = TypeVar("T")


class AtsDelivery:
    def __init__(
        self,
        uow: UnitOfWork,
        settings: Settings,
        *,
        clients: Callable[[str, Settings, str | None], AtsClient] = client_for,
        max_failures: int = AtsLimit.MAX_FAILURES,
    ) -> None:
        self._uow = uow
        self._settings = settings
        self._clients = clients
        self._max_failures = max_failures

    async def deliver(self, message: outgoing.AtsSync, thread_link: ThreadLink) -> None:
        """Send one step; DeliveryDeferred to try again later, DeliveryRefused to give up."""
        link = await thread_link(message.interview_id) if message.step == Step.COMPLETED else None
        work = await self._uow.run(lambda s, now: ats_steps.prepare(s, message, link, now))
        if work is None:
            return  # erased, or the opening no longer syncs: nothing left to say
        if work.wait is not None:
            raise DeliveryDeferred("the note waits for transcripts", retry_after=work.wait)
        try:
            client = self._clients(work.kind, self._settings, work.job)
        except (ConfigError, KeyError) as err:
            await self._failed(message, work, f"hirebot is not set up for it ({err})", refused=True)
            return
        try:
            await self._send(client, work, message)
        except RateLimited as err:
            raise DeliveryDeferred(f"{work.kind} rate limit", retry_after=err.retry_after) from None
        except AtsError as err:
            await self._failed(message, work, str(err), refused=isinstance(err, Refused))
        finally:
            await client.close()
        await self._uow.run(
            lambda s, now: ats_steps.succeeded(s, work.interview_id, message.step, now)
        )

    async def _send(self, client: AtsClient, work: Work, message: outgoing.AtsSync) -> None:
        ref = work.ref
        if ref is None:
            if not work.person.email:
                raise Refused("the candidate has no email address to be found by")
            ref = await _paced(lambda: client.find_or_create(work.person))
            found = ref
            await self._uow.run(lambda s, _now: ats_steps.record_ref(s, work.interview_id, found))
        stage, known = work.stage, ref
        if stage is not None:
            await _paced(lambda: client.move_to_stage(known, stage))
        if work.reject:
            await _paced(lambda: client.reject(known, work.reason))
        if work.note is not None:
            await self._note(client, ref, work, message.key)
        if work.tags:
            await _paced(lambda: client.add_tags(known, work.tags))

    async def _note(self, client: AtsClient, ref: str, work: Work, key: str) -> None:
        """Post the note once: if an earlier attempt may have posted it, look first."""
        marker = ats_steps.marker_of(key)
        if work.uncertain_note == key and await _paced(lambda: client.has_note(ref, marker)):
            return
        await self._uow.run(lambda s, _now: ats_steps.posting_note(s, work.interview_id, key))
        await _paced(lambda: client.add_note(ref, work.note or ""))

    async def _failed(
        self, message: outgoing.AtsSync, work: Work, reason: str, *, refused: bool
    ) -> None:
        gave_up = await self._uow.run(
            lambda s, now: ats_steps.failed(
                s,
                interview_id=work.interview_id,
                step=message.step,
                reason=reason,
                refused=refused,
                now=now,
                max_failures=self._max_failures,
            )
        )
        if gave_up:
            raise DeliveryRefused(f"{work.kind}: {reason}")
        raise DeliveryDeferred(f"{work.kind}: {reason}")


async def _paced(call: Callable[[], Awaitable[T]]) -> T:
    """One ATS call; a short 429 is waited out here (AtsLimit.INLINE_RATE_WAITS times)."""
    for _ in range(AtsLimit.INLINE_RATE_WAITS):
        try:
            return await call()
        except RateLimited as err:
            if err.retry_after > AtsLimit.INLINE_RATE_WAIT_SECONDS:
                raise
            await asyncio.sleep(err.retry_after)
    return await call()
