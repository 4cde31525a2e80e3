"""The outbox delivery worker: after commit, hand each recorded message to its platform.

Rows are delivered in id order within their ordering key, retried with exponential backoff,
or exactly after the platform's own ``retry_after`` when it gives one. What happens to a row
that fails (it waits for a channel, is retried, is given up; who is told) is decided in
``bot.flows.undelivered``; this module translates each outcome into one of its calls.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlmodel import Session

from bot.errors import ChannelUnavailable, DeliveryDeferred, DeliveryRefused, described
from bot.flows import erasure, review, threads, undelivered
from bot.flows.ports import CandidateChannel, Choice, Posted, ReviewChannel, ThreadNote
from bot.flows.say import Kind, card_from_json, note_from_json
from bot.limits import DeliveryLimit
from storage import outbox
from storage.db import Database
from storage.media import MediaStore
from storage.models import OutboxMessage, ReviewPost, ThreadMessage

log = logging.getLogger(__name__)


class Delivery:
    def __init__(
        self,
        db: Database,
        *,
        candidates: CandidateChannel,
        reviews: ReviewChannel,
        media: MediaStore,
        now: Callable[[], datetime],
        recruiters: frozenset[str] = frozenset(),
    ) -> None:
        self._db = db
        self._recruiters = recruiters  # told when a message cannot get through
        self._candidates = candidates
        self._reviews = reviews
        self._media = media
        self._now = now
        self._wake = asyncio.Event()
        self._stopping = False
        self._sending: set[int] = set()  # outbox rows this process is delivering now

    def wake(self) -> None:
        """Something was committed to the outbox: deliver now rather than at the next poll."""
        self._wake.set()

    def stop_after_this_pass(self) -> None:
        """Finish the messages in flight, start no new ones (a graceful shutdown).

        Cancelling a send midway would leave its row leased, and delayed behind the lease,
        though the platform may already have it; letting it finish avoids both.
        """
        self._stopping = True
        self._wake.set()

    async def run_forever(self, poll_seconds: float = 1.0) -> None:
        """Keep up to ``DeliveryLimit.BATCH`` messages in flight, each on its own.

        A slow platform call holds up only its own conversation (later rows of its ordering
        key wait for it), never the other candidates' messages.
        """
        in_flight: set[asyncio.Task[None]] = set()

        def finished(task: asyncio.Task[None]) -> None:
            in_flight.discard(task)
            self._wake.set()  # the next message of that conversation may be due now

        heartbeat = asyncio.create_task(self._keep_leases(), name="outbox-leases")

        while not self._stopping:
            self._wake.clear()
            started = 0
            try:
                started = await self._start_due(in_flight, finished)
            except Exception as err:
                log.error("outbox delivery pass failed, retrying: %s", described(err))
            if started:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=await self._idle(poll_seconds))
        if in_flight:
            await asyncio.wait(in_flight)
        heartbeat.cancel()

    async def _idle(self, poll_seconds: float) -> float:
        """How long to wait for a wake-up: until the next retry is due, at most a poll.

        A retry due in 1 s (Slack's Retry-After) is tried then, not up to a poll later.
        """
        now = self._now()
        try:
            due = await self._db.run(lambda s: outbox.next_due(s, after=now))
        except Exception as err:
            log.error("could not read the next retry time: %s", described(err))
            return poll_seconds
        if due is None:
            return poll_seconds
        return min(poll_seconds, max((due - now).total_seconds(), 0.0))

    async def _keep_leases(self) -> None:
        """Renew the lease of every row still being sent (a long upload outlives a lease)."""
        lease = timedelta(seconds=DeliveryLimit.LEASE_SECONDS)
        while True:
            await asyncio.sleep(DeliveryLimit.LEASE_SECONDS / 3)
            rows, until = set(self._sending), self._now() + lease
            try:
                await self._db.run(partial(outbox.extend_lease, row_ids=rows, until=until))
            except Exception as err:
                log.error("could not renew outbox leases, retrying: %s", described(err))

    async def _start_due(
        self, in_flight: set[asyncio.Task[None]], finished: Callable[[asyncio.Task[None]], None]
    ) -> int:
        room = DeliveryLimit.BATCH - len(in_flight)
        if room <= 0:
            return 0
        now = self._now()
        lease = timedelta(seconds=DeliveryLimit.LEASE_SECONDS)
        # Only the oldest pending row of each ordering key is due, and a row in flight stays
        # pending (leased) until sent: no conversation ever has two messages on the way.
        sending = set(self._sending)
        ids = await self._db.run(
            lambda s: outbox.claim_due(s, now=now, lease=lease, limit=room, exclude=sending)
        )
        for row_id in ids:
            self._sending.add(row_id)  # now, not when the task first runs: the next pass
            task = asyncio.create_task(self._deliver_one(row_id), name=f"outbox-{row_id}")
            in_flight.add(task)
            task.add_done_callback(finished)
        return len(ids)

    async def _deliver_one(self, row_id: int) -> None:
        try:
            await self._attempt(row_id)
        finally:
            self._sending.discard(row_id)

    async def _attempt(self, row_id: int) -> None:
        row = await self._db.run(lambda s: s.get(OutboxMessage, row_id))
        if row is None:
            return  # erased meanwhile (a candidate's /delete_my_data)
        kind, payload, attempts = row.kind, dict(row.payload), row.attempts
        key, waited_for = row.ordering_key, row.waiting_for_channel
        try:
            await self._send(kind, payload, row_id)
        except ChannelUnavailable as err:
            await self._wait_for_channel(row_id, kind, attempts, err)
            return
        except DeliveryDeferred as err:
            await self._retry_later(row_id, key, kind, attempts, str(err), err.retry_after)
            return
        except DeliveryRefused as err:
            await self._give_up(row_id, key, kind, f"refused: {err}")
            return
        except Exception as err:  # our bug or an unexpected SDK error: retry, then give up
            log.error("outbox %s (%s) failed unexpectedly: %s", row_id, kind, described(err))
            if undelivered.give_up_now(attempts, understood=False):
                # The error's type, not its text: an exception's message may quote a payload.
                reason = f"failed {attempts + 1} times: {type(err).__name__}"
                await self._give_up(row_id, key, kind, reason)
            else:
                await self._retry_later(row_id, key, kind, attempts, type(err).__name__, None)
            return
        now = self._now()
        await self._db.run(lambda s: outbox.mark_sent(s, row_id, now))
        if waited_for is not None:
            # The channel works again (the bot's invitation was missed, or it was
            # unarchived): the other messages waiting for it need not wait for their retry.
            await self._db.run(
                lambda s: undelivered.channel_available(s, channel=waited_for, now=now)
            )
            self._wake.set()

    async def _wait_for_channel(
        self, row_id: int, kind: str, attempts: int, err: ChannelUnavailable
    ) -> None:
        now = self._now()
        at = now + timedelta(seconds=_backoff(attempts, None))
        told = await self._db.run(
            lambda s: undelivered.channel_unavailable(
                s,
                row_id=row_id,
                channel=err.channel,
                problem=err.problem,
                retry_at=at,
                recruiters=self._recruiters,
                now=now,
            )
        )
        log.warning("outbox %s (%s) waits for channel %s: %s", row_id, kind, err.channel, err)
        if told:
            self._wake.set()  # the recruiters' DMs are in the outbox now

    async def _retry_later(
        self,
        row_id: int,
        key: str,
        kind: str,
        attempts: int,
        reason: str,
        retry_after: float | None,
    ) -> None:
        delay = _backoff(attempts, retry_after)
        now = self._now()
        told = await self._db.run(
            lambda s: undelivered.retry_later(
                s,
                row_id=row_id,
                ordering_key=key,
                attempts=attempts,
                retry_at=now + timedelta(seconds=delay),
                error=reason,
                rate_limited=retry_after is not None,
                recruiters=self._recruiters,
                now=now,
            )
        )
        log.warning("outbox %s (%s) deferred %.1fs: %s", row_id, kind, delay, reason)
        if told:
            self._wake.set()

    async def _give_up(self, row_id: int, key: str, kind: str, reason: str) -> None:
        now = self._now()
        told = await self._db.run(
            lambda s: undelivered.give_up(
                s,
                row_id=row_id,
                ordering_key=key,
                error=reason,
                recruiters=self._recruiters,
                now=now,
            )
        )
        log.error("outbox %s (%s) given up: %s", row_id, kind, reason)
        if told:
            self._wake.set()

    async def _send(self, kind: str, payload: dict[str, Any], row_id: int) -> None:
        if kind == Kind.CANDIDATE_TEXT:
            choices = [[Choice(**c) for c in row] for row in payload["choices"]]
            await self._candidates.send_text(
                int(payload["chat_id"]),
                str(payload["text"]),
                choices,
            )
        elif kind == Kind.CARD_POST:
            post_id = int(payload["review_post_id"])
            post = await self._post(post_id)
            card = card_from_json(payload["card"])
            if post.message_id is None:
                message_id = await self._reviews.post_card(post.channel, card)
                await self._db.run(lambda s: review.record_posted(s, post_id, message_id))
        elif kind == Kind.CARD_UPDATE:
            post = await self._posted(payload)
            card = card_from_json(payload["card"])
            assert post.message_id is not None
            await self._reviews.update_card(post.channel, post.message_id, card)
        elif kind == Kind.THREAD_POST:
            await self._post_in_thread(payload)
        elif kind == Kind.THREAD_EDIT:
            channel, edited = await self._thread_message(int(payload["thread_message_id"]))
            if edited is None:
                # Its post came earlier in this conversation and is done: it failed for good.
                raise DeliveryRefused("the thread message to edit was never posted")
            await self._reviews.edit_in_thread(channel, edited, note_from_json(payload))
        elif kind == Kind.THREAD_UPLOAD:
            post = await self._posted(payload)
            assert post.message_id is not None
            file_id = await self._reviews.upload_to_thread(
                post.channel,
                post.message_id,
                self._media.path(str(payload["media_path"])),
                str(payload.get("media_title") or ""),
            )
            if "thread_message_id" in payload:
                owner = int(payload["thread_message_id"])
                if not await self._db.run(lambda s: threads.record_file(s, owner, file_id)):
                    # The candidate's data was erased while this upload was in flight.
                    await self._reviews.delete_file(file_id)
        elif kind == Kind.FILE_DELETE:
            await self._reviews.delete_file(str(payload["file_id"]))
        elif kind == Kind.THREAD_CLEAR:
            post = await self._posted(payload)
            assert post.message_id is not None
            await self._reviews.clear_thread(post.channel, post.message_id)
        elif kind == Kind.COPY_DELETE:
            await self._delete_copy(
                Posted(str(payload["channel"]), payload.get("message_id"), payload.get("file_id"))
            )
        elif kind == Kind.NOTIFY_USER:
            posted = await self._reviews.notify_user(str(payload["user"]), str(payload["text"]))
            await self._keep_track(payload, posted)
        elif kind == Kind.PRIVATE_NOTE:
            await self._reviews.tell_privately(
                str(payload["channel"]), str(payload["user"]), str(payload["text"])
            )
        elif kind == Kind.USER_FILE:
            posted = await self._reviews.send_file_to_user(
                str(payload["user"]),
                str(payload["filename"]),
                str(payload["title"]),
                str(payload["content"]).encode(),
            )
            await self._keep_track(payload, posted)
        else:
            raise DeliveryRefused(f"unknown outbox kind {kind!r} (row {row_id})")

    async def _keep_track(self, payload: dict[str, Any], posted: Posted) -> None:
        """Record a DM or file that names candidates, so erasing one of them deletes it."""
        about = [int(i) for i in payload.get("about") or []]
        if not about:
            return
        now = self._now()
        kept = await self._db.run(lambda s: erasure.record_copy(s, about, posted, now))
        if not kept:  # one of them was erased while this was on its way
            await self._delete_copy(posted)

    async def _delete_copy(self, posted: Posted) -> None:
        if posted.file_id:
            await self._reviews.delete_file(posted.file_id)
        if posted.message_id:
            await self._reviews.delete_message(posted.channel, posted.message_id)

    async def _post_in_thread(self, payload: dict[str, Any]) -> None:
        post = await self._posted(payload)
        assert post.message_id is not None
        note = note_from_json(payload)
        if "thread_message_id" not in payload:  # a note nobody edits later
            await self._reviews.post_in_thread(post.channel, post.message_id, note)
            return
        message_id = int(payload["thread_message_id"])
        existing = await self._db.run(lambda s: s.get(ThreadMessage, message_id))
        if existing is None:
            raise DeliveryRefused("the thread message was erased before it was posted")
        if existing.message_id is not None:
            return  # posted and recorded by an earlier attempt
        if existing.posting_since is not None and note.key:
            # An earlier attempt may have posted and died before recording it: look first.
            found = await self._reviews.find_in_thread(post.channel, post.message_id, note.key)
            if found is not None:
                await self._db.run(lambda s: threads.record_posted(s, message_id, found))
                return
        now = self._now()
        await self._db.run(lambda s: threads.record_posting(s, message_id, now))
        ts = await self._reviews.post_in_thread(post.channel, post.message_id, note)
        if not await self._db.run(lambda s: threads.record_posted(s, message_id, ts)):
            # The candidate's data was erased while this post was in flight: redact it too.
            await self._reviews.edit_in_thread(
                post.channel, ts, ThreadNote(text=review.ERASED_ANSWER)
            )

    async def _thread_message(self, thread_message_id: int) -> tuple[str, str | None]:
        def load(session: Session) -> tuple[str, str | None]:
            message = session.get(ThreadMessage, thread_message_id)
            if message is None:
                raise DeliveryRefused("the thread message was erased before it was posted")
            return threads.parent(session, message.interview_id).channel, message.message_id

        return await self._db.run(load)

    async def _post(self, review_post_id: int) -> ReviewPost:
        return await self._db.run(lambda s: s.get_one(ReviewPost, review_post_id))

    async def _posted(self, payload: dict[str, Any]) -> ReviewPost:
        post = await self._post(int(payload["review_post_id"]))
        if post.message_id is None:
            # The card post comes first in this conversation and is done, so it failed for
            # good (reported then): a reply with no parent can never be posted.
            raise DeliveryRefused("the candidate's card was never posted")
        return post


def _backoff(attempts: int, retry_after: float | None) -> float:
    """The platform's Retry-After as given; else doubling from 1 s, at most 5 minutes.

    Adding our own doubling to Slack's word would turn five 429s of 1 s into 31 s.
    """
    if retry_after is not None:
        return retry_after
    return float(
        min(DeliveryLimit.FIRST_BACKOFF_SECONDS * 2**attempts, DeliveryLimit.MAX_BACKOFF_SECONDS)
    )
