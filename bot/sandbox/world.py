"""A whole hirebot world on 127.0.0.1: the Telegram and Slack emulators, and the real bot.

Used by the end-to-end tests and by ``hirebot demo``. Everything the bot does goes through the
real python-telegram-bot, slack_bolt and slack_sdk code, over HTTP and WebSocket.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import random
import re
import shutil
import socket
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from pydantic import SecretStr
from sqlmodel import Session, select

from bot.config import Settings
from bot.flows import openings
from bot.media import intros
from bot.runtime import Runtime
from bot.sandbox.mailbox import Mailbox
from bot.sandbox.slack import SlackSandbox
from bot.sandbox.slack_api import SlackMessage
from bot.sandbox.telegram import SandboxCandidate, SentMessage, TelegramSandbox
from bot.unit_of_work import opened, utc_now
from storage.media import media_store

SAMPLES = Path(__file__).parent / "samples"
OPENING_FILE = SAMPLES / "backend-engineer.yaml"
REVIEW_CHANNEL = "C0REVIEW01"
RECRUITER = "U0RECRUITER"
TEAMMATE = "U0TEAMMATE1"
SLACK_BOT_TOKEN = "xoxb-sandbox-bot"
SLACK_APP_TOKEN = "xapp-sandbox-app"
WEBHOOK_SECRET = "sandbox-webhook-secret"
MAIL_FROM = "Acme Hiring <hiring@acme.example>"
INVITE_LINK = re.compile(r"https://t\.me/(\w+)\?start=([A-Za-z0-9_-]{1,64})")

T = TypeVar("T")


@dataclass
class World:
    data_dir: Path
    slack_mode: str = "socket"
    database_url: str | None = None
    whisper_model: str = "tiny.en"
    autostart: bool = True  # False: the test starts the bot itself (e.g. as a process)
    clock: Callable[[], datetime] = utc_now
    opening_file: Path = OPENING_FILE
    telegram_mode: str = "polling"  # or "webhook": the sandbox pushes updates to the bot
    http_port: int = 0  # 0: any free port (webhook mode picks one, Telegram needs the URL)
    telegram: TelegramSandbox = field(default_factory=TelegramSandbox)
    slack: SlackSandbox = field(
        default_factory=lambda: SlackSandbox(bot_token=SLACK_BOT_TOKEN, app_token=SLACK_APP_TOKEN)
    )
    runtime: Runtime | None = None
    # The local SMTP server every email goes to (invitations, calendar invitations).
    mailbox: Mailbox = field(default_factory=lambda: Mailbox(free_port()))
    # More settings for the bot, by field name (e.g. media_s3_bucket for media in a bucket).
    extra_settings: dict[str, Any] = field(default_factory=dict)

    async def __aenter__(self) -> World:
        if self.telegram_mode == "webhook" and not self.http_port:
            self.http_port = free_port()
        self.mailbox.start()
        # slack_sdk ignores NO_PROXY: a proxy setting would send loopback traffic away.
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
            os.environ.pop(name, None)
        await self.telegram.__aenter__()
        await self.slack.__aenter__()
        self.slack.mode = self.slack_mode
        self.slack.add_user(RECRUITER, "rita", "Rita Recruiter")
        self.slack.add_user(TEAMMATE, "tom", "Tom Teammate")
        self.slack.add_channel(
            REVIEW_CHANNEL, "backend-reviews", [self.slack.bot_user_id, RECRUITER, TEAMMATE]
        )
        self.import_opening(self.opening_file)
        if self.autostart:
            await self.start_bot()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop_bot()
        await self.slack.__aexit__(None, None, None)
        await self.telegram.__aexit__(None, None, None)
        self.mailbox.stop()

    def settings(self) -> Settings:
        socket = self.slack_mode == "socket"
        return Settings(
            data_dir=self.data_dir,
            database_url=self.database_url,
            telegram_token=SecretStr(self.telegram.token),
            telegram_api_url=self.telegram.api_url,
            telegram_file_url=self.telegram.file_url,
            slack_bot_token=SecretStr(SLACK_BOT_TOKEN),
            slack_app_token=SecretStr(SLACK_APP_TOKEN) if socket else None,
            slack_signing_secret=None if socket else SecretStr(self.slack.signing_secret),
            slack_api_url=self.slack.api_url,
            http_port=self.http_port,
            telegram_webhook_url=(
                f"http://127.0.0.1:{self.http_port}/telegram/webhook"
                if self.telegram_mode == "webhook"
                else None
            ),
            telegram_webhook_secret=SecretStr(WEBHOOK_SECRET)
            if self.telegram_mode == "webhook"
            else None,
            recruiters=RECRUITER,
            whisper_model=self.whisper_model,
            smtp_url=SecretStr(f"smtp://127.0.0.1:{self.mailbox.port}"),
            mail_from=MAIL_FROM,
            # The sandbox serves calendar feeds from 127.0.0.1.
            calendar_private_hosts="allow",
            **self.extra_settings,
        )

    def environment(self) -> dict[str, str]:
        """The settings as ``HIREBOT_*`` variables, for a bot run as its own process."""
        env: dict[str, str] = {}
        for name, value in self.settings().model_dump().items():
            if value is None:
                continue
            if isinstance(value, SecretStr):
                value = value.get_secret_value()
            env[f"HIREBOT_{name.upper()}"] = str(value)
        return env

    def import_opening(self, path: Path) -> None:
        from storage import migrate

        settings = self.settings()
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        if not _copied_migrated_sqlite(settings.db_url):
            migrate.upgrade(settings.db_url)
        spec = openings.parse(path)
        with opened(settings.db_url, media_store(settings.media_dir, settings.media_bucket)) as uow:
            clips = intros.prepare(uow, spec)  # as `hirebot openings import` does
            uow.run_sync(lambda s, now: intros.apply(s, openings.save(s, spec, now)[0], clips, now))

    async def start_bot(self) -> Runtime:
        self.runtime = Runtime(self.settings(), now=self.clock, poll_timeout=1)
        await self.runtime.start()
        if self.slack_mode == "http":
            self.slack.http_target = f"http://127.0.0.1:{self.runtime.http_port}/slack/events"
        else:
            await eventually(lambda: self.slack.connected_sockets() > 0, what="Socket Mode")
        return self.runtime

    async def stop_bot(self) -> None:
        if self.runtime is not None:
            await self.runtime.stop()
            self.runtime = None

    @property
    def bot(self) -> Runtime:
        assert self.runtime is not None, "the bot is not running"
        return self.runtime

    async def wait_idle(self, seconds: float = 30.0) -> None:
        """Wait until the bot has finished with everything that reached it.

        That is: Telegram has no update the bot has not taken, the inbox none it has not
        handled, no Slack listener is still running after its ack, and the outbox nothing due
        now (a retry scheduled later does not count). A check that something did *not*
        happen waits for this instead of sleeping and hoping the bot was quick enough.
        """
        from storage import inbox
        from storage.models import OutboxMessage, OutboxStatus

        await self.telegram.wait_idle(timeout=seconds)

        def nothing_due(session: Session, _now: datetime) -> bool:
            due = session.exec(
                select(OutboxMessage.id)
                .where(OutboxMessage.status == OutboxStatus.PENDING)
                .where(OutboxMessage.next_attempt_at <= self.clock())
                .limit(1)
            ).first()
            return due is None and inbox.pending_count(session) == 0

        await eventually(
            lambda: not _slack_listeners_running() and self.bot.uow.run_sync(nothing_due),
            seconds=seconds,
            what="the bot to finish what it was given",
        )


_SQLITE_TEMPLATE: list[Path] = []  # this process's migrated SQLite file, made on first use


def _copied_migrated_sqlite(url: str) -> bool:
    """Start a new SQLite database as a copy of a migrated one; False if ``url`` is not that.

    Migrating an empty SQLite file takes most of a second (each step rebuilds tables); a
    world is started hundreds of times in the tests, so this process migrates once and
    copies the result. The bot still runs the migrations at start-up: a no-op on the copy.
    """
    from storage import migrate

    prefix = "sqlite:///"
    if not url.startswith(prefix) or Path(url.removeprefix(prefix)).exists():
        return False
    if not _SQLITE_TEMPLATE:
        folder = Path(tempfile.mkdtemp(prefix="hirebot-template-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        migrate.upgrade(f"{prefix}{folder / 'migrated.db'}")
        _SQLITE_TEMPLATE.append(folder / "migrated.db")
    shutil.copyfile(_SQLITE_TEMPLATE[0], url.removeprefix(prefix))
    return True


def _slack_listeners_running() -> bool:
    """Whether a Bolt listener still runs after its ack (Bolt runs each as its own task)."""
    return any(
        getattr(task.get_coro(), "__qualname__", "").endswith("run_ack_function_asynchronously")
        for task in asyncio.all_tasks()
        if not task.done()
    )


# Ports handed to a process that binds them later. Not from the kernel's ephemeral range
# (32768–60999 on Linux): a port picked there with bind(0) and released can be taken as the
# source port of any outgoing connection (to PostgreSQL, an emulator) before the process
# binds it, which failed a two-process test with "address already in use".
_LISTEN_PORTS = range(20000, 32000)


def free_port() -> int:
    """A port on 127.0.0.1 nothing listens on now, outside the ephemeral range."""
    for _ in range(200):
        port = random.choice(_LISTEN_PORTS)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port between 20000 and 32000 on 127.0.0.1")


class SimulatedClock:
    """A clock the tests move by hand, for deadlines and reminders days away."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or utc_now()

    def __call__(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> datetime:
        self.current += timedelta(**delta)
        return self.current


async def answer_question(
    candidate: SandboxCandidate,
    number: int,
    total: int,
    record: Callable[[], Awaitable[int]],
) -> SentMessage:
    """Ready → the question → a recording → Submit. Returns the "Got it" message."""
    intro = await candidate.wait_for_message(f"Question {number} of {total}.")
    mark = len(candidate.inbox())
    await candidate.press("Ready", intro)
    await candidate.wait_for_message(f"Question {number} of {total}:", after=mark)
    mark = len(candidate.inbox())
    await record()
    got_it = await candidate.wait_for_message("Got it", after=mark)
    await candidate.press("Submit ✅", got_it)
    await candidate.wait_for_message(f"Answer {number} submitted", after=mark)
    return got_it


async def eventually(
    check: Callable[[], T | None], *, seconds: float = 30.0, what: str = "condition"
) -> T:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds:.0f} s waiting for {what}")
        await asyncio.sleep(0.05)


def visible_text(message: SlackMessage) -> str:
    """What a person reads in a Slack message: its blocks' text, or its fallback text."""
    parts: list[str] = []
    for block in message.blocks:
        text = block.get("text")
        if isinstance(text, dict):
            parts.append(str(text.get("text", "")))
        for element in block.get("elements", []):
            if element.get("type") in ("mrkdwn", "plain_text"):
                parts.append(str(element.get("text", "")))
    return "\n".join(parts) if parts else message.text
