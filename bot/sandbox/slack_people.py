"""Scripted hiring-team members who type slash commands, click buttons and reply in threads.

Why: the bot must be driven by the same payloads real Slack sends (Socket Mode envelopes
or signed HTTP requests), so each action here builds Slack's exact payload and waits
for the bot's ack, failing loudly (AssertionError) when the bot does not answer in time.
"""

from __future__ import annotations

import secrets
import time
import uuid
from typing import Any

from bot.sandbox.slack_api import (
    JSON,
    Ack,
    ResponseTarget,
    SlackApiEmulator,
    SlackMessage,
    SlashResult,
    UploadedFile,
    iter_buttons,
    manifest_shortcuts,
    sign,
)


class SandboxTeammate:
    """One human in the sandbox workspace, acting through the emulator."""

    def __init__(self, sandbox: SlackApiEmulator, user_id: str, name: str) -> None:
        self._sandbox = sandbox
        self.user_id = user_id
        self.name = name
        self.last_interaction: JSON | None = None

    # ------------------------------------------------------------------ payload parts

    def _user_json(self) -> JSON:
        return {
            "id": self.user_id,
            "username": self.name,
            "name": self.name,
            "team_id": self._sandbox.team_id,
        }

    def _team_json(self) -> JSON:
        return {"id": self._sandbox.team_id, "domain": self._sandbox.team_domain}

    def _channel_name(self, channel_id: str) -> str:
        channel = self._sandbox.channel(channel_id)
        if channel.is_im:
            return "directmessage"
        return "privategroup" if channel.is_private else channel.name

    # ------------------------------------------------------------------ actions

    async def slash(self, command: str, text: str, channel: str = "C0GENERAL") -> SlashResult:
        """Run ``/command text`` in ``channel`` and return what the bot acked with."""
        s = self._sandbox
        if self.user_id not in s.channel(channel).members:
            raise AssertionError(f"{self.user_id} is not a member of {channel}")
        payload = {
            "token": s.verification_token,
            "team_id": s.team_id,
            "team_domain": s.team_domain,
            "channel_id": channel,
            "channel_name": self._channel_name(channel),
            "user_id": self.user_id,
            "user_name": self.name,
            "command": command if command.startswith("/") else f"/{command}",
            "text": text,
            "api_app_id": s.app_id,
            "is_enterprise_install": "false",
            "response_url": s.new_response_url(ResponseTarget(self.user_id, channel)),
            "trigger_id": s.new_trigger_id(),
        }
        ack = await s.deliver("slash_commands", payload, accepts_response_payload=True)
        if ack.status == 200:
            s.record_ack_reply(self.user_id, channel, ack.body)
        text_out = ack.body.get("text") if ack.body else None
        return SlashResult(ack.status, text_out if isinstance(text_out, str) else None, ack.body)

    def _pick_button(
        self, action_id: str, value: str | None, message: SlackMessage | None, channel: str | None
    ) -> tuple[SlackMessage, str, JSON]:
        s = self._sandbox
        if message is not None:
            current = s.find_message(message.channel, message.ts)
            if current is None:
                raise AssertionError(f"message {message.ts} no longer exists in {message.channel}")
            candidates = [current]
        else:
            candidates = s.all_messages_newest_first(channel)
        for candidate in candidates:
            for block_id, button in iter_buttons(candidate):
                if button.get("action_id") == action_id and value in (None, button.get("value")):
                    return candidate, block_id, button
        seen = sorted({str(b.get("action_id")) for m in candidates for _, b in iter_buttons(m)})
        where = f"message {message.ts}" if message else f"channel {channel or '(any)'}"
        raise AssertionError(f"no button {action_id!r} (value={value!r}) in {where}; saw {seen}")

    async def click(
        self,
        action_id: str,
        value: str | None = None,
        *,
        message: SlackMessage | None = None,
        channel: str | None = None,
    ) -> int:
        """Click a button on ``message`` (or the newest message having it) → HTTP-ish status."""
        s = self._sandbox
        target, block_id, button = self._pick_button(action_id, value, message, channel)
        action_ts = f"{time.time():.6f}"
        container: JSON = {
            "type": "message",
            "message_ts": target.ts,
            "channel_id": target.channel,
            "is_ephemeral": False,
        }
        if target.thread_ts and target.thread_ts != target.ts:
            container["thread_ts"] = target.thread_ts
        action: JSON = {
            "action_id": action_id,
            "block_id": block_id,
            "text": button.get("text", {"type": "plain_text", "text": ""}),
            "type": "button",
            "action_ts": action_ts,
        }
        if "value" in button:
            action["value"] = button["value"]
        if "style" in button:
            action["style"] = button["style"]
        payload: JSON = {
            "type": "block_actions",
            "user": self._user_json(),
            "api_app_id": s.app_id,
            "token": s.verification_token,
            "container": container,
            "trigger_id": s.new_trigger_id(),
            "team": self._team_json(),
            "enterprise": None,
            "is_enterprise_install": False,
            "channel": {"id": target.channel, "name": self._channel_name(target.channel)},
            "message": s.message_json(target),
            "state": {"values": {}},
            "response_url": s.new_response_url(
                ResponseTarget(self.user_id, target.channel, target.ts)
            ),
            "actions": [action],
        }
        self.last_interaction = payload
        return (await s.deliver("interactive", payload)).status

    async def redeliver_last_click(self) -> int:
        """Deliver the last click again, as Slack does when it did not see the ack in time."""
        assert self.last_interaction is not None, "no click to redeliver"
        return (
            await self._sandbox.deliver("interactive", self.last_interaction, retry_attempt=1)
        ).status

    async def reply_in_thread(self, channel: str, thread_ts: str, text: str) -> str:
        """Post a human reply in a thread and deliver Slack's ``message`` event; → its ts."""
        s = self._sandbox
        if self.user_id not in s.channel(channel).members:
            raise AssertionError(f"{self.user_id} is not a member of {channel}")
        parent = s.find_message(channel, thread_ts)
        if parent is None:
            raise AssertionError(f"no message {thread_ts} in {channel} to reply to")
        root = parent.thread_ts or parent.ts
        message = s.store_message(
            SlackMessage(
                ts=s.next_ts(),
                channel=channel,
                text=text,
                blocks=[_rich_text(text)],
                thread_ts=root,
                user=self.user_id,
                bot=False,
            )
        )
        root_message = s.find_message(channel, root)
        event: JSON = {
            "type": "message",
            "user": self.user_id,
            "text": text,
            "ts": message.ts,
            "thread_ts": root,
            "parent_user_id": root_message.user if root_message else None,
            "blocks": message.blocks,
            "client_msg_id": str(uuid.uuid4()),
            "team": s.team_id,
            "channel": channel,
            "event_ts": message.ts,
            "channel_type": _channel_type(s, channel),
        }
        status = await self.send_event(event)
        if status != 200:
            raise AssertionError(f"bot answered the message event with HTTP {status}")
        return message.ts

    async def post_file_in_thread(
        self,
        channel: str,
        thread_ts: str,
        data: bytes,
        filename: str,
        *,
        subtype: str | None = None,
        mimetype: str | None = None,
        text: str = "",
    ) -> SlackMessage:
        """Post a file (a Slack clip when ``subtype`` is ``slack_audio`` / ``slack_video``) as
        a reply in a thread, and deliver the ``file_share`` message event."""
        s = self._sandbox
        if self.user_id not in s.channel(channel).members:
            raise AssertionError(f"{self.user_id} is not a member of {channel}")
        uploaded = UploadedFile(
            s.new_id("F"),
            filename,
            filename,
            data,
            channel,
            thread_ts,
            user=self.user_id,
            subtype=subtype,
            mimetype=mimetype,
        )
        s.files.append(uploaded)
        message = s.store_message(
            SlackMessage(
                ts=s.next_ts(),
                channel=channel,
                text=text,
                blocks=[_rich_text(text)] if text else [],
                thread_ts=thread_ts,
                user=self.user_id,
                bot=False,
                files=[uploaded],
            )
        )
        event: JSON = {
            **s.message_json(message),
            "subtype": "file_share",
            "channel": channel,
            "event_ts": message.ts,
            "channel_type": _channel_type(s, channel),
        }
        status = await self.send_event(event)
        if status != 200:
            raise AssertionError(f"bot answered the file_share event with HTTP {status}")
        return message

    async def use_message_shortcut(self, callback_id: str, message: SlackMessage) -> int:
        """Pick a message shortcut from a message's ⋯ menu (``type: message_action``)."""
        s = self._sandbox
        if manifest_shortcuts().get(callback_id) != "message":
            raise AssertionError(f"the app's manifest has no message shortcut {callback_id!r}")
        current = s.find_message(message.channel, message.ts)
        if current is None:
            raise AssertionError(f"message {message.ts} no longer exists in {message.channel}")
        payload: JSON = {
            "type": "message_action",
            "token": s.verification_token,
            "action_ts": f"{time.time():.6f}",
            "team": self._team_json(),
            "user": self._user_json(),
            "channel": {"id": current.channel, "name": self._channel_name(current.channel)},
            "is_enterprise_install": False,
            "enterprise": None,
            "callback_id": callback_id,
            "trigger_id": s.new_trigger_id(),
            "response_url": s.new_response_url(
                ResponseTarget(self.user_id, current.channel, current.ts)
            ),
            "message_ts": current.ts,
            "message": s.message_json(current),
        }
        self.last_interaction = payload
        return (await s.deliver("interactive", payload)).status

    async def edit_reply(self, channel: str, ts: str, text: str) -> int:
        """Edit one's own message and deliver Slack's ``message_changed`` event."""
        s = self._sandbox
        message = s.find_message(channel, ts)
        if message is None or message.user != self.user_id:
            raise AssertionError(f"{self.user_id} has no message {ts} in {channel} to edit")
        previous = s.message_json(message)
        message.text = text
        message.blocks = [_rich_text(text)]
        message.edits += 1
        current = {**s.message_json(message), "edited": {"user": self.user_id, "ts": s.next_ts()}}
        return await self.send_event(
            {
                "type": "message",
                "subtype": "message_changed",
                "message": current,
                "previous_message": previous,
                "channel": channel,
                "hidden": True,
                "ts": s.next_ts(),
                "event_ts": s.next_ts(),
                "channel_type": _channel_type(s, channel),
            }
        )

    async def delete_reply(self, channel: str, ts: str) -> int:
        """Delete one's own message and deliver Slack's ``message_deleted`` event."""
        s = self._sandbox
        message = s.find_message(channel, ts)
        if message is None or message.user != self.user_id:
            raise AssertionError(f"{self.user_id} has no message {ts} in {channel} to delete")
        previous = s.message_json(message)
        s.remove_message(message)
        return await self.send_event(
            {
                "type": "message",
                "subtype": "message_deleted",
                "deleted_ts": ts,
                "previous_message": previous,
                "channel": channel,
                "hidden": True,
                "ts": s.next_ts(),
                "event_ts": s.next_ts(),
                "channel_type": _channel_type(s, channel),
            }
        )

    async def open_home(self) -> int:
        """Open the app's Home tab: Slack sends ``app_home_opened``."""
        s = self._sandbox
        return await self.send_event(
            {
                "type": "app_home_opened",
                "user": self.user_id,
                "channel": "D" + self.user_id[1:],
                "tab": "home",
                "event_ts": s.next_ts(),
            }
        )

    async def click_in_home(self, action_id: str) -> int:
        """Press a button on the Home tab the bot last published for this person: Slack
        sends ``block_actions`` with the view as its container, and a trigger id."""
        s = self._sandbox
        home = s.home_views.get(self.user_id)
        if home is None:
            raise AssertionError(f"no Home tab was published for {self.user_id}")
        found = [
            (block.get("block_id", ""), element)
            for block in home["blocks"]
            for element in [
                *block.get("elements", []),
                *([block["accessory"]] if isinstance(block.get("accessory"), dict) else []),
            ]
            if element.get("type") == "button" and element.get("action_id") == action_id
        ]
        if not found:
            raise AssertionError(f"no button {action_id!r} on {self.user_id}'s Home tab")
        block_id, button = found[0]
        action: JSON = {
            "action_id": action_id,
            "block_id": block_id,
            "text": button.get("text", {"type": "plain_text", "text": ""}),
            "type": "button",
            "action_ts": f"{time.time():.6f}",
            **({"value": button["value"]} if "value" in button else {}),
        }
        payload: JSON = {
            "type": "block_actions",
            "user": self._user_json(),
            "api_app_id": s.app_id,
            "token": s.verification_token,
            "container": {"type": "view", "view_id": home["id"]},
            "trigger_id": s.new_trigger_id(),
            "team": self._team_json(),
            "enterprise": None,
            "is_enterprise_install": False,
            "view": home,
            "actions": [action],
        }
        self.last_interaction = payload
        return (await s.deliver("interactive", payload)).status

    async def submit_view(self, view: dict[str, Any], values: dict[str, Any]) -> int:
        """Submit a modal the bot opened; ``values`` is ``view.state.values``."""
        s = self._sandbox
        submitted = {**view, "state": {"values": values}}
        payload: JSON = {
            "type": "view_submission",
            "team": self._team_json(),
            "user": self._user_json(),
            "api_app_id": s.app_id,
            "token": s.verification_token,
            "trigger_id": s.new_trigger_id(),
            "view": submitted,
            "response_urls": [],
            "is_enterprise_install": False,
            "enterprise": None,
        }
        ack = await s.deliver("interactive", payload, accepts_response_payload=True)
        s.view_acks.append(ack.body or {})
        return ack.status

    async def invite(self, user_id: str, channel: str) -> None:
        """``/invite @user`` in ``channel``: Slack then sends ``member_joined_channel``
        (to apps subscribed to it) with the invited user and the inviter."""
        s = self._sandbox
        if self.user_id not in s.channel(channel).members:
            raise AssertionError(f"{self.user_id} is not a member of {channel}")
        s.add_member(channel, user_id)
        if not s.subscribes_to("member_joined_channel"):
            return
        event: JSON = {
            "type": "member_joined_channel",
            "user": user_id,
            "channel": channel,
            "channel_type": "G" if s.channel(channel).is_private else "C",
            "team": s.team_id,
            "inviter": self.user_id,
            "event_ts": s.next_ts(),
        }
        status = await self.send_event(event)
        if status != 200:
            raise AssertionError(f"bot answered member_joined_channel with HTTP {status}")

    async def send_event(self, event: dict[str, Any], *, event_id: str | None = None) -> int:
        """Deliver any Events API event; reusing ``event_id`` is a Slack redelivery."""
        s = self._sandbox
        event_id = event_id or f"Ev{secrets.token_hex(5).upper()}"
        payload: JSON = {
            "token": s.verification_token,
            "team_id": s.team_id,
            "api_app_id": s.app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": s.team_id,
                    "user_id": s.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": f"4-{secrets.token_urlsafe(16)}",
        }
        attempt = s.event_attempt(event_id)
        ack: Ack = await s.deliver("events_api", payload, retry_attempt=attempt)
        return ack.status

    async def send_raw_http(self, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
        """POST arbitrary bytes to the bot (forged / stale signature tests)."""
        ack = await self._sandbox.post_to_bot(body, headers)
        return ack.status, ack.raw

    def signed_headers(
        self, body: bytes, *, timestamp: int | None = None, secret: str | None = None
    ) -> dict[str, str]:
        """Slack's signature headers; pass another secret or an old timestamp to forge."""
        return sign(body, self._sandbox.signing_secret if secret is None else secret, timestamp)


def _rich_text(text: str) -> JSON:
    """The rich_text block Slack's clients attach to every typed message."""
    return {
        "type": "rich_text",
        "block_id": secrets.token_hex(2),
        "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}],
    }


def _channel_type(s: SlackApiEmulator, channel_id: str) -> str:
    channel = s.channel(channel_id)
    if channel.is_im:
        return "im"
    return "group" if channel.is_private else "channel"
