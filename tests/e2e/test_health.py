"""/health reflects the real connections in every mode, so a load balancer keeps healthy
instances and takes out broken ones."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession
from telegram import Bot

from bot.sandbox.world import World

Health = tuple[int, dict[str, Any]]


async def _health(world: World) -> Health:
    async with (
        ClientSession() as http,
        http.get(f"http://127.0.0.1:{world.bot.http_port}/health") as response,
    ):
        return response.status, await response.json()


async def _health_becomes(world: World, status: int, seconds: float = 15.0) -> dict[str, Any]:
    """Ask /health until it answers ``status`` (a probe every 0.1 s, as a balancer would)."""
    deadline = time.monotonic() + seconds
    while True:
        got, body = await _health(world)
        if got == status:
            return body
        if time.monotonic() > deadline:
            raise AssertionError(f"/health stayed {got} {body}, expected {status}")
        await asyncio.sleep(0.1)


@pytest.mark.parametrize(
    ("telegram_mode", "slack_mode", "telegram", "slack"),
    [
        ("polling", "socket", "polling", "socket mode connected"),
        ("polling", "http", "polling", "http"),
        ("webhook", "socket", "webhook registered", "socket mode connected"),
        ("webhook", "http", "webhook registered", "http"),
    ],
)
async def test_health_is_ok_in_every_mode(
    tmp_path: Path, telegram_mode: str, slack_mode: str, telegram: str, slack: str
) -> None:
    async with World(data_dir=tmp_path, telegram_mode=telegram_mode, slack_mode=slack_mode) as w:
        body = await _health_becomes(w, 200)
        assert body == {
            "ok": True,
            "slack": slack,
            "telegram": telegram,
            "outbox_pending": 0,
            "inbox_pending": 0,
        }


@pytest.mark.parametrize("slack_mode", ["socket", "http"])
async def test_health_fails_while_telegram_refuses_polling_and_recovers(
    tmp_path: Path, slack_mode: str
) -> None:
    async with World(data_dir=tmp_path, slack_mode=slack_mode) as w:
        await _health_becomes(w, 200)
        w.telegram.fail("getUpdates", status=502, times=1_000_000)
        body = await _health_becomes(w, 503)
        assert (body["ok"], body["telegram"]) == (False, "polling failing")
        w.telegram.fail("getUpdates", times=0)
        assert (await _health_becomes(w, 200))["telegram"] == "polling"


async def test_health_fails_when_the_webhook_is_no_longer_ours(tmp_path: Path) -> None:
    async with World(data_dir=tmp_path, telegram_mode="webhook", slack_mode="http") as w:
        await _health_becomes(w, 200)
        # Someone deletes the webhook (another deployment started polling with the token).
        async with Bot(w.telegram.token, base_url=w.telegram.api_url) as other:
            await other.delete_webhook()
        body = await _health_becomes(w, 503)
        assert (body["ok"], body["telegram"]) == (False, "webhook not registered")


async def test_health_fails_while_socket_mode_is_disconnected(tmp_path: Path) -> None:
    async with World(data_dir=tmp_path) as w:
        await _health_becomes(w, 200)
        w.slack.fail("apps.connections.open", status=500, retry_after=None, times=1_000_000)
        await w.slack.drop_sockets()
        body = await _health_becomes(w, 503, seconds=30)
        assert (body["ok"], body["slack"]) == (False, "socket mode disconnected")


async def test_health_counts_the_transcription_workers_on_postgresql(
    tmp_path: Path, database_url: str
) -> None:
    """HIREBOT_EXTERNAL_WORKERS with no `hirebot worker` running shows as 0 workers."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite transcribes in the bot process: no workers to count")
    for external, workers in ((True, 0), (False, 1)):
        async with World(
            data_dir=tmp_path / str(external),
            database_url=database_url,
            extra_settings={"external_workers": external},
        ) as w:
            deadline = time.monotonic() + 60  # its own worker registers once Whisper loads
            body = await _health_becomes(w, 200)
            while body["transcription_workers"] != workers and time.monotonic() < deadline:
                await asyncio.sleep(0.5)
                body = await _health_becomes(w, 200)
            assert body["transcription_workers"] == workers, body
