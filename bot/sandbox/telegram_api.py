"""Local emulator of the Telegram Bot API, served over real HTTP.

Why: the bot must be tested with the real python-telegram-bot (PTB) stack - request encoding,
long polling, error mapping, file downloads - without the internet and without mocking the
SDK. PTB is pointed at this server with ``base_url``/``base_file_url``; everything it sends is
recorded, answered with Telegram's real response shapes, and faults can be injected.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dtm
import functools
import html
import itertools
import json
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from types import TracebackType
from typing import Any, Self

from aiohttp import ClientSession, ClientTimeout, web
from telegram import (
    Audio,
    Chat,
    Document,
    Message,
    PhotoSize,
    User,
    Video,
    VideoNote,
    Voice,
)

from bot.sandbox.telegram_candidate import SandboxCandidate

JSONDict = dict[str, Any]

#: Telegram's getFile refuses files above 20 MB (bots may only download up to that size).
GET_FILE_LIMIT = 20 * 1024 * 1024
#: Telegram's upload limit for bots (multipart).
UPLOAD_LIMIT = 50 * 1024 * 1024
MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024

# Form-encoded params that are plain strings even when they look like JSON numbers/booleans.
_STRING_PARAMS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "inline_message_id",
        "file_id",
        "url",
        "action",
        "secret_token",
        "ip_address",
        "language_code",
        "business_connection_id",
        "message_effect_id",
        "voice",
        "video",
        "video_note",
        "audio",
        "document",
        "photo",
        "thumbnail",
        "file_name",
    }
)

_HTML_TAGS = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "a",
        "code",
        "pre",
        "blockquote",
        "tg-emoji",
    }
)
_MDV2_RESERVED = set("_*[]()~`>#+-=|{}.!")


class BotApiError(Exception):
    """An error answered in Telegram's shape: ``{"ok": false, "error_code", "description"}``."""

    def __init__(self, status: int, description: str, parameters: JSONDict | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def payload(self) -> JSONDict:
        body: JSONDict = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(reason: str) -> BotApiError:
    return BotApiError(400, f"Bad Request: {reason}")


@dataclass(frozen=True)
class ApiCall:
    """One Bot API request the bot made (params decoded; uploads summarised, no bytes)."""

    method: str
    params: JSONDict
    status: int = 200
    at: float = field(default_factory=time.monotonic)  # when it arrived (latency benches)


@dataclass
class SentMessage:
    """A message the bot sent, with later edits applied.

    ``text`` is the plain text Telegram would show (markup of ``parse_mode`` removed; the
    caption for media messages). ``raw_text`` is exactly what the bot sent.
    """

    message_id: int
    chat_id: int
    text: str | None
    reply_markup: JSONDict | None
    kind: str
    file_id: str | None = None
    edits: int = 0
    parse_mode: str | None = None
    raw_text: str | None = None
    deleted: bool = False
    payload: JSONDict = field(default_factory=dict, repr=False)
    at: float = field(default_factory=time.monotonic)  # when it was sent (load bench)

    def buttons(self) -> list[tuple[str, str]]:
        """(label, callback_data) of every inline button that has callback data."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [
            (str(b.get("text", "")), str(b["callback_data"]))
            for row in rows
            for b in row
            if "callback_data" in b
        ]


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    size: int
    data: bytes | None  # None: a size-only stand-in (oversized files)


@dataclass
class _Fault:
    status: int
    description: str
    parameters: JSONDict | None
    remaining: int


WEBHOOK_DEFAULT_CONNECTIONS = 40
WEBHOOK_MAX_CONNECTIONS = 100


def _webhook_queue(update: JSONDict) -> object:
    """The Bot API server's queue of an update: button presses by user, the rest by chat."""
    query = update.get("callback_query")
    if isinstance(query, dict):
        return ("user", query.get("from", {}).get("id"))
    for value in update.values():
        if isinstance(value, dict) and isinstance(value.get("chat"), dict):
            return ("chat", value["chat"].get("id"))
    return ("update", update.get("update_id"))


def _forget(pushing: dict[object, asyncio.Task[None]], queue: object, _task: object) -> None:
    pushing.pop(queue, None)


@dataclass
class _QueuedUpdate:
    update_id: int
    payload: JSONDict
    forced: bool = False  # a redelivery: survives the current offset until delivered once
    delivered: bool = False


@dataclass(frozen=True)
class _MediaSpec:
    field: str
    kind: str
    folder: str
    extension: str
    default_mime: str


_MEDIA_METHODS: dict[str, _MediaSpec] = {
    "sendvoice": _MediaSpec("voice", "voice", "voice", "oga", "audio/ogg"),
    "sendvideo": _MediaSpec("video", "video", "videos", "mp4", "video/mp4"),
    "sendvideonote": _MediaSpec("video_note", "video_note", "video_notes", "mp4", "video/mp4"),
    "senddocument": _MediaSpec("document", "document", "documents", "bin", "application/pdf"),
    "sendaudio": _MediaSpec("audio", "audio", "music", "mp3", "audio/mpeg"),
    "sendphoto": _MediaSpec("photo", "photo", "photos", "jpg", "image/jpeg"),
}


def plain_text(text: str, parse_mode: str | None) -> str:
    """Validate ``text`` like Telegram does for ``parse_mode`` and return the visible text."""
    mode = (parse_mode or "").lower()
    if mode == "html":
        return _parse_html(text)
    if mode == "markdownv2":
        return _parse_markdown_v2(text)
    if mode == "markdown":
        return re.sub(r"[*_`\[\]]", "", text)
    return text


def _parse_html(text: str) -> str:
    stack: list[str] = []
    out: list[str] = []
    pos = 0
    for match in re.finditer(r"<[^<>]*>?", text):
        out.append(text[pos : match.start()])
        pos = match.end()
        token = match.group(0)
        offset = len(text[: match.start()].encode("utf-8"))
        if not token.endswith(">"):
            raise bad_request(f"can't parse entities: Unclosed start tag at byte offset {offset}")
        closing = token.startswith("</")
        name_match = re.match(r"</?\s*([A-Za-z][A-Za-z0-9-]*)", token)
        name = name_match.group(1).lower() if name_match else ""
        if not closing:
            if name not in _HTML_TAGS:
                raise bad_request(
                    f'can\'t parse entities: Unsupported start tag "{name}" at byte offset {offset}'
                )
            stack.append(name)
            continue
        if not stack or stack[-1] != name:
            raise bad_request(
                f"can't parse entities: Unmatched end tag at byte offset {offset}, expected \"</"
                f'{stack[-1] if stack else ""}>", found "</{name}>"'
            )
        stack.pop()
    if stack:
        raise bad_request(
            f"can't parse entities: Can't find end tag corresponding to start tag \"{stack[-1]}\""
        )
    out.append(text[pos:])
    return html.unescape("".join(out))


def _parse_markdown_v2(text: str) -> str:
    out: list[str] = []
    in_code = False
    chars = iter(enumerate(text))
    for index, char in chars:
        if char == "\\":
            nxt = next(chars, None)
            if nxt is not None:
                out.append(nxt[1])
            continue
        if char == "`":
            in_code = not in_code
            continue
        if in_code:
            out.append(char)
            continue
        if char in "_*~|[]()":
            continue  # formatting markers (a simplification: balance is not checked)
        if char in _MDV2_RESERVED:
            offset = len(text[:index].encode("utf-8"))
            raise bad_request(
                f"can't parse entities: Character '{char}' is reserved and must be escaped with "
                f"the preceding '\\' (byte offset {offset})"
            )
        out.append(char)
    return "".join(out)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _decode_form_value(key: str, value: str) -> Any:
    if key in _STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


class TelegramSandbox:
    """Async context manager running a Bot API emulator on 127.0.0.1 (random free port)."""

    def __init__(
        self, token: str = "123456:SANDBOX-TOKEN", bot_username: str = "hirebot_sandbox_bot"
    ) -> None:
        self.token = token
        self.bot_username = bot_username
        self.bot_id = int(token.split(":", 1)[0]) if token.split(":", 1)[0].isdigit() else 1
        self.api_url = ""
        self.file_url = ""
        self.calls: list[ApiCall] = []
        self.webhook_url = ""
        self.webhook_secret = ""
        # Webhook mode: (update_id, HTTP status) of every push to the bot, in order.
        self.webhook_deliveries: list[tuple[int, int]] = []
        self.webhook_max_connections = WEBHOOK_DEFAULT_CONNECTIONS
        self.commands: dict[str, list[JSONDict]] = {}
        self._pusher: asyncio.Task[None] | None = None

        self._runner: web.AppRunner | None = None
        self._changed = asyncio.Condition()
        self._closing = False
        self._queue: list[_QueuedUpdate] = []
        self._history: dict[int, JSONDict] = {}
        # When each update was first sent by its user (time.monotonic(); redeliveries keep it).
        self.sent_at: dict[int, float] = {}
        self._update_ids = itertools.count(1)
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._file_counter = itertools.count()
        self._files: dict[str, StoredFile] = {}
        self._faults: dict[str, _Fault] = {}
        self._sent: dict[int, list[SentMessage]] = {}
        self._candidates: dict[int, SandboxCandidate] = {}
        self._open_callbacks: set[str] = set()
        self._in_flight = 0
        self.parked_polls = 0  # getUpdates calls waiting for an update (a long poll)
        self._last_activity = time.monotonic()
        self._holding_updates = False
        self._confirmation_hold: asyncio.Event | None = None

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> Self:
        app = web.Application(client_max_size=UPLOAD_LIMIT + 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = int(self._runner.addresses[0][1])
        self.api_url = f"http://127.0.0.1:{port}/bot"
        self.file_url = f"http://127.0.0.1:{port}/file/bot"
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._closing = True
        await self._notify()  # releases pending long polls with an empty result
        if self._pusher is not None:
            self._pusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pusher
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # ------------------------------------------------------------------ public helpers

    def candidate(
        self,
        user_id: int,
        first_name: str = "Jane",
        last_name: str | None = "Doe",
        language_code: str = "en",
    ) -> SandboxCandidate:
        """A user in a private chat with the bot (chat_id == user_id)."""
        if user_id not in self._candidates:
            self._candidates[user_id] = SandboxCandidate(
                self, user_id, first_name, last_name, language_code
            )
        return self._candidates[user_id]

    def messages_to(self, chat_id: int) -> list[SentMessage]:
        """Everything the bot sent to ``chat_id``, oldest first (deleted ones flagged)."""
        return list(self._sent.get(chat_id, []))

    def calls_of(self, method: str) -> list[ApiCall]:
        return [c for c in self.calls if c.method.lower() == method.lower()]

    def fail(
        self,
        method: str,
        *,
        status: int = 429,
        retry_after: int | None = 1,
        times: int = 1,
        description: str | None = None,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` with a Telegram-shaped error."""
        parameters: JSONDict | None = None
        if status == 429:
            seconds = retry_after if retry_after is not None else 1
            parameters = {"retry_after": seconds}
            description = description or f"Too Many Requests: retry after {seconds}"
        elif description is None:
            description = {
                400: "Bad Request",
                403: "Forbidden: bot was blocked by the user",
                409: "Conflict: terminated by other getUpdates request",
            }.get(status) or _phrase(status)
        if times <= 0:  # fail(method, times=0) clears a fault, as in the Slack sandbox
            self._faults.pop(method.lower(), None)
            return
        self._faults[method.lower()] = _Fault(status, description, parameters, times)

    def update(self, update_id: int) -> JSONDict:
        """The update ``update_id`` as it was sent to the bot."""
        return self._history[update_id]

    def redeliver(self, update_id: int) -> None:
        """Queue an already-sent update again, same update_id (at-least-once delivery)."""
        if update_id not in self._history:
            raise KeyError(f"no update with update_id {update_id}")
        self._queue.append(_QueuedUpdate(update_id, self._history[update_id], forced=True))
        self._notify_nowait()

    def hold_updates(self) -> None:
        """Hand out no updates until :meth:`release_updates`: updates sent meanwhile reach
        the bot as one batch, as after a network stall."""
        self._holding_updates = True

    def release_updates(self) -> None:
        self._holding_updates = False
        self._notify_nowait()

    def hold_next_confirmation(self) -> asyncio.Event:
        """Stall the next getUpdates that confirms handed-out updates, after confirming them.

        Telegram forgets updates as soon as a getUpdates names an offset past them; the
        returned event is set at that moment, and that request is never answered (the
        sandbox closes it on exit), so a test can kill the bot right then.
        """
        self._confirmation_hold = asyncio.Event()
        return self._confirmation_hold

    def stored_file(self, file_id: str) -> bytes:
        """Bytes of a file the bot uploaded or a candidate sent."""
        stored = self._files.get(file_id)
        if stored is None:
            raise KeyError(f"unknown file_id {file_id!r}")
        if stored.data is None:
            raise LookupError(f"file {file_id!r} is a size-only stand-in ({stored.size} bytes)")
        return stored.data

    @property
    def pending_updates(self) -> int:
        """Updates not yet confirmed by the bot (via a later getUpdates offset)."""
        return len(self._queue)

    async def wait_idle(self, *, quiet: float = 0.2, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Wait until all updates were confirmed and no bot request came for ``quiet`` s."""
        deadline = time.monotonic() + timeout
        while True:
            now = time.monotonic()
            if not self._queue and self._in_flight == 0 and now - self._last_activity >= quiet:
                return
            if now > deadline:
                raise AssertionError(
                    f"sandbox not idle after {timeout}s: {len(self._queue)} pending updates, "
                    f"{self._in_flight} requests in flight"
                )
            await asyncio.sleep(0.02)

    async def wait_for_sent(
        self,
        predicate: Callable[[], SentMessage | None],
        timeout: float,  # noqa: ASYNC109
    ) -> SentMessage | None:
        """Re-evaluate ``predicate`` whenever the bot sends/edits, until truthy or timeout."""
        async with self._changed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait_for(predicate), timeout)
        return predicate()

    # ------------------------------------------------------------------ used by candidates

    def _user(self, user_id: int) -> SandboxCandidate:
        return self._candidates[user_id]

    def _next_update_id(self) -> int:
        return next(self._update_ids)

    def _next_message_id(self, chat_id: int) -> int:
        return next(self._message_ids.setdefault(chat_id, itertools.count(1)))

    def _store_file(
        self, data: bytes | None, folder: str, extension: str, size: int | None = None
    ) -> StoredFile:
        n = next(self._file_counter)
        stored = StoredFile(
            file_id=f"SBX{n}-{secrets.token_urlsafe(24)}",
            file_unique_id=f"U{n}{secrets.token_hex(4)}",
            file_path=f"{folder}/file_{n}.{extension}",
            size=size if size is not None else len(data or b""),
            data=data,
        )
        self._files[stored.file_id] = stored
        return stored

    def _open_callback(self, query_id: str) -> None:
        self._open_callbacks.add(query_id)

    async def _enqueue(self, update: JSONDict) -> int:
        update_id = int(update["update_id"])
        self._history[update_id] = update
        self.sent_at[update_id] = time.monotonic()
        self._queue.append(_QueuedUpdate(update_id, update))
        await self._notify()
        return update_id

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def _notify_nowait(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop, so nobody can be waiting
        task = loop.create_task(self._notify())
        task.add_done_callback(lambda t: t.exception())

    # ------------------------------------------------------------------ HTTP layer

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if not secrets.compare_digest(request.match_info["token"], self.token):
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        long_poll = method.lower() == "getupdates"
        self._in_flight += 0 if long_poll else 1
        try:
            try:
                params, uploads = await self._read_params(request)
            except web.HTTPRequestEntityTooLarge:
                err = BotApiError(413, "Request Entity Too Large")
                self.calls.append(ApiCall(method, {}, err.status))
                return web.json_response(err.payload(), status=err.status)
            recorded = dict(params)
            for name, (filename, content_type, data) in uploads.items():
                recorded[name] = {"upload": filename, "mime_type": content_type, "size": len(data)}
            try:
                fault = self._take_fault(method)
                if fault is not None:
                    raise fault
                result = await self._dispatch(method, params, uploads, recorded)
            except BotApiError as err:
                self.calls.append(ApiCall(method, recorded, err.status))
                return web.json_response(err.payload(), status=err.status)
            self.calls.append(ApiCall(method, recorded))
            return web.json_response({"ok": True, "result": result})
        finally:
            if not long_poll:
                self._in_flight -= 1
                self._last_activity = time.monotonic()

    async def _handle_file(self, request: web.Request) -> web.Response:
        if not secrets.compare_digest(request.match_info["token"], self.token):
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        path = request.match_info["path"]
        for stored in self._files.values():
            if stored.file_path == path and stored.data is not None:
                return web.Response(body=stored.data, content_type="application/octet-stream")
        return web.json_response(
            {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
        )

    async def _read_params(
        self, request: web.Request
    ) -> tuple[JSONDict, dict[str, tuple[str, str, bytes]]]:
        params: JSONDict = {}
        uploads: dict[str, tuple[str, str, bytes]] = {}
        for key, value in request.query.items():
            params[key] = _decode_form_value(key, value)
        if request.method != "POST" or not request.body_exists:
            return params, uploads
        if request.content_type == "application/json":
            body = await request.json()
            if isinstance(body, dict):
                params.update(body)
            return params, uploads
        form = await request.post()
        for key, item in form.items():
            if isinstance(item, web.FileField):
                uploads[key] = (item.filename, item.content_type, item.file.read())
            elif isinstance(item, str):
                params[key] = _decode_form_value(key, item)
        return params, uploads

    def _take_fault(self, method: str) -> BotApiError | None:
        fault = self._faults.get(method.lower())
        if fault is None:
            return None
        fault.remaining -= 1
        if fault.remaining <= 0:
            del self._faults[method.lower()]
        return BotApiError(fault.status, fault.description, fault.parameters)

    async def _dispatch(
        self,
        method: str,
        params: JSONDict,
        uploads: dict[str, tuple[str, str, bytes]],
        recorded: JSONDict,
    ) -> Any:
        name = method.lower()
        if name in _MEDIA_METHODS:
            return await self._send_media(_MEDIA_METHODS[name], params, uploads, recorded)
        handler = self._handlers().get(name)
        if handler is None:
            raise BotApiError(404, "Not Found")
        return await handler(params)

    def _handlers(self) -> dict[str, Callable[[JSONDict], Awaitable[Any]]]:
        return {
            "getme": self._get_me,
            "logout": self._true,
            "close": self._true,
            "deletewebhook": self._delete_webhook,
            "setwebhook": self._set_webhook,
            "getwebhookinfo": self._get_webhook_info,
            "getupdates": self._get_updates,
            "sendmessage": self._send_message,
            "editmessagetext": self._edit_message_text,
            "editmessagecaption": self._edit_message_caption,
            "editmessagereplymarkup": self._edit_message_reply_markup,
            "answercallbackquery": self._answer_callback_query,
            "getfile": self._get_file,
            "setmycommands": self._set_my_commands,
            "getmycommands": self._get_my_commands,
            "deletemycommands": self._delete_my_commands,
            "deletemessage": self._delete_message,
            "sendchataction": self._send_chat_action,
        }

    # ------------------------------------------------------------------ methods

    def _bot_user(self) -> User:
        return User(
            id=self.bot_id,
            is_bot=True,
            first_name="hirebot",
            username=self.bot_username,
            can_join_groups=True,
            can_read_all_group_messages=False,
            supports_inline_queries=False,
        )

    async def _true(self, params: JSONDict) -> bool:
        return True

    async def _get_me(self, params: JSONDict) -> JSONDict:
        return self._bot_user().to_dict()

    async def _delete_webhook(self, params: JSONDict) -> bool:
        self.webhook_url = ""
        if params.get("drop_pending_updates"):
            self._queue.clear()
        return True

    async def _set_webhook(self, params: JSONDict) -> bool:
        self.webhook_url = str(params.get("url", ""))
        # Clamped, not refused, like the Bot API server's get_integer_arg (default 40).
        asked = int(params.get("max_connections") or WEBHOOK_DEFAULT_CONNECTIONS)
        self.webhook_max_connections = min(max(asked, 1), WEBHOOK_MAX_CONNECTIONS)
        self.webhook_secret = str(params.get("secret_token", ""))
        if params.get("drop_pending_updates"):
            self._queue.clear()
        if self._pusher is None or self._pusher.done():
            self._pusher = asyncio.create_task(self._push_updates(), name="sandbox-webhook")
        await self._notify()
        return True

    async def _push_updates(self) -> None:
        """Webhook mode, as the Bot API server does it (tdlib/telegram-bot-api,
        WebhookActor.cpp and Client.cpp): up to ``max_connections`` POSTs at once, but one at a
        time per queue, oldest first, so a queue's updates arrive in order. A chat's messages
        share a queue (the chat id); a user's button presses share another (the user id), so a
        press and a message of one private chat may overtake each other. A non-2xx answer or
        no answer means: that queue tries again shortly."""
        pushing: dict[object, asyncio.Task[None]] = {}
        async with ClientSession() as http:
            try:
                while not self._closing and self.webhook_url:
                    started = False
                    for queued in sorted(self._queue, key=lambda q: q.update_id):
                        if len(pushing) >= self.webhook_max_connections:
                            break
                        queue = _webhook_queue(queued.payload)
                        if queue in pushing:
                            continue
                        task = asyncio.create_task(self._push_one(http, queued))
                        task.add_done_callback(functools.partial(_forget, pushing, queue))
                        pushing[queue] = task
                        started = True
                    if started:
                        continue
                    async with self._changed:
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(self._changed.wait(), 0.05 if pushing else 0.5)
            finally:
                for task in list(pushing.values()):
                    task.cancel()
                await asyncio.gather(*pushing.values(), return_exceptions=True)

    async def _push_one(self, http: ClientSession, queued: _QueuedUpdate) -> None:
        headers = {"X-Telegram-Bot-Api-Secret-Token": self.webhook_secret}
        try:
            async with http.post(
                self.webhook_url,
                json=queued.payload,
                headers=headers,
                timeout=ClientTimeout(total=30),
            ) as response:
                status = response.status
        except (OSError, TimeoutError):
            status = 0
        self.webhook_deliveries.append((queued.update_id, status))
        if 200 <= status < 300:
            if queued in self._queue:
                self._queue.remove(queued)
            self._last_activity = time.monotonic()
        else:
            await asyncio.sleep(0.5)
        async with self._changed:
            self._changed.notify_all()

    async def _get_webhook_info(self, params: JSONDict) -> JSONDict:
        return {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._queue),
        }

    async def _get_updates(self, params: JSONDict) -> list[JSONDict]:
        if self.webhook_url:
            raise BotApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use "
                "deleteWebhook to delete the webhook first",
            )
        offset = int(params.get("offset") or 0)
        limit = max(1, min(100, int(params.get("limit") or 100)))
        timeout = max(0.0, float(params.get("timeout") or 0))
        allowed = params.get("allowed_updates") or None
        handed_out = {q.update_id for q in self._queue if q.delivered}
        self._confirm(offset)
        confirmed = handed_out - {q.update_id for q in self._queue}
        if confirmed and self._confirmation_hold is not None:
            self._confirmation_hold.set()
            self._confirmation_hold = None
            async with self._changed:
                await self._changed.wait_for(lambda: self._closing)
            return []

        def ready() -> bool:
            return self._closing or (bool(self._queue) and not self._holding_updates)

        if not ready() and timeout > 0:
            self.parked_polls += 1
            try:
                async with self._changed:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._changed.wait_for(ready), timeout)
            finally:
                self.parked_polls -= 1
        if self._closing or self._holding_updates:
            return []
        batch = sorted(self._queue, key=lambda q: q.update_id)
        if allowed:
            kept = [q for q in batch if any(k in allowed for k in q.payload if k != "update_id")]
            self._queue = [q for q in self._queue if q in kept]
            batch = kept
        batch = batch[:limit]
        for queued in batch:
            queued.delivered = True
        return [q.payload for q in batch]

    def _confirm(self, offset: int) -> None:
        if offset < 0:
            keep = sorted(self._queue, key=lambda q: q.update_id)[offset:]
            self._queue = keep
        elif offset > 0:
            self._queue = [
                q
                for q in self._queue
                if not (q.update_id < offset and (q.delivered or not q.forced))
            ]

    def _chat(self, params: JSONDict) -> tuple[int, Chat]:
        raw = params.get("chat_id")
        if raw is None or raw == "":
            raise bad_request("chat_id is empty")
        try:
            chat_id = int(raw)
        except (TypeError, ValueError):
            raise bad_request("chat not found") from None
        candidate = self._candidates.get(chat_id)
        if candidate is None:
            raise bad_request("chat not found")
        if candidate.blocked:
            raise BotApiError(403, "Forbidden: bot was blocked by the user")
        return chat_id, candidate.chat()

    def _message_dict(self, chat_id: int, chat: Chat, **fields: Any) -> JSONDict:
        message = Message(
            message_id=self._next_message_id(chat_id),
            date=dtm.datetime.now(dtm.UTC),
            chat=chat,
            from_user=self._bot_user(),
            **fields,
        )
        return message.to_dict()

    def _record_sent(self, sent: SentMessage) -> None:
        self._sent.setdefault(sent.chat_id, []).append(sent)
        self._notify_nowait()

    @staticmethod
    def _markup(params: JSONDict) -> JSONDict | None:
        markup = params.get("reply_markup")
        if markup is None or markup == "":
            return None
        if isinstance(markup, str):
            try:
                markup = json.loads(markup)
            except ValueError:
                raise bad_request("can't parse reply keyboard markup JSON object") from None
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        for row in markup.get("inline_keyboard", []):
            for button in row:
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode()) <= 64:
                    raise bad_request("BUTTON_DATA_INVALID")
        return markup

    async def _send_message(self, params: JSONDict) -> JSONDict:
        chat_id, chat = self._chat(params)
        raw_text = str(params.get("text") or "")
        if not raw_text.strip():
            raise bad_request("message text is empty")
        parse_mode = params.get("parse_mode") or None
        text = plain_text(raw_text, parse_mode)
        if len(text) > MAX_TEXT_LENGTH:
            raise bad_request("message is too long")
        markup = self._markup(params)
        payload = self._message_dict(chat_id, chat, text=text)
        if markup is not None:
            payload["reply_markup"] = markup
        self._record_sent(
            SentMessage(
                message_id=int(payload["message_id"]),
                chat_id=chat_id,
                text=text,
                reply_markup=markup,
                kind="text",
                parse_mode=parse_mode,
                raw_text=raw_text,
                payload=payload,
            )
        )
        return payload

    async def _send_media(
        self,
        spec: _MediaSpec,
        params: JSONDict,
        uploads: dict[str, tuple[str, str, bytes]],
        recorded: JSONDict,
    ) -> JSONDict:
        chat_id, chat = self._chat(params)
        if spec.field in uploads:
            filename, content_type, data = uploads[spec.field]
            if len(data) > UPLOAD_LIMIT:
                # The whole request may carry a little more (captions, markup), one file not.
                raise BotApiError(413, "Request Entity Too Large")
            ext = filename.rsplit(".", 1)[-1] if "." in filename else spec.extension
            stored = self._store_file(data, spec.folder, ext)
            mime = content_type if content_type != "application/octet-stream" else None
            mime = mime or spec.default_mime
            recorded[spec.field]["file_id"] = stored.file_id
        else:
            ref = params.get(spec.field)
            if not ref:
                raise bad_request(f"there is no {spec.field} in the request")
            known = self._files.get(str(ref))
            if known is None:
                raise bad_request("wrong file identifier/HTTP URL specified")
            stored, filename, mime = known, known.file_path.rsplit("/", 1)[-1], spec.default_mime
        raw_caption = params.get("caption")
        parse_mode = params.get("parse_mode") or None
        caption = plain_text(str(raw_caption), parse_mode) if raw_caption else None
        if caption is not None and len(caption) > MAX_CAPTION_LENGTH:
            raise bad_request("message caption is too long")
        duration = int(params.get("duration") or 0)
        ids: dict[str, Any] = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id}
        media: Any
        if spec.kind == "voice":
            media = Voice(**ids, duration=duration, mime_type=mime, file_size=stored.size)
        elif spec.kind == "video":
            media = Video(
                **ids,
                width=int(params.get("width") or 640),
                height=int(params.get("height") or 360),
                duration=duration,
                mime_type=mime,
                file_size=stored.size,
            )
        elif spec.kind == "video_note":
            length = int(params.get("length") or 240)
            media = VideoNote(**ids, length=length, duration=duration, file_size=stored.size)
        elif spec.kind == "audio":
            media = Audio(
                **ids, duration=duration, mime_type=mime, file_name=filename, file_size=stored.size
            )
        elif spec.kind == "photo":
            media = (PhotoSize(**ids, width=800, height=600, file_size=stored.size),)
        else:
            media = Document(**ids, file_name=filename, mime_type=mime, file_size=stored.size)
        payload = self._message_dict(chat_id, chat, caption=caption, **{spec.field: media})
        markup = self._markup(params)
        if markup is not None:
            payload["reply_markup"] = markup
        self._record_sent(
            SentMessage(
                message_id=int(payload["message_id"]),
                chat_id=chat_id,
                text=caption,
                reply_markup=markup,
                kind=spec.kind,
                file_id=stored.file_id,
                parse_mode=parse_mode,
                raw_text=str(raw_caption) if raw_caption else None,
                payload=payload,
            )
        )
        return payload

    def _find_sent(self, params: JSONDict, action: str) -> SentMessage:
        if params.get("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")
        chat_id, _ = self._chat(params)
        message_id = int(params.get("message_id") or 0)
        for sent in self._sent.get(chat_id, []):
            if sent.message_id == message_id and not sent.deleted:
                return sent
        raise bad_request(f"message to {action} not found")

    def _apply_edit(self, sent: SentMessage, markup: JSONDict | None) -> JSONDict:
        sent.reply_markup = markup
        sent.edits += 1
        sent.payload["edit_date"] = int(time.time())
        if markup is None:
            sent.payload.pop("reply_markup", None)
        else:
            sent.payload["reply_markup"] = markup
        self._notify_nowait()
        return sent.payload

    async def _edit_message_text(self, params: JSONDict) -> JSONDict:
        sent = self._find_sent(params, "edit")
        if sent.kind != "text":
            raise bad_request("there is no text in the message to edit")
        raw_text = str(params.get("text") or "")
        if not raw_text.strip():
            raise bad_request("message text is empty")
        parse_mode = params.get("parse_mode") or None
        text = plain_text(raw_text, parse_mode)
        # Like Telegram: an edit without reply_markup removes the inline keyboard.
        markup = self._markup(params)
        if text == sent.text and markup == sent.reply_markup:
            raise bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        sent.text, sent.raw_text, sent.parse_mode = text, raw_text, parse_mode
        sent.payload["text"] = text
        return self._apply_edit(sent, markup)

    async def _edit_message_caption(self, params: JSONDict) -> JSONDict:
        sent = self._find_sent(params, "edit")
        if sent.kind == "text":
            raise bad_request("there is no caption in the message to edit")
        raw = params.get("caption")
        parse_mode = params.get("parse_mode") or None
        caption = plain_text(str(raw), parse_mode) if raw else None
        markup = self._markup(params)
        if caption == sent.text and markup == sent.reply_markup:
            raise bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        sent.text, sent.raw_text, sent.parse_mode = caption, str(raw) if raw else None, parse_mode
        if caption is None:
            sent.payload.pop("caption", None)
        else:
            sent.payload["caption"] = caption
        return self._apply_edit(sent, markup)

    async def _edit_message_reply_markup(self, params: JSONDict) -> JSONDict:
        sent = self._find_sent(params, "edit")
        markup = self._markup(params)
        if markup == sent.reply_markup:
            raise bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        return self._apply_edit(sent, markup)

    async def _answer_callback_query(self, params: JSONDict) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        if query_id not in self._open_callbacks:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        self._open_callbacks.discard(query_id)
        return True

    async def _get_file(self, params: JSONDict) -> JSONDict:
        file_id = str(params.get("file_id") or "")
        stored = self._files.get(file_id)
        if stored is None:
            raise bad_request("invalid file_id")
        if stored.size > GET_FILE_LIMIT:
            raise bad_request("file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.size,
            "file_path": stored.file_path,
        }

    @staticmethod
    def _commands_key(params: JSONDict) -> str:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps([scope, params.get("language_code") or ""], sort_keys=True)

    async def _set_my_commands(self, params: JSONDict) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise bad_request("can't parse commands JSON object")
        for command in commands:
            name = str(command.get("command", ""))
            if not re.fullmatch(r"[a-z0-9_]{1,32}", name):
                raise bad_request("BOT_COMMAND_INVALID")
        self.commands[self._commands_key(params)] = commands
        return True

    async def _get_my_commands(self, params: JSONDict) -> list[JSONDict]:
        return self.commands.get(self._commands_key(params), [])

    async def _delete_my_commands(self, params: JSONDict) -> bool:
        self.commands.pop(self._commands_key(params), None)
        return True

    async def _delete_message(self, params: JSONDict) -> bool:
        sent = self._find_sent(params, "delete")
        sent.deleted = True
        self._notify_nowait()
        return True

    async def _send_chat_action(self, params: JSONDict) -> bool:
        self._chat(params)
        valid = {
            "typing",
            "upload_photo",
            "record_video",
            "upload_video",
            "record_voice",
            "upload_voice",
            "upload_document",
            "choose_sticker",
            "find_location",
            "record_video_note",
            "upload_video_note",
        }
        if params.get("action") not in valid:
            raise bad_request("wrong parameter action in request")
        return True
