"""Wiring: one place that builds and starts every part of a hirebot process.

Start order: migrate → database → Telegram (getMe) → Slack app → workers → inbound traffic
(Telegram polling, Slack Socket Mode or HTTP). Pending outbox rows, transcriptions and stored
Telegram updates left by a previous process are picked up by the workers as soon as they start.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application

from bot.calendar_feed import AddressPolicy, FeedFetcher, FeedReads
from bot.config import Settings
from bot.delivery import Delivery
from bot.errors import described
from bot.flows import (
    call_outcomes,
    call_reminders,
    relay,
    reminders,
    retention,
    review,
    webhook_events,
)
from bot.flows.ports import Transcriber
from bot.integrations import inbound as ats_webhooks
from bot.integrations.sync import AtsDelivery
from bot.integrations.webhooks import poster as webhook_poster
from bot.limits import InboundLimit, InboxLimit, ReminderLimit, TelegramLimit
from bot.mail.smtp import mail_channel, organizer
from bot.slack.app import build_app
from bot.slack.channel import SlackReviewChannel
from bot.telegram.adapter import build_application
from bot.telegram.channel import TelegramCandidateChannel
from bot.telegram.dispatch import UpdateDispatcher, received
from bot.telegram.polling import TelegramPoller
from bot.transcription import apart, load_transcriber
from bot.transcription.apart import ApartTranscriber
from bot.transcription.jobs import TranscriptionWorker, pool_size, transcription_pool
from bot.unit_of_work import UnitOfWork, utc_now
from bot.web import share
from storage import advisory, answer_media, inbound, inbox, migrate, outbox
from storage.db import Database, make_engine, private_dir
from storage.media import media_store

if TYPE_CHECKING:
    from bot.transcription.distributed import BotProcessJobs

log = logging.getLogger(__name__)

TELEGRAM_WEBHOOK_PATH = "/telegram/webhook"
# /health asks Telegram whether our webhook is still set; a load balancer will not wait long.
HEALTH_TELEGRAM_SECONDS = 3


def quiet_http_logs() -> None:
    # httpx logs every request URL at INFO, and Telegram URLs contain the bot token.
    for name in ("httpx", "httpcore", "telegram.ext.Updater"):
        logging.getLogger(name).setLevel(logging.WARNING)


def keep_payloads_out_of_logs() -> None:
    """At DEBUG the SDKs log whole requests, responses and updates (candidates' messages,
    names, transcripts): drop those records, even when an operator asks for DEBUG.

    Called once every client exists: some SDK loggers are created with their client.
    """
    for name in [*logging.root.manager.loggerDict, *_SDK_CLIENT_LOGGERS]:
        if name.partition(".")[0] in _SDK_PACKAGES:
            logging.getLogger(name).addFilter(_above_debug)


_SDK_PACKAGES = frozenset({"telegram", "slack_sdk", "slack_bolt", "httpx", "httpcore", "aiohttp"})
_SDK_CLIENT_LOGGERS = ("slack_sdk.web.async_base_client", "slack_sdk.socket_mode.aiohttp")


def _above_debug(record: logging.LogRecord) -> bool:
    return record.levelno > logging.DEBUG


def _settle_garbage_collector() -> None:
    """Keep full garbage collections from stalling the event loop under load.

    Everything loaded at start-up (SDKs, the Whisper model's Python side, settings) lives as
    long as the process: freezing it keeps each collection from walking it again. Measured
    with ``hirebot bench slack``: without this, one ~140 ms full collection per thousand
    button presses set the p99.

    The thresholds stay CPython's. A first threshold of 50,000 (instead of 700) was tried
    here to make collections rarer; under ``hirebot bench load`` it made each young
    collection walk 50,000 objects, a 25 to 107 ms pause of the whole process every 3 s of
    the burst, for the same 1.5 s of collecting in all. With the default the longest pause
    in the burst was 34 ms (a full collection every 5 to 10 s, 11 to 34 ms each).
    """
    gc.freeze()


class Runtime:
    def __init__(
        self,
        settings: Settings,
        *,
        now: Callable[[], datetime] = utc_now,
        load_model: Callable[[], Transcriber] | None = None,
        poll_timeout: int = 10,
    ) -> None:
        self.settings = settings
        self._now = now
        self._whisper_workers = settings.whisper_workers or pool_size(
            backend=settings.whisper_backend
        )
        # HIREBOT_WHISPER_APART: Whisper in processes of its own (bot.transcription.apart);
        # a model handed in (tests) is used here as it is.
        backend, model = settings.whisper_backend, settings.whisper_model
        separate = settings.whisper_apart and load_model is None
        self._load_model = load_model or (
            (lambda: ApartTranscriber(backend, model, workers=self._whisper_workers))
            if separate
            else (lambda: load_transcriber(backend, model, workers=self._whisper_workers))
        )
        self._poll_timeout = poll_timeout
        self._tasks: list[asyncio.Task[None]] = []
        self._executor = transcription_pool(self._whisper_workers)
        self._scheduler: AsyncIOScheduler | None = None
        self._inbox_task: asyncio.Task[None] | None = None
        self._polling_task: asyncio.Task[None] | None = None
        self._poller: TelegramPoller | None = None
        self._webhook_registered = False
        self._socket: AsyncSocketModeHandler | None = None
        self._web: web.AppRunner | None = None
        self.http_port: int | None = None
        self._jobs: BotProcessJobs | None = None

    async def start(self) -> None:
        quiet_http_logs()
        keep_payloads_out_of_logs()
        s = self.settings
        private_dir(s.data_dir)  # media and (SQLite) the database: this user's only
        await asyncio.to_thread(migrate.upgrade, s.db_url)
        self.db = Database(make_engine(s.db_url))
        self.media = media_store(s.media_dir, s.media_bucket)
        self.uow = UnitOfWork(
            db=self.db,
            media=self.media,
            recruiters=s.recruiter_ids,
            now=self._now,
            committed=self._committed,
        )
        self.telegram: Application = build_application(  # type: ignore[type-arg]
            s.secret("telegram_token"), s.telegram_api_url, s.telegram_file_url, self.uow
        )
        await self.telegram.initialize()
        client = AsyncWebClient(token=s.secret("slack_bot_token"), base_url=s.slack_api_url)
        signing_secret = None if s.slack_socket_mode else s.secret("slack_signing_secret")
        self.feeds = FeedReads(
            self.uow, FeedFetcher(AddressPolicy(allow_private=s.calendar_private_hosts == "allow"))
        )
        self.slack: AsyncApp = build_app(
            client,
            self.uow,
            signing_secret=signing_secret,
            telegram_username=lambda: self.telegram.bot.username,
            feeds=self.feeds,
            share_address=self.share_address,
        )
        self.delivery = Delivery(
            self.uow,
            candidates=TelegramCandidateChannel(self.telegram.bot),
            reviews=SlackReviewChannel(client),
            mail=mail_channel(s),
            organizer=organizer(s),
            webhooks=webhook_poster(self.uow, self.feeds.policy),
            ats=AtsDelivery(self.uow, s),
        )
        self.transcription = TranscriptionWorker(
            self.uow,
            load=self._load_model,
            executor=self._executor,
            concurrency=self._whisper_workers,
            language_of=review.transcript_language,
        )
        self._tasks = [
            asyncio.create_task(self.delivery.run_forever(), name="outbox"),
            *await self._start_transcription(),
        ]
        await self.telegram.start()
        self.updates = UpdateDispatcher(self.uow, self.telegram)
        self._inbox_task = asyncio.create_task(self.updates.run_forever(), name="telegram-inbox")
        await self._start_web()  # listening before Telegram is told to push to it
        if s.telegram_webhook:
            await self.telegram.bot.set_webhook(
                url=str(s.telegram_webhook_url),
                secret_token=s.secret("telegram_webhook_secret"),
                allowed_updates=Update.ALL_TYPES,
                # Telegram pushes a chat's messages one at a time, in order, and a user's
                # button presses likewise (the Bot API server keeps a queue for each), so
                # several connections keep each chat's updates in order into the inbox. One
                # connection pushed every candidate's updates through one request at a time:
                # at 200 candidates a push waited 40 ms for the database, and updates queued
                # for seconds at Telegram.
                max_connections=TelegramLimit.WEBHOOK_CONNECTIONS,
            )
            self._webhook_registered = True
        else:
            self._poller = TelegramPoller(
                self.telegram.bot, store=self.updates.take, timeout=self._poll_timeout
            )
            self._polling_task = asyncio.create_task(
                self._poller.run_forever(), name="telegram-polling"
            )
        self._scheduler = AsyncIOScheduler(timezone="UTC")
        self._scheduler.add_job(
            self.tick,
            "interval",
            seconds=ReminderLimit.TICK_SECONDS,
            id="tick",
            max_instances=1,
            coalesce=True,
        )
        # Its own job, not part of tick: a slow calendar server (up to
        # BusyFeedLimit.FETCH_SECONDS a feed) must not hold back deadlines and reminders.
        self._scheduler.add_job(
            self.read_calendar_feeds,
            "interval",
            seconds=ReminderLimit.TICK_SECONDS,
            id="calendar-feeds",
            max_instances=1,
            coalesce=True,
        )
        self._scheduler.start()
        if s.slack_socket_mode:
            self._socket = AsyncSocketModeHandler(
                self.slack, s.secret("slack_app_token"), web_client=client
            )
            await self._socket.connect_async()  # type: ignore[no-untyped-call]
        keep_payloads_out_of_logs()
        _settle_garbage_collector()
        log.info(
            "hirebot is running: Telegram @%s, Slack %s, HTTP port %s",
            self.telegram.bot.username,
            "Socket Mode" if s.slack_socket_mode else "HTTP mode",
            self.http_port,
        )

    async def stop(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
        if self._socket is not None:
            with contextlib.suppress(Exception):
                await self._socket.close_async()  # type: ignore[no-untyped-call]
        if self._web is not None:
            await self._web.cleanup()
        # No new updates are taken; those stored and not handled wait in the inbox.
        if self._polling_task is not None:
            self._polling_task.cancel()
        await self.updates.stop()
        telegram_tasks = [t for t in (self._polling_task, self._inbox_task) if t is not None]
        for task in telegram_tasks:
            task.cancel()
        await asyncio.gather(*telegram_tasks, return_exceptions=True)
        if self.telegram.running:
            await self.telegram.stop()
        self.delivery.stop_after_this_pass()
        outbox_task, *others = self._tasks
        for task in others:
            task.cancel()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(outbox_task), timeout=15)
        outbox_task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.telegram.shutdown()
        await self.feeds.close()
        if self._jobs is not None:
            await self._jobs.close()
        self._executor.shutdown(wait=False, cancel_futures=True)
        if isinstance(self.transcription.transcriber, ApartTranscriber):
            self.transcription.transcriber.close()
        self.db.dispose()

    async def __aenter__(self) -> Runtime:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def tick(self) -> None:
        """The periodic work: deadlines, reminders, live calls' reminders and outcomes, and
        deleting media nothing refers to. One bot process at a time runs it (storage.advisory)."""
        async with advisory.exclusive(self.db.engine, "hirebot.tick") as mine:
            if mine:
                await self._tick()

    async def _tick(self) -> None:
        try:
            await self.uow.run_background(reminders.tick)
            await self.uow.run_background(call_reminders.tick)
            await self.uow.run_background(call_outcomes.ask)
            await self.uow.run_background(outbox.prune_delivered)
            await self.uow.run_background(webhook_events.prune_log)
            await self.uow.run_background(relay.forget_unsent)
            referenced = await self.uow.run_background(lambda s, _now: answer_media.media_in_use(s))
            keep = timedelta(days=InboxLimit.KEEP_DAYS)
            await self.uow.run_background(lambda s, now: inbox.prune(s, now - keep))
            keys = timedelta(days=InboundLimit.KEEP_DAYS)
            await self.uow.run_background(lambda s, now: inbound.prune(s, now - keys))
            older_than = self._now() - timedelta(minutes=ReminderLimit.ORPHAN_MEDIA_MINUTES)
            await asyncio.to_thread(self.media.sweep, referenced, older_than)
            await self.erase_expired()
        except Exception as err:
            log.error(
                "periodic tick failed, it runs again at the next interval: %s", described(err)
            )

    async def erase_expired(self) -> int:
        """Retention: a few candidates past their opening's retention erased, each in its own
        transaction (one query finds them; most ticks it finds none)."""
        ceiling = self.settings.retention_max_days
        found = await self.uow.run_background(lambda s, now: retention.due(s, now, ceiling))
        erased = 0
        for each in found:
            if erased >= retention.ERASE_PER_TICK:
                break
            done = await self.uow.run_background(retention.eraser(each.interview_id, ceiling))
            if done is not None:
                erased += 1
                log.info("retention erased interview %s", each.interview_id)
        return erased

    async def read_calendar_feeds(self) -> None:
        """Interviewers' calendar feeds not read for BusyFeedLimit.REFRESH_MINUTES."""
        async with advisory.exclusive(self.db.engine, "hirebot.calendar-feeds") as mine:
            if mine:
                await self._read_calendar_feeds()

    async def _read_calendar_feeds(self) -> None:
        try:
            await self.feeds.read_due()
        except Exception as err:
            log.error(
                "reading calendar feeds failed, tried again next interval: %s", described(err)
            )

    def _committed(self) -> None:
        """A unit of work committed an outbox row or an answer to transcribe."""
        self.delivery.wake()
        self.transcription.wake()
        if self._jobs is not None:
            self._jobs.wake()

    async def _start_transcription(self) -> list[asyncio.Task[None]]:
        """SQLite: the in-process lease queue. PostgreSQL: procrastinate jobs (see
        bot/transcription/distributed.py), run here unless HIREBOT_EXTERNAL_WORKERS."""
        if not self.settings.postgres:
            return [asyncio.create_task(self.transcription.run_forever(), name="transcription")]
        from bot.transcription.distributed import BotProcessJobs

        external = self.settings.external_workers
        self._jobs = BotProcessJobs(
            self.settings.db_url, self.uow, self.transcription, external=external
        )
        return await self._jobs.start()

    async def _start_web(self) -> None:
        app = web.Application()
        app.router.add_get("/health", self._health)
        if not self.settings.slack_socket_mode:
            app.router.add_post("/slack/events", self._slack_events)
        if self.settings.telegram_webhook:
            app.router.add_post(TELEGRAM_WEBHOOK_PATH, self._telegram_update)
        share.routes(app, self.uow)
        ats_webhooks.routes(app, self.uow, self.settings, lambda: self.telegram.bot.username)
        self._web = web.AppRunner(app, access_log=None)
        await self._web.setup()
        site = web.TCPSite(self._web, self.settings.http_host, self.settings.http_port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        self.http_port = sockets[0].getsockname()[1] if sockets else self.settings.http_port

    def share_address(self, token: str) -> str:
        """The address a share link's holder opens (HIREBOT_PUBLIC_URL, else HOST:PORT)."""
        s = self.settings
        base = s.public_url or f"http://{s.http_host}:{self.http_port or s.http_port}"
        return share.address(base, token)

    async def _telegram_update(self, request: web.Request) -> web.Response:
        """One pushed update: stored in the inbox, then answered 200 (Telegram forgets it).

        A wrong secret is refused (a forged update changes nothing). The update is handled
        from the inbox like a polled one; a handler failure is retried a few times and then
        recorded, never answered with an error that would make Telegram push it for a day.
        Only a failure to store it answers 500, so that Telegram keeps it.
        """
        secret = self.settings.secret("telegram_webhook_secret")
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if not secrets.compare_digest(given.encode(), secret.encode()):
            return web.Response(status=401)
        try:
            arrived = received(await request.json())
        except (ValueError, TypeError, KeyError, AttributeError):
            return web.Response(status=400)
        await self.updates.take([arrived])
        return web.Response(status=200)

    async def _slack_events(self, request: web.Request) -> web.Response:
        bolt_response = await self.slack.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(bolt_response)

    async def _health(self, request: web.Request) -> web.Response:
        """Reflects the real connections, not just that the process is alive."""
        slack_ok = True
        slack = "http"
        if self._socket is not None:
            slack_ok = await self._socket.client.is_connected()
            slack = "socket mode connected" if slack_ok else "socket mode disconnected"
        telegram_ok, telegram = await self._telegram_health()
        pending = await self.uow.run(lambda s, _now: outbox.pending_count(s))
        waiting = await self.uow.run(lambda s, _now: inbox.pending_count(s))
        body = {
            "ok": slack_ok and telegram_ok,
            "slack": slack,
            "telegram": telegram,
            "outbox_pending": pending,
            "inbox_pending": waiting,
        }
        if self._jobs is not None:  # PostgreSQL: who transcribes (0: answers wait)
            body["transcription_workers"] = await self._jobs.live_workers()
        processes = apart.state(self.transcription.transcriber)
        if processes is not None:
            # Not part of "ok": lost processes are replaced at once, and answers wait meanwhile.
            body["transcription_processes"] = processes
        return web.json_response(body, status=200 if body["ok"] else 503)

    async def _telegram_health(self) -> tuple[bool, str]:
        """Polling: Telegram answered the last getUpdates. Webhook: Telegram still pushes to
        our URL (getWebhookInfo); if Telegram cannot be asked, our record that it was set."""
        if self._poller is not None:
            ok = self._poller.healthy
            return ok, "polling" if ok else "polling failing"
        if not self.settings.telegram_webhook:
            return False, "stopped"
        try:
            info = await self.telegram.bot.get_webhook_info(
                read_timeout=HEALTH_TELEGRAM_SECONDS, connect_timeout=HEALTH_TELEGRAM_SECONDS
            )
        except TelegramError:
            registered = self._webhook_registered
        else:
            registered = info.url == str(self.settings.telegram_webhook_url)
        return registered, "webhook registered" if registered else "webhook not registered"
