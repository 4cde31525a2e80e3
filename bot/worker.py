"""``hirebot worker``: a process that transcribes answers, on this machine or any other.

It needs only the shared PostgreSQL and the media store (an S3-compatible bucket, or a data
dir every process mounts): no Slack or Telegram token. It loads the model once (on the GPU
when CTranslate2 or torch sees one), runs procrastinate's worker on the transcription queue,
and defers jobs for answers that have none (see bot/transcription/distributed.py), so
answers are transcribed even while every bot process is down. Its transcripts reach Slack
through the outbox, which the bot processes deliver.

``GET /health`` on HIREBOT_HTTP_HOST:HIREBOT_HTTP_PORT (or ``--health-port``) answers 200
while the worker runs and the database answers, 503 otherwise; ``hirebot worker --check``
asks it (a container's health check).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import urllib.error
import urllib.request
from collections.abc import Callable

from aiohttp import web
from sqlalchemy import text

from bot.config import Settings
from bot.errors import ConfigError, described
from bot.flows import review
from bot.flows.ports import Transcriber
from bot.runtime import keep_payloads_out_of_logs, quiet_http_logs
from bot.transcription import load_transcriber
from bot.transcription.distributed import QUEUE, JobDeferrer, build_app, run_jobs
from bot.transcription.jobs import TranscriptionWorker, pool_size, transcription_pool
from bot.unit_of_work import UnitOfWork
from storage.db import Database, make_engine
from storage.media import media_store

log = logging.getLogger(__name__)

# `hirebot worker --check` gives up on the health port after this long.
CHECK_SECONDS = 5


class WorkerProcess:
    def __init__(
        self,
        settings: Settings,
        *,
        queues: list[str] | None = None,
        concurrency: int | None = None,
        health_port: int | None = None,
        load_model: Callable[[], Transcriber] | None = None,
    ) -> None:
        settings.check_for_workers()
        self.settings = settings
        self.queues = queues or [QUEUE]
        # From the machine by default: one transcription per core, at most four (pool_size).
        self.concurrency = (
            concurrency or settings.whisper_workers or pool_size(backend=settings.whisper_backend)
        )
        self._health_port = settings.http_port if health_port is None else health_port
        self._load_model = load_model or (
            lambda: load_transcriber(
                settings.whisper_backend, settings.whisper_model, workers=self.concurrency
            )
        )
        self._tasks: list[asyncio.Task[None]] = []
        self._web: web.AppRunner | None = None
        self.http_port: int | None = None

    async def start(self) -> None:
        quiet_http_logs()
        keep_payloads_out_of_logs()
        s = self.settings
        self._executor = transcription_pool(self.concurrency)
        self.db = Database(make_engine(s.db_url))
        self.uow = UnitOfWork(db=self.db, media=media_store(s.media_dir, s.media_bucket))
        self.transcription = TranscriptionWorker(
            self.uow,
            load=self._load_model,
            executor=self._executor,
            concurrency=self.concurrency,
            language_of=review.transcript_language,
        )
        self.jobs = build_app(s.db_url, worker=self.transcription, connections=self.concurrency + 3)
        await self.jobs.open_async()
        if not await self.jobs.check_connection_async():
            await self.jobs.close_async()
            self.db.dispose()
            raise ConfigError(
                "The database has no transcription job tables yet: run `hirebot migrate` "
                "(or start a bot process, which migrates) before the workers."
            )
        self.deferrer = JobDeferrer(self.jobs, self.uow)
        name = f"{socket.gethostname()}:{os.getpid()}"
        self._tasks = [
            asyncio.create_task(
                run_jobs(
                    self.jobs,
                    self.transcription,
                    concurrency=self.concurrency,
                    queues=self.queues,
                    name=name,
                ),
                name="procrastinate-worker",
            ),
            asyncio.create_task(self.deferrer.run_forever(), name="transcription-deferrer"),
        ]
        await self._start_web()
        log.info(
            "hirebot worker %s: queues %s, %s at once, health on port %s",
            name,
            ",".join(self.queues),
            self.concurrency,
            self.http_port,
        )

    async def stop(self) -> None:
        if self._web is not None:
            await self._web.cleanup()
        for task in self._tasks:
            task.cancel()
        # procrastinate's worker waits for its jobs briefly, then cancels them; a cancelled
        # transcription hands its answer back for another worker.
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.jobs.close_async()
        self._executor.shutdown(wait=False, cancel_futures=True)
        self.db.dispose()

    async def __aenter__(self) -> WorkerProcess:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def stopped(self) -> None:
        """Return when the procrastinate worker has stopped (raising what stopped it)."""
        await asyncio.shield(self._tasks[0])  # waiting for it must not cancel it

    @property
    def running(self) -> bool:
        return bool(self._tasks) and not self._tasks[0].done()

    async def _start_web(self) -> None:
        app = web.Application()
        app.router.add_get("/health", self._health)
        self._web = web.AppRunner(app, access_log=None)
        await self._web.setup()
        site = web.TCPSite(self._web, self.settings.http_host, self._health_port)
        await site.start()
        sockets = getattr(site._server, "sockets", None) or []
        self.http_port = sockets[0].getsockname()[1] if sockets else self._health_port

    async def _health(self, request: web.Request) -> web.Response:
        database_ok = True
        try:
            await self.uow.run(lambda s, _now: s.execute(text("SELECT 1")))
        except Exception as err:
            log.warning("health: the database does not answer: %s", described(err))
            database_ok = False
        body = {
            "ok": database_ok and self.running,
            "worker": "running" if self.running else "stopped",
            "database": "ok" if database_ok else "unreachable",
            "queues": self.queues,
            "concurrency": self.concurrency,
        }
        return web.json_response(body, status=200 if body["ok"] else 503)


def check(host: str, port: int) -> tuple[bool, str]:
    """Ask a running worker's /health (``hirebot worker --check``)."""
    asked = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    # No proxy: the worker is on this machine (a container's own loopback).
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"http://{asked}:{port}/health", timeout=CHECK_SECONDS) as response:
            return True, json.dumps(json.load(response))
    except urllib.error.HTTPError as err:
        return False, err.read().decode(errors="replace")
    except (OSError, ValueError) as err:
        return False, f"no worker answers on {asked}:{port}: {err}"
