"""The Slack sandbox against the real slack_bolt / slack_sdk clients (no SDK mocks)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import urlencode

import pytest
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.sandbox.serving import serve
from bot.sandbox.slack import SlackSandbox

BOT_TOKEN = "xoxb-sandbox"
APP_TOKEN = "xapp-sandbox"
SECRET = "sandbox-signing-secret"
CHANNEL = "C0GENERAL"
APPROVE_BLOCKS: list[dict[str, Any]] = [
    {"type": "section", "text": {"type": "mrkdwn", "text": "Alice answered question 1"}},
    {
        "type": "actions",
        "block_id": "review",
        "elements": [
            {
                "type": "button",
                "action_id": "approve",
                "value": "cand-1",
                "text": {"type": "plain_text", "text": "Approve"},
            },
            {
                "type": "button",
                "action_id": "reject",
                "value": "cand-1",
                "text": {"type": "plain_text", "text": "Reject"},
            },
        ],
    },
]


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    # slack_sdk ignores NO_PROXY, so a proxy in the environment would swallow 127.0.0.1.
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.setenv(name, "")


@pytest.fixture
async def sandbox() -> AsyncIterator[SlackSandbox]:
    async with SlackSandbox() as sb:
        yield sb


def make_app(sandbox: SlackSandbox) -> AsyncApp:
    return AsyncApp(
        client=AsyncWebClient(token=BOT_TOKEN, base_url=sandbox.api_url),
        signing_secret=SECRET,
    )


@pytest.fixture
async def socket_app(sandbox: SlackSandbox) -> AsyncIterator[AsyncApp]:
    app = make_app(sandbox)
    handler = AsyncSocketModeHandler(app, APP_TOKEN)
    await handler.connect_async()  # type: ignore[no-untyped-call]
    yield app
    await handler.close_async()  # type: ignore[no-untyped-call]


async def _serve(app: AsyncApp) -> tuple[str, web.AppRunner]:
    """Serve the Bolt app over plain HTTP on a random port, like a production deploy."""

    async def handle(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))

    web_app = web.Application()
    web_app.router.add_post("/slack/events", handle)
    runner, base_url = await serve(web_app)
    return f"{base_url}/slack/events", runner


async def _wait(predicate: Callable[[], bool]) -> None:
    """Poll for work Bolt finishes after acking (listeners run on after the ack)."""
    deadline = time.monotonic() + 2.0
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)


# ---------------------------------------------------------------------- Socket Mode


async def test_socket_mode_slash_command_ack(sandbox: SlackSandbox, socket_app: AsyncApp) -> None:
    seen: list[dict[str, Any]] = []

    @socket_app.command("/hire")
    async def hire(ack: Any, command: dict[str, Any]) -> None:
        seen.append(command)
        await ack(f"Inviting {command['text']}")

    await _wait(lambda: sandbox.connected_sockets() == 1)
    result = await sandbox.teammate("U0ALICE", "alice").slash("/hire", "bob@example.com")

    assert result.status == 200
    assert result.text == "Inviting bob@example.com"
    assert seen[0]["user_id"] == "U0ALICE" and seen[0]["channel_id"] == CHANNEL
    assert seen[0]["response_url"].startswith("http://127.0.0.1:")
    assert sandbox.ephemerals("U0ALICE") == [
        {
            "user": "U0ALICE",
            "channel": CHANNEL,
            "text": "Inviting bob@example.com",
            "blocks": [],
            "via": "ack",
        }
    ]
    assert any(c.method == "apps.connections.open" for c in sandbox.calls)


async def test_button_click_reaches_action_and_respond_replaces(
    sandbox: SlackSandbox, socket_app: AsyncApp
) -> None:
    clicked: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()

    @socket_app.action("approve")
    async def approve(ack: Any, body: dict[str, Any], respond: Any) -> None:
        await ack()
        await respond(text="Approved by alice", replace_original=True)
        clicked.set_result(body)

    posted = await socket_app.client.chat_postMessage(
        channel=CHANNEL, text="Review Alice", blocks=APPROVE_BLOCKS
    )
    message = sandbox.messages(CHANNEL)[0]
    assert [b["action_id"] for b in message.buttons()] == ["approve", "reject"]

    status = await sandbox.teammate("U0ALICE").click("approve", "cand-1", channel=CHANNEL)
    body = await asyncio.wait_for(clicked, 2)

    assert status == 200
    assert body["type"] == "block_actions"
    assert body["container"] == {
        "type": "message",
        "message_ts": posted["ts"],
        "channel_id": CHANNEL,
        "is_ephemeral": False,
    }
    assert body["actions"][0]["block_id"] == "review"
    assert body["actions"][0]["value"] == "cand-1"
    assert body["message"]["blocks"][1]["elements"][0]["action_id"] == "approve"
    updated = sandbox.messages(CHANNEL)[0]
    assert updated.text == "Approved by alice" and updated.edits == 1 and updated.blocks == []


async def test_thread_reply_reaches_message_event(
    sandbox: SlackSandbox, socket_app: AsyncApp
) -> None:
    got: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()

    @socket_app.event("message")
    async def on_message(event: dict[str, Any], say: Any) -> None:
        await say(text="noted", thread_ts=event["thread_ts"])
        got.set_result(event)

    parent = await socket_app.client.chat_postMessage(channel=CHANNEL, text="Alice's answers")
    ts = await sandbox.teammate("U0ALICE").reply_in_thread(CHANNEL, parent["ts"], "Strong hire")
    event = await asyncio.wait_for(got, 2)

    assert event["user"] == "U0ALICE" and event["text"] == "Strong hire"
    assert event["thread_ts"] == parent["ts"] and event["ts"] == ts
    await _wait(lambda: len(sandbox.thread(CHANNEL, parent["ts"])) == 2)
    reply, bot_reply = sandbox.thread(CHANNEL, parent["ts"])
    assert (reply.user, reply.bot) == ("U0ALICE", False)
    assert (bot_reply.text, bot_reply.bot) == ("noted", True)
    assert float(parent["ts"]) < float(reply.ts) < float(bot_reply.ts)


async def test_two_socket_connections_share_envelopes(sandbox: SlackSandbox) -> None:
    apps = [make_app(sandbox), make_app(sandbox)]
    hits: list[int] = []

    def register(app: AsyncApp, index: int) -> None:
        @app.command("/ping")
        async def ping(ack: Any) -> None:  # Bolt injects by name, so bind index by closure
            hits.append(index)
            await ack("pong")

    for index, app in enumerate(apps):
        register(app, index)

    handlers = [AsyncSocketModeHandler(app, APP_TOKEN) for app in apps]
    for handler in handlers:
        await handler.connect_async()  # type: ignore[no-untyped-call]
    try:
        await _wait(lambda: sandbox.connected_sockets() == 2)
        alice = sandbox.teammate("U0ALICE")
        results = [await alice.slash("/ping", "") for _ in range(4)]
        assert {r.text for r in results} == {"pong"}
        assert sorted(hits) == [0, 0, 1, 1]
    finally:
        for handler in handlers:
            await handler.close_async()  # type: ignore[no-untyped-call]


async def test_modal_opened_from_slash_and_submitted(
    sandbox: SlackSandbox, socket_app: AsyncApp
) -> None:
    @socket_app.command("/feedback")
    async def feedback(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        modal = {
            "type": "modal",
            "callback_id": "feedback",
            "title": {"type": "plain_text", "text": "Feedback"},
            "submit": {"type": "plain_text", "text": "Send"},
            "blocks": [
                {
                    "type": "input",
                    "block_id": "note",
                    "label": {"type": "plain_text", "text": "Note"},
                    "element": {"type": "plain_text_input", "action_id": "text"},
                }
            ],
        }
        await client.views_open(trigger_id=body["trigger_id"], view=modal)

    @socket_app.view("feedback")
    async def submitted(ack: Any, view: dict[str, Any]) -> None:
        note = view["state"]["values"]["note"]["text"]["value"]
        await ack(response_action="errors", errors={"note": f"too short: {note}"})

    result = await sandbox.teammate("U0ALICE").slash("/feedback", "")
    assert (result.status, result.text, sandbox.ephemerals()) == (200, None, [])
    await _wait(lambda: len(sandbox.views) == 1)
    view = sandbox.views[0]
    assert view["id"].startswith("V") and view["callback_id"] == "feedback"
    values = {"note": {"text": {"type": "plain_text_input", "value": "ok"}}}
    assert await sandbox.teammate("U0ALICE").submit_view(view, values) == 200
    assert sandbox.view_acks == [{"response_action": "errors", "errors": {"note": "too short: ok"}}]
    with pytest.raises(SlackApiError, match="invalid_trigger_id"):
        await socket_app.client.views_open(trigger_id="reused-or-made-up", view=view)


async def test_unacked_envelope_fails_loudly(sandbox: SlackSandbox, socket_app: AsyncApp) -> None:
    sandbox.ack_timeout = 0.3  # no /nobody listener: Bolt never acks, Slack would show an error
    with pytest.raises(AssertionError, match="did not ack"):
        await sandbox.teammate("U0ALICE").slash("/nobody", "")


# ---------------------------------------------------------------------- Web API


async def test_post_then_update_visible(sandbox: SlackSandbox) -> None:
    client = AsyncWebClient(token=BOT_TOKEN, base_url=sandbox.api_url)
    posted = await client.chat_postMessage(channel=CHANNEL, text="v1", blocks=APPROVE_BLOCKS)
    assert posted["message"]["bot_id"] and posted["message"]["user"] == "U0HIREBOT"
    await client.chat_update(channel=CHANNEL, ts=posted["ts"], text="v2")

    (message,) = sandbox.messages(CHANNEL)
    assert (message.text, message.edits, message.ts) == ("v2", 1, posted["ts"])
    assert len(message.buttons()) == 2  # blocks absent from chat.update are kept
    history = await client.conversations_history(channel=CHANNEL)
    assert history["messages"][0]["text"] == "v2"
    assert [c.method for c in sandbox.calls] == [
        "chat.postMessage",
        "chat.update",
        "conversations.history",
    ]
    assert sandbox.calls[0].params["blocks"][1]["block_id"] == "review"


async def test_files_upload_v2_into_thread(sandbox: SlackSandbox) -> None:
    client = AsyncWebClient(token=BOT_TOKEN, base_url=sandbox.api_url)
    parent = await client.chat_postMessage(channel=CHANNEL, text="Alice")
    result = await client.files_upload_v2(
        channel=CHANNEL,
        thread_ts=parent["ts"],
        content=b"transcript bytes",
        filename="transcript.txt",
        title="Transcript",
        initial_comment="Full transcript",
    )

    assert result["file"]["title"] == "Transcript"
    (uploaded,) = sandbox.files
    assert (uploaded.filename, uploaded.data) == ("transcript.txt", b"transcript bytes")
    assert (uploaded.channel, uploaded.thread_ts) == (CHANNEL, parent["ts"])
    (reply,) = sandbox.thread(CHANNEL, parent["ts"])
    assert reply.text == "Full transcript" and reply.files == [uploaded]
    sandbox.granted_scopes.discard("files:read")  # an install from before Send to candidate
    with pytest.raises(SlackApiError) as refused:
        await client.files_info(file=uploaded.id)
    assert refused.value.response["needed"] == "files:read"
    sandbox.granted_scopes.add("files:read")
    info = await client.files_info(file=uploaded.id)
    assert info["file"]["size"] == len(b"transcript bytes")


async def test_rate_limit_surfaces_as_slack_api_error(sandbox: SlackSandbox) -> None:
    client = AsyncWebClient(token=BOT_TOKEN, base_url=sandbox.api_url)
    sandbox.fail("chat.postMessage", retry_after=7)
    with pytest.raises(SlackApiError) as caught:
        await client.chat_postMessage(channel=CHANNEL, text="hi")
    assert caught.value.response.status_code == 429
    assert caught.value.response.headers["Retry-After"] == "7"
    assert caught.value.response["error"] == "ratelimited"
    assert (await client.chat_postMessage(channel=CHANNEL, text="hi"))["ok"]
    assert [c.method for c in sandbox.calls] == ["chat.postMessage"] * 2


async def test_an_outage_answers_every_method_503_until_it_ends(sandbox: SlackSandbox) -> None:
    client = AsyncWebClient(token=BOT_TOKEN, base_url=sandbox.api_url)
    sandbox.outage(0.5)
    for call in (
        client.chat_postMessage(channel=CHANNEL, text="hi"),
        client.conversations_info(channel=CHANNEL),
    ):
        with pytest.raises(SlackApiError) as caught:
            await call
        assert caught.value.response.status_code == 503
    assert not sandbox.messages(CHANNEL)  # refused: nothing was posted
    assert sandbox.unavailable_answers == 2
    await asyncio.sleep(0.6)
    assert (await client.chat_postMessage(channel=CHANNEL, text="hi"))["ok"]
    assert [m.text for m in sandbox.messages(CHANNEL)] == ["hi"]


async def test_auth_and_validation_errors(sandbox: SlackSandbox) -> None:
    bad = AsyncWebClient(token="xoxb-wrong", base_url=sandbox.api_url)
    with pytest.raises(SlackApiError, match="invalid_auth"):
        await bad.auth_test()
    client = AsyncWebClient(token=BOT_TOKEN, base_url=sandbox.api_url)
    assert (await client.auth_test())["user_id"] == "U0HIREBOT"
    with pytest.raises(SlackApiError, match="not_allowed_token_type"):
        await client.apps_connections_open(app_token=BOT_TOKEN)
    with pytest.raises(SlackApiError, match="unknown_method"):
        await client.api_call("chat.explode")
    with pytest.raises(SlackApiError, match="not_in_channel"):
        sandbox.add_channel("C0HIRING", "hiring", ["U0ALICE"])
        await client.chat_postMessage(channel="C0HIRING", text="hi")
    long_section = [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}]
    with pytest.raises(SlackApiError, match="invalid_blocks"):
        await client.chat_postMessage(channel=CHANNEL, text="t", blocks=long_section)


async def test_users_info_gives_the_email_only_with_users_read_email(
    sandbox: SlackSandbox,
) -> None:
    """As on Slack: users:read for users.info at all; without users:read.email the profile
    comes back without its email field, and no error says so."""
    sandbox.add_user("U0ALICE", "alice", "Alice Doe", tz="America/New_York")
    client = AsyncWebClient(token=BOT_TOKEN, base_url=sandbox.api_url)
    user = (await client.users_info(user="U0ALICE"))["user"]
    assert user["tz"] == "America/New_York"
    assert user["profile"]["email"] == "alice@sandbox.example"
    sandbox.granted_scopes.discard("users:read.email")
    user = (await client.users_info(user="U0ALICE"))["user"]
    assert "email" not in user["profile"] and user["tz"] == "America/New_York"
    sandbox.granted_scopes.discard("users:read")
    with pytest.raises(SlackApiError) as refused:
        await client.users_info(user="U0ALICE")
    assert refused.value.response["error"] == "missing_scope"
    assert refused.value.response["needed"] == "users:read"


# ---------------------------------------------------------------------- HTTP mode


async def test_http_mode_signed_requests(sandbox: SlackSandbox) -> None:
    app = make_app(sandbox)

    @app.command("/hire")
    async def hire(ack: Any, command: dict[str, Any]) -> None:
        await ack(f"http {command['text']}")

    url, runner = await _serve(app)
    sandbox.mode, sandbox.http_target = "http", url
    alice = sandbox.teammate("U0ALICE")
    try:
        result = await alice.slash("/hire", "carol")
        assert (result.status, result.text) == (200, "http carol")
        assert sandbox.ephemerals()[-1]["via"] == "ack"

        body = urlencode({"command": "/hire", "text": "x", "user_id": "U0ALICE"}).encode()
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        forged_headers = alice.signed_headers(body, secret="not-the-secret")
        forged = await alice.send_raw_http(body, {**form, **forged_headers})
        stale_headers = alice.signed_headers(body, timestamp=int(time.time()) - 600)
        stale = await alice.send_raw_http(body, {**form, **stale_headers})
        assert forged[0] == 401 and stale[0] == 401
        fresh = await alice.send_raw_http(body, {**form, **alice.signed_headers(body)})
        assert fresh[0] == 200
    finally:
        await runner.cleanup()


async def test_http_mode_events_and_redelivery(sandbox: SlackSandbox) -> None:
    app = make_app(sandbox)
    seen: list[tuple[str, str | None]] = []

    @app.event("app_mention")
    async def mention(body: dict[str, Any], context: Any, request: Any) -> None:
        seen.append((body["event_id"], request.headers.get("x-slack-retry-num", [None])[0]))

    url, runner = await _serve(app)
    sandbox.mode, sandbox.http_target = "http", url
    alice = sandbox.teammate("U0ALICE")
    event = {"type": "app_mention", "user": "U0ALICE", "text": "<@U0HIREBOT>", "channel": CHANNEL}
    try:
        assert await alice.send_event({**event, "ts": sandbox.next_ts()}, event_id="Ev1") == 200
        assert await alice.send_event({**event, "ts": sandbox.next_ts()}, event_id="Ev1") == 200
        await _wait(lambda: len(seen) == 2)
        assert seen == [("Ev1", None), ("Ev1", "1")]
        raw = json.dumps({"type": "event_callback", "event": event}).encode()
        headers = {"Content-Type": "application/json", **alice.signed_headers(raw, secret="x")}
        assert (await alice.send_raw_http(raw, headers))[0] == 401
    finally:
        await runner.cleanup()
