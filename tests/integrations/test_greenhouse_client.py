"""The Greenhouse adapter against the Harvest emulator: what Greenhouse ends up holding, and
how each documented failure (401, 422, 429, 5xx, a missing On-Behalf-Of) reaches the sync
flow as Refused, RateLimited or Unavailable."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from pydantic import SecretStr

from bot.config import Settings
from bot.errors import ConfigError
from bot.integrations.ats import Person, RateLimited, Refused, Unavailable
from bot.integrations.greenhouse import GreenhouseAccount, GreenhouseClient
from bot.sandbox.greenhouse import GreenhouseSandbox
from bot.sandbox.world import free_port
from tests.helpers.greenhouse import client_for

JANE = Person(email="jane.doe@example.com", name="Jane Doe")


@pytest.fixture
async def gh() -> AsyncIterator[GreenhouseSandbox]:
    async with GreenhouseSandbox() as sandbox:
        yield sandbox


@pytest.fixture
async def client(gh: GreenhouseSandbox) -> AsyncIterator[GreenhouseClient]:
    client = client_for(gh)
    yield client
    await client.close()


def _ids(ref: str) -> tuple[int, int]:
    candidate, application = ref.split(":")
    return int(candidate), int(application)


async def test_new_candidate_is_created_with_an_application_in_the_first_stage(
    gh: GreenhouseSandbox, client: GreenhouseClient
) -> None:
    ref = await client.find_or_create(JANE)

    candidate_id, application_id = _ids(ref)
    (candidate,) = gh.candidates_with_email(JANE.email)
    assert candidate.id == candidate_id
    assert (candidate.first_name, candidate.last_name) == ("Jane", "Doe")
    application = gh.application(application_id)
    assert application.job_id == gh.job_id
    assert gh.stage_name(application.stage_id) == "Application Review"
    (create,) = gh.writes("/v1/candidates")
    assert create.on_behalf_of == str(gh.user_id)
    # Found again, not created twice: a retried invitation keeps one record.
    assert await client.find_or_create(JANE) == ref
    assert len(gh.candidates) == 1


async def test_a_truncated_create_answer_still_gives_the_application(
    gh: GreenhouseSandbox, client: GreenhouseClient
) -> None:
    gh.truncate_creates = True
    candidate_id, application_id = _ids(await client.find_or_create(JANE))
    assert gh.application(application_id).candidate_id == candidate_id


async def test_existing_candidate_without_an_application_on_the_job_gets_one(
    gh: GreenhouseSandbox, client: GreenhouseClient
) -> None:
    known = gh.add_candidate("Jane", "Doe", "Jane.Doe@Example.com", job_id=gh.other_job_id)

    ref = await client.find_or_create(JANE)

    candidate_id, application_id = _ids(ref)
    assert candidate_id == known.id
    assert gh.application(application_id).job_id == gh.job_id
    assert len(gh.candidates) == 1
    assert [r.path for r in gh.writes()] == [f"/v1/candidates/{known.id}/applications"]


async def test_search_follows_the_link_header_across_pages(gh: GreenhouseSandbox) -> None:
    # Duplicate records share the address (an import, a second job board); only the fifth
    # has applied to our job, and it is on the third page of two.
    for n in range(4):
        gh.add_candidate("Jane", f"Doe{n}", JANE.email, job_id=gh.other_job_id)
    wanted = gh.add_candidate("Jane", "Doe", JANE.email, job_id=gh.job_id)
    gh.add_candidate("John", "Roe", "john@example.com", job_id=gh.job_id)
    client = client_for(gh, page_size=2)
    try:
        ref = await client.find_or_create(JANE)
    finally:
        await client.close()

    assert _ids(ref)[0] == wanted.id
    searches = [r for r in gh.requests if r.path == "/v1/candidates" and r.method == "GET"]
    assert [r.query.get("page", "1") for r in searches] == ["1", "2", "3"]
    assert all(r.query["email"] == JANE.email and r.query["per_page"] == "2" for r in searches)
    assert gh.writes() == []


async def test_a_note_is_private_by_default_and_found_again_by_its_marker(
    gh: GreenhouseSandbox, client: GreenhouseClient
) -> None:
    ref = await client.find_or_create(JANE)
    candidate_id, _ = _ids(ref)
    text = "Async interview completed: 3 answers, 4 min 10 s.\n(hirebot 1a2b3c)"
    assert not await client.has_note(ref, "(hirebot 1a2b3c)")

    await client.add_note(ref, text)

    (note,) = gh.notes(candidate_id)
    assert (note.visibility, note.user_id, note.body) == ("private", gh.user_id, text)
    (post,) = gh.writes("/activity_feed/notes")
    assert post.body == {"user_id": gh.user_id, "body": text, "visibility": "private"}
    assert post.on_behalf_of == str(gh.user_id)
    assert await client.has_note(ref, "(hirebot 1a2b3c)")
    assert not await client.has_note(ref, "(hirebot ffffff)")


async def test_note_visibility_is_configurable(gh: GreenhouseSandbox) -> None:
    client = client_for(gh, note_visibility="admin_only")
    try:
        ref = await client.find_or_create(JANE)
        await client.add_note(ref, "Only admins see this")
    finally:
        await client.close()
    assert [n.visibility for n in gh.notes(_ids(ref)[0])] == ["admin_only"]


async def test_tags_are_created_when_missing_and_reused_by_name(
    gh: GreenhouseSandbox, client: GreenhouseClient
) -> None:
    gh.tag_names[999] = "ASYNC INTERVIEW SENT"  # made by hand in Greenhouse, other case
    ref = await client.find_or_create(JANE)

    await client.add_tags(ref, ["async interview sent", "async interview completed"])
    await client.add_tags(ref, ["async interview completed"])

    assert gh.tags(_ids(ref)[0]) == ["ASYNC INTERVIEW SENT", "async interview completed"]
    assert sorted(gh.tag_names.values()) == ["ASYNC INTERVIEW SENT", "async interview completed"]


async def test_move_goes_from_the_current_stage_and_a_repeat_changes_nothing(
    gh: GreenhouseSandbox, client: GreenhouseClient
) -> None:
    ref = await client.find_or_create(JANE)
    _, application_id = _ids(ref)
    onsite = gh.stage_id("Onsite")

    await client.move_to_stage(ref, str(onsite))
    await client.move_to_stage(ref, str(onsite))

    assert gh.application(application_id).stage_id == onsite
    (move,) = gh.writes("/move")
    assert move.body == {"from_stage_id": gh.stage_id("Application Review"), "to_stage_id": onsite}


async def test_reject_with_a_reason_then_a_move_is_refused_with_greenhouses_state_error(
    gh: GreenhouseSandbox, client: GreenhouseClient
) -> None:
    ref = await client.find_or_create(JANE)
    _, application_id = _ids(ref)

    await client.reject(ref, "5001")
    await client.reject(ref, "5001")  # a retry: already rejected, left alone

    application = gh.application(application_id)
    assert (application.status, application.rejection_reason_id) == ("rejected", 5001)
    assert len(gh.writes("/reject")) == 1
    with pytest.raises(Refused) as refused:
        await client.move_to_stage(ref, str(gh.stage_id("Onsite")))
    assert "is currently 'rejected'" in str(refused.value)


async def test_429_carries_retry_after_and_the_call_then_succeeds(
    gh: GreenhouseSandbox, client: GreenhouseClient
) -> None:
    ref = await client.find_or_create(JANE)
    gh.rate_limit, gh.rate_window = 1, 1.0
    await asyncio.sleep(1.05)  # a fresh window, of one request

    await client.has_note(ref, "storm")  # the window's one request
    with pytest.raises(RateLimited) as limited:
        await client.add_note(ref, "after the storm")
    assert 1 <= limited.value.retry_after <= 1
    assert gh.notes(_ids(ref)[0]) == []
    refused = [r for r in gh.requests if r.status == 429]
    assert refused

    await asyncio.sleep(limited.value.retry_after)
    gh.rate_limit = 50
    await client.add_note(ref, "after the storm")
    assert [n.body for n in gh.notes(_ids(ref)[0])] == ["after the storm"]


async def test_rate_limit_headers_come_on_every_answer(gh: GreenhouseSandbox) -> None:
    auth = base64.b64encode(f"{gh.api_key}:".encode()).decode()
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{gh.api_url}candidates", headers={"Authorization": f"Basic {auth}"}) as r,
    ):
        assert r.status == 200
        assert r.headers["X-RateLimit-Limit"] == "50"
        assert int(r.headers["X-RateLimit-Remaining"]) < 50


async def test_an_outage_is_unavailable_and_loses_nothing(
    gh: GreenhouseSandbox, client: GreenhouseClient
) -> None:
    ref = await client.find_or_create(JANE)
    gh.outage = 503

    with pytest.raises(Unavailable) as down:
        await client.add_note(ref, "the note")
    assert "503" in str(down.value)

    gh.outage = None
    await client.add_note(ref, "the note")
    assert [n.body for n in gh.notes(_ids(ref)[0])] == ["the note"]


async def test_unreachable_greenhouse_is_unavailable(gh: GreenhouseSandbox) -> None:
    client = client_for(gh, api_url=f"http://127.0.0.1:{free_port()}/v1/")
    try:
        with pytest.raises(Unavailable, match="could not be reached"):
            await client.find_or_create(JANE)
    finally:
        await client.close()


async def test_a_wrong_key_is_refused_naming_the_setting_not_the_key(
    gh: GreenhouseSandbox,
) -> None:
    client = client_for(gh, api_key="not-the-key")
    try:
        with pytest.raises(Refused) as refused:
            await client.find_or_create(JANE)
    finally:
        await client.close()
    message = str(refused.value)
    assert "401" in message and "HIREBOT_GREENHOUSE_API_KEY" in message
    assert "not-the-key" not in message and JANE.email not in message
    assert gh.candidates == {}


async def test_a_422_names_greenhouses_message_and_the_field(
    gh: GreenhouseSandbox, client: GreenhouseClient
) -> None:
    ref = await client.find_or_create(JANE)
    bad = client_for(gh, note_visibility="everyone")
    try:
        with pytest.raises(Refused) as refused:
            await bad.add_note(ref, "x")
    finally:
        await bad.close()
    assert "Validation error" in str(refused.value) and "field visibility" in str(refused.value)
    assert gh.notes(_ids(ref)[0]) == []


async def test_writes_without_a_valid_on_behalf_of_are_refused(gh: GreenhouseSandbox) -> None:
    auth = {"Authorization": "Basic " + base64.b64encode(f"{gh.api_key}:".encode()).decode()}
    body = {
        "first_name": "Jane",
        "last_name": "Doe",
        "applications": [{"job_id": gh.job_id}],
    }
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{gh.api_url}candidates", json=body, headers=auth) as response,
    ):
        assert response.status == 422
        answer = await response.json()
    assert answer["errors"][0]["field"] == "On-Behalf-Of"
    assert gh.candidates == {}

    stranger = client_for(gh, user_id=1)  # not a Greenhouse user
    try:
        with pytest.raises(Refused, match="On-Behalf-Of"):
            await stranger.find_or_create(JANE)
    finally:
        await stranger.close()
    assert gh.candidates == {}


async def test_pagination_links_are_the_servers_own(gh: GreenhouseSandbox) -> None:
    for n in range(3):
        gh.add_candidate("Jane", f"Doe{n}", JANE.email)
    auth = {"Authorization": "Basic " + base64.b64encode(f"{gh.api_key}:".encode()).decode()}
    url = f"{gh.api_url}candidates?email={JANE.email}&per_page=1&page=2"
    async with aiohttp.ClientSession() as http, http.get(url, headers=auth) as r:
        links = {rel: str(link["url"]) for rel, link in r.links.items()}
    assert set(links) == {"next", "prev", "last"}
    assert parse_qs(urlsplit(links["last"]).query)["page"] == ["3"]
    skipping = url + "&skip_count=true"
    async with aiohttp.ClientSession() as http, http.get(skipping, headers=auth) as r:
        assert set(r.links) == {"next", "prev"}


def test_settings_name_what_is_missing() -> None:
    assert GreenhouseAccount.from_settings(Settings()) is None
    with pytest.raises(ConfigError, match="HIREBOT_GREENHOUSE_USER_ID"):
        GreenhouseAccount.from_settings(
            Settings(greenhouse_api_key=SecretStr("k"), greenhouse_webhook_secret=SecretStr("s"))
        )
    with pytest.raises(ConfigError, match="HIREBOT_GREENHOUSE_WEBHOOK_SECRET"):
        GreenhouseAccount.from_settings(
            Settings(greenhouse_api_key=SecretStr("k"), greenhouse_user_id="4001")
        )
    account = GreenhouseAccount.from_settings(
        Settings(
            greenhouse_api_key=SecretStr("the-key"),
            greenhouse_user_id="4001",
            greenhouse_webhook_secret=SecretStr("the-secret"),
        )
    )
    assert account is not None and account.note_visibility == "private"
    with pytest.raises(ConfigError, match="ending in /v1/"):
        GreenhouseAccount.from_settings(
            Settings(
                greenhouse_api_key=SecretStr("the-key"),
                greenhouse_user_id="4001",
                greenhouse_webhook_secret=SecretStr("the-secret"),
                greenhouse_api_url="https://harvest.greenhouse.io",
            )
        )
    assert "the-key" not in repr(account) and "the-secret" not in repr(account)


async def test_a_next_page_on_another_host_is_not_followed_with_the_key(
    gh: GreenhouseSandbox,
) -> None:
    # Configured as localhost, Greenhouse's links name 127.0.0.1: another origin, so the
    # second page is refused rather than sent the key.
    for n in range(3):
        gh.add_candidate("Jane", f"Doe{n}", JANE.email)
    client = client_for(gh, page_size=2, api_url=gh.api_url.replace("127.0.0.1", "localhost"))
    try:
        with pytest.raises(Unavailable, match="another host"):
            await client.find_or_create(JANE)
    finally:
        await client.close()
    assert len([r for r in gh.requests if r.path == "/v1/candidates"]) == 1
