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
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from bot import backoff
from bot.address_policy import AddressPolicy
from bot.calendar import invitation
from bot.errors import (
    ChannelUnavailable,
    DeliveryDeferred,
    DeliveryRefused,
    RecipientRefused,
    described,
)
from bot.flows import erasure, outgoing, relay, review, threads, undelivered
from bot.flows.meeting import Invitation, Person
from bot.flows.outgoing import Kind
from bot.flows.ports import (
    CandidateChannel,
    Clip,
    MailChannel,
    Posted,
    ReviewChannel,
    ThreadNote,
)
from bot.group_commit import GroupCommit
from bot.integrations.sync import AtsDelivery
from bot.integrations.webhooks import WebhookPoster, WebhookSender
from bot.limits import DeliveryLimit
from bot.media.sending import send_intro_clip
from bot.unit_of_work import UnitOfWork
from storage import outbox
from storage.media import MediaUnavailable, local_copy
from storage.models import OutboxMessage, ReviewPost, ThreadMessage

log = logging.getLogger(__name__)

# A sent row: its id, ordering key, kind, and when it was sent.
_Sent = tuple[int, str, str, datetime]
# How long a claim holds a row for this process (renewed while a long send goes on).
_LEASE = timedelta(seconds=DeliveryLimit.LEASE_SECONDS)


class Delivery:
    def __init__(
        self,
        uow: UnitOfWork,
        *,
        candidates: CandidateChannel,
        reviews: ReviewChannel,
        mail: MailChannel,
        organizer: Person | None = None,
        webhooks: WebhookPoster | None = None,
        ats: AtsDelivery | None = None,
    ) -> None:
        self._uow = uow
        # The hiring team's address (HIREBOT_MAIL_FROM) as the organizer of the calendar
        # invitations the flows leave it to (bot.flows.meeting.Meeting.organizer).
        self._organizer = organizer
        self._recruiters = uow.recruiters  # told when a message cannot get through
        self._candidates = candidates
        self._reviews = reviews
        self._mail = mail
        self._ats = ats  # the opening's applicant tracking system (bot.integrations.sync)
        self._media = uow.media
        self._now = uow.now
        self._wake = asyncio.Event()
        self._stopping = False
        self._sending: set[int] = set()  # outbox rows this process is delivering now
        # The deliveries under way, by lane (True: to candidates).
        self._in_flight: dict[bool, set[asyncio.Task[None]]] = {True: set(), False: set()}
        # Sent rows are marked so together (one transaction per message kept the database
        # busy under load), and each mark claims the next row of its conversation if it is
        # due: a candidate's "Got it" no longer waits for a claim of its own after the
        # message before it (bot.group_commit).
        self._sent = GroupCommit[_Sent, OutboxMessage | None](uow, self._mark_sent)
        # Each kind of message to the one coroutine that delivers it.
        self._handlers: dict[str, Callable[[Any], Awaitable[None]]] = {
            Kind.CANDIDATE_TEXT: self._send_to_candidate,
            Kind.CARD_POST: self._post_card,
            Kind.CARD_UPDATE: self._update_card,
            Kind.THREAD_POST: self._post_in_thread,
            Kind.THREAD_EDIT: self._edit_in_thread,
            Kind.THREAD_UPLOAD: self._upload_to_thread,
            Kind.FILE_DELETE: self._delete_file,
            Kind.THREAD_CLEAR: self._clear_thread,
            Kind.COPY_DELETE: self._delete_shared_copy,
            Kind.NOTIFY_USER: self._notify_user,
            Kind.PRIVATE_NOTE: self._tell_privately,
            Kind.USER_FILE: self._send_file_to_user,
            Kind.EMAIL: self._send_email,
            Kind.CANDIDATE_DOCUMENT: self._send_document_to_candidate,
            Kind.THREAD_INVITATION: self._share_invitation_in_thread,
            Kind.WEBHOOK: (webhooks or WebhookPoster(uow, WebhookSender(AddressPolicy()))).deliver,
            Kind.CANDIDATE_INTRO_CLIP: self._send_intro_clip,
            Kind.CANDIDATE_RELAY: self._relay_to_candidate,
            Kind.ATS_SYNC: self._sync_with_ats,
        }
        assert self._handlers.keys() == set(Kind), "every kind of message needs a handler"

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
        """Keep up to ``DeliveryLimit.BATCH`` messages in flight, each on its own, and up to
        ``DeliveryLimit.CANDIDATE_BATCH`` to candidates besides.

        A slow platform call holds up only its own conversation (later rows of its ordering
        key wait for it), never the other candidates' messages; slow uploads to Slack never
        take the slots of candidates' messages (each lane has its own).
        """
        in_flight = self._in_flight
        heartbeat = asyncio.create_task(self._keep_leases(), name="outbox-leases")
        # From now on transactions that enqueue hand their rows straight to this worker.
        self._uow.sender = self
        try:
            while not self._stopping:
                self._wake.clear()
                started = 0
                try:
                    started = await self._start_due()
                except Exception as err:
                    log.error("outbox delivery pass failed, retrying: %s", described(err))
                if started:
                    continue
                with contextlib.suppress(TimeoutError):
                    timeout = await self._idle(poll_seconds)
                    await asyncio.wait_for(self._wake.wait(), timeout=timeout)
        finally:
            self._uow.sender = None
        remaining = in_flight[True] | in_flight[False]
        if remaining:
            await asyncio.wait(remaining)
        heartbeat.cancel()

    async def _idle(self, poll_seconds: float) -> float:
        """How long to wait for a wake-up: until the next retry is due, at most a poll.

        A retry due in 1 s (Slack's Retry-After) is tried then, not up to a poll later.
        """
        now = self._now()
        try:
            due = await self._uow.run_background(lambda s, _now: outbox.next_due(s, after=now))
        except Exception as err:
            log.error("could not read the next retry time: %s", described(err))
            return poll_seconds
        if due is None:
            return poll_seconds
        return min(poll_seconds, max((due - now).total_seconds(), 0.0))

    async def _keep_leases(self) -> None:
        """Renew the lease of every row still being sent (a long upload outlives a lease)."""
        period = DeliveryLimit.LEASE_SECONDS / 5
        pause = period
        while True:
            await asyncio.sleep(pause)
            rows = set(self._sending)

            def renew(session: Session, now: datetime, rows: set[int] = rows) -> None:
                outbox.extend_lease(session, rows, until=now + _LEASE)

            try:
                await self._uow.run_background(renew)
                pause = period
            except Exception as err:
                # Soon again, not a period later: two misses and a slow send's row could be
                # taken (and sent again) by another process.
                log.error("could not renew outbox leases, retrying: %s", described(err))
                pause = DeliveryLimit.FIRST_BACKOFF_SECONDS

    def claim_fresh(
        self, session: Session, now: datetime, enqueued: list[OutboxMessage]
    ) -> list[OutboxMessage]:
        """In the transaction that enqueued ``enqueued`` (``bot.unit_of_work.Sender``): claim
        the first row of each of their conversations that is due and nobody holds, while its
        lane has room; ``start_claimed`` sends them once that transaction has committed.

        Under ``hirebot bench load`` a candidate's reply waited for the delivery worker's
        own claim, a transaction of its own queued behind everyone else's: p50 12 to 34 ms,
        p99 165 to 465 ms. A row left (its conversation has an earlier one on the way, the
        lane is full) wakes the worker as before.
        """
        if self._stopping or not enqueued:
            return []
        rooms = self._rooms()  # read off the loop's thread: a bound, not a count
        lane = outgoing.candidate_lane()
        claimed: list[OutboxMessage] = []
        for key in dict.fromkeys(row.ordering_key for row in enqueued):
            to_candidates = key.startswith(lane)
            if rooms[to_candidates] <= 0:
                continue
            # Not a row this process is still sending past its lease (a slow upload).
            row = outbox.claim_next(session, key, now=now, lease=_LEASE, exclude=self._sending)
            if row is not None:
                claimed.append(row)
                rooms[to_candidates] -= 1
        return claimed

    def start_claimed(self, rows: list[OutboxMessage]) -> None:
        """Send rows claimed by ``claim_fresh`` (on the event loop, after their commit)."""
        lane = outgoing.candidate_lane()
        for row in rows:
            self._start(row.ordering_key.startswith(lane), row)

    def _rooms(self) -> dict[bool, int]:
        """How many more messages each lane may have in flight (True: to candidates)."""
        return {
            to_candidates: (DeliveryLimit.CANDIDATE_BATCH if to_candidates else DeliveryLimit.BATCH)
            - len(tasks)
            for to_candidates, tasks in self._in_flight.items()
        }

    def _start(self, to_candidates: bool, row: OutboxMessage) -> None:
        assert row.id is not None
        self._sending.add(row.id)  # now, not when the task first runs: the next pass
        task = asyncio.create_task(self._deliver_one(row), name=f"outbox-{row.id}")
        self._in_flight[to_candidates].add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        for tasks in self._in_flight.values():
            tasks.discard(task)
        self._wake.set()  # the next message of that conversation may be due now

    async def _start_due(self) -> int:
        """Claim and start what is due in both lanes.

        One transaction claims for both lanes and reads the claimed rows: under load each
        transaction waits its turn for the database, and a candidate's "Got it" used to wait
        for three of them (a claim per lane, then reading its row) before it was sent.
        """
        rooms = self._rooms()
        if all(room <= 0 for room in rooms.values()):
            return 0
        lane = outgoing.candidate_lane()
        sending = set(self._sending)

        def claim(session: Session, now: datetime) -> list[tuple[bool, OutboxMessage]]:
            claimed: list[tuple[bool, OutboxMessage]] = []
            for to_candidates, room in rooms.items():
                if room <= 0:
                    continue
                keys, other_keys = (lane, None) if to_candidates else (None, lane)
                # Only the oldest pending row of each ordering key is due (whatever its
                # lane), and a row in flight stays pending (leased) until sent: no
                # conversation ever has two messages on the way.
                ids = outbox.claim_due(
                    session,
                    now=now,
                    lease=_LEASE,
                    limit=room,
                    exclude=sending,
                    keys=keys,
                    other_keys=other_keys,
                )
                claimed += [(to_candidates, row) for row in outbox.rows(session, ids)]
            return claimed

        claimed = await self._uow.run_background(claim)
        for to_candidates, row in claimed:
            self._start(to_candidates, row)
        return len(claimed)

    async def _deliver_one(self, row: OutboxMessage | None) -> None:
        """Send ``row``, then each next row of its conversation claimed with its mark."""
        while row is not None:
            row_id = row.id
            assert row_id is not None
            self._sending.add(row_id)
            try:
                row = await self._attempt(row_id, row)
            except Exception as err:
                # Recording the outcome failed (the database is away): the row stays leased
                # and is tried again once its lease runs out.
                log.error("outbox %s: recording its outcome failed: %s", row_id, described(err))
                return
            finally:
                self._sending.discard(row_id)

    async def _attempt(self, row_id: int, row: OutboxMessage) -> OutboxMessage | None:
        """Send the claimed ``row`` (read when it was claimed, moments ago: a row erased
        since then is sent at most this once, and its mark matches nothing). Returns the
        next row of its conversation when it was due and claimed with this one's mark."""
        kind, attempts = row.kind, row.attempts
        key, waited_for = row.ordering_key, row.waiting_for_channel
        try:
            message = outgoing.read(kind, key, row.payload)
        except outgoing.Unreadable as err:
            # No retry will make it readable; the reason names fields, never their values.
            await self._give_up(row_id, key, kind, f"unreadable: {err}")
            return None
        try:
            await self._handlers[message.kind](message)
        except ChannelUnavailable as err:
            delay, channel, problem = retry_delay(attempts, None), err.channel, err.problem
            await self._settle(
                row_id,
                kind,
                f"waits for channel {channel}: {err}",
                lambda s, now: undelivered.channel_unavailable(
                    s,
                    row_id=row_id,
                    channel=channel,
                    problem=problem,
                    retry_at=now + delay,
                    recruiters=self._recruiters,
                    now=now,
                ),
            )
            return None
        except DeliveryDeferred as err:
            await self._retry_later(row_id, key, kind, attempts, str(err), err.retry_after)
            return None
        except DeliveryRefused as err:
            await self._give_up(row_id, key, kind, f"refused: {err}")
            return None
        except Exception as err:  # our bug or an unexpected SDK error: retry, then give up
            log.error("outbox %s (%s) failed unexpectedly: %s", row_id, kind, described(err))
            if undelivered.give_up_now(attempts, understood=False):
                # The error's type, not its text: an exception's message may quote a payload.
                reason = f"failed {attempts + 1} times: {type(err).__name__}"
                await self._give_up(row_id, key, kind, reason)
            else:
                await self._retry_later(row_id, key, kind, attempts, type(err).__name__, None)
            return None
        now = self._now()
        following = await self._record_sent((row_id, key, kind, now))
        if waited_for is not None:
            # The channel works again (the bot's invitation was missed, or it was
            # unarchived): the other messages waiting for it need not wait for their retry.
            await self._uow.run_background(
                lambda s, _now: undelivered.channel_available(s, channel=waited_for, now=now)
            )
            self._wake.set()
        return following

    async def _record_sent(self, sent: _Sent) -> OutboxMessage | None:
        """Record that the platform took the message, retrying while the database is away
        (a restart takes seconds): a row left unmarked would be sent again, a duplicate the
        candidate or the team sees. Tried while the row is still leased to this process;
        past that another process may take it, and the error goes up."""
        give_up_at = time.monotonic() + DeliveryLimit.LEASE_SECONDS
        failures = 0
        while True:
            try:
                return await self._sent.record(sent)
            except Exception as err:
                pause = backoff.doubling(failures, first=DeliveryLimit.FIRST_BACKOFF_SECONDS)
                if time.monotonic() + pause.total_seconds() >= give_up_at:
                    raise
                failures += 1
                log.warning("outbox %s sent; recording it failed, retrying: %s", sent[0],
                            described(err))  # fmt: skip
                await asyncio.sleep(pause.total_seconds())

    async def _retry_later(
        self,
        row_id: int,
        key: str,
        kind: str,
        attempts: int,
        reason: str,
        retry_after: float | None,
    ) -> None:
        delay = retry_delay(attempts, retry_after)
        await self._settle(
            row_id,
            kind,
            f"deferred {delay.total_seconds():.1f}s: {reason}",
            lambda s, now: undelivered.retry_later(
                s,
                row_id=row_id,
                ordering_key=key,
                attempts=attempts,
                retry_at=now + delay,
                error=reason,
                rate_limited=retry_after is not None,
                recruiters=self._recruiters,
                now=now,
            ),
        )

    async def _give_up(self, row_id: int, key: str, kind: str, reason: str) -> None:
        await self._settle(
            row_id,
            kind,
            f"given up: {reason}",
            lambda s, now: undelivered.give_up(
                s,
                row_id=row_id,
                ordering_key=key,
                error=reason,
                recruiters=self._recruiters,
                now=now,
            ),
            level=logging.ERROR,
        )

    async def _settle(
        self,
        row_id: int,
        kind: str,
        outcome: str,
        record: Callable[[Session, datetime], bool],
        level: int = logging.WARNING,
    ) -> None:
        """Record what becomes of a failed row (one ``bot.flows.undelivered`` call, True when
        it told the recruiters) and log it; deliver what it queued for them at once."""
        told = await self._uow.run_background(record)
        log.log(level, "outbox %s (%s) %s", row_id, kind, outcome)
        if told:
            self._wake.set()

    def _mark_sent(
        self, session: Session, now: datetime, sent: list[_Sent]
    ) -> list[OutboxMessage | None]:
        following: list[OutboxMessage | None] = []
        for row_id, key, kind, at in sent:
            outbox.mark_sent(session, row_id, at)
            if kind == Kind.EMAIL:  # delivered: the bodies (and their link) need not be kept
                outbox.forget_fields(session, row_id, outgoing.EMAIL_BODIES)
            following.append(
                None if self._stopping else outbox.claim_next(session, key, now=now, lease=_LEASE)
            )
        return following

    # One handler per kind of message (bot.flows.outgoing), each one call on a port plus
    # whatever must be recorded about it.

    async def _send_to_candidate(self, message: outgoing.CandidateText) -> None:
        choices = [list(row) for row in message.choices]
        await self._candidates.send_text(message.chat_id, message.text, choices)

    async def _post_card(self, message: outgoing.CardPost) -> None:
        post_id = message.review_post_id
        post = await self._uow.run_background(lambda s, _now: s.get_one(ReviewPost, post_id))
        if post.message_id is None:
            message_id = await self._reviews.post_card(post.channel, message.card)
            await self._uow.run_background(
                lambda s, _now: review.record_posted(s, post_id, message_id)
            )

    async def _update_card(self, message: outgoing.CardUpdate) -> None:
        channel, ts = await self._card(message.review_post_id)
        await self._reviews.update_card(channel, ts, message.card)

    async def _edit_in_thread(self, message: outgoing.ThreadEdit) -> None:
        channel, edited = await self._thread_message(message.thread_message_id)
        if edited is None:
            # Its post came earlier in this conversation and is done: it failed for good.
            raise DeliveryRefused("the thread message to edit was never posted")
        await self._reviews.edit_in_thread(channel, edited, message.note)

    async def _upload_to_thread(self, message: outgoing.ThreadUpload) -> None:
        channel, ts = await self._card(message.review_post_id)
        title = message.media_title or ""
        owner = message.thread_message_id
        if owner is not None:
            now = self._now()
            upload = await self._uow.run_background(
                lambda s, _now: threads.record_uploading(s, owner, now)
            )
            if upload is None:
                raise DeliveryRefused("the answer was erased before its recording was uploaded")
            if upload.file_id is not None:
                return  # uploaded and recorded by an earlier attempt
            if upload.tried_before and title:
                # An earlier attempt may have uploaded and died before recording it: look first.
                found = await self._reviews.find_file_in_thread(channel, ts, title)
                if found is not None:
                    await self._record_file(owner, found)
                    return
        # A local file for the upload: the store's own, or a private copy of the bucket's.
        try:
            async with local_copy(self._media, message.media_path) as media:
                file_id = await self._reviews.upload_to_thread(channel, ts, media, title)
        except MediaUnavailable as err:
            # The bucket is down, not the message wrong: it waits, like a platform outage.
            raise DeliveryDeferred(str(err)) from None
        if owner is not None:
            await self._record_file(owner, file_id)

    async def _record_file(self, owner: int, file_id: str) -> None:
        if not await self._uow.run_background(
            lambda s, _now: threads.record_file(s, owner, file_id)
        ):
            # The candidate's data was erased while this upload was in flight.
            await self._reviews.delete_file(file_id)

    async def _delete_file(self, message: outgoing.FileDelete) -> None:
        await self._reviews.delete_file(message.file_id)

    async def _clear_thread(self, message: outgoing.ThreadClear) -> None:
        channel, ts = await self._card(message.review_post_id)
        await self._reviews.clear_thread(channel, ts)

    async def _delete_shared_copy(self, message: outgoing.CopyDelete) -> None:
        await self._delete_copy(Posted(message.channel, message.message_id, message.file_id))

    async def _notify_user(self, message: outgoing.NotifyUser) -> None:
        text = message.text
        if message.thread_link is not None:
            link = await self._thread_link(message.thread_link.interview_id)
            if link:
                text += f"\n<{link}|{message.thread_link.label}>"
        posted = await self._reviews.notify_user(message.user, text)
        await self._keep_track(message.about, posted)

    async def _thread_link(self, interview_id: int) -> str | None:
        """The address of the interview's review thread; None when it has none any more."""
        post = await self._uow.run_background(
            lambda s, _now: threads.parent_if_any(s, interview_id)
        )
        if post is None:
            return None  # erased meanwhile
        if post.message_id is None:
            # The card is on its way (another conversation): link to it once it is there.
            raise DeliveryDeferred("the candidate's card is not posted yet")
        return await self._reviews.thread_link(post.channel, post.message_id)

    async def _tell_privately(self, message: outgoing.PrivateNote) -> None:
        await self._reviews.tell_privately(message.channel, message.user, message.text)

    async def _send_file_to_user(self, message: outgoing.UserFile) -> None:
        posted = await self._reviews.send_file_to_user(
            message.user, message.filename, message.title, message.content.encode()
        )
        await self._keep_track(message.about, posted)

    async def _send_email(self, message: outgoing.Email) -> None:
        calendar = None
        if message.invitation is not None:
            method = message.invitation.method
            calendar = ((await self._ics(message.invitation)).decode(), method.value)
        try:
            await self._mail.send_email(
                message.to, message.subject, message.text, message.html, calendar
            )
        except DeliveryRefused as err:
            if message.interview_id is not None:
                about, reason, whom = message.interview_id, str(err), message.to_whom
                said = err.said if isinstance(err, RecipientRefused) else None
                await self._uow.run_background(
                    lambda s, now: undelivered.email_refused(
                        s,
                        interview_id=about,
                        reason=reason,
                        server_said=said,
                        now=now,
                        to_whom=whom,
                    )
                )
            raise

    async def _send_document_to_candidate(self, message: outgoing.CandidateDocument) -> None:
        ics = await self._ics(message.invitation)
        await self._candidates.send_document(
            message.chat_id, message.filename, ics, message.caption
        )

    async def _send_intro_clip(self, message: outgoing.CandidateIntroClip) -> None:
        await send_intro_clip(self._uow, self._candidates, message.chat_id, message.clip_id)

    async def _share_invitation_in_thread(self, message: outgoing.ThreadInvitation) -> None:
        channel, ts = await self._card(message.review_post_id)
        ics = await self._ics(message.invitation)
        await self._reviews.share_in_thread(
            channel, ts, message.filename, message.title, ics, message.comment
        )

    async def _relay_to_candidate(self, message: outgoing.CandidateRelay) -> None:
        relay_id = message.relay_id
        found = await self._uow.run_background(lambda s, _now: relay.to_send(s, relay_id))
        if found is None:
            return  # erased, or sent by an earlier attempt
        chat_id, sending = found
        try:
            if sending.media_path is None:
                await self._candidates.send_text(chat_id, sending.text, [])
            else:
                async with local_copy(self._media, sending.media_path) as media:
                    clip = Clip(sending.kind.value, sending.duration_seconds)
                    await self._candidates.send_recording(chat_id, clip, media, sending.text)
        except MediaUnavailable as err:
            raise DeliveryDeferred(str(err)) from None
        except DeliveryRefused as err:
            reason = str(err)
            await self._uow.run_background(lambda s, now: relay.refused(s, relay_id, reason, now))
            raise
        await self._uow.run_background(lambda s, now: relay.delivered(s, relay_id, now))

    async def _sync_with_ats(self, message: outgoing.AtsSync) -> None:
        if self._ats is None:
            raise DeliveryRefused("this process has no ATS sync set up")
        await self._ats.deliver(message, self._thread_link)

    async def _ics(self, sent: Invitation) -> bytes:
        """Rendered now: DTSTAMP is this send's time (RFC 5546: the latest stamp wins), with
        each team member's name as Slack shows it today."""
        attendees: list[Person] = []
        for person in sent.meeting.attendees:
            name = await self._reviews.name_of(person.slack_user) if person.slack_user else None
            attendees.append(person.model_copy(update={"name": name}) if name else person)
        meeting = sent.meeting.model_copy(update={"attendees": tuple(attendees)})
        return invitation.render(meeting, sent.method, self._now(), self._organizer)

    async def _keep_track(self, about: Sequence[int], posted: Posted) -> None:
        """Record a DM or file that names candidates, so erasing one of them deletes it."""
        if not about:
            return
        now = self._now()
        kept = await self._uow.run_background(
            lambda s, _now: erasure.record_copy(s, about, posted, now)
        )
        if not kept:  # one of them was erased while this was on its way
            await self._delete_copy(posted)

    async def _delete_copy(self, posted: Posted) -> None:
        if posted.file_id:
            await self._reviews.delete_file(posted.file_id)
        if posted.message_id:
            await self._reviews.delete_message(posted.channel, posted.message_id)

    async def _post_in_thread(self, message: outgoing.ThreadPost) -> None:
        channel, ts = await self._card(message.review_post_id)
        note = message.note
        if message.thread_message_id is None:  # a note nobody edits later
            await self._reviews.post_in_thread(channel, ts, note)
            return
        message_id = message.thread_message_id
        existing = await self._uow.run_background(lambda s, _now: s.get(ThreadMessage, message_id))
        if existing is None:
            raise DeliveryRefused("the thread message was erased before it was posted")
        if existing.message_id is not None:
            return  # posted and recorded by an earlier attempt
        if existing.posting_since is not None and note.key:
            # An earlier attempt may have posted and died before recording it: look first.
            found = await self._reviews.find_in_thread(channel, ts, note.key)
            if found is not None:
                await self._uow.run_background(
                    lambda s, _now: threads.record_posted(s, message_id, found)
                )
                return
        now = self._now()
        await self._uow.run_background(lambda s, _now: threads.record_posting(s, message_id, now))
        reply = await self._reviews.post_in_thread(channel, ts, note)
        if not await self._uow.run_background(
            lambda s, _now: threads.record_posted(s, message_id, reply)
        ):
            # The candidate's data was erased while this post was in flight: redact it too.
            await self._reviews.edit_in_thread(
                channel, reply, ThreadNote(text=review.ERASED_ANSWER)
            )

    async def _thread_message(self, thread_message_id: int) -> tuple[str, str | None]:
        def load(session: Session, _now: datetime) -> tuple[str, str | None]:
            message = session.get(ThreadMessage, thread_message_id)
            if message is None:
                raise DeliveryRefused("the thread message was erased before it was posted")
            return threads.parent(session, message.interview_id).channel, message.message_id

        return await self._uow.run_background(load)

    async def _card(self, review_post_id: int) -> tuple[str, str]:
        """The channel and ``ts`` of the candidate's card, the parent of every reply."""
        post = await self._uow.run_background(lambda s, _now: s.get_one(ReviewPost, review_post_id))
        if post.message_id is None:
            # The card post comes first in this conversation and is done, so it failed for
            # good (reported then): a reply with no parent can never be posted.
            raise DeliveryRefused("the candidate's card was never posted")
        return post.channel, post.message_id


def retry_delay(attempts: int, retry_after: float | None) -> timedelta:
    """The platform's Retry-After as given; else doubling from 1 s, at most 5 minutes.

    Adding our own doubling to Slack's word would turn five 429s of 1 s into 31 s.
    """
    if retry_after is not None:
        return timedelta(seconds=retry_after)
    return backoff.doubling(
        attempts,
        first=DeliveryLimit.FIRST_BACKOFF_SECONDS,
        most=DeliveryLimit.MAX_BACKOFF_SECONDS,
    )
