"""Signed webhooks through the outbox to a real receiver (aiohttp on 127.0.0.1): what it
receives and verifies, and what becomes of an event it refuses, answers slowly, or that
outlives its endpoint, its candidate or the bot process."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import cast

import pytest
from sqlmodel import col, select

from bot.address_policy import AddressPolicy, only_refused
from bot.delivery import Delivery
from bot.errors import DeliveryDeferred, InvalidRequest
from bot.flows import erasure, pipeline, review, webhooks
from bot.flows.ports import CandidateChannel, MailChannel, ReviewChannel, Transcript
from bot.flows.webhook_events import EVENTS
from bot.integrations.webhooks import WebhookPoster, WebhookSender
from bot.limits import WebhookLimit
from bot.sandbox.world import eventually, free_port
from bot.unit_of_work import UnitOfWork
from storage.db import Database, make_engine
from storage.media import MediaFolder
from storage.models import Answer, Interview, OutboxMessage, OutboxStatus, WebhookDelivery
from tests.helpers.flows import RECRUITER, FlowWorld, migrated_template
from tests.helpers.webhooks import Receiver, receiver, schema_errors

JANE_EMAIL = "jane.doe@example.org"


class NoChat:
    """Telegram, Slack and email: not part of these stories; anything for them waits."""

    def __getattr__(self, name: str) -> Callable[..., Awaitable[None]]:
        async def elsewhere(*args: object, **kwargs: object) -> None:
            raise DeliveryDeferred(f"{name} is not part of a webhook story")

        return elsewhere


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return migrated_template(tmp_path_factory.mktemp("webhooks"))


@pytest.fixture
def world(template: Path, tmp_path: Path) -> Iterator[FlowWorld]:
    flows = FlowWorld.from_template(template, tmp_path)
    yield flows
    flows.close()


def open_uow(world: FlowWorld, folder: Path) -> UnitOfWork:
    """The bot's view of the same database, on the world's clock (a fresh one = a restart)."""
    db = Database(make_engine(f"sqlite:///{folder / 'hirebot.db'}"))
    return UnitOfWork(db, MediaFolder(folder / "media"), now=lambda: world.now)


@pytest.fixture
def uow(world: FlowWorld, tmp_path: Path) -> Iterator[UnitOfWork]:
    unit = open_uow(world, tmp_path)
    yield unit
    unit.db.dispose()


def start_delivery(
    uow: UnitOfWork, timeout: float = 5.0, policy: AddressPolicy | None = None
) -> tuple[Delivery, asyncio.Task[None]]:
    """A delivery worker posting webhooks (nothing else goes out); ``policy``: which
    addresses it may post to, any local one by default (the receivers here listen on one)."""
    sender = WebhookSender(policy or AddressPolicy(allow_private=True), timeout=timeout)
    delivery = Delivery(
        uow,
        candidates=cast(CandidateChannel, NoChat()),
        reviews=cast(ReviewChannel, NoChat()),
        mail=cast(MailChannel, NoChat()),
        webhooks=WebhookPoster(uow, sender),
    )
    uow.committed = delivery.wake
    return delivery, asyncio.create_task(delivery.run_forever(poll_seconds=0.1))


async def stop(delivery: Delivery, task: asyncio.Task[None]) -> None:
    delivery.stop_after_this_pass()
    await asyncio.wait_for(task, timeout=30)


def subscribe(world: FlowWorld, hook: Receiver, events: tuple[str, ...] = EVENTS) -> int:
    added = world.run(
        lambda s, now: webhooks.add(s, url=hook.url, events=events, by=RECRUITER, now=now)
    )
    hook.secret = added.secret
    return added.endpoint_id


def log(world: FlowWorld) -> list[WebhookDelivery]:
    return world.read(
        lambda s: list(s.exec(select(WebhookDelivery).order_by(col(WebhookDelivery.id))).all())
    )


def hook_rows(world: FlowWorld) -> list[OutboxMessage]:
    return world.outbox("webhook")


async def attempts_reach(world: FlowWorld, count: int) -> WebhookDelivery:
    """The log row tried ``count`` times, once the outbox has settled that attempt too."""

    def settled() -> WebhookDelivery | None:
        row = next((r for r in log(world) if r.attempts >= count), None)
        if row is None or any(r.locked_until is not None for r in hook_rows(world)):
            return None
        return row

    return await eventually(settled, seconds=20, what=f"attempt {count}")


def retry_in(world: FlowWorld) -> timedelta:
    """How long until the pending webhook row is tried again."""
    (row,) = [r for r in hook_rows(world) if r.status == OutboxStatus.PENDING]
    return row.next_attempt_at - world.now


async def test_receiver_gets_every_event_signed_in_order_and_as_its_schema_says(
    world: FlowWorld, uow: UnitOfWork
) -> None:
    world.opening()
    async with receiver(free_port()) as hook:
        subscribe(world, hook)
        jane = world.invite(email=JANE_EMAIL, language="de")
        world.agree(jane)
        world.answer(jane, "I like payments.")
        first = world.read(lambda s: s.exec(select(Answer.id)).first())
        assert first is not None
        heard = Transcript(text="I like payments.", language="en", language_probability=0.9,
                           duration_seconds=3.0)  # fmt: skip
        world.run(lambda s, now: review.answer_transcribed(s, first, heard, None, now))
        world.answer(jane, "A ledger.")
        world.vote(jane.interview_id, "U0TOM", review.VoteChoice.YES)
        world.run(
            lambda s, now: pipeline.advance(s, who=f"#{jane.interview_id}", by=RECRUITER, now=now)
        )
        delivery, task = start_delivery(uow)
        await eventually(lambda: len(hook.accepted()) >= 6, what="six events delivered")
        await stop(delivery, task)

    bodies = hook.accepted()
    assert [b["type"] for b in bodies] == [
        "interview.invited",
        "interview.started",
        "answer.transcribed",
        "interview.completed",
        "review.voted",
        "decision.made",
    ]
    assert hook.forged == 0  # every signature checked out
    for body in bodies:
        assert schema_errors(body) == [], body["type"]
        assert body["data"]["interview_id"] == jane.interview_id
        assert body["data"]["opening"] == "backend-engineer"
    invited, started, transcribed, completed, voted, decided = bodies
    assert invited["data"]["candidate"] == {
        "name": "Jane Doe", "email": JANE_EMAIL, "language": "de"
    }  # fmt: skip
    assert invited["data"]["actor"] == RECRUITER
    assert started["data"]["actor"] == "candidate"
    assert (
        transcribed["data"] | {"actor": "hirebot", "question": 1, "language": "en"}
        == (transcribed["data"])
    )
    assert "I like payments" not in str(transcribed)  # the transcript stays here
    assert completed["data"]["answers"] == completed["data"]["questions"] == 2
    assert voted["data"]["choice"] == "yes" and voted["data"]["actor"] == "U0TOM"
    assert decided["data"] | {"decision": "advance", "stage": "Live interview"} == decided["data"]
    # Personal data only where documented: the invitation.
    assert all("Jane" not in str(b) for b in bodies[1:])
    headers = hook.got[0].headers
    assert headers["Hirebot-Event-Id"] == invited["id"]
    assert headers["Hirebot-Event"] == "interview.invited"
    assert headers["Content-Type"] == "application/json"
    assert len({b["id"] for b in bodies}) == len(bodies)
    assert [r.status for r in log(world)] == ["delivered"] * 6
    assert [r.last_status_code for r in log(world)] == [200] * 6


async def test_a_500_and_a_timeout_are_retried_with_backoff_then_delivered_once(
    world: FlowWorld, uow: UnitOfWork
) -> None:
    world.opening()
    async with receiver(free_port()) as hook:
        subscribe(world, hook, ("interview.invited",))
        hook.answers = [500, ("hang", 3)]
        world.invite()
        delivery, task = start_delivery(uow, timeout=0.5)
        first = await attempts_reach(world, 1)
        assert (first.status, first.last_status_code) == ("pending", 500)
        assert retry_in(world) == timedelta(seconds=WebhookLimit.FIRST_BACKOFF_SECONDS)
        world.advance(seconds=WebhookLimit.FIRST_BACKOFF_SECONDS)
        delivery.wake()
        second = await attempts_reach(world, 2)
        assert (second.last_status_code, second.last_error) == (None, "timeout")
        assert retry_in(world) == timedelta(seconds=2 * WebhookLimit.FIRST_BACKOFF_SECONDS)
        world.advance(seconds=2 * WebhookLimit.FIRST_BACKOFF_SECONDS)
        delivery.wake()
        third = await attempts_reach(world, 3)
        await stop(delivery, task)
    assert (third.status, third.last_status_code) == ("delivered", 200)
    # Three attempts of one event, each signed afresh, all with its one id: the receiver that
    # finished the timed-out request after hirebot gave up on it drops the copy by that id.
    assert len(hook.got) == 3
    assert len({d.headers["Hirebot-Event-Id"] for d in hook.got}) == 1
    assert len({d.headers["Hirebot-Signature"] for d in hook.got}) == 3
    assert hook.forged == 0


async def test_a_429_waits_exactly_its_retry_after(world: FlowWorld, uow: UnitOfWork) -> None:
    world.opening()
    async with receiver(free_port()) as hook:
        subscribe(world, hook, ("interview.invited",))
        hook.answers = [(429, "120")]
        world.invite()
        delivery, task = start_delivery(uow)
        await attempts_reach(world, 1)
        assert retry_in(world) == timedelta(seconds=120)
        world.advance(seconds=119)
        delivery.wake()
        await asyncio.sleep(0.5)
        assert len(hook.got) == 1  # not a second early
        world.advance(seconds=1)
        delivery.wake()
        done = await attempts_reach(world, 2)
        await stop(delivery, task)
    assert done.status == "delivered"


async def test_an_event_is_given_up_after_the_bound_and_the_next_one_goes_out(
    world: FlowWorld, uow: UnitOfWork
) -> None:
    world.opening()
    async with receiver(free_port()) as hook:
        subscribe(world, hook, ("interview.invited",))
        hook.answers = [503] * WebhookLimit.MAX_ATTEMPTS
        world.invite("Jane Doe")
        world.invite("John Roe")
        delivery, task = start_delivery(uow)
        for attempt in range(1, WebhookLimit.MAX_ATTEMPTS + 1):
            await attempts_reach(world, attempt)
            world.advance(seconds=WebhookLimit.MAX_BACKOFF_SECONDS)
            delivery.wake()
        await eventually(lambda: len(hook.accepted()) == 1, what="the second event")
        await stop(delivery, task)
    jane, john = log(world)
    assert (jane.status, jane.attempts, jane.last_status_code) == (
        "failed", WebhookLimit.MAX_ATTEMPTS, 503
    )  # fmt: skip
    assert john.status == "delivered"
    assert hook.accepted()[0]["data"]["candidate"]["name"] == "John Roe"  # in order, after


async def test_an_endpoint_removed_mid_retry_gets_nothing_more(
    world: FlowWorld, uow: UnitOfWork
) -> None:
    world.opening()
    async with receiver(free_port()) as hook:
        endpoint = subscribe(world, hook, ("interview.invited",))
        hook.answers = [500]
        world.invite()
        delivery, task = start_delivery(uow)
        await attempts_reach(world, 1)
        world.run(lambda s, now: webhooks.remove(s, endpoint, by=RECRUITER, now=now))
        world.advance(hours=2)
        world.invite("John Roe")
        delivery.wake()
        await asyncio.sleep(1)
        await stop(delivery, task)
    assert len(hook.got) == 1
    assert hook_rows(world) == [] and log(world) == []


async def test_delivery_survives_a_restart(
    world: FlowWorld, uow: UnitOfWork, tmp_path: Path
) -> None:
    """An event committed while the bot was down, or failing when it stopped, goes out once
    the next process runs: it is an outbox row like any message."""
    world.opening()
    async with receiver(free_port()) as hook:
        subscribe(world, hook, ("interview.invited",))
        hook.answers = [502]
        world.invite()
        delivery, task = start_delivery(uow)
        await attempts_reach(world, 1)
        await stop(delivery, task)  # the process goes away mid-retry
        uow.db.dispose()
        world.invite("John Roe")  # while nothing runs
        world.advance(minutes=5)
        again = open_uow(world, tmp_path)
        delivery, task = start_delivery(again)
        await eventually(lambda: len(hook.accepted()) == 2, what="both events")
        await stop(delivery, task)
        again.db.dispose()
    names = [b["data"]["candidate"]["name"] for b in hook.accepted()]
    assert names == ["Jane Doe", "John Roe"]
    assert [r.status for r in log(world)] == ["delivered", "delivered"]


async def test_erasure_drops_the_candidates_undelivered_events_and_says_erased(
    world: FlowWorld, uow: UnitOfWork
) -> None:
    world.opening()
    async with receiver(free_port()) as hook:
        subscribe(world, hook)
        jane = world.invite(email=JANE_EMAIL)
        world.agree(jane)
        # Nothing was delivered yet (the receiver was down, say) when Jane asks for erasure.
        world.run(
            lambda s, now: erasure.erase_person(
                s, s.get_one(Interview, jane.interview_id), by="the candidate", now=now
            )
        )
        stored = [r.payload for r in hook_rows(world)]
        assert all(JANE_EMAIL not in str(p) and "Jane" not in str(p) for p in stored)
        assert [p["event_type"] for p in stored] == ["candidate.erased"]
        delivery, task = start_delivery(uow)
        await eventually(lambda: hook.accepted(), what="the erasure event")
        await asyncio.sleep(0.3)
        await stop(delivery, task)
    (erased,) = hook.accepted()
    assert erased["type"] == "candidate.erased"
    assert erased["data"]["interview_id"] == jane.interview_id
    assert schema_errors(erased) == []
    assert [(r.event_type, r.status) for r in log(world)] == [
        ("interview.invited", "dropped"),
        ("interview.started", "dropped"),
        ("candidate.erased", "delivered"),
    ]


async def test_private_and_metadata_addresses_are_refused(
    world: FlowWorld, uow: UnitOfWork
) -> None:
    public = AddressPolicy()
    for url in (
        "https://127.0.0.1/hook",
        "https://10.0.0.8/hook",
        "https://[::1]/hook",
        "http://hooks.example.com/hook",  # plain HTTP: bodies carry names
        "https://user:pw@hooks.example.com/hook",
        "ftp://hooks.example.com/hook",
    ):
        with pytest.raises(InvalidRequest):
            webhooks.checked_url(url, public)
    lenient = AddressPolicy(allow_private=True)
    assert webhooks.checked_url("http://127.0.0.1:8080/h", lenient) == "http://127.0.0.1:8080/h"
    with pytest.raises(InvalidRequest):
        webhooks.checked_url("http://169.254.169.254/latest/meta-data", lenient)
    assert webhooks.checked_url("https://hooks.zapier.com/hooks/catch/1/a/", public)
    linked = "<https://hooks.zapier.com/hooks/catch/1/a/?x=1&y=2|hooks.zapier.com/hooks/catch/1/a/>"
    assert (
        webhooks.checked_url(linked, public) == "https://hooks.zapier.com/hooks/catch/1/a/?x=1&y=2"
    )
    # A name is looked up when added, for a quick answer (and checked again at each send).
    assert await only_refused("localhost", public)
    assert not await only_refused("localhost", lenient)
    assert not await only_refused("no-such-host.invalid", public)  # decided when sending

    # A name that resolves to loopback is refused when sending, not only when added.
    world.opening()
    async with receiver(free_port()) as hook:
        hook.url = hook.url.replace("127.0.0.1", "localhost")
        subscribe(world, hook, ("interview.invited",))
        world.invite()
        delivery, task = start_delivery(uow, timeout=2, policy=public)
        refused = await attempts_reach(world, 1)
        await stop(delivery, task)
    assert hook.got == []
    assert refused.last_error == "refused: a private or local address"
