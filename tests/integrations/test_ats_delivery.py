"""Delivering ATS steps (bot.integrations.sync) against the Lever emulator, on SQLite and
PostgreSQL: what reaches Lever, what is retried, and what the candidate's thread is told."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest
from pydantic import SecretStr
from sqlmodel import Session, col, select

from bot.config import Settings
from bot.errors import DeliveryDeferred, DeliveryRefused
from bot.flows import erasure, interview, openings, outgoing
from bot.integrations.sync import AtsDelivery
from bot.sandbox import lever as emulator
from bot.sandbox.lever import LeverSandbox
from bot.unit_of_work import UnitOfWork
from storage.models import AtsLink, Interview, OutboxMessage

JANE = "jane.doe@example.org"
OPENING: dict[str, Any] = {
    "slug": "backend-engineer",
    "title": "Backend Engineer",
    "review_channel": "C0REVIEW01",
    "questions": [{"text": "Why this role?"}],
    "ats": {"kind": "lever", "job": emulator.POSTING, "reject_reason": "reason-withdrew"},
}


@pytest.fixture
async def lever() -> AsyncIterator[LeverSandbox]:
    async with LeverSandbox() as sandbox:
        yield sandbox


def invited(uow: UnitOfWork) -> int:
    spec = openings.OpeningSpec.model_validate(OPENING)
    uow.run_sync(lambda s, now: openings.save(s, spec, now))
    invitation = uow.run_sync(
        lambda s, now: interview.invite(
            s,
            opening_slug="backend-engineer",
            candidate_name="Jane Doe",
            invited_by="U0RITA",
            now=now,
            email=JANE,
        )
    )
    return invitation.interview_id


def step(uow: UnitOfWork) -> outgoing.AtsSync:
    def read(session: Session, _now: datetime) -> outgoing.AtsSync:
        row = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "ats.sync")).one()
        message = outgoing.read(row.kind, row.ordering_key, row.payload)
        assert isinstance(message, outgoing.AtsSync)
        return message

    return uow.run_sync(read)


def thread_notes(uow: UnitOfWork) -> list[str]:
    rows = uow.run_sync(
        lambda s, _now: s.exec(
            select(OutboxMessage)
            .where(OutboxMessage.kind == "review.thread.post")
            .order_by(col(OutboxMessage.id))
        ).all()
    )
    return [str(r.payload["text"]) for r in rows]


async def no_link(_interview_id: int) -> str | None:
    return None


async def test_an_outage_is_retried_then_given_up_and_told_in_the_thread(
    uow: UnitOfWork, lever: LeverSandbox
) -> None:
    interview_id = invited(uow)
    ats = AtsDelivery(uow, Settings(**lever.settings()), max_failures=2)
    lever.outage = True
    with pytest.raises(DeliveryDeferred):
        await ats.deliver(step(uow), no_link)
    assert thread_notes(uow) == []
    with pytest.raises(DeliveryRefused):
        await ats.deliver(step(uow), no_link)
    assert thread_notes(uow)[-1].startswith(
        "⚠️ Lever did not take the invitation (finding the candidate and tagging them): it "
        "failed 2 times in a row: Lever answered 503."
    )
    # Lever is back: the next attempt of a later step starts afresh and gets through.
    lever.outage = False
    await ats.deliver(step(uow), no_link)
    (jane,) = lever.with_email(JANE)
    assert jane.tags == ["async interview sent"]
    link = uow.run_sync(lambda s, _now: s.get_one(AtsLink, interview_id))
    assert link.ref == jane.id and link.failures == 0


async def test_lever_not_set_up_is_told_in_the_thread_at_once(
    uow: UnitOfWork, lever: LeverSandbox
) -> None:
    invited(uow)
    settings = Settings(**{**lever.settings(), "lever_api_key": SecretStr("")})
    with pytest.raises(DeliveryRefused):
        await AtsDelivery(uow, settings).deliver(step(uow), no_link)
    assert thread_notes(uow)[-1].startswith(
        "⚠️ Lever did not take the invitation (finding the candidate and tagging them): "
        "hirebot is not set up for it (HIREBOT_LEVER_API_KEY is not set. To get it: Lever → "
        "Settings → Integrations and API → API Credentials"
    )
    assert lever.calls == []


async def test_a_step_of_an_erased_candidate_says_nothing_to_lever(
    uow: UnitOfWork, lever: LeverSandbox
) -> None:
    interview_id = invited(uow)
    message = step(uow)
    uow.run_sync(
        lambda s, now: erasure.erase_person(
            s, s.get_one(Interview, interview_id), by="the candidate", now=now
        )
    )
    await AtsDelivery(uow, Settings(**lever.settings())).deliver(message, no_link)
    assert lever.calls == []
