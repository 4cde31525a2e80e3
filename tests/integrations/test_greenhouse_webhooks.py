"""Greenhouse's webhooks as the emulator sends them (signed raw body, Greenhouse-Event-ID,
the retry schedule on anything but 200) read by the adapter: a good one becomes a
StageChange, a forged or replayed one is refused, and a retry is recognisably the same
delivery whether or not Greenhouse keeps its event id."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import web

from bot.integrations.ats import Forged, StageChange
from bot.integrations.greenhouse import GreenhouseClient
from bot.sandbox.greenhouse import WEBHOOK_SECRET, GreenhouseSandbox, ruby_json, signature
from bot.sandbox.world import free_port
from tests.helpers.greenhouse import client_for


@dataclass
class Receiver:
    """A stand-in for hirebot's inbound route: verify with the adapter, 200 or 401."""

    client: GreenhouseClient
    changes: list[StageChange | None] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        try:
            change = self.client.stage_change(request.headers, await request.read(), _now())
        except Forged as forged:
            self.refused.append(str(forged))
            return web.Response(status=401)
        self.changes.append(change)
        return web.Response(status=200)


def _now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
async def gh() -> AsyncIterator[GreenhouseSandbox]:
    async with GreenhouseSandbox() as sandbox:
        sandbox.retry_delays = (0.01,) * 6  # the documented 1 min … 8 h, compressed
        yield sandbox


@pytest.fixture
async def receiver(gh: GreenhouseSandbox) -> AsyncIterator[Receiver]:
    client = client_for(gh)
    receiver = Receiver(client)
    app = web.Application()
    app.router.add_post("/ats/greenhouse", receiver.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    receiver.url = f"http://127.0.0.1:{port}/ats/greenhouse"
    gh.subscribe(receiver.url, WEBHOOK_SECRET)
    yield receiver
    await runner.cleanup()
    await client.close()


async def test_a_stage_change_in_greenhouse_reaches_us_verified(
    gh: GreenhouseSandbox, receiver: Receiver
) -> None:
    # Unicode and markup in a name: Greenhouse escapes them (\u003c …) before signing, so
    # only the raw bytes verify.
    jane = gh.add_candidate("Jäne <b>", "Doe & Co", "jane.doe@example.com", job_id=gh.job_id)
    (application_id,) = jane.application_ids

    gh.move_in_greenhouse(application_id, "Async Interview")
    await gh.settled()

    (attempt,) = gh.webhook_attempts("candidate_stage_change")
    assert attempt.status == 200 and b"\\u003cb\\u003e" in attempt.body
    (change,) = receiver.changes
    assert change is not None
    assert change.ref == f"{jane.id}:{application_id}"
    assert change.stage == str(gh.stage_id("Async Interview"))
    assert change.job == str(gh.job_id)
    assert change.person is not None and change.person.email == "jane.doe@example.com"
    assert change.person.name == "Jäne <b> Doe & Co"
    assert change.delivery_id.startswith("sha256:")


async def test_other_events_are_verified_and_ignored(
    gh: GreenhouseSandbox, receiver: Receiver
) -> None:
    jane = gh.add_candidate("Jane", "Doe", "jane.doe@example.com", job_id=gh.job_id)
    client = client_for(gh)
    try:
        await client.reject(f"{jane.id}:{jane.application_ids[0]}", None)
    finally:
        await client.close()
    await gh.settled()

    assert [a.action for a in gh.webhook_attempts()] == ["reject_candidate"]
    assert receiver.changes == [None] and receiver.refused == []


async def test_a_forged_delivery_is_refused_and_greenhouse_retries_it(
    gh: GreenhouseSandbox, receiver: Receiver
) -> None:
    jane = gh.add_candidate("Jane", "Doe", "jane.doe@example.com", job_id=gh.job_id)
    gh.subscribe(receiver.url, "not-our-secret")

    gh.move_in_greenhouse(jane.application_ids[0], "Async Interview")
    await gh.settled()

    attempts = gh.webhook_attempts()
    assert [a.attempt for a in attempts] == [1, 2, 3, 4, 5, 6, 7]  # 1 + 6 documented retries
    assert {a.status for a in attempts} == {401}
    assert len({a.event_id for a in attempts}) == 1
    assert receiver.changes == [] and len(receiver.refused) == 7
    assert "signature" in receiver.refused[0]


def test_missing_or_wrong_signatures_are_forged(gh: GreenhouseSandbox) -> None:
    client = client_for(gh)
    body = _stage_change_body(gh, _now())
    good = signature(WEBHOOK_SECRET, body)
    assert client.stage_change({"Signature": good}, body, _now()) is not None
    assert client.stage_change({"signature": good}, body, _now()) is not None  # any case
    for headers in (
        {},
        {"Signature": ""},
        {"Signature": good.replace("sha256", "sha1")},
        {"Signature": good[:-2]},
        {"Signature": signature("wrong", body)},
    ):
        with pytest.raises(Forged):
            client.stage_change(headers, body, _now())
    # The body is what is signed: a re-serialised or altered body does not verify.
    altered = json.dumps(json.loads(body)).encode()
    with pytest.raises(Forged):
        client.stage_change({"Signature": good}, altered, _now())


async def test_a_retry_is_the_same_delivery_even_with_a_new_event_id(
    gh: GreenhouseSandbox, receiver: Receiver
) -> None:
    jane = gh.add_candidate("Jane", "Doe", "jane.doe@example.com", job_id=gh.job_id)
    gh.new_event_id_per_attempt = True
    answers = iter([500, 500, 200])

    async def flaky(request: web.Request) -> web.Response:
        status = next(answers)
        await receiver.handle(request)
        return web.Response(status=status)

    app = web.Application()
    app.router.add_post("/", flaky)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    gh.subscribe(f"http://127.0.0.1:{port}/", WEBHOOK_SECRET)
    try:
        gh.move_in_greenhouse(jane.application_ids[0], "Async Interview")
        await gh.settled()
    finally:
        await runner.cleanup()

    attempts = gh.webhook_attempts()
    assert [a.status for a in attempts] == [500, 500, 200]
    assert len({a.event_id for a in attempts}) == 3
    ids = {c.delivery_id for c in receiver.changes if c is not None}
    assert len(receiver.changes) == 3 and len(ids) == 1  # the sync flow handles it once


def test_a_replay_with_another_event_id_is_the_same_delivery(gh: GreenhouseSandbox) -> None:
    client = client_for(gh)
    body = _stage_change_body(gh, _now())
    headers = {"Signature": signature(WEBHOOK_SECRET, body)}
    first = client.stage_change({**headers, "Greenhouse-Event-ID": "a"}, body, _now())
    replay = client.stage_change({**headers, "Greenhouse-Event-ID": "b"}, body, _now())
    assert first is not None and replay is not None
    assert first.delivery_id == replay.delivery_id


def test_a_replay_older_than_any_retry_is_refused(gh: GreenhouseSandbox) -> None:
    client = client_for(gh)
    sent = _now() - timedelta(hours=30)  # Greenhouse stops retrying after about 15 h
    body = _stage_change_body(gh, sent)
    headers = {"Signature": signature(WEBHOOK_SECRET, body)}

    assert client.stage_change(headers, body, sent + timedelta(hours=15)) is not None
    with pytest.raises(Forged, match="replay"):
        client.stage_change(headers, body, _now())


def _stage_change_body(gh: GreenhouseSandbox, last_activity: datetime) -> bytes:
    """A candidate_stage_change as Greenhouse would have signed it at ``last_activity``."""
    stage = gh.stage_id("Async Interview")
    return ruby_json(
        {
            "action": "candidate_stage_change",
            "payload": {
                "application": {
                    "id": 77,
                    "status": "active",
                    "last_activity_at": last_activity.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "current_stage": {"id": stage, "name": "Async Interview"},
                    "candidate": {
                        "id": 66,
                        "first_name": "Jane",
                        "last_name": "Doe",
                        "email_addresses": [{"value": "jane.doe@example.com", "type": "work"}],
                    },
                    "jobs": [{"id": gh.job_id, "name": "Backend Engineer"}],
                }
            },
        }
    )


async def test_a_payload_without_the_person_is_filled_in_from_harvest(
    gh: GreenhouseSandbox,
) -> None:
    jane = gh.add_candidate("Jane", "Doe", "jane.doe@example.com", job_id=gh.job_id)
    body = _stage_change_body(gh, _now())
    event = json.loads(body)
    application = event["payload"]["application"]
    application["id"], application["jobs"] = jane.application_ids[0], []
    application["candidate"] = {"id": jane.id, "email_addresses": []}
    body = ruby_json(event)
    client = client_for(gh)
    try:
        change = client.stage_change({"Signature": signature(WEBHOOK_SECRET, body)}, body, _now())
        assert change is not None and change.person is None and change.job is None
        filled = await client.filled_in(change)
    finally:
        await client.close()
    assert filled.person is not None and filled.person.email == "jane.doe@example.com"
    assert filled.person.name == "Jane Doe" and filled.job == str(gh.job_id)


def test_the_ping_on_saving_the_web_hook_is_answered_signed_or_not(
    gh: GreenhouseSandbox,
) -> None:
    client = client_for(gh)
    ping = ruby_json({"action": "ping", "payload": {"web_hook_id": 1}})
    assert client.stage_change({}, ping, _now()) is None
    assert client.stage_change({"Signature": signature(WEBHOOK_SECRET, ping)}, ping, _now()) is None
    with pytest.raises(Forged):
        client.stage_change({}, b"not json", _now())
