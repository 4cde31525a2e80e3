"""Scopes: the manifest asks for what hirebot uses, the emulator refuses what it lacks, and
``hirebot doctor`` says which scope to add. Who reviews is read from Slack, briefly cached."""

from __future__ import annotations

from pathlib import Path

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.doctor import diagnose, report
from bot.sandbox import slack_api
from bot.sandbox.slack import SlackSandbox
from bot.sandbox.slack_api import METHOD_SCOPES, manifest_bot_scopes
from bot.sandbox.world import REVIEW_CHANNEL, SLACK_BOT_TOKEN, TEAMMATE, World, eventually
from bot.slack.membership import ChannelMembers
from bot.slack.scopes import BOT_SCOPES
from tests.helpers.slack import hire


def test_the_manifest_grants_exactly_the_scopes_hirebot_uses() -> None:
    assert manifest_bot_scopes() == BOT_SCOPES
    assert {"channels:read", "groups:read"} <= BOT_SCOPES  # who reviews: channel members
    # Every method the emulator answers says which scope it needs (None: none).
    assert set(slack_api._METHODS) == set(METHOD_SCOPES)


async def test_a_scope_the_app_lacks_is_refused_as_slack_does_and_doctor_names_it(
    tmp_path: Path,
) -> None:
    async with World(data_dir=tmp_path) as w:
        w.slack.granted_scopes.discard("channels:read")
        client = AsyncWebClient(token=SLACK_BOT_TOKEN, base_url=w.slack.api_url)
        with pytest.raises(SlackApiError) as refused:
            await client.conversations_members(channel=REVIEW_CHANNEL)
        assert refused.value.response.data == {
            "ok": False,
            "error": "missing_scope",
            "needed": "channels:read",
            "provided": ",".join(sorted(BOT_SCOPES - {"channels:read"})),
        }
        # A private channel needs groups:read instead; a DM im:read.
        w.slack.add_channel("G0PRIVATE1", "secret-reviews", [w.slack.bot_user_id])
        w.slack.granted_scopes.discard("groups:read")
        with pytest.raises(SlackApiError) as refused:
            await client.conversations_info(channel="G0PRIVATE1")
        assert refused.value.response["needed"] == "groups:read"

        checks = await diagnose(w.settings())
        fixes = [str(c) for c in checks if not c.ok]
        assert any(
            "The Slack app lacks the scope(s) channels:read, groups:read: add them" in f
            for f in fixes
        ), report(checks)
        assert any(
            "review channel C0REVIEW01 (missing_scope): the app needs the channels:read scope" in f
            for f in fixes
        ), report(checks)

        # The bot cannot tell who reviews, so it shows nobody anything (it fails closed).
        assert (await hire(w, TEAMMATE, "status")).startswith("You are not in the review channel")
        await w.slack.teammate(TEAMMATE).open_home()
        home = await eventually(lambda: w.slack.home_views.get(TEAMMATE), what="Tom's home")
        assert "Backend Engineer" not in str(home["blocks"])


async def test_channel_members_are_asked_of_slack_once_in_a_while() -> None:
    now = [0.0]
    async with SlackSandbox() as slack:
        slack.add_user("U0TOM", "tom")
        slack.add_channel("C0REVIEW01", "reviews", [slack.bot_user_id, "U0TOM"])
        members = ChannelMembers(
            AsyncWebClient(token=slack.bot_token, base_url=slack.api_url),
            ttl=30,
            clock=lambda: now[0],
        )
        channels = ["C0REVIEW01", "C0NOSUCH01"]
        assert await members.channels_of("U0TOM", channels) == {"C0REVIEW01"}
        assert await members.channels_of("U0NEW", channels) == frozenset()
        calls = [c for c in slack.calls if c.method == "conversations.members"]
        assert len(calls) == 2  # one per channel, the second person's answer from the cache

        slack.channel("C0REVIEW01").members.append("U0NEW")
        now[0] = 29.0
        assert await members.channels_of("U0NEW", channels) == frozenset()
        now[0] = 31.0
        assert await members.channels_of("U0NEW", channels) == {"C0REVIEW01"}
