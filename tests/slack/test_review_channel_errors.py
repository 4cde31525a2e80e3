"""SlackReviewChannel against the Slack sandbox: what each Slack failure becomes for the outbox,
and uploads given the time their size needs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
import yaml
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import ChannelUnavailable, DeliveryDeferred
from bot.flows.ports import CandidateCard
from bot.sandbox.slack import SlackSandbox
from bot.sandbox.slack_api import MANIFEST, manifest_bot_events
from bot.slack.channel import SlackReviewChannel, upload_timeout

USER = "U0RITA"
PUBLIC, PRIVATE = "C0PUBLIC1", "G0PRIVATE1"


@pytest.fixture
async def sandbox() -> AsyncIterator[SlackSandbox]:
    async with SlackSandbox() as sb:
        sb.add_user(USER, "rita")
        yield sb


def _client(sandbox: SlackSandbox, timeout: int = 30) -> AsyncWebClient:
    return AsyncWebClient(token=sandbox.bot_token, base_url=sandbox.api_url, timeout=timeout)


def _card() -> CandidateCard:
    return CandidateCard(
        interview_id=1,
        candidate="Jane Doe",
        opening="Backend Engineer",
        answered=0,
        questions=2,
        status="invited",
        stage="screen",
        deadline=datetime(2026, 12, 1, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    ("channel", "change", "problem"),
    [
        (PUBLIC, "leave", "not_in_channel"),
        (PRIVATE, "leave", "channel_not_found"),
        (PUBLIC, "archive", "is_archived"),
        ("C0NOSUCH", None, "channel_not_found"),
    ],
)
async def test_a_review_channel_the_bot_may_not_post_in_is_a_setup_problem_not_a_refusal(
    sandbox: SlackSandbox, channel: str, change: str | None, problem: str
) -> None:
    for known in (PUBLIC, PRIVATE):
        sandbox.add_channel(known, known.lower(), [sandbox.bot_user_id, USER])
    if change == "leave":
        sandbox.remove_member(channel, sandbox.bot_user_id)
    elif change == "archive":
        sandbox.archive(channel)
    with pytest.raises(ChannelUnavailable) as raised:
        await SlackReviewChannel(_client(sandbox)).post_card(channel, _card())
    assert (raised.value.channel, raised.value.problem) == (channel, problem)
    assert sandbox.messages(channel) == []


async def test_a_large_upload_gets_the_time_its_size_needs(sandbox: SlackSandbox) -> None:
    assert upload_timeout(20 * 1024 * 1024) > upload_timeout(10 * 1024) >= 30
    sandbox.upload_bytes_per_second = 256 * 1024  # a slow uplink: 768 KiB take 3 s
    export = b"x" * (768 * 1024)

    # With the client's own 1 s, the same upload is cut off...
    with pytest.raises(TimeoutError):
        await _client(sandbox, timeout=1).files_upload_v2(
            channel=sandbox._open_dm(USER).id, content=export, filename="a.csv"
        )
    # ... while the review channel gives it 1 s + its size at 128 KiB/s.
    channel = SlackReviewChannel(_client(sandbox, timeout=1), upload_base_timeout=1)
    await channel.send_file_to_user(USER, "export.csv", "Export", export)
    assert [f.data for f in sandbox.files if f.filename == "export.csv"] == [export]


async def test_slack_behind_a_failing_proxy_is_an_outage_to_retry(sandbox: SlackSandbox) -> None:
    sandbox.fail_with_text("chat.postMessage", status=502, content_type="text/plain")
    with pytest.raises(DeliveryDeferred, match="502"):
        await SlackReviewChannel(_client(sandbox)).notify_user(USER, "hello")


def test_the_manifest_lets_slack_tell_hirebot_it_was_invited() -> None:
    # Slack sends member_joined_channel only to apps subscribed to it, with these scopes.
    manifest = yaml.safe_load(MANIFEST.read_text())
    assert "member_joined_channel" in manifest_bot_events()
    assert {"channels:read", "groups:read"} <= set(manifest["oauth_config"]["scopes"]["bot"])
