"""The Lever adapter against the Lever emulator: the real aiohttp client, Lever's wire format,
and what the emulator holds afterwards."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session

from bot import doctor
from bot.config import Settings
from bot.flows import openings
from bot.integrations.ats import Forged, Person, RateLimited, Refused, Unavailable
from bot.integrations.lever import LeverClient
from bot.sandbox import lever as emulator
from bot.sandbox.lever import LeverSandbox
from bot.unit_of_work import opened
from storage import migrate

JANE = Person(email="Jane.Doe@example.org", name="Jane Doe")


@pytest.fixture
async def lever() -> AsyncIterator[LeverSandbox]:
    async with LeverSandbox() as sandbox:
        yield sandbox


def client(lever: LeverSandbox, key: str = emulator.API_KEY) -> LeverClient:
    return LeverClient(
        api_key=key,
        perform_as=emulator.USER,
        posting=emulator.POSTING,
        api_url=lever.api_url,
        webhook_token=emulator.SIGNATURE_TOKEN,
    )


async def test_a_new_candidate_is_created_on_the_posting_as_the_configured_user(
    lever: LeverSandbox,
) -> None:
    ats = client(lever)
    ref = await ats.find_or_create(JANE)
    await ats.close()
    created = lever.opportunity(ref)
    assert created.name == "Jane Doe" and created.emails == ["jane.doe@example.org"]
    assert created.postings == [emulator.POSTING] and created.stage == "lead-new"
    post = next(c for c in lever.calls if c.method == "POST")
    assert post.query["perform_as"] == emulator.USER


async def test_the_search_follows_next_to_the_opportunity_on_our_posting(
    lever: LeverSandbox,
) -> None:
    # 130 older opportunities of the same person on another posting: ours is on page 2.
    for _ in range(130):
        lever.add_opportunity("Jane Doe", "jane.doe@example.org", emulator.OTHER_POSTING)
    ours = lever.add_opportunity("Jane Doe", "jane.doe@example.org")
    ats = client(lever)
    assert await ats.find_or_create(JANE) == ours.id
    await ats.close()
    pages = [c for c in lever.calls if c.path == "/opportunities" and c.method == "GET"]
    assert len(pages) == 2 and "offset" not in pages[0].query and pages[1].query["offset"]
    assert len(lever.with_email("jane.doe@example.org")) == 131  # nothing created


async def test_an_archived_opportunity_is_not_reused(lever: LeverSandbox) -> None:
    old = lever.add_opportunity("Jane Doe", "jane.doe@example.org")
    old.archived = {"reason": "reason-withdrew", "archivedAt": 1}
    ats = client(lever)
    ref = await ats.find_or_create(JANE)
    await ats.close()
    assert ref != old.id and lever.opportunity(ref).contact == old.contact  # same contact


async def test_notes_tags_stage_and_archive_land_on_the_opportunity(lever: LeverSandbox) -> None:
    ref = lever.add_opportunity("Jane Doe", "jane.doe@example.org").id
    ats = client(lever)
    await ats.add_note(ref, "Async interview completed [hirebot:abc123]")
    await ats.add_tags(ref, ["async interview sent"])
    await ats.add_tags(ref, ["async interview sent", "async interview completed"])
    await ats.move_to_stage(ref, "stage-onsite")
    assert await ats.has_note(ref, "[hirebot:abc123]")
    assert not await ats.has_note(ref, "[hirebot:other]")
    await ats.reject(ref, "reason-underqualified")
    with pytest.raises(Refused, match="archive reason"):
        await ats.reject(ref, None)
    await ats.close()
    opportunity = lever.opportunity(ref)
    assert lever.notes(ref) == ["Async interview completed [hirebot:abc123]"]
    assert opportunity.tags == ["async interview sent", "async interview completed"]
    assert opportunity.stage == "stage-onsite"
    assert opportunity.archived is not None
    assert opportunity.archived["reason"] == "reason-underqualified"


async def test_a_429_says_when_to_come_back_and_the_call_succeeds_then(
    lever: LeverSandbox,
) -> None:
    ref = lever.add_opportunity("Jane Doe", "jane.doe@example.org").id
    ats = client(lever)
    lever.storm(rate=0.5)
    with pytest.raises(RateLimited) as limited:
        await ats.add_note(ref, "first")
    assert limited.value.retry_after == 1.0  # Lever sends no Retry-After: its refill time
    lever.calm()
    await ats.add_note(ref, "first")
    await ats.close()
    assert lever.notes(ref) == ["first"] and len(lever.refused(429)) == 1


async def test_an_outage_is_unavailable_and_a_bad_or_read_only_key_is_refused(
    lever: LeverSandbox,
) -> None:
    ref = lever.add_opportunity("Jane Doe", "jane.doe@example.org").id
    lever.outage = True
    ats = client(lever)
    with pytest.raises(Unavailable, match="503"):
        await ats.add_note(ref, "x")
    lever.outage = False
    await ats.close()
    for key, status in (("wrong-key", 401), (emulator.READ_ONLY_KEY, 403)):
        ats = client(lever, key)
        with pytest.raises(Refused) as refused:
            await ats.add_note(ref, "x")
        await ats.close()
        assert str(refused.value).startswith(f"Lever answered {status}")
    with pytest.raises(Refused, match="404 ResourceNotFound"):
        ats = client(lever)
        try:
            await ats.move_to_stage("opp-missing", "stage-onsite")
        finally:
            await ats.close()
    assert lever.notes(ref) == []


async def test_an_unreachable_lever_is_unavailable() -> None:
    async with LeverSandbox() as lever:
        url = lever.api_url
    ats = LeverClient(api_key=emulator.API_KEY, api_url=url)
    with pytest.raises(Unavailable, match="could not be reached"):
        await ats.add_tags("opp-1", ["x"])
    await ats.close()


async def test_a_signed_stage_change_is_read_and_a_forged_or_old_one_refused(
    lever: LeverSandbox,
) -> None:
    ats = client(lever)
    data = {"opportunityId": "opp-1", "toStageId": "stage-async", "fromStageId": "lead-new"}
    body = lever.signed("candidateStageChange", data)
    now = datetime.now(UTC)
    change = ats.stage_change({}, body, now)
    assert change is not None and change.ref == "opp-1" and change.stage == "stage-async"
    assert change.delivery_id == json.loads(body)["token"]

    forged = json.loads(body) | {"signature": "0" * 64}
    with pytest.raises(Forged, match="signature"):
        ats.stage_change({}, json.dumps(forged).encode(), now)
    # The data is not signed, only token + triggeredAt: but a changed data with the same
    # token is a replay of that token, refused as one by the route (handled once).
    with pytest.raises(Forged, match="replay"):
        ats.stage_change({}, body, now + timedelta(days=2))
    with pytest.raises(Forged):
        ats.stage_change({}, b"not json", now)
    other = ats.stage_change({}, lever.signed("candidateHired", data), now)
    assert other is None
    await ats.close()


async def test_filled_in_reads_the_person_and_posting_from_lever(lever: LeverSandbox) -> None:
    opportunity = lever.add_opportunity("Jane Doe", "jane.doe@example.org")
    ats = client(lever)
    data = {"opportunityId": opportunity.id, "toStageId": "stage-async"}
    change = ats.stage_change({}, lever.signed("candidateStageChange", data), datetime.now(UTC))
    assert change is not None
    filled = await ats.filled_in(change)
    await ats.close()
    assert filled.person == Person(email="jane.doe@example.org", name="Jane Doe")
    assert filled.job == emulator.POSTING


async def test_doctor_names_the_ids_lever_does_not_know(lever: LeverSandbox, tmp_path: Any) -> None:
    settings = Settings(data_dir=tmp_path, **lever.settings())
    migrate.upgrade(settings.db_url)
    good = {
        "kind": "lever",
        "job": emulator.POSTING,
        "invite_stage": "stage-async",
        "stages": {"Offer": "stage-offer"},
        "reject_reason": "reason-withdrew",
    }
    typo = {**good, "job": "posting-typo", "stages": {"Offer": "stage-ofer"}}
    specs = [
        openings.OpeningSpec.model_validate(
            {
                "slug": slug,
                "title": slug,
                "review_channel": "C0REVIEW01",
                "questions": [{"text": "Why?"}],
                "ats": ats,
            }
        )
        for slug, ats in (("good", good), ("typo", typo))
    ]

    def save_both(session: Session, now: datetime) -> None:
        for spec in specs:
            openings.save(session, spec, now)

    with opened(settings.db_url, settings.media_dir) as uow:
        uow.run_sync(save_both)
    checks = await doctor.ats_mappings(settings)
    assert [str(c) for c in checks] == [
        "OK   Opening good: Lever knows its job, stages and reason.",
        "FIX  Opening typo: Lever does not know stage stage-ofer, posting posting-typo: fix the "
        "opening's ats: block and import it again.",
    ]
    unset = Settings(data_dir=tmp_path, lever_api_url=lever.api_url)
    (first, _) = await doctor.ats_mappings(unset)
    assert not first.ok and "HIREBOT_LEVER_API_KEY is not set" in str(first)
