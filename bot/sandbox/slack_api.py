"""Slack emulator core: Web API, Socket Mode hub, signed HTTP delivery, response_url, uploads.

Why: hirebot's Slack side must be tested end to end with the real slack_bolt / slack_sdk
clients, so this server speaks Slack's wire formats (JSON shapes, error codes, 429s,
Socket Mode envelopes, v0 signatures) instead of anyone mocking the SDK.
The scripted humans that drive it live in ``slack_people``; ``slack`` is the public façade.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import mimetypes
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import yaml
from aiohttp import ClientSession, ClientTimeout, WSCloseCode, WSMsgType, web

from bot.sandbox.serving import serve

JSON = dict[str, Any]
EnvelopeType = Literal["slash_commands", "interactive", "events_api"]

GENERAL_CHANNEL = "C0GENERAL"
MANIFEST = Path(__file__).resolve().parents[2] / "slack-app-manifest.yaml"
_JSON_PARAMS = ("blocks", "attachments", "metadata", "view", "files")
_TOKEN_KINDS = Literal["bot", "app"]


# The bot-token scope each Web API method needs, from Slack's reference
# (docs.slack.dev/reference/methods/<method>, "Scopes: Bot token"). "{kind}:read" and
# "{kind}:history" depend on the conversation: channels:… for a public channel, groups:…
# for a private one, im:… for a DM. None: any bot token may call it.
METHOD_SCOPES: dict[str, str | None] = {
    "auth.test": None,
    "chat.postMessage": "chat:write",
    "chat.update": "chat:write",
    "chat.delete": "chat:write",
    "chat.postEphemeral": "chat:write",
    "chat.getPermalink": None,
    "reactions.add": "reactions:write",
    "views.open": None,
    "views.publish": None,
    "views.update": None,
    "conversations.replies": "{kind}:history",
    "conversations.history": "{kind}:history",
    "conversations.members": "{kind}:read",
    "conversations.info": "{kind}:read",
    "conversations.open": "im:write",
    "users.info": "users:read",
    "files.getUploadURLExternal": "files:write",
    "files.completeUploadExternal": "files:write",
    "files.info": "files:read",
    "files.delete": "files:write",
    "files.upload": "files:write",
    "apps.connections.open": None,  # app-level token (connections:write), not the bot's
}


def manifest_bot_scopes(manifest: Path = MANIFEST) -> frozenset[str]:
    """The bot scopes hirebot's Slack app manifest requests: what an install grants."""
    data = yaml.safe_load(manifest.read_text())
    return frozenset(str(s) for s in data["oauth_config"]["scopes"]["bot"])


@dataclass(frozen=True)
class ApiCall:
    """One Web API request as the bot sent it (token stripped, JSON fields decoded)."""

    method: str
    params: JSON


@dataclass
class UploadedFile:
    """A file the bot shared through the files_upload_v2 flow, or a person posted (a clip:
    ``subtype`` ``slack_audio`` / ``slack_video``, with the mimetype their client chose)."""

    id: str
    filename: str
    title: str
    data: bytes
    channel: str | None
    thread_ts: str | None
    user: str | None = None  # None: the bot
    subtype: str | None = None
    mimetype: str | None = None


@dataclass
class SlackMessage:
    """A channel or thread message as the workspace currently shows it."""

    ts: str
    channel: str
    text: str
    blocks: list[JSON]
    thread_ts: str | None
    user: str | None
    bot: bool
    files: list[UploadedFile] = field(default_factory=list)
    edits: int = 0
    metadata: JSON | None = None
    reactions: list[str] = field(default_factory=list)
    # time.monotonic() of the post and of its latest edit (latency benches read them).
    posted_at: float = field(default_factory=time.monotonic)
    edited_at: float | None = None

    def buttons(self) -> list[JSON]:
        """Every button element in the blocks (a copy with its ``block_id`` added)."""
        return [{**element, "block_id": block_id} for block_id, element in iter_buttons(self)]


@dataclass(frozen=True)
class SlashResult:
    """What the bot acknowledged a slash command with."""

    status: int
    text: str | None
    body: JSON | None


@dataclass(frozen=True)
class Ack:
    """The bot's answer to one delivery (socket ack or HTTP response)."""

    status: int
    body: JSON | None
    raw: str


@dataclass
class Channel:
    id: str
    name: str
    members: list[str]
    is_private: bool = False
    is_im: bool = False
    is_archived: bool = False
    created: int = field(default_factory=lambda: int(time.time()))


@dataclass
class User:
    id: str
    name: str
    real_name: str
    tz: str
    is_bot: bool = False
    email: str | None = None


@dataclass
class ResponseTarget:
    """What a response_url was issued for, so POSTs to it land in the right place."""

    user: str
    channel: str
    message_ts: str | None = None


@dataclass
class _Failure:
    status: int
    retry_after: int | None
    error: str
    remaining: int
    # A body that is not Slack's JSON (a proxy's error page), sent with this content type.
    text: str | None = None
    content_type: str = "text/plain"


@dataclass
class _PendingUpload:
    filename: str
    length: int
    data: bytes | None = None


class ApiError(Exception):
    """A Slack ``{"ok": false, "error": ...}`` answer raised from inside a method handler."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


def iter_buttons(message: SlackMessage) -> list[tuple[str, JSON]]:
    found: list[tuple[str, JSON]] = []
    for block in message.blocks:
        block_id = str(block.get("block_id", ""))
        elements = list(block.get("elements", [])) if block.get("type") == "actions" else []
        accessory = block.get("accessory")
        if isinstance(accessory, dict):
            elements.append(accessory)
        found.extend((block_id, e) for e in elements if e.get("type") == "button")
    return found


def _text_len(obj: Any) -> int:
    return len(str(obj.get("text", ""))) if isinstance(obj, dict) else 0


def validate_blocks(blocks: list[JSON], *, limit: int = 50) -> list[str]:
    """Slack's documented Block Kit limits; a violation is an ``invalid_blocks`` error.

    Why: overlong section texts (e.g. transcripts) pass in a mock but fail on real Slack.
    """
    errors: list[str] = []
    if len(blocks) > limit:
        errors.append(f"no more than {limit} items allowed [json-pointer:/blocks]")
    seen_block_ids: set[str] = set()
    for i, block in enumerate(blocks):
        where = f"[json-pointer:/blocks/{i}]"
        if not isinstance(block, dict) or "type" not in block:
            errors.append(f"missing required field: type {where}")
            continue
        block_id = str(block.get("block_id", ""))
        # Slack generates ids for blocks sent without one; only explicit ids can clash.
        if block_id and block_id in seen_block_ids:
            errors.append(f"duplicate block_id {where}")
        seen_block_ids.add(block_id)
        if len(block_id) > 255:
            errors.append(f"must be less than 256 characters {where}/block_id")
        kind = block["type"]
        if kind == "section":
            if _text_len(block.get("text")) > 3000:
                errors.append(f"must be less than 3001 characters {where}/text/text")
            if "text" not in block and "fields" not in block:
                errors.append(f"must provide text or fields {where}")
            if len(block.get("fields", [])) > 10:
                errors.append(f"no more than 10 items allowed {where}/fields")
        elif kind == "header" and _text_len(block.get("text")) > 150:
            errors.append(f"must be less than 151 characters {where}/text/text")
        elif kind == "context" and len(block.get("elements", [])) > 10:
            errors.append(f"no more than 10 items allowed {where}/elements")
        elif kind == "actions":
            elements = block.get("elements", [])
            if len(elements) > 25:
                errors.append(f"no more than 25 items allowed {where}/elements")
            action_ids = [e.get("action_id") for e in elements if e.get("action_id")]
            if len(action_ids) != len(set(action_ids)):
                errors.append(f"duplicate action_id {where}/elements")
        for j, element in enumerate(_block_elements(block)):
            if element.get("type") != "button":
                continue
            at = f"{where}/elements/{j}"
            if _text_len(element.get("text")) > 75:
                errors.append(f"must be less than 76 characters {at}/text/text")
            if len(str(element.get("value", ""))) > 2000:
                errors.append(f"must be less than 2001 characters {at}/value")
            if len(str(element.get("action_id", ""))) > 255:
                errors.append(f"must be less than 256 characters {at}/action_id")
    return errors


def _block_elements(block: JSON) -> list[JSON]:
    elements = list(block.get("elements", [])) if block.get("type") == "actions" else []
    if isinstance(block.get("accessory"), dict):
        elements.append(block["accessory"])
    return elements


def _flag(params: JSON, key: str) -> bool:
    value = params.get(key)
    return value is True or (isinstance(value, str) and value.lower() in ("true", "1"))


def sign(body: bytes, secret: str, timestamp: int | None = None) -> dict[str, str]:
    """Slack's v0 request signature headers for ``body``."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    base = b"v0:" + ts.encode() + b":" + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


class SlackApiEmulator:
    """State and aiohttp server behind :class:`bot.sandbox.slack.SlackSandbox`."""

    app_id = "A0SANDBOX"
    team_domain = "sandbox"
    verification_token = "sandbox-verification-token"

    def __init__(
        self,
        *,
        bot_token: str = "xoxb-sandbox",
        app_token: str = "xapp-sandbox",
        signing_secret: str = "sandbox-signing-secret",
        team_id: str = "T0SANDBOX",
        bot_user_id: str = "U0HIREBOT",
    ) -> None:
        self.bot_token = bot_token
        self.app_token = app_token
        self.signing_secret = signing_secret
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.bot_id = "B0HIREBOT"
        self.mode: str = "socket"
        self.http_target: str | None = None
        self.ack_timeout: float = 5.0
        self.trigger_ttl: float = 3.0  # Slack expires trigger_ids after 3 s
        # What installing the app granted the bot token: the manifest's scopes, unless a
        # test takes one away to see what the bot does without it.
        self.granted_scopes: set[str] = set(manifest_bot_scopes())

        self.calls: list[ApiCall] = []
        self.files: list[UploadedFile] = []
        self.views: list[JSON] = []
        self.view_acks: list[JSON] = []  # what the bot acked each view_submission with
        self.home_views: dict[str, JSON] = {}  # user → the Home tab the bot last published
        self._ephemeral_counts: dict[str, int] = {}
        self._ephemeral_arrived: asyncio.Event | None = None
        self._ephemerals: list[JSON] = []
        self._messages: dict[str, list[SlackMessage]] = {}
        self._channels: dict[str, Channel] = {}
        self._users: dict[str, User] = {}
        self._failures: dict[str, _Failure] = {}
        self._unavailable_until = 0.0  # time.monotonic(): every Web API call 503s until then
        self.unavailable_answers = 0  # how many calls an outage refused
        self._holds: dict[str, asyncio.Event] = {}
        self._next_holds: dict[str, tuple[Callable[[JSON], bool], asyncio.Event]] = {}
        self._held_once: dict[str, asyncio.Event] = {}
        self._waiting: dict[str, int] = {}
        self._uploads: dict[str, _PendingUpload] = {}
        self._views_by_id: dict[str, JSON] = {}
        self._triggers: dict[str, float] = {}
        self._tickets: set[str] = set()
        self._response_targets: dict[str, ResponseTarget] = {}
        self._event_attempts: dict[str, int] = {}
        self._sockets: list[web.WebSocketResponse] = []
        self._pending_acks: dict[str, asyncio.Future[JSON]] = {}
        self._round_robin = 0
        self._clock_us = int(time.time()) * 1_000_000
        self._ids = 0
        self._runner: web.AppRunner | None = None
        self._client: ClientSession | None = None
        self._base_url: str | None = None
        self.upload_bytes_per_second: float | None = None  # None: uploads are instant

        self._users[bot_user_id] = User(bot_user_id, "hirebot", "Hirebot", "UTC", is_bot=True)
        self._channels[GENERAL_CHANNEL] = Channel(GENERAL_CHANNEL, "general", [bot_user_id])

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> SlackApiEmulator:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_get("/socket-mode", self._handle_socket)
        app.router.add_post("/upload/v1/{file_id}", self._handle_upload)
        app.router.add_get("/files/{file_id}/{name}", self._handle_download)
        app.router.add_post("/response/{key}", self._handle_response_url)
        self._runner, self._base_url = await serve(app)
        self._client = ClientSession()
        return self

    async def __aexit__(self, *exc: object) -> None:
        for ws in list(self._sockets):
            await ws.close(code=WSCloseCode.GOING_AWAY)
        if self._client is not None:
            await self._client.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        if self._base_url is None:
            raise RuntimeError("use `async with SlackSandbox() as sandbox:` first")
        return self._base_url

    @property
    def api_url(self) -> str:
        """Web API base URL; the trailing slash matters to slack_sdk's URL joining."""
        return f"{self.base_url}/api/"

    # ------------------------------------------------------------------ test-facing state

    def messages(self, channel: str) -> list[SlackMessage]:
        """Top-level messages of ``channel``, oldest first, edits applied."""
        return [m for m in self._messages.get(channel, []) if m.thread_ts in (None, m.ts)]

    def thread(self, channel: str, ts: str) -> list[SlackMessage]:
        """Replies in the thread rooted at ``ts`` (not the parent), oldest first."""
        return [m for m in self._messages.get(channel, []) if m.thread_ts == ts and m.ts != ts]

    def direct_messages(self, user_id: str) -> list[SlackMessage]:
        """What the bot said to ``user_id`` in their DM with the app."""
        return self.messages("D" + user_id[1:])

    def ephemerals(self, user: str | None = None) -> list[JSON]:
        return [e for e in self._ephemerals if user is None or e["user"] == user]

    def fail(
        self,
        method: str,
        *,
        status: int = 429,
        retry_after: int | None = 1,
        times: int = 1,
        error: str = "ratelimited",
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail the way Slack fails them."""
        self._failures[method] = _Failure(status, retry_after, error, times)

    def outage(self, seconds: float) -> None:
        """Slack is down for ``seconds``: every Web API call answers 503 Service Unavailable
        (Slack's status page incidents; retry later, nothing was done)."""
        self._unavailable_until = time.monotonic() + seconds

    async def drop_sockets(self) -> None:
        """Close every Socket Mode connection, as Slack does in an outage or a refresh."""
        for ws in list(self._sockets):
            await ws.close(code=WSCloseCode.GOING_AWAY)

    def hold(self, method: str) -> None:
        """Keep every call of ``method`` waiting (a slow Slack) until ``release(method)``."""
        self._holds[method] = asyncio.Event()

    def hold_next(self, method: str, matching: Callable[[JSON], bool] = lambda _p: True) -> None:
        """Keep only the next call of ``method`` whose params match waiting (one slow request
        among others that go through) until ``release(method)``."""
        self._next_holds[method] = (matching, asyncio.Event())

    def release(self, method: str) -> None:
        for gate in (self._holds.pop(method, None), self._held_once.pop(method, None)):
            if gate is not None:
                gate.set()

    def held(self, method: str) -> int:
        """How many calls of ``method`` are waiting at the gate right now."""
        return self._waiting.get(method, 0)

    def add_channel(self, channel_id: str, name: str, members: list[str]) -> None:
        """Register a channel; the bot can only post where it is a member, as on Slack."""
        self._channels[channel_id] = Channel(
            channel_id, name.lstrip("#"), list(members), is_private=channel_id.startswith("G")
        )

    def add_user(
        self,
        user_id: str,
        name: str,
        real_name: str | None = None,
        tz: str = "Europe/Berlin",
        email: str | None = None,
    ) -> None:
        """Register a human (their email ``name@sandbox.example`` unless given); everyone is
        in #general, like a fresh workspace."""
        self._users[user_id] = User(
            user_id, name, real_name or name, tz, email=email or f"{name}@sandbox.example"
        )
        general = self._channels[GENERAL_CHANNEL]
        if user_id not in general.members:
            general.members.append(user_id)

    def connected_sockets(self) -> int:
        return len(self._sockets)

    # ------------------------------------------------------------------ setup mistakes, proxies

    def fail_with_text(
        self,
        method: str,
        *,
        status: int = 502,
        text: str = "upstream connect error or disconnect/reset before headers",
        content_type: str = "text/plain",
        times: int = 1,
    ) -> None:
        """Make the next ``times`` calls of ``method`` answer as a proxy in front of Slack
        does when Slack is unreachable: an error status and a body that is not JSON."""
        self._failures[method] = _Failure(
            status, None, "", times, text=text, content_type=content_type
        )

    def remove_member(self, channel_id: str, user_id: str) -> None:
        """``user_id`` leaves (or is removed from) ``channel_id``; the bot too, as on Slack."""
        members = self.channel(channel_id).members
        if user_id in members:
            members.remove(user_id)

    def add_member(self, channel_id: str, user_id: str) -> None:
        """Membership only; ``SandboxTeammate.invite`` also sends ``member_joined_channel``."""
        members = self.channel(channel_id).members
        if user_id not in members:
            members.append(user_id)

    def archive(self, channel_id: str, *, archived: bool = True) -> None:
        """Archive ``channel_id`` (``archived=False``: unarchive it)."""
        self.channel(channel_id).is_archived = archived

    def subscribes_to(self, event_type: str) -> bool:
        """Whether the app's manifest subscribes to ``event_type``: Slack sends only those."""
        return event_type in manifest_bot_events()

    # ------------------------------------------------------------------ helpers shared with people

    def next_ts(self) -> str:
        """Strictly increasing message timestamps, formatted like Slack's."""
        self._clock_us += 100
        return f"{self._clock_us // 1_000_000}.{self._clock_us % 1_000_000:06d}"

    def new_id(self, prefix: str) -> str:
        self._ids += 1
        return f"{prefix}0{self._ids:08d}"

    def new_trigger_id(self) -> str:
        trigger = f"{self._ids + 1000}.{self._clock_us % 10**9}.{secrets.token_hex(16)}"
        self._ids += 1
        self._triggers[trigger] = time.monotonic()
        return trigger

    def new_response_url(self, target: ResponseTarget) -> str:
        key = secrets.token_urlsafe(12)
        self._response_targets[key] = target
        return f"{self.base_url}/response/{key}"

    def channel(self, channel_id: str) -> Channel:
        found = self._channels.get(channel_id)
        if found is None:
            raise AssertionError(f"unknown channel {channel_id}; add it with add_channel()")
        return found

    def user(self, user_id: str) -> User:
        found = self._users.get(user_id)
        if found is None:
            raise AssertionError(f"unknown user {user_id}; add it with add_user()")
        return found

    def find_message(self, channel: str, ts: str) -> SlackMessage | None:
        return next((m for m in self._messages.get(channel, []) if m.ts == ts), None)

    def all_messages_newest_first(self, channel: str | None = None) -> list[SlackMessage]:
        channels = [channel] if channel is not None else list(self._messages)
        found = [m for c in channels for m in self._messages.get(c, [])]
        return sorted(found, key=lambda m: float(m.ts), reverse=True)

    def store_message(self, message: SlackMessage) -> SlackMessage:
        self._messages.setdefault(message.channel, []).append(message)
        return message

    def remove_message(self, message: SlackMessage) -> None:
        self._messages[message.channel].remove(message)

    async def wait_for_ephemerals(self, user: str, more_than: int) -> None:
        """Until ``user`` has been shown more than ``more_than`` ephemeral messages."""
        while self._ephemeral_counts.get(user, 0) <= more_than:
            if self._ephemeral_arrived is None:
                self._ephemeral_arrived = asyncio.Event()
            await self._ephemeral_arrived.wait()

    def ephemeral_count(self, user: str) -> int:
        return self._ephemeral_counts.get(user, 0)

    def record_ephemeral(
        self, user: str, channel: str, body: JSON, via: Literal["ack", "response_url", "api"]
    ) -> None:
        self._ephemeral_counts[user] = self._ephemeral_counts.get(user, 0) + 1
        if self._ephemeral_arrived is not None:
            self._ephemeral_arrived.set()  # wake every waiter; each checks its own count
            self._ephemeral_arrived = None
        self._ephemerals.append(
            {
                "user": user,
                "channel": channel,
                "text": body.get("text"),
                "blocks": body.get("blocks") or [],
                "via": via,
            }
        )

    def record_ack_reply(self, user: str, channel: str, body: JSON | None) -> None:
        """A slash-command ack with content is shown to the user (or channel for in_channel)."""
        if not body or not (body.get("text") or body.get("blocks")):
            return
        if body.get("response_type") == "in_channel":
            self._post_as_app(channel, body, thread_ts=None)
        else:
            self.record_ephemeral(user, channel, body, "ack")

    def event_attempt(self, event_id: str) -> int:
        """0 for the first delivery of ``event_id``, then 1, 2, ... for redeliveries."""
        attempt = self._event_attempts.get(event_id, -1) + 1
        self._event_attempts[event_id] = attempt
        return attempt

    def message_json(self, message: SlackMessage) -> JSON:
        """The message as conversations.history / interaction payloads show it."""
        data: JSON = {"type": "message", "ts": message.ts, "text": message.text}
        if message.user:
            data["user"] = message.user
        if message.bot:
            data.update(bot_id=self.bot_id, app_id=self.app_id)
        data["team"] = self.team_id
        if message.blocks:
            data["blocks"] = message.blocks
        if message.files:
            data["files"] = [self._file_json(f) for f in message.files]
            data["upload"] = False
        if message.edits:
            data["edited"] = {"user": message.user, "ts": message.ts}
        if message.metadata is not None:
            data["metadata"] = message.metadata
        if message.reactions:
            data["reactions"] = [
                {"name": name, "users": [self.bot_user_id], "count": 1}
                for name in message.reactions
            ]
        if message.thread_ts and message.thread_ts != message.ts:
            data["thread_ts"] = message.thread_ts
            parent = self.find_message(message.channel, message.thread_ts)
            if parent is not None and parent.user:
                data["parent_user_id"] = parent.user
        replies = self.thread(message.channel, message.ts)
        if replies:
            data.update(
                thread_ts=message.ts,
                reply_count=len(replies),
                reply_users=sorted({r.user for r in replies if r.user}),
                reply_users_count=len({r.user for r in replies if r.user}),
                latest_reply=replies[-1].ts,
            )
        return data

    # ------------------------------------------------------------------ delivery to the bot

    async def deliver(
        self,
        kind: EnvelopeType,
        payload: JSON,
        *,
        accepts_response_payload: bool = False,
        retry_attempt: int = 0,
    ) -> Ack:
        """Send one request to the bot the way Slack would in the current ``mode``."""
        if self.mode == "http":
            if kind == "slash_commands":
                body = urlencode(payload).encode()
                ctype = "application/x-www-form-urlencoded"
            elif kind == "interactive":
                body = urlencode({"payload": json.dumps(payload)}).encode()
                ctype = "application/x-www-form-urlencoded"
            else:
                body = json.dumps(payload).encode()
                ctype = "application/json"
            headers = {"Content-Type": ctype, **sign(body, self.signing_secret)}
            if retry_attempt:
                headers["X-Slack-Retry-Num"] = str(retry_attempt)
                headers["X-Slack-Retry-Reason"] = "http_timeout"
            return await self.post_to_bot(body, headers)
        if self.mode != "socket":
            raise AssertionError(f"sandbox.mode must be 'socket' or 'http', not {self.mode!r}")
        return await self._deliver_socket(kind, payload, accepts_response_payload, retry_attempt)

    async def post_to_bot(self, body: bytes, headers: dict[str, str]) -> Ack:
        if not self.http_target:
            raise AssertionError("http mode needs sandbox.http_target (the bot's events URL)")
        assert self._client is not None, "sandbox not started"
        headers = {"User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)", **headers}
        try:
            async with self._client.post(
                self.http_target,
                data=body,
                headers=headers,
                timeout=ClientTimeout(total=self.ack_timeout),
            ) as resp:
                raw = await resp.text()
                status = resp.status
                is_json = resp.content_type == "application/json"
        except TimeoutError:
            raise AssertionError(f"bot did not answer within {self.ack_timeout} s") from None
        parsed: JSON | None = None
        if raw and is_json:
            loaded = json.loads(raw)
            parsed = loaded if isinstance(loaded, dict) else None
        elif raw and status == 200:
            parsed = {"text": raw}  # Bolt's ack("text") is a text/plain body
        return Ack(status, parsed, raw)

    async def _deliver_socket(
        self, kind: EnvelopeType, payload: JSON, accepts_response_payload: bool, retry_attempt: int
    ) -> Ack:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.ack_timeout
        while not self._sockets:
            if loop.time() > deadline:
                raise AssertionError("no Socket Mode connection: is the bot's handler connected?")
            await asyncio.sleep(0.01)
        ws = self._sockets[self._round_robin % len(self._sockets)]
        self._round_robin += 1
        envelope_id = str(uuid.uuid4())
        envelope: JSON = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload,
            "retry_attempt": retry_attempt,
            "retry_reason": "timeout" if retry_attempt else "",
        }
        future: asyncio.Future[JSON] = loop.create_future()
        self._pending_acks[envelope_id] = future
        try:
            await ws.send_str(json.dumps(envelope))
            ack = await asyncio.wait_for(future, max(deadline - loop.time(), 0.1))
        except TimeoutError:
            raise AssertionError(
                f"bot did not ack the {kind} envelope within {self.ack_timeout} s"
            ) from None
        finally:
            self._pending_acks.pop(envelope_id, None)
        body = ack.get("payload")
        return Ack(200, body if isinstance(body, dict) else None, json.dumps(ack))

    async def _handle_socket(self, request: web.Request) -> web.StreamResponse:
        ticket = request.query.get("ticket", "")
        if ticket not in self._tickets:
            return web.Response(status=401, text="invalid ticket")
        self._tickets.discard(ticket)
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._sockets.append(ws)
        try:
            await ws.send_json(
                {
                    "type": "hello",
                    "num_connections": len(self._sockets),
                    "debug_info": {
                        "host": "applink-sandbox-1",
                        "build_number": 1,
                        "approximate_connection_time": 18060,
                    },
                    "connection_info": {"app_id": self.app_id},
                }
            )
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                try:
                    data = json.loads(msg.data)
                except ValueError:
                    continue
                future = self._pending_acks.get(str(data.get("envelope_id")))
                if future is not None and not future.done():
                    future.set_result(data)
        finally:
            self._sockets.remove(ws)
        return ws

    # ------------------------------------------------------------------ Web API transport

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params, token = await self._read_params(request)
        self.calls.append(ApiCall(method, params))
        if time.monotonic() < self._unavailable_until and method != "apps.connections.open":
            self.unavailable_answers += 1
            return web.json_response({"ok": False, "error": "service_unavailable"}, status=503)
        gate = self._holds.get(method)
        once = self._next_holds.get(method)
        if gate is None and once is not None and once[0](params):
            del self._next_holds[method]
            gate = self._held_once[method] = once[1]
        if gate is not None:
            self._waiting[method] = self._waiting.get(method, 0) + 1
            try:
                await gate.wait()
            finally:
                self._waiting[method] -= 1
        failure = self._failures.get(method)
        if failure is not None and failure.remaining > 0:
            failure.remaining -= 1
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after else {}
            if failure.text is not None:
                return _proxy_error(failure, headers)
            return web.json_response(
                {"ok": False, "error": failure.error}, status=failure.status, headers=headers
            )
        handler = _METHODS.get(method)
        if handler is None:
            return web.json_response({"ok": False, "error": "unknown_method"})
        auth_error = self._auth_error(token, "app" if method == "apps.connections.open" else "bot")
        if auth_error:
            return web.json_response({"ok": False, "error": auth_error})
        # Slack names the token's scopes on every answer (what `hirebot doctor` checks).
        headers = {"X-OAuth-Scopes": ",".join(sorted(self.granted_scopes))}
        needed = self._needed_scope(method, params)
        if needed is not None and needed not in self.granted_scopes:
            refusal = {
                "ok": False,
                "error": "missing_scope",
                "needed": needed,
                "provided": headers["X-OAuth-Scopes"],
            }
            return web.json_response(refusal, headers=headers)
        try:
            result = handler(self, params)
        except ApiError as e:
            result = {"ok": False, "error": e.error, **e.extra}
        return web.json_response(result, headers=headers)

    def _needed_scope(self, method: str, params: JSON) -> str | None:
        """The scope ``method`` needs for these params (None: none, or not decidable here)."""
        needed = METHOD_SCOPES.get(method)
        if needed is None or "{kind}" not in needed:
            return needed
        key = str(params.get("channel") or "")
        channel = self._channels.get(key)
        if channel is not None:
            kind = "im" if channel.is_im else "groups" if channel.is_private else "channels"
        elif key in self._users:
            kind = "im"
        else:
            return None  # no such conversation: the method answers channel_not_found
        return needed.format(kind=kind)

    def _auth_error(self, token: str | None, needs: _TOKEN_KINDS) -> str | None:
        if not token:
            return "not_authed"
        kinds = {self.bot_token: "bot", self.app_token: "app"}
        kind = kinds.get(token)
        if kind is None:
            return "invalid_auth"
        return None if kind == needs else "not_allowed_token_type"

    @staticmethod
    async def _read_params(request: web.Request) -> tuple[JSON, str | None]:
        """Merge query, form and JSON params (slack_sdk uses all three) and pull the token."""
        params: JSON = dict(request.query)
        if request.method == "POST" and request.can_read_body:
            if request.content_type == "application/json":
                body = await request.json()
                if isinstance(body, dict):
                    params.update(body)
            else:
                form = await request.post()
                for key, field_value in form.items():
                    params[key] = field_value if isinstance(field_value, str) else "<binary>"
        token: str | None = None
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            token = auth.removeprefix("Bearer ").strip()
        form_token = params.pop("token", None)
        token = token or (str(form_token) if form_token else None)
        for key in _JSON_PARAMS:
            value = params.get(key)
            if isinstance(value, str) and value[:1] in ("[", "{"):
                with contextlib.suppress(ValueError):  # a bad string fails in the method
                    params[key] = json.loads(value)
        return params, token

    # ------------------------------------------------------------------ uploads, response_url

    async def _handle_upload(self, request: web.Request) -> web.Response:
        pending = self._uploads.get(request.match_info["file_id"])
        if pending is None:
            return web.Response(status=404, text="file not found")
        pending.data = await request.read()
        if self.upload_bytes_per_second:  # a slow link: the answer comes once it "arrived"
            await asyncio.sleep(len(pending.data) / self.upload_bytes_per_second)
        return web.Response(text=f"OK - {len(pending.data)}")

    async def _handle_download(self, request: web.Request) -> web.Response:
        if self._auth_error(request.headers.get("Authorization", "")[7:], "bot"):
            return web.Response(status=403, text="forbidden")
        if "files:read" not in self.granted_scopes:
            # What Slack does: a 200 with its sign-in page, not the file.
            return web.Response(text="<html>Sign in to Slack</html>", content_type="text/html")
        found = next((f for f in self.files if f.id == request.match_info["file_id"]), None)
        if found is None:
            return web.Response(status=404, text="file not found")
        return web.Response(body=found.data, content_type=self._mimetype(found.filename))

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        target = self._response_targets.get(request.match_info["key"])
        if target is None:
            return web.json_response({"ok": False, "error": "expired_url"}, status=404)
        if request.content_type == "application/json":
            body = await request.json()
        else:
            body = json.loads(str((await request.post()).get("payload", "{}")))
        if not isinstance(body, dict):
            return web.json_response({"ok": False, "error": "invalid_payload"}, status=400)
        self.calls.append(ApiCall("response_url", body))
        original = (
            self.find_message(target.channel, target.message_ts) if target.message_ts else None
        )
        if _flag(body, "delete_original") and original is not None:
            self._messages[original.channel].remove(original)
        elif _flag(body, "replace_original") and original is not None:
            if errors := validate_blocks(body.get("blocks") or []):
                return web.json_response({"ok": False, "error": "invalid_blocks", "errors": errors})
            original.text = str(body.get("text", ""))
            original.blocks = self._with_block_ids(body.get("blocks") or [])
            original.edits += 1
        elif body.get("response_type") == "in_channel":
            thread_ts = body.get("thread_ts") or (original.thread_ts if original else None)
            self._post_as_app(target.channel, body, thread_ts=thread_ts)
        else:
            self.record_ephemeral(target.user, target.channel, body, "response_url")
        return web.json_response({"ok": True})

    def _post_as_app(self, channel: str, body: JSON, thread_ts: str | None) -> SlackMessage:
        return self.store_message(
            SlackMessage(
                ts=self.next_ts(),
                channel=channel,
                text=str(body.get("text", "")),
                blocks=self._with_block_ids(body.get("blocks") or []),
                thread_ts=thread_ts,
                user=self.bot_user_id,
                bot=True,
            )
        )

    # ------------------------------------------------------------------ method plumbing

    def _resolve_channel(self, value: Any) -> Channel:
        """Accept an id, a name (with or without #) or a user id (opens the DM)."""
        key = str(value or "")
        if not key:
            raise ApiError("channel_not_found")
        if key in self._channels:
            return self._channels[key]
        name = key.lstrip("#")
        for channel in self._channels.values():
            if channel.name == name:
                return channel
        if key in self._users:
            return self._open_dm(key)
        raise ApiError("channel_not_found")

    def _open_dm(self, user_id: str) -> Channel:
        dm_id = "D" + user_id[1:]
        if dm_id not in self._channels:
            self._channels[dm_id] = Channel(dm_id, dm_id, [user_id, self.bot_user_id], is_im=True)
        return self._channels[dm_id]

    def _postable_channel(self, params: JSON, key: str = "channel") -> Channel:
        return _check_postable(self, self._resolve_channel(params.get(key)))

    def _message(self, channel: str, ts: Any) -> SlackMessage:
        found = self.find_message(channel, str(ts or ""))
        if found is None:
            raise ApiError("message_not_found")
        return found

    def _thread_root(self, channel: str, thread_ts: Any) -> str | None:
        if not thread_ts:
            return None
        parent = self.find_message(channel, str(thread_ts))
        if parent is None:
            raise ApiError("thread_not_found")
        return parent.thread_ts or parent.ts

    def _blocks(self, params: JSON) -> list[JSON]:
        blocks = params.get("blocks") or []
        if not isinstance(blocks, list):
            raise ApiError("invalid_blocks_format")
        if errors := validate_blocks(blocks):
            raise ApiError(
                "invalid_blocks",
                errors=errors,
                response_metadata={"messages": [f"[ERROR] {e}" for e in errors]},
            )
        return self._with_block_ids(blocks)

    @staticmethod
    def _with_block_ids(blocks: list[JSON]) -> list[JSON]:
        """Slack fills in a random block_id where the app gave none."""
        return [{**b, "block_id": b.get("block_id") or secrets.token_hex(2)} for b in blocks]

    def _user_json(self, user: User) -> JSON:
        offset = datetime.now(ZoneInfo(user.tz)).utcoffset()
        return {
            "id": user.id,
            "team_id": self.team_id,
            "name": user.name,
            "deleted": False,
            "real_name": user.real_name,
            "tz": user.tz,
            "tz_label": user.tz,
            "tz_offset": int(offset.total_seconds()) if offset else 0,
            "is_bot": user.is_bot,
            "is_app_user": False,
            "profile": {
                "real_name": user.real_name,
                "display_name": user.name,
                "real_name_normalized": user.real_name,
                "display_name_normalized": user.name,
                "team": self.team_id,
                # Slack leaves the email out, without an error, unless the token has
                # users:read.email (docs.slack.dev/reference/scopes/users.read.email).
                **(
                    {"email": user.email}
                    if user.email and "users:read.email" in self.granted_scopes
                    else {}
                ),
            },
        }

    def _channel_json(self, channel: Channel) -> JSON:
        return {
            "id": channel.id,
            "name": channel.name,
            "is_channel": not channel.is_im and not channel.is_private,
            "is_group": channel.is_private,
            "is_im": channel.is_im,
            "is_private": channel.is_private or channel.is_im,
            "is_archived": channel.is_archived,
            "is_general": channel.id == GENERAL_CHANNEL,
            "is_member": self.bot_user_id in channel.members,
            "created": channel.created,
            "creator": self.bot_user_id,
            "num_members": len(channel.members),
            "context_team_id": self.team_id,
        }

    @staticmethod
    def _mimetype(filename: str) -> str:
        return mimetypes.guess_type(filename)[0] or "application/octet-stream"

    def _file_json(self, f: UploadedFile) -> JSON:
        ext = f.filename.rsplit(".", 1)[-1].lower() if "." in f.filename else "binary"
        url = f"{self.base_url}/files/{f.id}/{f.filename}"
        clip: JSON = {}
        if f.subtype is not None:
            # Slack's clips: transcribed by Slack itself, which takes a while.
            clip = {
                "subtype": f.subtype,
                "media_display_type": "audio" if f.subtype == "slack_audio" else "video",
                "transcription": {"status": "processing"},
            }
        return {
            **clip,
            "id": f.id,
            "created": int(time.time()),
            "timestamp": int(time.time()),
            "name": f.filename,
            "title": f.title,
            "mimetype": f.mimetype or self._mimetype(f.filename),
            "filetype": ext,
            "pretty_type": ext.upper(),
            "user": f.user or self.bot_user_id,
            "user_team": self.team_id,
            "mode": "hosted",
            "is_external": False,
            "is_public": f.channel is not None,
            "size": len(f.data),
            "url_private": url,
            "url_private_download": url,
            "permalink": f"https://{self.team_domain}.slack.com/files/{self.bot_user_id}/{f.id}",
            "channels": [f.channel] if f.channel else [],
            "groups": [],
            "ims": [],
        }

    def _view_json(self, view: JSON, view_id: str) -> JSON:
        return {
            **view,
            "id": view_id,
            "team_id": self.team_id,
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "external_id": view.get("external_id", ""),
            "state": {"values": {}},
            "hash": f"{int(time.time())}.{secrets.token_hex(4)}",
            "root_view_id": view_id,
            "previous_view_id": None,
            "app_id": self.app_id,
            "bot_id": self.bot_id,
            "app_installed_team_id": self.team_id,
        }

    def _store_view(self, view: JSON) -> JSON:
        self._views_by_id[view["id"]] = view
        self.views.append(view)
        return {"ok": True, "view": view}

    def _view_param(self, params: JSON) -> JSON:
        view = params.get("view")
        if not isinstance(view, dict) or "type" not in view:
            raise ApiError("invalid_arguments")
        blocks = view.get("blocks") or []
        if errors := validate_blocks(blocks, limit=100):
            raise ApiError("invalid_arguments", response_metadata={"messages": errors})
        return {**view, "blocks": self._with_block_ids(blocks)}


# ---------------------------------------------------------------------- setup mistakes, proxies

MANIFEST = Path(__file__).resolve().parents[2] / "slack-app-manifest.yaml"


def manifest_shortcuts() -> dict[str, str]:
    """The manifest's shortcuts: callback_id → type ("message" or "global")."""
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    found = manifest.get("features", {}).get("shortcuts", [])
    return {str(s["callback_id"]): str(s["type"]) for s in found}


def manifest_bot_events() -> frozenset[str]:
    """The bot events hirebot's Slack app manifest subscribes to."""
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    events = manifest.get("settings", {}).get("event_subscriptions", {}).get("bot_events", [])
    return frozenset(str(e) for e in events)


def _check_postable(s: SlackApiEmulator, channel: Channel) -> Channel:
    """Slack's answers to a bot posting where it may not (without ``chat:write.public``).

    A private channel the bot is not in does not exist as far as its token can tell.
    """
    member = s.bot_user_id in channel.members
    if channel.is_private and not member:
        raise ApiError("channel_not_found")
    if channel.is_archived:
        raise ApiError("is_archived")
    if not member:
        raise ApiError("not_in_channel")
    return channel


def _proxy_error(failure: _Failure, headers: dict[str, str]) -> web.Response:
    return web.Response(
        status=failure.status,
        text=failure.text,
        content_type=failure.content_type,
        headers=headers,
    )


# ---------------------------------------------------------------------- Web API methods


def _auth_test(s: SlackApiEmulator, p: JSON) -> JSON:
    return {
        "ok": True,
        "url": f"https://{s.team_domain}.slack.com/",
        "team": "Sandbox",
        "user": s._users[s.bot_user_id].name,
        "team_id": s.team_id,
        "user_id": s.bot_user_id,
        "bot_id": s.bot_id,
        "is_enterprise_install": False,
    }


def _chat_post_message(s: SlackApiEmulator, p: JSON) -> JSON:
    channel = s._postable_channel(p)
    text = str(p.get("text") or "")
    blocks = s._blocks(p)
    if not text and not blocks and not p.get("attachments"):
        raise ApiError("no_text")
    if len(text) > 40_000:
        raise ApiError("msg_too_long")
    metadata = p.get("metadata")
    message = s.store_message(
        SlackMessage(
            ts=s.next_ts(),
            channel=channel.id,
            text=text,
            blocks=blocks,
            thread_ts=s._thread_root(channel.id, p.get("thread_ts")),
            user=s.bot_user_id,
            bot=True,
            metadata=metadata if isinstance(metadata, dict) else None,
        )
    )
    return {"ok": True, "channel": channel.id, "ts": message.ts, "message": s.message_json(message)}


def _chat_update(s: SlackApiEmulator, p: JSON) -> JSON:
    channel = s._resolve_channel(p.get("channel"))
    message = s._message(channel.id, p.get("ts"))
    if message.user != s.bot_user_id:
        raise ApiError("cant_update_message")
    if "blocks" in p:  # absent blocks are kept, [] removes them (Slack's documented rule)
        message.blocks = s._blocks(p)
    if "text" in p:
        message.text = str(p.get("text") or "")
    if not message.text and not message.blocks:
        raise ApiError("no_text")
    if isinstance(p.get("metadata"), dict):
        message.metadata = p["metadata"]
    message.edits += 1
    message.edited_at = time.monotonic()
    return {
        "ok": True,
        "channel": channel.id,
        "ts": message.ts,
        "text": message.text,
        "message": s.message_json(message),
    }


def _chat_delete(s: SlackApiEmulator, p: JSON) -> JSON:
    channel = s._resolve_channel(p.get("channel"))
    message = s._message(channel.id, p.get("ts"))
    if message.user != s.bot_user_id:
        raise ApiError("cant_delete_message")
    s._messages[channel.id].remove(message)
    return {"ok": True, "channel": channel.id, "ts": message.ts}


def _chat_post_ephemeral(s: SlackApiEmulator, p: JSON) -> JSON:
    channel = s._postable_channel(p)
    user = str(p.get("user") or "")
    if user not in s._users:
        raise ApiError("user_not_found")
    if user not in channel.members:
        raise ApiError("user_not_in_channel")
    blocks = s._blocks(p)
    if not p.get("text") and not blocks:
        raise ApiError("no_text")
    s.record_ephemeral(user, channel.id, {"text": p.get("text"), "blocks": blocks}, "api")
    return {"ok": True, "message_ts": s.next_ts()}


def _chat_get_permalink(s: SlackApiEmulator, p: JSON) -> JSON:
    channel = s._resolve_channel(p.get("channel"))
    message = s._message(channel.id, p.get("message_ts"))
    link = f"https://{s.team_domain}.slack.com/archives/{channel.id}/p{message.ts.replace('.', '')}"
    if message.thread_ts and message.thread_ts != message.ts:
        link += f"?thread_ts={message.thread_ts}&cid={channel.id}"
    return {"ok": True, "channel": channel.id, "permalink": link}


def _reactions_add(s: SlackApiEmulator, p: JSON) -> JSON:
    channel = s._resolve_channel(p.get("channel"))
    message = s._message(channel.id, p.get("timestamp"))
    name = str(p.get("name") or "").strip(":")
    if not name:
        raise ApiError("invalid_name")
    if name in message.reactions:
        raise ApiError("already_reacted")
    message.reactions.append(name)
    return {"ok": True}


def _check_trigger(s: SlackApiEmulator, p: JSON) -> None:
    issued = s._triggers.pop(str(p.get("trigger_id") or ""), None)
    if issued is None:
        raise ApiError("invalid_trigger_id")
    if time.monotonic() - issued > s.trigger_ttl:
        raise ApiError("expired_trigger_id")


def _views_open(s: SlackApiEmulator, p: JSON) -> JSON:
    _check_trigger(s, p)
    view = s._view_param(p)
    if view["type"] != "modal":
        raise ApiError("invalid_arguments")
    return s._store_view(s._view_json(view, s.new_id("V")))


def _views_publish(s: SlackApiEmulator, p: JSON) -> JSON:
    user = str(p.get("user_id") or "")
    if user not in s._users:
        raise ApiError("user_not_found")
    view = s._view_param(p)
    if view["type"] != "home":
        raise ApiError("invalid_arguments")
    stored = s._store_view(s._view_json(view, s.new_id("V")))
    s.home_views[user] = stored["view"]
    return stored


def _views_update(s: SlackApiEmulator, p: JSON) -> JSON:
    view_id = str(p.get("view_id") or "")
    if not view_id and p.get("external_id"):
        view_id = next(
            (k for k, v in s._views_by_id.items() if v.get("external_id") == p["external_id"]), ""
        )
    current = s._views_by_id.get(view_id)
    if current is None:
        raise ApiError("not_found")
    if p.get("hash") and p["hash"] != current["hash"]:
        raise ApiError("hash_conflict")
    updated = s._view_json(s._view_param(p), view_id)
    updated.update(root_view_id=current["root_view_id"], previous_view_id=current["id"])
    return s._store_view(updated)


def _conversations_replies(s: SlackApiEmulator, p: JSON) -> JSON:
    channel = s._resolve_channel(p.get("channel"))
    message = s.find_message(channel.id, str(p.get("ts") or ""))
    if message is None:
        raise ApiError("thread_not_found")
    root = s._message(channel.id, message.thread_ts or message.ts)
    replies = [
        r for r in s.thread(channel.id, root.ts) if _in_window(r.ts, p, default_inclusive=True)
    ]
    return {
        "ok": True,
        "messages": [s.message_json(m) for m in [root, *replies]],
        "has_more": False,
        "response_metadata": {"next_cursor": ""},
    }


def _in_window(ts: str, p: JSON, *, default_inclusive: bool = False) -> bool:
    inclusive = _flag(p, "inclusive") or default_inclusive
    oldest, latest = p.get("oldest"), p.get("latest")
    if oldest and (float(ts) < float(oldest) or (not inclusive and ts == str(oldest))):
        return False
    return not (latest and (float(ts) > float(latest) or (not inclusive and ts == str(latest))))


def _conversations_history(s: SlackApiEmulator, p: JSON) -> JSON:
    channel = s._resolve_channel(p.get("channel"))
    if s.bot_user_id not in channel.members:
        raise ApiError("not_in_channel")
    limit = int(p.get("limit") or 100)
    found = [m for m in reversed(s.messages(channel.id)) if _in_window(m.ts, p)]
    return {
        "ok": True,
        "messages": [s.message_json(m) for m in found[:limit]],
        "has_more": len(found) > limit,
        "pin_count": 0,
        "response_metadata": {"next_cursor": ""},
    }


def _conversations_members(s: SlackApiEmulator, p: JSON) -> JSON:
    channel = s._resolve_channel(p.get("channel"))
    return {"ok": True, "members": list(channel.members), "response_metadata": {"next_cursor": ""}}


def _conversations_info(s: SlackApiEmulator, p: JSON) -> JSON:
    return {"ok": True, "channel": s._channel_json(s._resolve_channel(p.get("channel")))}


def _conversations_open(s: SlackApiEmulator, p: JSON) -> JSON:
    users = [u for u in str(p.get("users") or "").split(",") if u]
    if len(users) != 1:
        raise ApiError("invalid_arguments" if not users else "not_supported")
    if users[0] not in s._users:
        raise ApiError("user_not_found")
    return {"ok": True, "channel": {"id": s._open_dm(users[0]).id}}


def _users_info(s: SlackApiEmulator, p: JSON) -> JSON:
    user = s._users.get(str(p.get("user") or ""))
    if user is None:
        raise ApiError("user_not_found")
    return {"ok": True, "user": s._user_json(user)}


def _files_get_upload_url(s: SlackApiEmulator, p: JSON) -> JSON:
    filename = str(p.get("filename") or "")
    length = int(p.get("length") or 0)
    if not filename or length <= 0:
        raise ApiError("invalid_arguments")
    file_id = s.new_id("F")
    s._uploads[file_id] = _PendingUpload(filename, length)
    return {"ok": True, "upload_url": f"{s.base_url}/upload/v1/{file_id}", "file_id": file_id}


def _files_complete_upload(s: SlackApiEmulator, p: JSON) -> JSON:
    entries = p.get("files")
    if not isinstance(entries, list) or not entries:
        raise ApiError("invalid_arguments")
    channel_ids = [c for c in str(p.get("channels") or "").split(",") if c]
    if p.get("channel_id"):
        channel_ids.insert(0, str(p["channel_id"]))
    channels = [s._postable_channel({"channel": c}) for c in channel_ids]
    thread_ts = s._thread_root(channels[0].id, p.get("thread_ts")) if channels else None
    done: list[UploadedFile] = []
    for entry in entries:
        pending = s._uploads.get(str(entry.get("id")))
        if pending is None or pending.data is None:
            raise ApiError("file_not_found")
        title = str(entry.get("title") or pending.filename)
        first = channels[0].id if channels else None
        done.append(
            UploadedFile(entry["id"], pending.filename, title, pending.data, first, thread_ts)
        )
    for entry in entries:
        s._uploads.pop(str(entry.get("id")), None)
    s.files.extend(done)
    for channel in channels:
        s.store_message(
            SlackMessage(
                ts=s.next_ts(),
                channel=channel.id,
                text=str(p.get("initial_comment") or ""),
                blocks=[],
                thread_ts=thread_ts,
                user=s.bot_user_id,
                bot=True,
                files=list(done),
            )
        )
    return {"ok": True, "files": [s._file_json(f) for f in done]}


def _files_delete(s: SlackApiEmulator, p: JSON) -> JSON:
    found = next((f for f in s.files if f.id == p.get("file")), None)
    if found is None:
        raise ApiError("file_not_found")
    s.files.remove(found)
    for messages in s._messages.values():
        for message in list(messages):
            if found in message.files:
                message.files.remove(found)
                if not message.files and not message.text:
                    messages.remove(message)  # a file share with no comment goes with its file
    return {"ok": True}


def _files_info(s: SlackApiEmulator, p: JSON) -> JSON:
    found = next((f for f in s.files if f.id == p.get("file")), None)
    if found is None:
        raise ApiError("file_not_found")
    return {"ok": True, "file": s._file_json(found), "comments": [], "response_metadata": {}}


def _files_upload_v1(s: SlackApiEmulator, p: JSON) -> JSON:
    raise ApiError("method_deprecated")  # files.upload was retired; use files_upload_v2


def _apps_connections_open(s: SlackApiEmulator, p: JSON) -> JSON:
    ticket = str(uuid.uuid4())
    s._tickets.add(ticket)
    host = s.base_url.removeprefix("http://")
    return {"ok": True, "url": f"ws://{host}/socket-mode?ticket={ticket}&app_id={s.app_id}"}


_METHODS: dict[str, Callable[[SlackApiEmulator, JSON], JSON]] = {
    "auth.test": _auth_test,
    "chat.postMessage": _chat_post_message,
    "chat.update": _chat_update,
    "chat.delete": _chat_delete,
    "chat.postEphemeral": _chat_post_ephemeral,
    "chat.getPermalink": _chat_get_permalink,
    "reactions.add": _reactions_add,
    "views.open": _views_open,
    "views.publish": _views_publish,
    "views.update": _views_update,
    "conversations.replies": _conversations_replies,
    "conversations.history": _conversations_history,
    "conversations.members": _conversations_members,
    "conversations.info": _conversations_info,
    "conversations.open": _conversations_open,
    "users.info": _users_info,
    "files.getUploadURLExternal": _files_get_upload_url,
    "files.completeUploadExternal": _files_complete_upload,
    "files.info": _files_info,
    "files.delete": _files_delete,
    "files.upload": _files_upload_v1,
    "apps.connections.open": _apps_connections_open,
}
